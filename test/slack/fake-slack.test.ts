/** The fake Slack itself, as later tests will lean on it: scripting, files, uploads. */
import { webApi } from "@slack/bolt";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeSlack } from "../helpers/fake-slack.ts";

describe("FakeSlack", () => {
  let fake: FakeSlack;
  let client: webApi.WebClient;
  beforeAll(async () => {
    fake = await FakeSlack.start();
    client = new webApi.WebClient("xoxb-fake", {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: webApi.LogLevel.ERROR,
    });
  });
  afterAll(async () => fake.close());
  beforeEach(() => fake.reset());

  it("records calls with their arguments and token, and answers like Slack", async () => {
    fake.addUser({ id: "U9", email: "u9@corp.example.org", name: "U Nine" });
    const info = await client.users.info({ user: "U9" });
    expect(info.user?.profile?.email).toBe("u9@corp.example.org");
    expect(fake.calls.map((c) => [c.method, c.args.user, c.token])).toEqual([["users.info", "U9", "xoxb-fake"]]);
    await expect(client.users.info({ user: "U404" })).rejects.toMatchObject({ data: { ok: false, error: "user_not_found" } });
    await expect(client.apiCall("no.such.method")).rejects.toMatchObject({ data: { error: "unknown_method" } });
    await expect(
      new webApi.WebClient("bogus", { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }).auth.test(),
    ).rejects.toMatchObject({ data: { error: "invalid_auth" } });
  });

  it("plays scripted answers: once (optionally matching), every time, rate limits, dropped connections", async () => {
    fake.once("auth.test", FakeSlack.error("account_inactive"), (c) => c.token === "xoxb-other");
    fake.once("auth.test", FakeSlack.ratelimited(9));
    await expect(client.auth.test()).rejects.toMatchObject({ retryAfter: 9 });
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true, user_id: "U0HMSBOT", bot_id: "B0HMSBOT" });
    await expect(client.auth.test({ token: "xoxb-other" })).rejects.toMatchObject({ data: { error: "account_inactive" } });
    fake.on("chat.postMessage", () => FakeSlack.error("channel_not_found"));
    await expect(client.chat.postMessage({ channel: "C1", text: "a" })).rejects.toMatchObject({ data: { error: "channel_not_found" } });
    await expect(client.chat.postMessage({ channel: "C1", text: "b" })).rejects.toMatchObject({ data: { error: "channel_not_found" } });
    fake.once("chat.update", "network-error");
    await expect(client.chat.update({ channel: "C1", ts: "1.2", text: "c" })).rejects.toMatchObject({ code: "slack_webapi_request_error" });
    await expect(client.chat.update({ channel: "C1", ts: "1.2", text: "d" })).resolves.toMatchObject({ ok: true, ts: "1.2", text: "d" });
  });

  it("describes files and serves their downloads, recording the token sent", async () => {
    fake.addFile({ id: "F1", name: "users.csv", content: "Email ID,Name\na@b.c,A\n" });
    const { file } = await client.files.info({ file: "F1" });
    expect(file).toMatchObject({ id: "F1", name: "users.csv", filetype: "csv", size: 22 });
    const res = await fetch(file!.url_private_download!, { headers: { authorization: "Bearer xoxb-fake" } });
    expect(await res.text()).toBe("Email ID,Name\na@b.c,A\n");
    expect(fake.callsTo("GET").at(-1)!.headers.authorization).toBe("Bearer xoxb-fake");
  });

  it("takes uploads the way Slack's external upload flow does", async () => {
    const { upload_url, file_id } = await client.files.getUploadURLExternal({ filename: "errors.csv", length: 5 });
    const put = await fetch(upload_url!, { method: "POST", body: "a,b\n1" });
    expect(await put.text()).toBe("OK - 5");
    expect(fake.uploads.get(file_id!)?.toString()).toBe("a,b\n1");
    const done = await client.files.completeUploadExternal({ files: [{ id: file_id!, title: "Errors" }], channel_id: "C1" });
    expect(done.files).toEqual([{ id: file_id, title: "Errors", channels: ["C1"] }]);
  });
});
