/**
 * Slack's Web API failing under the bot — rate limits with Retry-After, a refused token, the
 * network — on the real app: the admin is told briefly what to do, the failure is logged with
 * the method, nothing is written, and nothing escapes as an unhandled rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../helpers/db.ts";
import { DEFAULT_RESPONDERS, FakeSlack, type Responder } from "../helpers/fake-slack.ts";
import { ADMIN } from "../helpers/fixtures.ts";
import { SLACK_USERS, type SlackHarness, startSlackHarness } from "../helpers/slack-app.ts";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

describe.each(databaseKinds)("Slack Web API failures (%s)", (kind) => {
  let h: SlackHarness;
  let admins = 0;
  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    // A short submission deadline, so that a slow Slack can be played without slowing the tests.
    h = await startSlackHarness(kind, { platforms: { submitDeadlineMs: 300 } });
  });
  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await h?.close();
    expect(unhandled).toEqual([]);
  });

  /** A Slack user for the admin not yet in the identity cache, so users.info is asked. */
  function freshAdmin(): string {
    const id = `U0FRESH${++admins}`;
    h.fake.addUser({ id, email: ADMIN.email, name: "Ada Admin" });
    return id;
  }
  /** users.info answering normally, but only after `ms`. */
  const slowUsersInfo =
    (ms: number): Responder =>
    async (call, fake) => ({ ...((await DEFAULT_RESPONDERS["users.info"]!(call, fake)) as object), delayMs: ms });
  const usersInfoFor = (id: string) => (c: { args: Record<string, unknown> }) => c.args.user === id;

  async function answerTo(text: string, user: string) {
    const sent = await h.command(text, { user });
    expect(sent.status).toBe(200);
    const [answer] = await h.waitForResponse(sent.responseUrl);
    return (answer!.args as { text: string }).text;
  }

  it("users.info rate limited: the admin is told when to try again; logged with method and Retry-After", async () => {
    const user = freshAdmin();
    h.fake.once("users.info", FakeSlack.ratelimited(30), usersInfoFor(user));
    const started = Date.now();
    expect(await answerTo("groups", user)).toBe("Slack is rate-limiting HMS userbot right now. Try again in 30 seconds.");
    expect(Date.now() - started).toBeLessThan(5000); // nobody waited out the 30 seconds
    expect(h.logs.lines.find((l) => l.method === "users.info" && l.retryAfter === 30)).toMatchObject({
      level: 40,
      slackError: "ratelimited",
      subcommand: "groups",
    });
    // The next try works.
    expect(await answerTo("groups", user)).toMatch(/^\d+ groups$/);
  });

  it("users.info refusing the token (invalid_auth): the admin is told to have SLACK_BOT_TOKEN checked; logged as an error", async () => {
    const user = freshAdmin();
    h.fake.once("users.info", FakeSlack.error("invalid_auth"), usersInfoFor(user));
    expect(await answerTo("groups", user)).toBe(
      "Slack refused HMS userbot's token (invalid_auth). Ask whoever runs HMS userbot to check SLACK_BOT_TOKEN.",
    );
    expect(h.logs.lines.find((l) => l.method === "users.info" && l.slackError === "invalid_auth")).toMatchObject({
      level: 50,
      subcommand: "groups",
    });
  });

  it("users.info unreachable (connection dropped): the admin is told to try again", async () => {
    const user = freshAdmin();
    h.fake.once("users.info", "network-error", usersInfoFor(user));
    expect(await answerTo("users jane", user)).toBe("HMS userbot could not reach Slack. Try again in a moment.");
    expect(h.logs.lines.find((l) => l.method === "users.info" && l.subcommand === "users" && l.level === 40)).toBeDefined();
  });

  it("users.info missing a scope: the admin is told which permission the app lacks", async () => {
    const user = freshAdmin();
    h.fake.once("users.info", FakeSlack.error("missing_scope", { needed: "users:read", provided: "commands" }), usersInfoFor(user));
    expect(await answerTo("groups", user)).toBe(
      "The HMS userbot Slack app lacks the users:read permission. Ask a workspace admin to update it from the manifest and reinstall it.",
    );
  });

  it("views.open rate limited: the admin is told when to run /hms add-user again", async () => {
    h.fake.once("views.open", FakeSlack.ratelimited(12));
    const sent = await h.command("add-user", { user: freshAdmin() });
    const [answer] = await h.waitForResponse(sent.responseUrl);
    expect((answer!.args as { text: string }).text).toBe("Slack is rate-limiting HMS userbot right now. Try again in 12 seconds.");
    expect(h.logs.lines.find((l) => l.method === "views.open" && l.retryAfter === 12)).toMatchObject({ subcommand: "add-user" });
  });

  it("users.info rate limited at submission: nothing is written, the form stays open with what was typed, and a second submit saves it", async () => {
    const user = freshAdmin();
    h.fake.once("users.info", FakeSlack.ratelimited(20), usersInfoFor(user));
    // The modal opens anyway; the admin check at opening hit the rate limit and is left to the submission.
    h.fake.once("users.info", FakeSlack.ratelimited(20), usersInfoFor(user));
    const { view, responseUrl } = await h.openAddUser(undefined, user);
    const before = await h.t.db.prisma.user.count();
    const typed = {
      email: "rl@corp.example.org",
      name: "Rate Limited",
      group: "Finance",
      role: "User",
      exchangeDomain: "CORP",
      exchangeUsername: "rlimited",
    };
    const answer = await h.submit(view, typed, user);
    expect(answer.status).toBe(200);
    const kept = (answer.json as { response_action: string; view: Record<string, unknown> }).view;
    expect(answer.json).toMatchObject({ response_action: "update" });
    expect(kept).toMatchObject({ callback_id: "hms_add_user", private_metadata: view.private_metadata, submit: { text: "Add user" } });
    const blocks = kept.blocks as { block_id?: string; text?: { text: string }; element?: Record<string, unknown> }[];
    expect(blocks[0]!.text!.text).toBe(
      "Not saved: Slack is rate-limiting HMS userbot right now. Try again in 20 seconds. What you typed is kept below.",
    );
    const element = (id: string) => blocks.find((b) => b.block_id === id)!.element!;
    expect(element("email").initial_value).toBe("rl@corp.example.org");
    expect(element("name").initial_value).toBe("Rate Limited");
    expect(element("group").initial_option).toMatchObject({ value: "Finance", text: { text: "Finance" } });
    expect(element("role").initial_option).toMatchObject({ value: "User" });
    expect(element("exchangeDomain").initial_value).toBe("CORP");
    expect(element("exchangeUsername").initial_value).toBe("rlimited");
    expect(await h.t.db.prisma.user.count()).toBe(before);
    expect(h.responses(responseUrl)).toEqual([]);

    // Slack calmed down: submitting the kept form adds the user.
    expect((await h.submit(kept, typed, user)).text).toBe("");
    const [confirmation] = await h.waitForResponse(responseUrl);
    expect(confirmation!.args).toMatchObject({ text: "Added Rate Limited (rl@corp.example.org) to Finance as User." });
    expect(await h.t.db.prisma.user.findUnique({ where: { email: "rl@corp.example.org" } })).toMatchObject({
      exchangeDomain: "CORP",
      exchangeUsername: "rlimited",
    });
  });

  it("a failure worth retrying that comes after the modal closed: told to run the command again", async () => {
    const { view, responseUrl } = await h.openAddUser(undefined, SLACK_USERS.admin.id);
    const user = freshAdmin();
    h.fake.once("users.info", { ...FakeSlack.ratelimited(20), delayMs: 2000 }, usersInfoFor(user));
    expect((await h.submit(view, { email: "late-rl@corp.example.org", name: "Late Limit", group: "Finance" }, user)).text).toBe("");
    const [message] = await h.waitForResponse(responseUrl);
    expect((message!.args as { text: string }).text).toBe(
      "The form was not saved: Slack is rate-limiting HMS userbot right now. Try again in 20 seconds.",
    );
    expect(await h.t.db.prisma.user.count({ where: { email: "late-rl@corp.example.org" } })).toBe(0);
  });

  it("the Group select with users.info rate limited offers nothing and logs it", async () => {
    const user = freshAdmin();
    h.fake.once("users.info", FakeSlack.ratelimited(5), usersInfoFor(user));
    expect((await h.suggest("fin", user)).json).toEqual({ options: [] });
    expect(h.logs.lines.find((l) => l.method === "users.info" && l.action === "group options")).toBeDefined();
  });

  it("a response_url that fails: the answer goes by chat.postEphemeral", async () => {
    const user = freshAdmin();
    h.fake.once("response_url", "network-error");
    expect((await h.command("groups", { user })).status).toBe(200);
    const ephemerals = await h.fake.waitFor("chat.postEphemeral");
    expect(ephemerals.at(-1)!.args).toMatchObject({ channel: "C0ITADMINS", user, text: expect.stringMatching(/groups$/) });
  });

  it("an answer that cannot be delivered either way is logged, and the bot carries on", async () => {
    const user = freshAdmin();
    h.fake.once("response_url", "network-error").once("chat.postEphemeral", "network-error");
    const sent = await h.command("groups", { user });
    // The failure to deliver is itself explained, through the response_url that works again.
    const answers = await h.waitForResponse(sent.responseUrl, 2);
    expect(answers.at(-1)!.args).toMatchObject({ text: "HMS userbot could not reach Slack. Try again in a moment." });
    expect(h.logs.lines.find((l) => l.method === "chat.postEphemeral" && l.subcommand === "groups")).toBeDefined();
    expect(await answerTo("groups", user)).toMatch(/groups$/);
  });

  it("a submission slower than Slack allows: the modal closes in time and the confirmation follows", async () => {
    const { view, responseUrl } = await h.openAddUser(undefined, SLACK_USERS.admin.id);
    const user = freshAdmin();
    h.fake.once("users.info", slowUsersInfo(2000), usersInfoFor(user));
    const started = Date.now();
    const answer = await h.submit(view, { email: "slow@corp.example.org", name: "Slow Poke", group: "Finance" }, user);
    expect(answer).toMatchObject({ status: 200, text: "" });
    expect(Date.now() - started).toBeLessThan(1800); // the 300 ms deadline, not the 2 s Slack call
    const [confirmation] = await h.waitForResponse(responseUrl);
    expect(confirmation!.args).toMatchObject({ text: "Added Slow Poke (slow@corp.example.org) to Finance as User." });
    expect(await h.t.db.prisma.user.count({ where: { email: "slow@corp.example.org" } })).toBe(1);
  });

  it("a slow submission with field problems: the modal closed, so the problems come as a message", async () => {
    const { view, responseUrl } = await h.openAddUser(undefined, SLACK_USERS.admin.id);
    const user = freshAdmin();
    h.fake.once("users.info", slowUsersInfo(2000), usersInfoFor(user));
    expect((await h.submit(view, { email: "slow@", name: "Slow Poke", group: "Finance" }, user)).text).toBe("");
    const [message] = await h.waitForResponse(responseUrl);
    expect(message!.args).toMatchObject({
      text: "The form was not saved: Email ID “slow@” is not a valid email address.",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "The form was not saved. Email ID “slow@” is not a valid email address. Run `/hms add-user` again.",
          },
        },
      ],
    });
  });
});
