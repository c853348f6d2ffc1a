/**
 * The Add user card end to end in Teams: `add user` posts it, its Group is a list or Teams'
 * typeahead (application/search), its submission (Action.Execute) goes through the core; the
 * answer replaces the card: the form with the problems next to their fields, or the confirmation.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/core/errors.ts";
import { databaseKinds } from "../helpers/db.ts";
import type { ConnectorCall } from "../helpers/fake-bot-connector.ts";
import { PLAIN_USER } from "../helpers/fixtures.ts";
import { type FakeSmtp, startFakeSmtp } from "../helpers/smtp.ts";
import { personal, search } from "../helpers/teams-activities.ts";
import { actionsOf, type HarnessUser, startTeamsHarness, TEAMS_USERS, type TeamsHarness, textOf } from "../helpers/teams-app.ts";
import { fieldsOf } from "../helpers/teams-imports.ts";

type El = Record<string, unknown>;

/** The card's elements in reading order (containers flattened). */
function elements(card: El | undefined): El[] {
  const out: El[] = [];
  const walk = (items: unknown) => {
    for (const item of (items ?? []) as El[]) {
      out.push(item);
      walk(item.items);
      for (const column of (item.columns ?? []) as El[]) walk(column.items);
    }
  };
  walk(card?.body);
  return out;
}
const inputs = (card: El | undefined) => elements(card).filter((e) => String(e.type).startsWith("Input."));
const input = (card: El | undefined, id: string) => inputs(card).find((e) => e.id === id);

/** What the card shows next to an input: the text between it and the next input (its problem, its hint). */
function besideInput(card: El | undefined, id: string): string {
  const all = elements(card);
  const at = all.findIndex((e) => e.id === id);
  if (at < 0) return "";
  const next = all.findIndex((e, i) => i > at && String(e.type).startsWith("Input."));
  const between = all.slice(at + 1, next < 0 ? undefined : next);
  return textOf({ body: between }).replace(/\\/g, "");
}

