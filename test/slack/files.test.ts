import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logFailure } from "../../src/chat/index.ts";
import { explainSlackError } from "../../src/platforms/slack/answers.ts";
import { downloadFile, isSlackFileUrl } from "../../src/platforms/slack/files.ts";
import { SlackApiError } from "../../src/platforms/slack/web.ts";
import { FakeSlack } from "../helpers/fake-slack.ts";
import { LogLines } from "../helpers/slack-app.ts";

describe("Slack file downloads", () => {
  it.each([
    ["https://files.slack.com/files-pri/T1-F1/download/users.csv", undefined, true],
    ["https://files.slack-gov.com/files-pri/T1-F1/download/users.csv", undefined, true],
    ["https://slack.com/x", undefined, true],
    ["http://files.slack.com/files-pri/T1-F1/download/users.csv", undefined, false],
    ["https://files.slack.com.evil.example/x.csv", undefined, false],
    ["https://evilslack.com/x.csv", undefined, false],
    ["https://attacker.example/steal", undefined, false],
    ["http://127.0.0.1:4000/files/F1", "http://127.0.0.1:4000/api/", true],
    ["http://127.0.0.1:4001/files/F1", "http://127.0.0.1:4000/api/", false],
    ["not a url", undefined, false],
  ])("%s (API %s) may receive the token: %s", (url, apiUrl, expected) => {
    expect(isSlackFileUrl(url, apiUrl)).toBe(expected);
  });

  it("refuses a file outside Slack before sending anything", async () => {
    const error = await downloadFile("https://attacker.example/users.csv", "xoxb-secret").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackApiError);
    expect((error as SlackApiError).detail.slackError).toBe("the file is not stored on Slack");
  });
});

describe("Slack file downloads that stop part-way (fake Slack)", () => {
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await FakeSlack.start();
  });
  afterAll(async () => fake?.close());

  const body = Buffer.alloc(512 * 1024, "a");
  const download = (path: string, options: { idleTimeoutMs?: number; timeoutMs?: number } = {}) =>
    downloadFile(`${fake.url}${path}`, "xoxb-hms-test", { apiUrl: fake.apiUrl, ...options }).catch((e: unknown) => e);

  it("reads a whole file", async () => {
    fake.serve("/files-pri/T0-F1/download/whole.csv", { headers: { "content-type": "text/csv" }, body });
    expect(Buffer.from((await download("/files-pri/T0-F1/download/whole.csv")) as Uint8Array)).toEqual(body);
  });

  it("headers and part of the body, then nothing: given up after the idle timeout as stalled, with a specific answer", async () => {
    fake.serve("/files-pri/T0-F2/download/stall.csv", { body, partial: { bytes: 64 * 1024, ending: "stall" } });
    const started = Date.now();
    const error = await download("/files-pri/T0-F2/download/stall.csv", { idleTimeoutMs: 1000 });
    // The idle timeout ended it, not the overall 60 s (vitest would have given up long before).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(SlackApiError);
    expect(error).toMatchObject({
      method: "files.download",
      failure: "stalled",
      detail: { slackError: expect.stringMatching(/^no data for 1 s after [\d,]+ bytes$/) },
    });
    expect(explainSlackError(error)).toMatchObject({
      text: "Slack stopped sending the file before all of it arrived, so nothing was done with it. Try again in a moment.",
      level: "warn",
      retry: true,
    });
    const logs = new LogLines();
    logFailure(
      pino({ level: "debug" }, logs),
      error,
      { action: "import upload" },
      { explain: explainSlackError, spell: (c) => `/hms ${c}` },
    );
    expect(logs.lines).toEqual([
      expect.objectContaining({
        level: 40,
        method: "files.download",
        slackError: (error as SlackApiError).detail.slackError,
        action: "import upload",
      }),
    ]);
  });

  it("a slow but steady file is read, however long it takes in all (each wait is short)", async () => {
    // Part of a body every 200 ms for 1.6 s, with an idle timeout of 1 s: never idle long enough to be given up.
    const chunks = 8;
    const server = await import("node:http").then(({ createServer }) =>
      createServer((_req, res) => {
        res.writeHead(200, { "content-length": String(chunks * 1024) });
        let sent = 0;
        const timer = setInterval(() => {
          res.write(Buffer.alloc(1024, "b"));
          if (++sent === chunks) {
            clearInterval(timer);
            res.end();
          }
        }, 200);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const bytes = await downloadFile(`http://127.0.0.1:${port}/files/F3`, "xoxb-hms-test", {
        apiUrl: `http://127.0.0.1:${port}/api/`,
        idleTimeoutMs: 1000,
      });
      expect(bytes.byteLength).toBe(chunks * 1024);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("the connection dropped mid-body: stalled too, saying so", async () => {
    fake.serve("/files-pri/T0-F4/download/cut.csv", { body, partial: { bytes: 1024, ending: "close" } });
    const error = await download("/files-pri/T0-F4/download/cut.csv", { idleTimeoutMs: 5000 });
    expect(error).toMatchObject({ method: "files.download", failure: "stalled" });
    expect((error as SlackApiError).detail.slackError).toMatch(/^connection closed after [\d,]+ bytes$/);
  });

  it("not complete within the overall timeout: stalled", async () => {
    fake.serve("/files-pri/T0-F5/download/slow.csv", { body, partial: { bytes: 1024, ending: "stall" } });
    const error = await download("/files-pri/T0-F5/download/slow.csv", { idleTimeoutMs: 10_000, timeoutMs: 1500 });
    expect(error).toMatchObject({
      method: "files.download",
      failure: "stalled",
      detail: { slackError: expect.stringMatching(/^not complete within 1.5 s \([\d,]+ bytes\)$/) },
    });
  });
});
