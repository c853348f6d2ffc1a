/**
 * The directory from Teams, end to end: `user <email>` and its card's buttons (Edit and Move turn
 * the card into their form, with Cancel; Remove asks first on a ShowCard; Make Administrator asks
 * an approver), `export` through a file consent card, `audit`, `invites` and `imports`, and the
 * fixes in place on an import summary (Create group X, Fix a row).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import { csvFile, validRows } from "../helpers/csv.ts";
import { databaseKinds } from "../helpers/db.ts";
import { PLAIN_USER } from "../helpers/fixtures.ts";
import { actionsOf, cardIn, startTeamsHarness, TEAMS_USERS, type TeamsHarness, textOf } from "../helpers/teams-app.ts";
import { fieldsOf, idOf, importHelpers } from "../helpers/teams-imports.ts";

type Card = Record<string, unknown>;
const admin = TEAMS_USERS.admin;

/** The inputs of a form card, by id. */
function inputsOf(card: Card | undefined): Record<string, Card> {
  const out: Record<string, Card> = {};
  for (const el of (card?.body ?? []) as Card[]) if (String(el.type).startsWith("Input.")) out[String(el.id)] = el;
  return out;
}

describe.each(databaseKinds)("the directory from Teams (%s)", (kind) => {
  let h: TeamsHarness;
  let people = 0;
  const { nextMessage, summaryOf, consentAfter, allow, waitForUpdate } = importHelpers(() => h);

  beforeAll(async () => {
    h = await startTeamsHarness(kind);
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  const userRow = (email: string) => h.t.db.prisma.user.findUnique({ where: { email }, include: { group: true } });

  /** Types `text` in the admin's personal chat; the card answered. */
  async function answerTo(text: string) {
    const before = h.fake.calls.length;
    await h.say(text);
    const post = await nextMessage(before, () => true, admin, `the answer to ${text}`);
    return { post, id: idOf(post), card: h.cardOf(post), text: textOf(h.cardOf(post)) };
  }

  /** A fresh user of Finance and their card. */
  async function cardOfNewUser() {
    const email = `dir${++people}@corp.example.org`;
    await h.core.addUser({
      actor: { email: admin.email, platform: "teams" },
      input: { email, name: `Dir User ${people}`, group: "Finance" },
    });
    return { email, ...(await answerTo(`user ${email}`)) };
  }

  const click = (verb: string, data: Record<string, unknown>, replyToId: string) => h.click(verb, data, { user: admin, replyToId });

  it("user <email>: the card with the user's facts and buttons; Remove asks first", async () => {
    const { card, text } = await answerTo(`user ${PLAIN_USER.email.toUpperCase()}`);
    expect(text).toContain("Plain User");
    expect(fieldsOf(card)).toMatchObject({ Group: "Finance", Role: "User", "Exchange account": "None", Enrollment: "Not invited yet" });
    expect(actionsOf(card).map((a) => [a.verb, a.title, a.data.value, a.confirm])).toEqual([
      ["hms_user_edit", "Edit", PLAIN_USER.email, undefined],
      ["hms_user_move", "Move to group", PLAIN_USER.email, undefined],
      ["hms_user_role", "Make Administrator", PLAIN_USER.email, undefined],
      ["hms_user_invite", "Invite to enroll", PLAIN_USER.email, undefined],
      ["hms_user_remove", "Remove", PLAIN_USER.email, "Remove"],
    ]);
    // The question under Remove names who goes and what they lose.
    expect(text).toContain("Remove Plain User (plain.user@corp.example.org) from HMS? Their devices lose the Finance policies.");
    expect((await answerTo("user nobody@corp.example.org")).text).toContain("nobody@corp.example.org");
  });

  it("Edit: the card becomes the form, filled; saved, the card reads as now with the change above it, audited", async () => {
    const { email, id } = await cardOfNewUser();
    const form = await click("hms_user_edit", { value: email }, id);
    const inputs = inputsOf(form.card);
    expect(inputs.name?.value).toBe(`Dir User ${people}`);
    expect(inputs.group?.value).toBe("Finance");
    expect(actionsOf(form.card).map((a) => a.title)).toEqual(["Save", "Cancel"]);
    const submit = actionsOf(form.card)[0]!;
    const saved = await click(submit.verb, { ...submit.data, name: "Renamed Person", group: "Engineering", role: "User" }, id);
    expect(textOf(saved.card)).toContain(`Saved ${email}:`);
    expect(textOf(saved.card)).toContain("Name: Dir User");
    expect(fieldsOf(saved.card)).toMatchObject({ Group: "Engineering" });
    expect(await userRow(email)).toMatchObject({ name: "Renamed Person", group: { name: "Engineering" } });
    const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "user.update", subject: email } });
    expect(audit).toMatchObject({ actor: admin.email, details: expect.objectContaining({ platform: "teams" }) });
  });

  it("Edit with a group that does not exist: the form again, the problem under Group, what was typed kept; nothing saved", async () => {
    const { email, id } = await cardOfNewUser();
    const form = await click("hms_user_edit", { value: email }, id);
    const submit = actionsOf(form.card)[0]!;
    const again = await click(submit.verb, { ...submit.data, name: "Typed Name", group: "Nowhere", role: "User" }, id);
    expect(inputsOf(again.card).name?.value).toBe("Typed Name");
    expect(textOf(again.card)).toContain("There is no group named “Nowhere”.");
    expect(await userRow(email)).toMatchObject({ name: `Dir User ${people}`, group: { name: "Finance" } });
    // Cancel brings the card back.
    const cancel = actionsOf(again.card).find((a) => a.title === "Cancel")!;
    const back = await click(cancel.verb, cancel.data, id);
    expect(fieldsOf(back.card)).toMatchObject({ Group: "Finance" });
  });

  it("Move to group: the Group choice only; saved, the user is in the new group", async () => {
    const { email, id } = await cardOfNewUser();
    const form = await click("hms_user_move", { value: email }, id);
    expect(Object.keys(inputsOf(form.card))).toEqual(["group"]);
    expect(((inputsOf(form.card).group?.choices ?? []) as { value: string }[]).map((c) => c.value)).toContain("Warehouse");
    const submit = actionsOf(form.card)[0]!;
    const moved = await click(submit.verb, { ...submit.data, group: "Warehouse" }, id);
    expect(textOf(moved.card)).toContain("Group: Finance → Warehouse");
    expect((await userRow(email))?.group.name).toBe("Warehouse");
  });

  it("Remove: the user is gone and the card says so; Make Administrator asks an approver", async () => {
    const { email, id } = await cardOfNewUser();
    const remove = actionsOf((await answerTo(`user ${email}`)).card).find((a) => a.verb === "hms_user_remove")!;
    const removed = await click(remove.verb, remove.data, id);
    expect(textOf(removed.card)).toContain(`Removed Dir User ${people} (${email}) from Finance.`);
    expect(await userRow(email)).toBeNull();

    const other = await cardOfNewUser();
    const before = h.fake.calls.length;
    const asked = await click("hms_user_role", { value: other.email }, other.id);
    expect(textOf(asked.card)).toContain(`“Make ${other.email} an Administrator” needs another Administrator's approval`);
    expect(fieldsOf(asked.card)).toMatchObject({ Role: "User" });
    await h.waitForMessages(
      (c) => h.fake.calls.indexOf(c) >= before && actionsOf(h.cardOf(c)).some((a) => a.verb === IMPORT_ACTIONS.approve),
      1,
      "the approval request",
    );
    expect((await userRow(other.email))?.role).toBe("USER");
  });

  it("export: the CSV offered on a consent card; allowed, the file holds the users in the template's columns", async () => {
    const before = h.fake.calls.length;
    await h.say("export finance");
    const comment = await nextMessage(before, (c) => textOf(cardIn(c.body)).includes(".csv"), admin, "the export's comment");
    expect(textOf(cardIn(comment.body))).toContain("Finance");
    const consent = await consentAfter(before);
    expect(consent.name).toMatch(/\.csv$/);
    const { bytes } = await allow(consent);
    const lines = bytes
      .replace(/^\uFEFF/, "")
      .trim()
      .split("\r\n");
    expect(lines[0]).toBe("Email ID,Name,Group,Role,Exchange Domain,Exchange Username");
    expect(lines).toContain(`${PLAIN_USER.email},Plain User,Finance,User,,`);
    expect(lines.every((l, i) => i === 0 || l.includes(",Finance,"))).toBe(true);
    expect((await answerTo("export Nowhere")).text).toContain("There is no group named “Nowhere”.");
  });

  it("audit, invites and imports answer with cards", async () => {
    expect((await answerTo(`audit ${PLAIN_USER.email}`)).text).toContain("added the user");
    expect((await answerTo("audit not-an-email")).text).toContain("is neither an email address nor an import code");
    expect((await answerTo("invites")).text).toMatch(/invit/i);
    const { code } = await summaryOf("listed.csv", csvFile(validRows(2, { prefix: "listed" })));
    expect((await answerTo("imports")).text).toContain(code);
  });

  it("Create group X on a summary: the group made, its rows ready, the summary's counts updated for everyone", async () => {
    const rows = [...validRows(1, { prefix: "legal" }), ["legal.new@corp.example.org", "Lee Gal", "Legal Dept", "User", "", ""]];
    const { id, batch, card } = await summaryOf("legal.csv", csvFile(rows));
    expect(fieldsOf(card)).toMatchObject({ "Need attention": "1" });
    const button = actionsOf(card).find((a) => a.verb === IMPORT_ACTIONS.createGroup)!;
    expect(button.title).toBe("Create group Legal Dept");
    const answer = await click(button.verb, button.data, id);
    expect(answer.status).toBe(200);
    const updated = await waitForUpdate(id, (c) => fieldsOf(c)["Need attention"] === "0", "the summary with the new counts");
    expect(fieldsOf(updated)).toMatchObject({ Ready: "2" });
    expect(await h.t.db.prisma.group.findFirst({ where: { name: "Legal Dept" } })).not.toBeNull();
    await nextMessage(0, (c) => textOf(cardIn(c.body)).includes("Created group Legal Dept"), admin, "the notice");
    const row = await h.t.db.prisma.importRow.findFirst({ where: { batchId: batch.id, email: "legal.new@corp.example.org" } });
    expect(row?.status).toBe("READY");
  });

  it("Fix a row: the summary becomes the pick, then the row's form with its problem; saved, the summary with the new counts", async () => {
    const rows = [...validRows(1, { prefix: "fix" }), ["not-an-email", "Bad Row", "Finance", "User", "", ""]];
    const { id, batch } = await summaryOf("fix.csv", csvFile(rows));
    const pick = await click(IMPORT_ACTIONS.fixRow, { value: batch.id }, id);
    const choices = (inputsOf(pick.card).row?.choices ?? []) as { title: string; value: string }[];
    expect(choices).toEqual([{ title: expect.stringContaining("Row 3: not-an-email"), value: "3" }]);
    const next = actionsOf(pick.card).find((a) => a.title === "Next")!;
    // Nothing chosen: asked again.
    expect(textOf((await click(next.verb, next.data, id)).card)).toContain("Choose a row.");
    const form = await click(next.verb, { ...next.data, row: "3" }, id);
    expect(inputsOf(form.card).email?.value).toBe("not-an-email");
    expect(textOf(form.card)).toContain("not a valid email address");
    const save = actionsOf(form.card).find((a) => a.title === "Save row")!;
    // Still wrong: the form stays, with the new problem.
    const still = await click(save.verb, { ...save.data, email: "also@bad", name: "Bad Row", group: "Finance", role: "User" }, id);
    expect(textOf(still.card)).toContain("“also@bad” is not a valid email address");
    const saved = await click(
      save.verb,
      { ...save.data, email: "fixed.row@corp.example.org", name: "Fixed Row", group: "Finance", role: "User" },
      id,
    );
    expect(textOf(saved.card)).toContain(`Row 3 of import ${batch.code} is ready now`);
    expect(fieldsOf(saved.card)).toMatchObject({ Ready: "2", "Need attention": "0" });
    const row = await h.t.db.prisma.importRow.findFirst({ where: { batchId: batch.id, rowNumber: 3 } });
    expect(row).toMatchObject({ status: "READY", email: "fixed.row@corp.example.org" });
  });
});
