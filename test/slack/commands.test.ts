/** The /hms slash command on the real app: parsing, the core's answers, refusals. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCommand } from "../../src/chat/commands.ts";
import { decodeSlackText } from "../../src/platforms/slack/commands.ts";
import { databaseKinds } from "../helpers/db.ts";
import { SLACK_USERS, type SlackHarness, startSlackHarness } from "../helpers/slack-app.ts";

describe("parsing /hms", () => {
  it.each([
    ["", { name: "help" }],
    ["   ", { name: "help" }],
    ["help", { name: "help" }],
    ["HELP me", { name: "help" }],
    ["frobnicate now", { name: "unknown", word: "frobnicate" }],
    ["add-user", { name: "add-user", email: undefined }],
    ["add-user  jane@corp.example.org ", { name: "add-user", email: "jane@corp.example.org" }],
    ["add-user <mailto:jane@corp.example.org|jane@corp.example.org>", { name: "add-user", email: "jane@corp.example.org" }],
    ["add-group Field Sales policy=Strict BYOD", { name: "add-group", group: "Field Sales", policy: "Strict BYOD" }],
    ["add-group Field Sales", { name: "add-group", group: "Field Sales" }],
    ["add-group R&amp;D  POLICY=Lab &lt;1&gt;", { name: "add-group", group: "R&D", policy: "Lab <1>" }],
    ["add-group Ops policy=", { name: "add-group", group: "Ops", policy: undefined }],
    ["add-group policy=Strict", { name: "add-group", group: "", policy: "Strict" }],
    ["add-group Repolicy=x", { name: "add-group", group: "Repolicy=x" }],
    ["groups", { name: "groups", filter: undefined }],
    ["groups fin", { name: "groups", filter: "fin" }],
    ["users jane doe", { name: "users", query: "jane doe" }],
    ["users", { name: "users", query: "" }],
  ])("%j", (text, parsed) => {
    expect(parseCommand(decodeSlackText(text))).toEqual(parsed);
  });

  it("undoes Slack's escaping of links and &, <, >", () => {
    expect(decodeSlackText("<https://example.com|example.com> <https://x.test> a &amp; b &lt;c&gt;")).toBe(
      "example.com https://x.test a & b <c>",
    );
  });
});

describe.each(databaseKinds)("/hms (%s)", (kind) => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness(kind);
  });
  afterAll(async () => h?.close());

  /** Runs the command and returns the one ephemeral answer posted to its response_url. */
  async function answerTo(text: string, user?: string) {
    const sent = await h.command(text, { user });
    expect(sent.status).toBe(200);
    const [answer] = await h.waitForResponse(sent.responseUrl);
    return answer!.args as { response_type: string; text: string; blocks: { text?: { text: string }; elements?: { text: string }[] }[] };
  }
  const blockTexts = (a: { blocks: { text?: { text: string }; elements?: { text: string }[] }[] }) =>
    a.blocks.map((b) => b.text?.text ?? b.elements?.map((e) => e.text).join(" ")).join("\n");

  it.each(["", "help", "frobnicate"])("answers %j with the help, in the acknowledgement itself", async (text) => {
    const sent = await h.command(text);
    expect(sent.status).toBe(200);
    const help = sent.json as { response_type: string; text: string; blocks: unknown[] };
    expect(help.response_type).toBe("ephemeral");
    expect(help.text).toBe(
      "HMS userbot commands: add-user, add-group, groups, users, user, export, template, import, imports, invites, audit, help",
    );
    const lines = blockTexts(help as never);
    for (const sub of [
      "add-user [email]",
      "add-group &lt;name&gt; [policy=&lt;policy name&gt;]",
      "groups [text]",
      "users &lt;text&gt;",
      "template",
      "import",
      "help",
    ])
      expect(lines).toContain(`\`/hms ${sub}\``);
    if (text === "frobnicate") expect(lines).toContain("There is no `/hms frobnicate` command.");
    expect(h.responses(sent.responseUrl)).toEqual([]);
  });

  it("add-group creates the group with the policy given, and audits it naming the Slack user", async () => {
    const answer = await answerTo("add-group Field Sales policy=Strict BYOD");
    expect(answer).toMatchObject({ response_type: "ephemeral", text: "Created group Field Sales with policy Strict BYOD." });
    const group = await h.t.db.prisma.group.findFirst({ where: { name: "Field Sales" } });
    expect(group).toMatchObject({ name: "Field Sales", policy: "Strict BYOD" });
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "group.add", subject: "group:Field Sales" } });
    expect(audit).toMatchObject({
      actor: SLACK_USERS.admin.email,
      details: { platform: "slack", platformUserId: SLACK_USERS.admin.id, policy: "Strict BYOD" },
    });
  });

  it("add-group without a policy uses Default; a taken name or no name is explained", async () => {
    expect((await answerTo("add-group Night Shift")).text).toBe("Created group Night Shift with policy Default.");
    expect((await answerTo("add-group night shift")).text).toBe("A group named “night shift” already exists.");
    expect((await answerTo("add-group policy=Strict")).text).toBe("Group name is required.");
    expect(await h.t.db.prisma.group.count({ where: { name: { equals: "night shift", mode: "insensitive" } } })).toBe(1);
  });

  it("groups lists every group with its policy and user count", async () => {
    const answer = await answerTo("groups");
    expect(answer.text).toMatch(/^\d+ groups$/);
    const text = blockTexts(answer);
    expect(text).toContain("• *Finance* — policy Default · 1 user");
    expect(text).toContain("• *Administrators* — policy Default · 2 users");
    expect(text).toContain("• *Field Sales* — policy Strict BYOD · 0 users");
    const filtered = await answerTo("groups fi");
    expect(blockTexts(filtered)).toBe(
      "*Groups* (2)\n• *Field Sales* — policy Strict BYOD · 0 users\n• *Finance* — policy Default · 1 user",
    );
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
    const answer = await answerTo("users contractor");
    expect(answer.text).toBe("23 users matching “contractor”");
    const text = blockTexts(answer);
    expect(text.match(/^• /gm)?.length).toBe(20);
    expect(text).toContain("• *Contractor 0* contractor00@corp.example.org · Finance · User");
    expect(text).not.toContain("contractor20@");
    expect(text).toContain("…and 3 more. Narrow the search to see them.");
    expect((await answerTo("users")).text).toBe("Give part of an email or a name to search for.");
    expect((await answerTo("users zzzz")).text).toBe("No user's email or name contains “zzzz”.");
  });

  it.each([
    ["add-group Shadow IT", "a plain user", SLACK_USERS.plain.id],
    ["groups", "a plain user", SLACK_USERS.plain.id],
    ["users admin", "a plain user", SLACK_USERS.plain.id],
  ])("refuses %j from %s: ephemeral, nothing written", async (text, _, user) => {
    const auditsBefore = await h.t.db.prisma.auditEvent.count();
    const answer = await answerTo(text, user);
    expect(answer).toMatchObject({ response_type: "ephemeral", text: "You need the Administrator role in HMS to do this." });
    expect(await h.t.db.prisma.group.count({ where: { name: "Shadow IT" } })).toBe(0);
    expect(await h.t.db.prisma.auditEvent.count()).toBe(auditsBefore);
  });

  it("tells someone whose email Slack does not show why the bot cannot tell who they are", async () => {
    const answer = await answerTo("groups", SLACK_USERS.noEmail.id);
    expect(answer.text).toContain("cannot see your email address in Slack");
    expect(answer.text).toContain("users:read.email");
    expect(h.logs.find({ msg: `users.info returned no email for ${SLACK_USERS.noEmail.id}` })).toMatchObject({ level: 40 });
  });

  it("looks the Slack user up once for several commands (the identity is cached)", async () => {
    const before = h.fake.callsTo("users.info").filter((c) => c.args.user === SLACK_USERS.otherAdmin.id).length;
    await answerTo("groups", SLACK_USERS.otherAdmin.id);
    await answerTo("users admin", SLACK_USERS.otherAdmin.id);
    expect(h.fake.callsTo("users.info").filter((c) => c.args.user === SLACK_USERS.otherAdmin.id).length).toBe(before + 1);
  });
});
