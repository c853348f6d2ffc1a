/**
 * The Add user modal end to end on the real app: /hms add-user opens it, the Group select is fed
 * from the database, the submission goes through the core; errors come back next to their fields.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { renderModal } from "../../src/render/blockkit.ts";
import { addUserForm } from "../../src/render/views.ts";
import { databaseKinds } from "../helpers/db.ts";
import { PLAIN_USER } from "../helpers/fixtures.ts";
import { SLACK_USERS, type SlackHarness, type StateValues, startSlackHarness } from "../helpers/slack-app.ts";
import { type FakeSmtp, startFakeSmtp } from "../helpers/smtp.ts";

describe.each(databaseKinds)("the Add user modal (%s)", (kind) => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness(kind);
  });
  afterAll(async () => h?.close());

  const userRow = (email: string) => h.t.db.prisma.user.findUnique({ where: { email }, include: { group: true } });

  it("/hms add-user <email> opens the modal with the trigger_id, the six inputs and the email filled in", async () => {
    const sent = await h.command("add-user jane.doe@corp.example.org");
    expect(sent).toMatchObject({ status: 200, text: "" });
    const [open] = await h.fake.waitFor("views.open");
    const trigger = new URLSearchParams(open!.raw.toString()).get("trigger_id");
    expect(trigger).toMatch(/^1234567890123\.1111111111\./);
    const view = open!.args.view as {
      blocks: { block_id: string; label: { text: string }; element: Record<string, unknown>; optional?: boolean }[];
      private_metadata: string;
    };
    expect(view.blocks.map((b) => [b.block_id, b.label.text, b.element.type, b.optional ?? false])).toEqual([
      ["email", "Email ID", "plain_text_input", false],
      ["name", "Name", "plain_text_input", false],
      ["group", "Group", "external_select", false],
      ["role", "Role", "radio_buttons", false],
      ["exchangeDomain", "Exchange domain", "plain_text_input", true],
      ["exchangeUsername", "Exchange username", "plain_text_input", true],
    ]);
    expect(JSON.parse(view.private_metadata)).toEqual({ channel: "C0ITADMINS", responseUrl: sent.responseUrl });
    // Exactly the rendered form, nothing Slack-specific added on the way.
    expect(open!.args.view).toEqual(renderModal(addUserForm({ email: "jane.doe@corp.example.org", metadata: view.private_metadata })));
    expect(h.responses(sent.responseUrl)).toEqual([]);
  });

  it("/hms add-user without an email opens the modal empty", async () => {
    const { view } = await h.openAddUser();
    const email = (view.blocks as { element: { initial_value?: string } }[])[0]!;
    expect(email.element.initial_value).toBeUndefined();
  });

  describe("the Group select", () => {
    const values = (answer: { json: unknown }) => {
      const body = answer.json as {
        options?: { value: string }[];
        option_groups?: { label: { text: string }; options: { value: string }[] }[];
      };
      return {
        values: (body.options ?? body.option_groups?.[0]?.options ?? []).map((o) => o.value),
        note: body.option_groups?.[0]?.label.text,
      };
    };

    it("offers the groups whose name contains what the admin typed, with policy and user count", async () => {
      const answer = await h.suggest("fin");
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({
        options: [
          {
            text: { type: "plain_text", text: "Finance" },
            value: "Finance",
            description: { type: "plain_text", text: "Policy Default · 1 user" },
          },
        ],
      });
      expect(values(await h.suggest("")).values).toEqual([
        "Administrators",
        "Engineering",
        "Finance",
        "Help Desk",
        "Leadership",
        "Warehouse",
      ]);
      expect(values(await h.suggest("no such group")).values).toEqual([]);
    });

    it("works with more than 100 groups: the first 100, a note, and typing narrows", async () => {
      await h.t.db.prisma.group.createMany({
        data: Array.from({ length: 120 }, (_, i) => ({ name: `Store ${String(i + 1).padStart(3, "0")}` })),
      });
      const all = values(await h.suggest("store"));
      expect(all.values.length).toBe(100);
      expect(all.values[0]).toBe("Store 001");
      expect(all.note).toBe("First 100 of 120: type to narrow");
      const narrowed = values(await h.suggest("Store 11"));
      expect(narrowed).toEqual({ values: Array.from({ length: 10 }, (_, i) => `Store 11${i}`), note: undefined });
    });

    it("offers nothing to someone who is not an HMS Administrator", async () => {
      expect((await h.suggest("", SLACK_USERS.plain.id)).json).toEqual({ options: [] });
    });
  });

  it("a valid submission closes the modal, adds the user, audits it, and confirms where the command ran", async () => {
    const { view, responseUrl } = await h.openAddUser("Jane.Doe@Corp.Example.org");
    const answer = await h.submit(view, { email: "Jane.Doe@Corp.Example.org", name: "Jane Doe", group: "Finance" });
    expect(answer).toMatchObject({ status: 200, text: "" });

    const row = await userRow("jane.doe@corp.example.org");
    expect(row).toMatchObject({
      name: "Jane Doe",
      role: "USER",
      group: { name: "Finance" },
      exchangeDomain: null,
      exchangeUsername: null,
      source: "FORM",
      createdBy: SLACK_USERS.admin.email,
    });
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "user.add", subject: "jane.doe@corp.example.org" } });
    expect(audit).toMatchObject({
      actor: SLACK_USERS.admin.email,
      details: { platform: "slack", platformUserId: SLACK_USERS.admin.id, group: "Finance", role: "USER" },
    });

    const [confirmation] = await h.waitForResponse(responseUrl);
    expect(confirmation!.args).toEqual({
      response_type: "ephemeral",
      text: "Added Jane Doe (jane.doe@corp.example.org) to Finance as User.",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "Added *Jane Doe* (jane.doe@corp.example.org) to *Finance* as *User*." } },
        {
          type: "actions",
          elements: [
            {
              type: "button",
              action_id: "hms_user_invite",
              text: { type: "plain_text", text: "Invite to enroll" },
              value: "jane.doe@corp.example.org",
              style: "primary",
            },
          ],
        },
      ],
    });
  });

  it("an Administrator with an Exchange ActiveSync account: asked of an approver first (APPROVAL_POLICY), added once approved", async () => {
    const { view, responseUrl } = await h.openAddUser();
    const before = h.fake.callsTo("chat.postMessage").length;
    const answer = await h.submit(view, {
      email: "max@corp.example.org",
      name: "Max Mustermann",
      group: "Engineering",
      role: "Administrator",
      exchangeDomain: "CORP",
      exchangeUsername: "mmustermann",
    });
    expect(answer.status).toBe(200);
    const [told] = await h.waitForResponse(responseUrl);
    expect(String((told!.args as { text: string }).text)).toContain(
      "“Add max@corp.example.org as Administrator” needs another Administrator's approval",
    );
    expect(await userRow("max@corp.example.org")).toBeNull();
    // The request is posted where the command ran, with the same buttons as an import's.
    const [request] = (await h.fake.waitFor("chat.postMessage", before + 1)).slice(before);
    expect(request!.args.channel).toBe("C0ITADMINS");
    const approve = (request!.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === "hms_import_approve")!;
    await h.click("hms_import_approve", approve.value, { user: SLACK_USERS.otherAdmin.id });
    // The creation runs after the click is answered: seconds on a loaded machine.
    await vi.waitFor(
      async () =>
        expect(await userRow("max@corp.example.org")).toMatchObject({
          role: "ADMINISTRATOR",
          group: { name: "Engineering" },
          exchangeDomain: "CORP",
          exchangeUsername: "mmustermann",
        }),
      { timeout: 10_000 },
    );
    // The requester hears of it in their DM with the bot.
    await vi.waitFor(() =>
      expect(
        h.fake.callsTo("chat.postMessage").some((c) => String(c.args.text).includes("was approved by second.admin@corp.example.org")),
      ).toBe(true),
    );
  });

  const valid: StateValues = { email: "new.person@corp.example.org", name: "New Person", group: "Finance", role: "User" };
  it.each<[string, StateValues, Record<string, string>]>([
    ["no email", { email: "" }, { email: "Email ID is required." }],
    ["an invalid email", { email: "new.person@" }, { email: "Email ID “new.person@” is not a valid email address." }],
    [
      "an email already in the directory",
      { email: PLAIN_USER.email.toUpperCase() },
      { email: `A user with Email ID ${PLAIN_USER.email} already exists.` },
    ],
    ["no name", { name: "  " }, { name: "Name is required." }],
    ["a name that is too long", { name: "n".repeat(129) }, { name: "Name is 129 characters long; the limit is 128." }],
    ["a name with a tab", { name: "New\tPerson" }, { name: "Name contains a control character (a tab or a line break, for example)." }],
    ["no group", { group: undefined }, { group: "Group is required." }],
    ["a group that does not exist", { group: "Nowhere" }, { group: "There is no group named “Nowhere”." }],
    ["a role that is not one", { role: "Superuser" }, { role: "Role “Superuser” is not valid: use Administrator or User." }],
    [
      "an Exchange domain without a username",
      { exchangeDomain: "CORP" },
      { exchangeUsername: "Exchange username is missing: give both Exchange domain and username for ActiveSync, or neither." },
    ],
    [
      "an Exchange username without a domain",
      { exchangeUsername: "npers" },
      { exchangeDomain: "Exchange domain is missing: give both Exchange domain and username for ActiveSync, or neither." },
    ],
    [
      "an invalid Exchange domain and username",
      { exchangeDomain: "corp domain", exchangeUsername: "new person" },
      {
        exchangeDomain: "Exchange domain “corp domain” is neither a NetBIOS name (like CORP) nor a DNS domain (like corp.example.com).",
        exchangeUsername:
          'Exchange username “new person” is not valid: at most 64 characters, no spaces, control characters or any of " / \\ [ ] : ; | = , + * ? < >.',
      },
    ],
    [
      "nothing at all",
      { email: "", name: "", group: undefined, role: "" },
      { email: "Email ID is required.", name: "Name is required.", group: "Group is required." },
    ],
  ])("%s: the modal stays open with the error next to the field, nothing is written", async (_, change, errors) => {
    const { view, responseUrl } = await h.openAddUser();
    const usersBefore = await h.t.db.prisma.user.count();
    const answer = await h.submit(view, { ...valid, ...change });
    expect(answer.status).toBe(200);
    // response_action "errors" keeps the modal open with what was typed.
    expect(answer.json).toEqual({ response_action: "errors", errors });
    expect(await h.t.db.prisma.user.count()).toBe(usersBefore);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.responses(responseUrl)).toEqual([]);
  });

  it("refuses a submission from someone who is not an HMS Administrator: nothing written, told ephemerally", async () => {
    const { view, responseUrl } = await h.openAddUser(undefined, SLACK_USERS.admin.id);
    const usersBefore = await h.t.db.prisma.user.count();
    const auditsBefore = await h.t.db.prisma.auditEvent.count();
    const answer = await h.submit(view, { ...valid, email: "sneaky@corp.example.org" }, SLACK_USERS.plain.id);
    expect(answer).toMatchObject({ status: 200, text: "" });
    expect(await h.t.db.prisma.user.count()).toBe(usersBefore);
    expect(await h.t.db.prisma.auditEvent.count()).toBe(auditsBefore);
    const [refusal] = await h.waitForResponse(responseUrl);
    expect(refusal!.args).toMatchObject({ response_type: "ephemeral", text: "You need the Administrator role in HMS to do this." });
  });

  it("/hms add-user from someone who is not an HMS Administrator: the modal turns into the refusal", async () => {
    const { open, responseUrl } = await h.openAddUser(undefined, SLACK_USERS.plain.id);
    const [update] = await h.fake.waitFor("views.update");
    expect(update!.args.view_id).toBe((open.reply as { view: { id: string } }).view.id);
    expect(update!.args.view).toEqual({
      type: "modal",
      callback_id: "hms_notice",
      title: { type: "plain_text", text: "Add user" },
      close: { type: "plain_text", text: "Close" },
      blocks: [{ type: "section", text: { type: "plain_text", text: "You need the Administrator role in HMS to do this." } }],
    });
    const [refusal] = await h.waitForResponse(responseUrl);
    expect(refusal!.args).toMatchObject({ response_type: "ephemeral", text: "You need the Administrator role in HMS to do this." });
  });

  it("Invite to enroll without a mail server: the invitation is recorded as pending, and the card and the notice say so", async () => {
    const { cardText, notice } = await addThenInvite(h, "nomail@corp.example.org");
    expect(cardText).toContain("Pending: being sent");
    expect(notice.args).toMatchObject({
      text: "The invitation to nomail@corp.example.org is recorded; no mail server is configured (SMTP_URL), so it stays pending until one is.",
    });
  });

  it("falls back to chat.postEphemeral when the response_url no longer works", async () => {
    const { view, responseUrl } = await h.openAddUser();
    h.fake.once("response_url", { status: 404, body: "expired_url" });
    expect((await h.submit(view, { ...valid, email: "late@corp.example.org" })).status).toBe(200);
    const [ephemeral] = await h.fake.waitFor("chat.postEphemeral");
    expect(ephemeral!.args).toMatchObject({
      channel: "C0ITADMINS",
      user: SLACK_USERS.admin.id,
      text: "Added New Person (late@corp.example.org) to Finance as User.",
    });
    expect(h.responses(responseUrl).length).toBe(1);
  });
});

type PostedBlock = {
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { action_id: string; value: string; text: { text: string } }[];
};

/** The confirmation's Invite to enroll: the add-user modal submitted, then the button on what came back clicked. */
async function addThenInvite(h: SlackHarness, email: string) {
  const { view, responseUrl } = await h.openAddUser();
  expect((await h.submit(view, { email, name: "Ivy Invite", group: "Finance" })).status).toBe(200);
  const [confirmation] = await h.waitForResponse(responseUrl);
  const invite = (confirmation!.args.blocks as PostedBlock[])
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === "hms_user_invite");
  expect(invite).toMatchObject({ value: email, text: { text: "Invite to enroll" } });
  const click = await h.click("hms_user_invite", invite!.value);
  expect(click.status).toBe(200);
  const [card, notice] = await h.waitForResponse(click.responseUrl, 2);
  const text = (m: typeof card) =>
    (m!.args.blocks as PostedBlock[]).map((b) => [b.text?.text, ...(b.fields ?? []).map((f) => f.text)].join(" ")).join("\n");
  return { card: card!, cardText: text(card), notice: notice! };
}

