/** Who is acting: users.info → email, cached a few minutes per team and user. */
import { webApi } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackIdentities, SlackNoEmailError } from "../../src/platforms/slack/identity.ts";
import { SlackApiError } from "../../src/platforms/slack/web.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";

describe("SlackIdentities", () => {
  let fake: FakeSlack;
  let client: webApi.WebClient;
  beforeAll(async () => {
    fake = await FakeSlack.start();
    fake.addUser({ id: "U1", email: "Ada.Admin@Corp.Example.org" });
    fake.addUser({ id: "U2" });
    fake.addUser({ id: "B1", email: "bot@corp.example.org", isBot: true });
    client = new webApi.WebClient("xoxb-test", {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
  });
  afterAll(async () => fake.close());

  const lookups = (user: string) => fake.callsTo("users.info").filter((c) => c.args.user === user).length;

  it("resolves the email (lower-cased) and names the Slack user for the audit trail", async () => {
    const ids = new SlackIdentities();
    expect(await ids.resolve(client, "T1", "U1")).toEqual({ email: "ada.admin@corp.example.org", platform: "slack", platformUserId: "U1" });
  });

  it("asks users.info once within the TTL, again after it, and per team", async () => {
    fake.reset();
    let now = 1_000_000;
    const ids = new SlackIdentities({ ttlMs: 300_000, now: () => now });
    await ids.resolve(client, "T1", "U1");
    now += 299_000;
    await ids.resolve(client, "T1", "U1");
    expect(lookups("U1")).toBe(1);
    now += 2_000;
    await ids.resolve(client, "T1", "U1");
    expect(lookups("U1")).toBe(2);
    await ids.resolve(client, "T2", "U1");
    expect(lookups("U1")).toBe(3);
  });

  it("shares one lookup between concurrent requests of the same person", async () => {
    fake.reset();
    const ids = new SlackIdentities();
    await Promise.all([ids.resolve(client, "T1", "U1"), ids.resolve(client, "T1", "U1"), ids.resolve(client, "T1", "U1")]);
    expect(lookups("U1")).toBe(1);
  });

  it("does not keep failures: the next request asks again", async () => {
    fake.reset();
    const ids = new SlackIdentities();
    fake.once("users.info", FakeSlack.ratelimited(7));
    const failure = await ids.resolve(client, "T1", "U1").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(SlackApiError);
    expect(failure).toMatchObject({ method: "users.info", failure: "ratelimited", detail: { retryAfter: 7 } });
    expect(await ids.resolve(client, "T1", "U1")).toMatchObject({ email: "ada.admin@corp.example.org" });
  });

  it("says so when Slack shows no email (scope missing), or the account is a bot", async () => {
    const ids = new SlackIdentities();
    await expect(ids.resolve(client, "T1", "U2")).rejects.toBeInstanceOf(SlackNoEmailError);
    await expect(ids.resolve(client, "T1", "B1")).rejects.toBeInstanceOf(SlackNoEmailError);
  });

  it("keeps at most maxEntries people, forgetting the oldest", async () => {
    fake.reset();
    for (const id of ["U3", "U4", "U5"]) fake.addUser({ id, email: `${id.toLowerCase()}@corp.example.org` });
    const ids = new SlackIdentities({ maxEntries: 2 });
    for (const id of ["U3", "U4", "U5", "U4", "U3"]) await ids.resolve(client, "T1", id);
    expect(["U3", "U4", "U5"].map(lookups)).toEqual([2, 1, 1]);
  });
});
