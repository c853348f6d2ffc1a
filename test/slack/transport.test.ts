/**
 * POST /slack/events on the real app: only requests Slack signed within five minutes of now
 * (either way) get in; url_verification is answered; an event retried by Slack is processed once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { databaseKinds } from "../helpers/db.ts";
import { type SlackHarness, startSlackHarness } from "../helpers/slack-app.ts";
import { commandBody, eventBody, fixture, postSigned, SIGNING_SECRET, signature } from "../helpers/slack-requests.ts";

describe.each(databaseKinds)("Slack transport (%s)", (kind) => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness(kind);
  });
  afterAll(async () => h?.close());

  const groupsCommand = () =>
    commandBody({ ...fixture<Record<string, string>>("slash-command"), text: "groups", response_url: h.fake.responseUrl() });
  const now = () => Math.floor(Date.now() / 1000);

  it("answers a correctly signed command", async () => {
    const request = groupsCommand();
    expect((await postSigned(h.eventsUrl, request)).status).toBe(200);
    const responseUrl = new URLSearchParams(request.body).get("response_url")!;
    const [answer] = await h.waitForResponse(responseUrl);
    expect(answer!.args).toMatchObject({ response_type: "ephemeral", text: "6 groups" });
  });

  // Built when the test runs: a timestamp taken when the table is collected goes stale on a slow machine.
  it.each([
    ["a forged signature", () => ({ signature: `v0=${"0".repeat(64)}` })],
    ["a signature with another secret", () => ({ secret: "not-the-signing-secret" })],
    ["a malformed signature", () => ({ signature: "v1=abc" })],
    ["a timestamp 6 minutes old", () => ({ timestamp: now() - 360 })],
    ["a timestamp 6 minutes ahead", () => ({ timestamp: now() + 360 })],
  ])("refuses %s with 401 and does nothing", async (_, forgery) => {
    const before = h.fake.calls.length;
    const answer = await postSigned(h.eventsUrl, { ...groupsCommand(), ...forgery() });
    expect(answer.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(h.fake.calls.length).toBe(before);
    expect(h.logs.find({ msg: "slack request refused: not signed by Slack" })).toBeDefined();
  });

  it("refuses a request without the signing headers, and a body changed after signing", async () => {
    const res = await fetch(h.eventsUrl, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    const request = groupsCommand();
    const ts = now();
    const tampered = await postSigned(h.eventsUrl, {
      ...request,
      timestamp: ts,
      signature: signature(SIGNING_SECRET, ts, request.body),
      body: request.body.replace("groups", "users+a"),
    });
    expect(tampered.status).toBe(401);
  });

  it("accepts timestamps within 5 minutes either way (clock skew)", async () => {
    expect((await postSigned(h.eventsUrl, { ...groupsCommand(), timestamp: now() - 240 })).status).toBe(200);
    expect((await postSigned(h.eventsUrl, { ...groupsCommand(), timestamp: now() + 240 })).status).toBe(200);
  });

  it("answers Slack's url_verification challenge", async () => {
    const challenge = fixture("event-url-verification");
    const answer = await postSigned(h.eventsUrl, eventBody(challenge));
    expect(answer).toMatchObject({ status: 200, json: { challenge: challenge.challenge } });
  });

  it("answers Slack's unsigned ssl_check with 200 and nothing else", async () => {
    const res = await fetch(h.eventsUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "ssl_check=1&token=x",
    });
    expect(res.status).toBe(200);
  });

  it("refuses bodies that are neither form data nor JSON", async () => {
    expect((await postSigned(h.eventsUrl, { body: "{not json", contentType: "application/json" })).status).toBe(400);
  });

  const form = (fields: Record<string, string>) => ({
    body: new URLSearchParams(fields).toString(),
    contentType: "application/x-www-form-urlencoded" as const,
  });
  /** A fixture without one field: an interaction payload (a form), or an event (JSON). */
  const without = (name: string, key: string) => {
    const payload = fixture(name);
    delete payload[key];
    return name.startsWith("event-") ? eventBody(payload) : form({ payload: JSON.stringify(payload) });
  };
  const command = (fields: Record<string, string>) => {
    const c = { ...fixture<Record<string, string>>("slash-command"), text: "groups", response_url: h.fake.responseUrl(), ...fields };
    return commandBody(Object.fromEntries(Object.entries(c).filter(([, v]) => v !== "")));
  };
  it.each([
    ["payload=null", () => form({ payload: "null" }), "the payload field is not a JSON object"],
    ["payload=[]", () => form({ payload: "[]" }), "the payload field is not a JSON object"],
    ['payload="text"', () => form({ payload: '"block_actions"' }), "the payload field is not a JSON object"],
    ["payload that is not JSON", () => form({ payload: "{type:" }), "the payload field is not valid JSON"],
    ["block_actions without user", () => without("block-actions", "user"), "malformed payload: block_actions without user"],
    ["block_actions without actions", () => without("block-actions", "actions"), "malformed payload: block_actions without actions"],
    ["block_suggestion without user", () => without("block-suggestion", "user"), "malformed payload: block_suggestion without user"],
    ["view_submission without view", () => without("view-submission", "view"), "malformed payload: view_submission without view"],
    ["an interaction without a type", () => without("view-submission", "type"), "malformed payload: interaction payload without a type"],
    ["a slash command without user_id", () => command({ user_id: "" }), "malformed payload: slash command /hms without user_id"],
    [
      "a form that is neither a command nor a payload",
      () => form({ token: "x", team_id: "T0HMSTEST" }),
      "malformed payload: a form that is neither a slash command nor an interaction payload",
    ],
    ["a JSON array", () => eventBody([fixture("event-message-im")]), "the body is not a JSON object"],
    ["JSON null", () => eventBody(null), "the body is not a JSON object"],
    [
      "an event callback without its event",
      () => without("event-message-im", "event"),
      "malformed payload: event_callback without an event",
    ],
    ["an event body without a type", () => eventBody({ event_id: "Ev0NOTYPE01" }), "malformed payload: event body without a type"],
  ])("refuses a signed but malformed body (%s) with 400; nothing runs, nothing logged as an error", async (_, request, reason) => {
    // Earlier tests' answers may still be on their way: start once the fake has been quiet for a while.
    for (let count = -1; count !== h.fake.calls.length; await new Promise((r) => setTimeout(r, 150))) count = h.fake.calls.length;
    const before = { calls: h.fake.calls.length, lines: h.logs.lines.length };
    const answer = await postSigned(h.eventsUrl, request());
    expect(answer.status).toBe(400);
    await new Promise((r) => setTimeout(r, 150));
    expect(h.fake.calls.length).toBe(before.calls);
    const lines = h.logs.lines.slice(before.lines);
    expect(lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(lines.filter((l) => l.msg === "slack request refused")).toEqual([expect.objectContaining({ level: 40, reason })]);
  });

  it("processes an event once when Slack retries it (X-Slack-Retry-Num)", async () => {
    const event = fixture("event-message-im");
    event.event_id = "Ev0RETRIED01";
    const first = await h.event(event);
    expect(first.status).toBe(200);
    const [help] = await h.fake.waitFor("chat.postMessage");
    expect(help!.args).toMatchObject({
      channel: "D0ADMIN",
      text: "HMS userbot commands: add-user, add-group, groups, users, user, export, template, import, imports, invites, audit, help",
    });

    for (const retry of ["1", "2"]) {
      const again = await h.event(event, { "x-slack-retry-num": retry, "x-slack-retry-reason": "http_timeout" });
      expect(again.status).toBe(200);
    }
    // Both retries are acked at once; their claims finish later, in either order.
    const ignored = () =>
      h.logs.lines
        .filter((l) => l.msg === "slack event already processed: delivery ignored" && l.eventId === "Ev0RETRIED01")
        .map((l) => l.retryNum);
    await vi.waitFor(() => expect(ignored()).toHaveLength(2), { timeout: 5000, interval: 20 });
    expect(ignored().sort()).toEqual([1, 2]);
    expect(h.fake.callsTo("chat.postMessage").length).toBe(1);
    expect(await h.t.db.prisma.processedEvent.count({ where: { key: "slack:event:Ev0RETRIED01" } })).toBe(1);
  });

  it("acknowledges file_shared (the manifest subscribes to it) without acting or recording it", async () => {
    const calls = h.fake.calls.length;
    expect((await h.event(fixture("event-file-shared"))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(h.fake.calls.length).toBe(calls);
    expect(await h.t.db.prisma.processedEvent.count({ where: { key: "slack:event:Ev0HMSFILE01" } })).toBe(0);
  });

  it("ignores the bot's own messages and message edits in its DMs", async () => {
    const before = h.fake.callsTo("chat.postMessage").length;
    const own = fixture("event-message-im");
    own.event_id = "Ev0OWNMSG001";
    own.event = { ...(own.event as object), user: "U0HMSBOT", bot_id: "B0HMSBOT" };
    const edit = fixture("event-message-im");
    edit.event_id = "Ev0EDITED001";
    edit.event = { ...(edit.event as object), subtype: "message_changed" };
    expect((await h.event(own)).status).toBe(200);
    expect((await h.event(edit)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.fake.callsTo("chat.postMessage").length).toBe(before);
  });
});