/** `add user` and the form's submission, on the harness `get` returns. */
function formHelpers(get: () => TeamsHarness) {
  /** Types `add user [email]` and returns the form card posted (its message id, for the clicks). */
  async function openForm(email?: string, user: HarnessUser = TEAMS_USERS.admin) {
    const h = get();
    const before = h.fake.calls.length;
    await h.say(`add user${email ? ` ${email}` : ""}`, { user });
    const [post] = await h.waitForMessages(
      (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === personal(user).id,
      1,
      "the form",
    );
    const id = (post!.reply!.body as { id: string }).id;
    return { post: post!, card: h.cardOf(post!), id };
  }

  const submit = (id: string, values: Record<string, string | undefined>, user: HarnessUser = TEAMS_USERS.admin, metadata?: string) =>
    get().click("hms_add_user", { metadata: metadata ?? JSON.stringify({ groups: "listed" }), ...values }, { user, replyToId: id });
  return { openForm, submit };
}

describe.each(databaseKinds)("the Add user card in Teams (%s)", (kind) => {
  let h: TeamsHarness;
  beforeAll(async () => {
    h = await startTeamsHarness(kind);
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  const userRow = (email: string) => h.t.db.prisma.user.findUnique({ where: { email }, include: { group: true } });

  const { openForm, submit } = formHelpers(() => h);

  it("add user <email> posts the card: the six inputs with Slack's labels, the email filled in, submitted with Action.Execute", async () => {
    const { card } = await openForm("jane.doe@corp.example.org");
    expect(inputs(card).map((i) => [i.id, i.label, i.type])).toEqual([
      ["email", "Email ID", "Input.Text"],
      ["name", "Name", "Input.Text"],
      ["group", "Group", "Input.ChoiceSet"],
      ["role", "Role", "Input.ChoiceSet"],
      ["exchangeDomain", "Exchange domain", "Input.Text"],
      ["exchangeUsername", "Exchange username", "Input.Text"],
    ]);
    expect(input(card, "email")!.value).toBe("jane.doe@corp.example.org");
    expect(actionsOf(card)).toEqual([expect.objectContaining({ verb: "hms_add_user", title: "Add user" })]);
    // Few groups: they are listed.
    const group = input(card, "group")!;
    expect((group.choices as { value: string }[]).map((c) => c.value)).toEqual([
      "Administrators",
      "Engineering",
      "Finance",
      "Help Desk",
      "Leadership",
      "Warehouse",
    ]);
    expect(group["choices.data"]).toBeUndefined();
  });

  it("add user without an email posts it empty", async () => {
    const { card } = await openForm();
    expect(input(card, "email")!.value).toBeUndefined();
  });

  it("a valid submission adds the user, audits it, and replaces the card with the confirmation", async () => {
    const { id } = await openForm("Jane.Doe@Corp.Example.org");
    const answer = await submit(id, { email: "Jane.Doe@Corp.Example.org", name: "Jane Doe", group: "Finance", role: "User" });
    expect(answer.status).toBe(200);
    expect(textOf(answer.card)).toBe(
      "Added Jane Doe (jane.doe@corp.example.org) to Finance as User.\nInvite to enroll\njane.doe@corp.example.org",
    );
    expect(actionsOf(answer.card)).toEqual([
      { verb: "hms_user_invite", title: "Invite to enroll", data: expect.objectContaining({ value: "jane.doe@corp.example.org" }) },
    ]);
    expect(await userRow("jane.doe@corp.example.org")).toMatchObject({
      name: "Jane Doe",
      role: "USER",
      group: { name: "Finance" },
      exchangeDomain: null,
      source: "FORM",
      createdBy: TEAMS_USERS.admin.email,
    });
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "user.add", subject: "jane.doe@corp.example.org" } });
    expect(audit).toMatchObject({
      actor: TEAMS_USERS.admin.email,
      details: { platform: "teams", platformUserId: TEAMS_USERS.admin.aadObjectId, group: "Finance", role: "USER" },
    });
  });

  it("an Administrator with an Exchange ActiveSync account: asked of an approver first, added once approved, the requester told", async () => {
    const { id } = await openForm();
    const before = h.fake.calls.length;
    const answer = await submit(id, {
      email: "max@corp.example.org",
      name: "Max Mustermann",
      group: "Engineering",
      role: "Administrator",
      exchangeDomain: "CORP",
      exchangeUsername: "mmustermann",
    });
    expect(textOf(answer.card)).toContain("“Add max@corp.example.org as Administrator” needs another Administrator's approval");
    expect(await userRow("max@corp.example.org")).toBeNull();
    // The request is posted where the form was (no TEAMS_APPROVAL_CONVERSATION), with the import's buttons.
    const [request] = await h.waitForMessages(
      (c) => h.fake.calls.indexOf(c) >= before && actionsOf(h.cardOf(c)).some((a) => a.verb === "hms_import_approve"),
      1,
      "the approval request",
    );
    const approve = actionsOf(h.cardOf(request!)).find((a) => a.verb === "hms_import_approve")!;
    const requestId = (request!.reply!.body as { id: string }).id;
    // The requester cannot approve their own request.
    const own = await h.click("hms_import_approve", approve.data, { user: TEAMS_USERS.admin, replyToId: requestId });
    expect(JSON.stringify(own.body)).toContain(
      "(“Add max@corp.example.org as Administrator”); another Administrator must approve or reject it.",
    );
    const approved = await h.click("hms_import_approve", approve.data, {
      user: TEAMS_USERS.otherAdmin,
      replyToId: requestId,
      conversation: personal(TEAMS_USERS.admin),
    });
    expect(approved.status).toBe(200);
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
    // The requester hears of the decision in their personal chat with the bot.
    await h.waitForMessages(
      (c) => c.conversationId === personal(TEAMS_USERS.admin).id && textOf(h.cardOf(c)).includes("was approved by"),
      1,
      "the requester's notice",
    );
  });

  const valid = { email: "new.person@corp.example.org", name: "New Person", group: "Finance", role: "User" };
  it.each<[string, Record<string, string | undefined>, Record<string, string>]>([
    ["no email", { email: "" }, { email: "Email ID is required." }],
    ["an invalid email", { email: "new.person@" }, { email: "Email ID “new.person@” is not a valid email address." }],
    [
      "an email already in the directory",
      { email: PLAIN_USER.email.toUpperCase() },
      { email: `A user with Email ID ${PLAIN_USER.email} already exists.` },
    ],
    ["no name", { name: "  " }, { name: "Name is required." }],
    ["a name that is too long", { name: "n".repeat(129) }, { name: "Name is 129 characters long; the limit is 128." }],
    ["no group", { group: undefined }, { group: "Group is required." }],
    ["a group that does not exist", { group: "Nowhere" }, { group: "There is no group named “Nowhere”." }],
    ["a role that is not one", { role: "Superuser" }, { role: "Role “Superuser” is not valid: use Administrator or User." }],
    [
      "an Exchange domain without a username",
      { exchangeDomain: "CORP" },
      { exchangeUsername: "Exchange username is missing: give both Exchange domain and username for ActiveSync, or neither." },
    ],
    [
      "nothing at all",
      { email: "", name: "", group: undefined, role: "" },
      { email: "Email ID is required.", name: "Name is required.", group: "Group is required." },
    ],
  ])("%s: the card comes back with the problem next to its field and what was typed; nothing is written", async (_, change, errors) => {
    const { id } = await openForm();
    const usersBefore = await h.t.db.prisma.user.count();
    const typed = { ...valid, ...change };
    const answer = await submit(id, typed);
    expect(answer.status).toBe(200);
    for (const [field, problem] of Object.entries(errors)) expect(besideInput(answer.card, field)).toContain(problem);
    // The others have no problem shown, and every field keeps what was typed.
    for (const field of ["email", "name", "group", "role", "exchangeDomain", "exchangeUsername"]) {
      if (!errors[field]) expect(besideInput(answer.card, field)).not.toMatch(/required|not valid|missing|exists|limit/);
      const value = typed[field as keyof typeof typed];
      // A role that is none of the radio buttons cannot be shown as chosen.
      if (value?.trim() && !(field === "role" && !["User", "Administrator"].includes(value)))
        expect(input(answer.card, field)!.value).toBe(value);
    }
    expect(actionsOf(answer.card).map((a) => a.verb)).toEqual(["hms_add_user"]);
    expect(await h.t.db.prisma.user.count()).toBe(usersBefore);
  });

  it("a submission from someone who is not an HMS Administrator: nothing written, the card says why", async () => {
    const { id } = await openForm();
    const usersBefore = await h.t.db.prisma.user.count();
    const auditsBefore = await h.t.db.prisma.auditEvent.count();
    const answer = await submit(id, { ...valid, email: "sneaky@corp.example.org" }, TEAMS_USERS.plain);
    expect(textOf(answer.card)).toBe("You need the Administrator role in HMS to do this.");
    expect(await h.t.db.prisma.user.count()).toBe(usersBefore);
    expect(await h.t.db.prisma.auditEvent.count()).toBe(auditsBefore);
  });

  it("add user from someone who is not an HMS Administrator: told why, no form", async () => {
    const before = h.fake.calls.length;
    await h.say("add user", { user: TEAMS_USERS.plain });
    const [post] = await h.waitForMessages((c) => h.fake.calls.indexOf(c) >= before, 1, "the refusal");
    expect(textOf(h.cardOf(post!))).toBe("You need the Administrator role in HMS to do this.");
    expect(inputs(h.cardOf(post!))).toEqual([]);
  });

  it("a passing database failure keeps the form with what was typed and says to submit again", async () => {
    const { id } = await openForm();
    const store = h.t.store;
    const real = store.transaction;
    store.transaction = (() => Promise.reject(new AppError("DATABASE_BUSY", "busy"))) as typeof real;
    try {
      const answer = await submit(id, { ...valid, email: "busy@corp.example.org" });
      expect(textOf(answer.card)).toContain(
        "Not saved: The HMS database was busy with other work. Try again in a moment. What you typed is kept below.",
      );
      expect(input(answer.card, "email")!.value).toBe("busy@corp.example.org");
    } finally {
      store.transaction = real;
    }
  });

  it("a submission that outlasts the answer's deadline shows Saving…, and the outcome replaces the card", async () => {
    const { id } = await openForm();
    const store = h.t.store;
    const real = store.transaction;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    store.transaction = ((work, options) => gate.then(() => real(work, options))) as typeof real;
    let answer: Awaited<ReturnType<typeof submit>>;
    try {
      answer = await submit(id, { ...valid, email: "slow@corp.example.org" });
    } finally {
      store.transaction = real;
      release();
    }
    expect(textOf(answer.card)).toBe("Saving slow@corp.example.org… this card shows the outcome in a moment.");
    const [update] = await h.fake.waitFor((c: ConnectorCall) => c.kind === "update" && c.activityId === id, 1, 15_000, "the outcome");
    expect(textOf(h.cardOf(update!))).toBe(
      "Added New Person (slow@corp.example.org) to Finance as User.\nInvite to enroll\nslow@corp.example.org",
    );
    expect(await userRow("slow@corp.example.org")).toMatchObject({ name: "New Person" });
  });

  describe("with many groups", () => {
    beforeAll(async () => {
      await h.t.db.prisma.group.createMany({
        data: Array.from({ length: 120 }, (_, i) => ({ name: `Store ${String(i + 1).padStart(3, "0")}` })),
      });
    });

    it("the Group input is Teams' typeahead (Data.Query), answering at most 15 groups that contain what was typed", async () => {
      const { card, id } = await openForm();
      const group = input(card, "group")!;
      expect(group["choices.data"]).toEqual({ type: "Data.Query", dataset: "hms_groups" });
      const ask = (queryText: string, user: HarnessUser = TEAMS_USERS.admin) =>
        h.post(search({ serviceUrl: h.fake.serviceUrl, from: user, queryText, dataset: "hms_groups", replyToId: id }));
      const results = (answer: { json: unknown }) =>
        ((answer.json as { value: { results: { title: string; value: string }[] } }).value.results ?? []).map((r) => r.value);
      const all = await ask("store");
      expect(all.status).toBe(200);
      expect(all.json).toMatchObject({ type: "application/vnd.microsoft.search.searchResponse" });
      expect(results(all)).toEqual(Array.from({ length: 15 }, (_, i) => `Store ${String(i + 1).padStart(3, "0")}`));
      expect(results(await ask("Store 11"))).toEqual(Array.from({ length: 10 }, (_, i) => `Store 11${i}`));
      expect(results(await ask("fin"))).toEqual(["Finance"]);
      expect(results(await ask("no such group"))).toEqual([]);
      expect(results(await ask("", TEAMS_USERS.plain))).toEqual([]);

      // The submission with a group chosen there works the same.
      const answer = await submit(
        id,
        { ...valid, email: "store.clerk@corp.example.org", group: "Store 042" },
        TEAMS_USERS.admin,
        JSON.stringify({ groups: "search" }),
      );
      expect(textOf(answer.card)).toBe(
        "Added New Person (store.clerk@corp.example.org) to Store 042 as User.\nInvite to enroll\nstore.clerk@corp.example.org",
      );
      // A problem keeps the typeahead.
      const again = await submit(id, { ...valid, email: "" }, TEAMS_USERS.admin, JSON.stringify({ groups: "search" }));
      expect(input(again.card, "group")!["choices.data"]).toEqual({ type: "Data.Query", dataset: "hms_groups" });
      expect(input(again.card, "group")!.value).toBe("Finance");
    });
  });
});

