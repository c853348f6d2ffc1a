/** Commands typed to the bot in Teams, on the real app: parsing, the core's answers, refusals, where answers go. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseCommand } from "../../src/chat/commands.ts";
import { decodeTeamsText } from "../../src/platforms/teams/commands.ts";
import { databaseKinds } from "../helpers/db.ts";
import type { ConnectorCall } from "../helpers/fake-bot-connector.ts";
import { type Conversation, channel, groupChat, installed, personal } from "../helpers/teams-activities.ts";
import { type HarnessUser, startTeamsHarness, TEAMS_USERS, type TeamsHarness, textOf } from "../helpers/teams-app.ts";

describe("reading what was typed in Teams", () => {
  it.each([
    ["  GROUPS  fin ", { name: "groups", filter: "fin" }],
    ["Add User jane@corp.example.org", { name: "add-user", email: "jane@corp.example.org" }],
    ['add user <a href="mailto:jane@corp.example.org">jane@corp.example.org</a>', { name: "add-user", email: "jane@corp.example.org" }],
    ["add group R&amp;D&nbsp;policy=Lab &lt;1&gt;", { name: "add-group", group: "R&D", policy: "Lab <1>" }],
    ["<p>users jane</p>", { name: "users", query: "jane" }],
    ["add-user", { name: "add-user", email: undefined }],
  ])("%j", (text, parsed) => {
    expect(parseCommand(decodeTeamsText(text))).toEqual(parsed);
  });
});

describe.each(databaseKinds)("commands in Teams (%s)", (kind) => {
  let h: TeamsHarness;
  beforeAll(async () => {
    h = await startTeamsHarness(kind);
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  /** Says `text` and returns the one card the bot answered with, in the conversation. */
  async function answerTo(text: string, options: { user?: HarnessUser; conversation?: Conversation } = {}) {
    const conversation = options.conversation ?? personal(options.user ?? TEAMS_USERS.admin);
    const before = h.fake.calls.length;
    const sent = await h.say(text, { user: options.user, conversation });
    expect(sent.status).toBe(200);
    const [post] = await h.waitForMessages(
      (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === conversation.id,
      1,
      `the answer to ${text}`,
    );
    return { post: post!, card: h.cardOf(post!), text: textOf(h.cardOf(post!)), summary: String(post!.body?.summary) };
  }

  it.each(["", "help", "HELP me", "frobnicate"])("answers %j with the help, its commands as Teams people type them", async (typed) => {
    const { text, summary } = await answerTo(typed);
    expect(summary).toBe(
      "HMS userbot commands: add user, add group, groups, users, user, export, template, import, imports, invites, audit, help",
    );
    for (const usage of [
      "add user [email]",
      "add group <name> [policy=<policy name>]",
      "groups [text]",
      "users <text>",
      "user <email>",
      "export [group]",
      "template",
      "import",
      "imports",
      "invites [IMP-code]",
      "audit [email | IMP-code]",
      "help",
    ])
      expect(text).toContain(usage);
    if (typed === "frobnicate") expect(text).toContain("There is no frobnicate command.");
    else expect(text).not.toContain("There is no");
  });

  it("add group creates the group with the policy given, and audits it naming the Teams user (AAD object id)", async () => {
    const { summary } = await answerTo("add group Field Sales policy=Strict BYOD");
    expect(summary).toBe("Created group Field Sales with policy Strict BYOD.");
    expect(await h.t.db.prisma.group.findFirst({ where: { name: "Field Sales" } })).toMatchObject({ policy: "Strict BYOD" });
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "group.add", subject: "group:Field Sales" } });
    expect(audit).toMatchObject({
      actor: TEAMS_USERS.admin.email,
      details: { platform: "teams", platformUserId: TEAMS_USERS.admin.aadObjectId, policy: "Strict BYOD" },
    });
  });

  it("add group without a policy uses Default; a taken name or no name is explained", async () => {
    expect((await answerTo("add group Night Shift")).summary).toBe("Created group Night Shift with policy Default.");
    expect((await answerTo("ADD GROUP night shift")).summary).toBe("A group named “night shift” already exists.");
    expect((await answerTo("add group policy=Strict")).summary).toBe("Group name is required.");
    expect(await h.t.db.prisma.group.count({ where: { name: { equals: "night shift", mode: "insensitive" } } })).toBe(1);
  });

  it("groups lists every group with its policy and user count; groups <text> filters", async () => {
    const { summary, text } = await answerTo("groups");
    expect(summary).toMatch(/^\d+ groups$/);
    expect(text).toContain("Finance — policy Default · 1 user");
    expect(text).toContain("Administrators — policy Default · 2 users");
    const filtered = await answerTo("groups fi");
    expect(filtered.text).toContain("Field Sales — policy Strict BYOD · 0 users");
    expect(filtered.text).toContain("Finance — policy Default · 1 user");
    expect(filtered.text).not.toContain("Warehouse");
  });

  it("users shows at most 20 matches and counts the rest", async () => {
    const finance = (await h.t.store.groups.findByName("Finance"))!;
    await h.t.db.prisma.user.createMany({
      data: Array.from({ length: 23 }, (_, i) => ({
        email: `contractor${String(i).padStart(2, "0")}@corp.example.org`,
        name: `Contractor ${i}`,
        role: "USER" as const,
        groupId: finance.id,
        source: "FORM" as const,
        createdBy: "test",
      })),
    });
    const { summary, text } = await answerTo("users contractor");
    expect(summary).toBe("23 users matching “contractor”");
    expect(text.match(/contractor\d\d@/g)?.length).toBe(20);
    expect(text).toContain("…and 3 more. Narrow the search to see them.");
    expect((await answerTo("users")).summary).toBe("Give part of an email or a name to search for.");
    expect((await answerTo("users zzzz")).summary).toBe("No user's email or name contains “zzzz”.");
  });

  it.each([["add group Shadow IT"], ["groups"], ["users admin"], ["add user x@corp.example.org"]])(
    "refuses %j from a plain user: told so, nothing written",
    async (typed) => {
      const auditsBefore = await h.t.db.prisma.auditEvent.count();
      const { summary } = await answerTo(typed, { user: TEAMS_USERS.plain });
      expect(summary).toBe("You need the Administrator role in HMS to do this.");
      expect(await h.t.db.prisma.group.count({ where: { name: "Shadow IT" } })).toBe(0);
      expect(await h.t.db.prisma.auditEvent.count()).toBe(auditsBefore);
    },
  );

  it("tells a member without email or UPN (a guest) why the bot cannot tell who they are", async () => {
    const { summary } = await answerTo("groups", { user: TEAMS_USERS.guest });
    expect(summary).toContain("cannot see an email address or user principal name for you in Microsoft Teams");
    expect(h.logs.find({ msg: `the members API returned no email or UPN for ${TEAMS_USERS.guest.id}` })).toMatchObject({ level: 40 });
  });

  it("a member look-up that fails is explained (and worth another try)", async () => {
    h.fake.once("member", { status: 503, body: { error: { code: "ServiceUnavailable" } } }, (c) => c.userId === TEAMS_USERS.otherAdmin.id);
    const { summary } = await answerTo("groups", { user: TEAMS_USERS.otherAdmin });
    expect(summary).toContain("Microsoft Teams answered ServiceUnavailable to HMS userbot. Try again in a moment.");
    expect(h.logs.find({ operation: "member lookup", status: 503 })).toBeDefined();
  });

  it("looks the Teams user up once for several commands (GET …/members/{userId}, cached)", async () => {
    const lookups = () => h.fake.of("member").filter((c) => c.userId === TEAMS_USERS.otherAdmin.id && c.reply?.status === 200).length;
    const before = lookups();
    await answerTo("groups", { user: TEAMS_USERS.otherAdmin });
    await answerTo("users admin", { user: TEAMS_USERS.otherAdmin });
    expect(lookups()).toBeLessThanOrEqual(before + 1);
    expect(lookups()).toBeGreaterThanOrEqual(1);
    const call = h.fake.of("member").find((c) => c.userId === TEAMS_USERS.otherAdmin.id)!;
    expect(call.conversationId).toBe(personal(TEAMS_USERS.otherAdmin).id);
  });

  it("in a channel the bot answers an @mention in the message's thread; a message without one is not for it", async () => {
    const thread = channel("1732449800001");
    const { post, summary } = await answerTo("groups fin", { conversation: thread });
    expect(post.kind).toBe("reply");
    expect(post.activityId).toBe("1732449800001");
    expect(summary).toBe("1 group");
    // Someone the bot has not met yet is looked up in the channel's conversation, without the thread suffix.
    const refused = await answerTo("groups", { user: { id: "29:newInChannel", name: "New" }, conversation: channel("1732449800003") });
    expect(refused.post.activityId).toBe("1732449800003");
    expect(refused.summary).toContain("Microsoft Teams does not list you as a member of this conversation");
    const lookup = h.fake.of("member").find((c) => c.userId === "29:newInChannel")!;
    expect(lookup.conversationId).toBe("19:aebd0ad4d6ab42c8b9ed19c251c2fc37@thread.tacv2");

    const before = h.fake.calls.length;
    await h.say("groups", { conversation: channel("1732449800002"), mention: false });
    await h.chat.idle();
    expect(h.fake.calls.slice(before).filter((c: ConnectorCall) => c.kind === "send" || c.kind === "reply")).toEqual([]);
  });

  it("in a group chat too, with the @mention", async () => {
    const chat = groupChat();
    const { summary, post } = await answerTo("users admin", { conversation: chat });
    expect(summary).toContain("matching “admin”");
    expect(post.conversationId).toBe(chat.id);
  });

  it("the bot installed in a personal chat says what it can do", async () => {
    const user = { id: "29:newcomer", name: "New Comer" };
    const before = h.fake.calls.length;
    expect((await h.post(installed({ serviceUrl: h.fake.serviceUrl, from: user }))).status).toBe(200);
    const [post] = await h.waitForMessages((c) => h.fake.calls.indexOf(c) >= before, 1, "the welcome");
    expect(post!.conversationId).toBe(personal(user).id);
    expect(post!.body?.summary).toBe(
      "HMS userbot commands: add user, add group, groups, users, user, export, template, import, imports, invites, audit, help",
    );
  });
});
