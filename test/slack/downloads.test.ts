/**
 * A file shared for import whose download stalls part-way, on the real app against the fake
 * Slack: the admin gets a specific line soon after (the idle timeout, not the overall one),
 * the failure is logged with the method, and nothing is staged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csvFile, validRows } from "../helpers/csv.ts";
import { databaseKinds } from "../helpers/db.ts";
import { type SlackHarness, startSlackHarness } from "../helpers/slack-app.ts";

describe.each(databaseKinds)("a stalled download (%s)", (kind) => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness(kind, { platforms: { downloadIdleTimeoutMs: 1000 } });
  });
  afterAll(async () => h?.close());

  it("Slack sends the headers and part of the file, then nothing: the admin is told, nothing staged", async () => {
    const content = Buffer.from(csvFile(validRows(2000, { prefix: "stall" })));
    const file = h.fake.addFile({ id: "F0STALL01", name: "stalled.csv", content });
    h.fake.serve(new URL(String(file.url_private_download)).pathname, {
      headers: { "content-type": "text/csv" },
      body: content,
      partial: { bytes: 16 * 1024, ending: "stall" },
    });
    const batches = await h.t.db.prisma.importBatch.count();
    const eph = h.fake.callsTo("chat.postEphemeral").length;
    const started = Date.now();
    expect((await h.shareFiles([file])).status).toBe(200);

    const [told] = (await h.fake.waitFor("chat.postEphemeral", eph + 1, 10_000)).slice(eph);
    expect(Date.now() - started).toBeLessThan(10_000); // the 1 s idle timeout, not the 60 s overall one
    expect(told!.args).toMatchObject({
      channel: "D0ADMIN",
      text: "Slack stopped sending the file before all of it arrived, so nothing was done with it. Try again in a moment.",
    });
    expect(h.logs.find({ method: "files.download", file: "F0STALL01" })).toMatchObject({
      level: 40,
      slackError: expect.stringMatching(/^no data for 1 s after [\d,]+ bytes$/),
      action: "import upload",
    });
    expect(await h.t.db.prisma.importBatch.count()).toBe(batches);
  });
});
