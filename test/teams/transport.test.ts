/**
 * POST /api/messages on the real teams-ai Application: Bot Framework authentication for real
 * (tokens signed by the fake identity provider's RSA key, checked against its published keys),
 * authentication off for local tries, the tenant rule, malformed requests, the library's console
 * lines in the app's log, and shutdown.
 */
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startPlatforms } from "../../src/platforms/index.ts";
import { closeServer, createHttpApp, listen } from "../../src/server.ts";
import { csvFile, validRows } from "../helpers/csv.ts";
import { openTestDatabase } from "../helpers/db.ts";
import { FakeBotConnector } from "../helpers/fake-bot-connector.ts";
import { message, OTHER_TENANT, personal } from "../helpers/teams-activities.ts";
import { APP_ID, startTeamsHarness, TEAMS_USERS, type TeamsHarness } from "../helpers/teams-app.ts";
import { importHelpers } from "../helpers/teams-imports.ts";

const admin = TEAMS_USERS.admin;

describe("Bot Framework authentication on (TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID)", () => {
  let h: TeamsHarness;
  beforeAll(async () => {
    h = await startTeamsHarness("pglite", { auth: "on" });
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  const help = () => message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "help" });
  /** What the bot did after call number `from` (the identity provider's documents aside). */
  const doneSince = (from: number) => h.fake.calls.slice(from).filter((c) => c.kind !== "openid");

  it("a request with a valid token is served, and the bot's own calls carry its token", async () => {
    const activity = message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "groups" });
    expect((await h.post(activity)).status).toBe(200);
    const [post] = await h.waitForMessages((c) => c.conversationId === personal(admin).id);
    expect(post!.headers.authorization).toBe("Bearer bot-token-from-entra");
    expect(h.fake.of("member").at(-1)?.headers.authorization).toBe("Bearer bot-token-from-entra");
  });

  it.each([
    ["no Authorization header", () => null],
    ["a bearer that is no token", () => "Bearer not-a-jwt"],
    [
      "a token signed with another key",
      (h: TeamsHarness) => `Bearer ${h.fake.token({ aud: APP_ID }, { key: FakeBotConnector.otherKey() })}`,
    ],
    ["a token for another app", (h: TeamsHarness) => `Bearer ${h.fake.token({ aud: "11111111-0000-0000-0000-000000000000" })}`],
    ["an expired token", (h: TeamsHarness) => `Bearer ${h.fake.token({ aud: APP_ID, nbf: 1_600_000_000, exp: 1_600_003_600 })}`],
    ["a token from another issuer", (h: TeamsHarness) => `Bearer ${h.fake.token({ aud: APP_ID, iss: "https://sts.example.com/" })}`],
  ])("%s: 401, nothing done", async (_, header) => {
    const from = h.fake.calls.length;
    const answer = await h.post(help(), { token: header(h) });
    expect(answer.status).toBe(401);
    await h.chat.idle();
    expect(doneSince(from)).toEqual([]);
    expect(h.logs.find({ msg: "teams: request not authenticated" })).toBeDefined();
  });

  it("a token whose serviceurl claim is not the activity's: 401", async () => {
    const activity = help();
    const token = `Bearer ${h.fake.token({ aud: APP_ID, serviceurl: "https://smba.trafficmanager.net/amer/" })}`;
    expect((await h.post(activity, { token })).status).toBe(401);
  });

  it("the library's console lines (an expired token) go to the app's log, not the console", async () => {
    const spy = vi.spyOn(process.stderr, "write");
    try {
      const activity = help();
      const token = `Bearer ${h.fake.token({ aud: APP_ID, serviceurl: activity.serviceUrl, nbf: 1_600_000_000, exp: 1_600_003_600 })}`;
      expect((await h.post(activity, { token })).status).toBe(401);
      expect(h.logs.lines.some((l) => l.library === "botbuilder" && l.component === "teams")).toBe(true);
      expect(spy.mock.calls.map((c) => String(c[0])).filter((s) => s.includes("TokenExpiredError"))).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it("an activity from another tenant than TEAMS_TENANT_ID is refused (logged), nothing done", async () => {
    const activity = message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "groups", tenant: OTHER_TENANT });
    const calls = h.fake.calls.length;
    expect((await h.post(activity)).status).toBe(403);
    await h.chat.idle();
    expect(h.fake.calls.length).toBe(calls);
    expect(h.logs.find({ msg: "teams: activity from another tenant refused; nothing done" })).toMatchObject({
      tenant: OTHER_TENANT,
      level: 40,
    });
  });
});

