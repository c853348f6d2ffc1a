/**
 * Socket Mode (SLACK_APP_TOKEN): the same app over a WebSocket to (fake) Slack instead of
 * POST /slack/events — commands, the modal, events and their retries.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../helpers/db.ts";
import { SLACK_USERS, type SlackHarness, startSlackHarness, stateValues } from "../helpers/slack-app.ts";
import { fixture } from "../helpers/slack-requests.ts";

describe.each(databaseKinds)("Slack over Socket Mode (%s)", (kind) => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness(kind, { slack: { appToken: "xapp-1-A0HMSAPP-1-abcdef" } });
    await h.fake.waitForSocket();
  });
  afterAll(async () => h?.close());

  const command = (text: string) => ({
    ...fixture<Record<string, string>>("slash-command"),
    text,
    response_url: h.fake.responseUrl(),
    user_id: SLACK_USERS.admin.id,
  });

  it("connects with the app-level token and does not mount POST /slack/events", async () => {
    const [open] = h.fake.callsTo("apps.connections.open");
    expect(open!.token).toBe("xapp-1-A0HMSAPP-1-abcdef");
    expect((await fetch(h.eventsUrl, { method: "POST" })).status).toBe(404);
    expect(h.logs.find({ msg: "Slack connected with Socket Mode" })).toMatchObject({ mode: "socket" });
    // The harness also sets SLACK_SIGNING_SECRET: the admin is told which one won.
    expect(
      h.logs.find({
        msg: "SLACK_APP_TOKEN is set, so Slack uses Socket Mode: SLACK_SIGNING_SECRET is ignored and POST /slack/events is not served",
      }),
    ).toMatchObject({ level: 40 });
  });

  it("answers /hms help in the acknowledgement", async () => {
    const ack = (await h.fake.socketSend("slash_commands", command("help"))) as { response_type: string; text: string };
    expect(ack).toMatchObject({
      response_type: "ephemeral",
      text: "HMS userbot commands: add-user, add-group, groups, users, user, export, template, import, imports, invites, audit, help",
    });
  });

  it("opens the Add user modal and adds the user on submission", async () => {
    const cmd = command("add-user sock@corp.example.org");
    await h.fake.socketSend("slash_commands", cmd);
    const [open] = await h.fake.waitFor("views.open");
    expect(open!.token).toBe("xoxb-hms-test");

    const submission = fixture("view-submission");
    submission.view = {
      ...(submission.view as object),
      ...(open!.args.view as object),
      state: { values: stateValues({ email: "sock@corp.example.org", name: "Sock Et", group: "Warehouse" }) },
    };
    const ack = await h.fake.socketSend("interactive", submission);
    expect(ack).toEqual({}); // an empty ack closes the modal
    expect(await h.t.db.prisma.user.findUnique({ where: { email: "sock@corp.example.org" }, include: { group: true } })).toMatchObject({
      name: "Sock Et",
      group: { name: "Warehouse" },
    });
    const [confirmation] = await h.waitForResponse(cmd.response_url);
    expect(confirmation!.args).toMatchObject({ text: "Added Sock Et (sock@corp.example.org) to Warehouse as User." });

    const invalid = fixture("view-submission");
    invalid.view = {
      ...(invalid.view as object),
      ...(open!.args.view as object),
      state: { values: stateValues({ email: "sock@corp.example.org", name: "Again", group: "Warehouse" }) },
    };
    expect(await h.fake.socketSend("interactive", invalid)).toEqual({
      response_action: "errors",
      errors: { email: "A user with Email ID sock@corp.example.org already exists." },
    });
  });

  it("feeds the Group select", async () => {
    const suggestion = fixture("block-suggestion");
    suggestion.value = "ware";
    expect(await h.fake.socketSend("interactive", suggestion)).toMatchObject({ options: [{ value: "Warehouse" }] });
  });

  it("processes an event once when Slack redelivers it", async () => {
    const event = fixture("event-message-im");
    event.event_id = "Ev0SOCKET0001";
    await h.fake.socketSend("events_api", event, { retry_attempt: 0, retry_reason: "" });
    await h.fake.waitFor("chat.postMessage");
    await h.fake.socketSend("events_api", event, { retry_attempt: 1, retry_reason: "timeout" });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.fake.callsTo("chat.postMessage").length).toBe(1);
  });
});