describe.each(databaseKinds)("Invite to enroll on the Add user confirmation (%s)", (kind) => {
  let h: SlackHarness;
  let smtp: FakeSmtp;
  beforeAll(async () => {
    smtp = await startFakeSmtp();
    h = await startSlackHarness(kind, { smtpUrl: smtp.url });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });

  it("sends the invitation, replaces the confirmation with the user's card showing it sent, and audits it", async () => {
    const { card, cardText, notice } = await addThenInvite(h, "ivy@corp.example.org");
    expect(smtp.received.filter((m) => m.to.includes("ivy@corp.example.org"))).toHaveLength(1);
    expect(card.args).toMatchObject({ replace_original: true, response_type: "ephemeral" });
    expect(cardText).toContain("Ivy Invite");
    expect(cardText).toMatch(/Enrollment\*?\n?Invited \(email sent \d{4}-\d\d-\d\d \d\d:\d\d UTC\)/);
    // The card now offers Resend instead of Invite.
    const labels = (card.args.blocks as PostedBlock[]).flatMap((b) => b.elements ?? []).map((e) => e.text.text);
    expect(labels).toContain("Resend invitation");
    expect(labels).not.toContain("Invite to enroll");
    expect(notice.args).toMatchObject({ response_type: "ephemeral", text: "Invitation sent to ivy@corp.example.org." });
    const invitation = await h.t.db.prisma.invitation.findFirst({ where: { user: { email: "ivy@corp.example.org" } } });
    expect(invitation).toMatchObject({ status: "SENT" });
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "user.invite", subject: "ivy@corp.example.org" } });
    expect(audit).toMatchObject({ actor: SLACK_USERS.admin.email });
  });
});