describe("authentication off (TEAMS_AUTH=off)", () => {
  let h: TeamsHarness;
  beforeAll(async () => {
    h = await startTeamsHarness("pglite", { auth: "off" });
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  it("serves requests without a token, and calls the Bot Connector without one", async () => {
    const activity = message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "help" });
    expect((await h.post(activity, { token: null })).status).toBe(200);
    const [post] = await h.waitForMessages((c) => c.conversationId === personal(admin).id);
    expect(post!.headers.authorization).toBeUndefined();
  });

  it("TEAMS_TENANT_ID still restricts the tenant", async () => {
    const calls = h.fake.calls.length;
    const activity = message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "groups", tenant: OTHER_TENANT });
    expect((await h.post(activity)).status).toBe(403);
    await h.chat.idle();
    expect(h.fake.calls.length).toBe(calls);
  });

  it.each([
    [
      "an activity without a conversation",
      { type: "message", text: "hi", serviceUrl: "http://x/", channelId: "msteams", from: { id: "29:x" }, recipient: { id: "28:b" } },
      "conversation.id",
    ],
    ["no activity at all", [], "the activity"],
  ])("%s: 400 naming what is missing", async (_, body, missing) => {
    const answer = await h.post(body as Record<string, unknown>);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: `missing ${missing}` });
  });

  it("a body that is not JSON: 400", async () => {
    const res = await fetch(h.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "the body is not a JSON activity" });
  });

  it("an invoke nothing handles gets 501 (the library's answer)", async () => {
    const activity = {
      ...message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "" }),
      type: "invoke",
      name: "composeExtension/query",
      value: {},
    };
    expect((await h.post(activity)).status).toBe(501);
  });
});

describe("shutdown", () => {
  let h: TeamsHarness;
  beforeAll(async () => {
    h = await startTeamsHarness("pglite", { platforms: { answerDeadlineMs: 20_000, drainTimeoutMs: 20_000 } });
  }, 180_000);
  afterAll(async () => h?.close());

  it("stops taking turns (503) and lets the one in progress finish and answer", async () => {
    const { summaryOf } = importHelpers(() => h);
    const { id, batch } = await summaryOf("stop.csv", csvFile(validRows(2, { prefix: "stopping" })));
    const store = h.t.store;
    const real = store.transaction;
    let entered!: () => void;
    const reached = new Promise<void>((r) => {
      entered = r;
    });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    store.transaction = ((work, options) => {
      entered();
      return gate.then(() => real(work, options));
    }) as typeof real;
    try {
      const click = h.click("hms_import_cancel", { value: batch.id }, { replyToId: id });
      await reached;
      const stopping = h.stopPlatforms();
      let stopped = false;
      void stopping.then(() => (stopped = true));
      const refused = await h.post(message({ serviceUrl: h.fake.serviceUrl, from: admin, text: "help" }));
      expect(refused.status).toBe(503);
      expect(stopped).toBe(false);
      release();
      const answer = await click;
      expect(answer.status).toBe(200);
      expect(JSON.stringify(answer.card)).toContain("Cancelled");
      await stopping;
      expect((await h.core.getImport({ batchId: batch.id })).batch.status).toBe("CANCELLED");
    } finally {
      store.transaction = real;
      release();
    }
  });
});

describe("Teams disabled", () => {
  it("no /api/messages route when Teams is not configured", async () => {
    const t = await openTestDatabase("pglite");
    const logger = pino({ level: "silent" });
    const http = createHttpApp({ logger, health: { database: "pglite", ready: () => true, ping: async () => {} } });
    const platforms = await startPlatforms({ config: { slack: undefined, teams: undefined }, core: t.core, http, logger });
    const { server, port } = await listen(http, 0);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/messages`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(404);
    } finally {
      await platforms.stop();
      await closeServer(server);
      await t.close();
    }
  });
});