describe.each(databaseKinds)("Invite to enroll on the Add user confirmation in Teams (%s)", (kind) => {
  let h: TeamsHarness;
  let smtp: FakeSmtp;
  const { openForm, submit } = formHelpers(() => h);
  beforeAll(async () => {
    smtp = await startFakeSmtp();
    h = await startTeamsHarness(kind, { smtpUrl: smtp.url });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });
  afterEach(() => h.expectCardsValid());

  it("sends the invitation and turns the confirmation into the user's card, showing it sent and offering Resend", async () => {
    const { id } = await openForm();
    const added = await submit(id, { email: "ivy@corp.example.org", name: "Ivy Invite", group: "Finance", role: "User" });
    const invite = actionsOf(added.card).find((a) => a.verb === "hms_user_invite")!;
    expect(invite).toMatchObject({ title: "Invite to enroll" });
    const clicked = await h.click(invite.verb, invite.data, { user: TEAMS_USERS.admin, replyToId: id });
    expect(clicked.status).toBe(200);
    expect(smtp.received.filter((m) => m.to.includes("ivy@corp.example.org"))).toHaveLength(1);
    const text = textOf(clicked.card);
    expect(text).toContain("Invitation sent to ivy@corp.example.org.");
    expect(text).toContain("Ivy Invite");
    expect(fieldsOf(clicked.card).Enrollment).toMatch(/^Invited \(email sent \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    const titles = actionsOf(clicked.card).map((a) => a.title);
    expect(titles).toContain("Resend invitation");
    expect(titles).not.toContain("Invite to enroll");
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "user.invite", subject: "ivy@corp.example.org" } });
    expect(audit).toMatchObject({ actor: TEAMS_USERS.admin.email, details: expect.objectContaining({ platform: "teams" }) });
  });
});
