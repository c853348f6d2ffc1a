/**
 * The Slack wiring of src/main.ts: off unless configured (one info line), a token Slack refuses
 * stops start-up with one line, and `npm start` with SLACK_* set serves /hms add-user end to end.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlatforms } from "../../src/platforms/index.ts";
import { closeServer, createHttpApp, listen } from "../../src/server.ts";
import { openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";
import { LogLines, SLACK_USERS, stateValues } from "../helpers/slack-app.ts";
import { commandBody, fixture, interactionBody, postSigned, SIGNING_SECRET } from "../helpers/slack-requests.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

describe("startPlatforms", () => {
  let t: TestDatabase;
  let fake: FakeSlack;
  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    fake = await FakeSlack.start();
  });
  afterAll(async () => {
    await fake?.close();
    await t?.close();
  });

  function start(slack: Parameters<typeof startPlatforms>[0]["config"]["slack"]) {
    const logs = new LogLines();
    const logger = pino({ level: "info" }, logs);
    const http = createHttpApp({ logger, health: { database: "pglite", ready: () => true, ping: async () => {} } });
    return {
      logs,
      http,
      started: startPlatforms({ config: { slack }, core: t.core, http, logger, slack: { clientOptions: { retryConfig: { retries: 0 } } } }),
    };
  }

  it("without Slack configuration: one info line, and no /slack/events", async () => {
    const { logs, http, started } = start(undefined);
    await (await started).stop();
    expect(logs.lines.map((l) => [l.level, l.msg])).toEqual([
      [30, "Slack disabled: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) to enable it"],
    ]);
    const { server, port } = await listen(http, 0);
    expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: "POST" })).status).toBe(404);
    await closeServer(server);
  });

  it("a bot token Slack refuses stops start-up, naming the variable", async () => {
    fake.once("auth.test", FakeSlack.error("invalid_auth"));
    const { started } = start({ botToken: "xoxb-revoked", signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
    await expect(started).rejects.toThrow("Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)");
  });

  it("an app-level token Slack refuses stops start-up, naming the variable", async () => {
    fake.once("apps.connections.open", FakeSlack.error("invalid_auth"));
    const { started } = start({ botToken: "xoxb-ok", appToken: "xapp-revoked", apiUrl: fake.apiUrl });
    await expect(started).rejects.toThrow("Slack refused SLACK_APP_TOKEN (apps.connections.open: invalid_auth)");
  });

  it("Slack unreachable at start: a warning, and auth.test is asked again on the first request", async () => {
    fake.reset();
    fake.once("auth.test", "network-error");
    const { logs, http, started } = start({ botToken: "xoxb-ok", signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl });
    const platforms = await started;
    expect(logs.find({ msg: "could not reach Slack to check SLACK_BOT_TOKEN; will try again on the first request" })).toMatchObject({
      level: 40,
      method: "auth.test",
    });
    const { server, port } = await listen(http, 0);
    const url = `http://127.0.0.1:${port}/slack/events`;
    const answer = await postSigned(url, commandBody({ ...fixture<Record<string, string>>("slash-command"), text: "help" }));
    expect(answer.status).toBe(200);
    expect(fake.callsTo("auth.test").length).toBe(2);
    // Once stopped, Slack is told to come back later.
    await platforms.stop();
    expect((await postSigned(url, commandBody({ ...fixture<Record<string, string>>("slash-command"), text: "help" }))).status).toBe(503);
    await closeServer(server);
  });
});

describe("npm start with Slack configured", () => {
  let fake: FakeSlack;
  let dataDir: string;
  beforeAll(async () => {
    fake = await FakeSlack.start();
    fake.addUser({ id: SLACK_USERS.admin.id, email: "root@corp.example.org", name: "Root" });
    dataDir = await mkdtemp(path.join(tmpdir(), "hms-slack-start-"));
  });
  afterAll(async () => {
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("serves /hms add-user from the command to the user in the database, and stops cleanly", async () => {
    const child = spawn("node", ["--import", "tsx", "src/main.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        PORT: "0",
        DATA_DIR: dataDir,
        BOOTSTRAP_ADMINS: "root@corp.example.org",
        SLACK_BOT_TOKEN: "xoxb-hms-start",
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: fake.apiUrl,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const deadline = Date.now() + 40_000;
      while (!out.includes('"msg":"ready"') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain('"msg":"ready"');
      expect(out).toContain('"msg":"Slack listening at POST /slack/events"');
      const url = `http://127.0.0.1:${/"port":(\d+)/.exec(out)![1]}/slack/events`;

      const responseUrl = fake.responseUrl();
      const command = {
        ...fixture<Record<string, string>>("slash-command"),
        text: "add-user jane@corp.example.org",
        response_url: responseUrl,
      };
      expect((await postSigned(url, commandBody(command))).status).toBe(200);
      const [open] = await fake.waitFor("views.open");
      expect(open!.token).toBe("xoxb-hms-start");

      const submission = fixture("view-submission");
      submission.view = {
        ...(submission.view as object),
        ...(open!.args.view as object),
        state: { values: stateValues({ email: "jane@corp.example.org", name: "Jane Doe", group: "Administrators" }) },
      };
      expect((await postSigned(url, interactionBody(submission))).status).toBe(200);
      const [confirmation] = await fake.waitForCalls((c) => c.method === "response_url" && responseUrl.endsWith(c.path));
      expect(confirmation!.args).toMatchObject({ text: "Added Jane Doe (jane@corp.example.org) to Administrators as User." });

      // In the database: found by the search.
      const searchUrl = fake.responseUrl();
      await postSigned(url, commandBody({ ...command, text: "users jane", response_url: searchUrl }));
      const [found] = await fake.waitForCalls((c) => c.method === "response_url" && searchUrl.endsWith(c.path));
      expect(found!.args).toMatchObject({ text: "1 user matching “jane”" });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exit).toBe(0);
    expect(out).toContain('"msg":"stopped"');
  }, 90_000); // its own wait for "ready" is 40 s: the test needs longer than the 30 s default
});
