/**
 * The directory round trip and the approval rules, through the chat layer on a real core and
 * database: imports that update (export → edit → import), fixes in place (Create group X, Fix a
 * row), one-user Administrator requests, what requesters are told, reminders, fresh approvers.
 */
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Chat } from "../../src/chat/index.ts";
import { type Actor, type Core, createCore, type ImportBatch, type ImportSettings } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { USER_ACTIONS } from "../../src/render/directory-views.ts";
import { approvalValue, groupFixValue, IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import type { Message } from "../../src/render/model.ts";
import { csvFile, HEADER } from "../helpers/csv.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ADMIN, OTHER_ADMIN, seedDirectory } from "../helpers/fixtures.ts";
import { MemorySurface } from "../helpers/memory-surface.ts";

const text = MemorySurface.text;
const buttons = MemorySurface.buttons;
const THIRD: Actor = { email: "third.admin@corp.example.org", platform: "slack", platformUserId: "U0THIRD" };

describe.each(databaseKinds)("the directory round trip and approvals (%s)", (kind) => {
  let t: TestDatabase;
  let n = 0;
  const chats: Chat[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await seedDirectory(t, ["Finance", "Engineering", "Warehouse", "Sales"]);
    await t.core.ensureBootstrapAdmins({ emails: [THIRD.email] });
  });
  afterAll(async () => t?.close());
  afterEach(async () => {
    for (const chat of chats.splice(0)) await chat.stop(5000);
    t.clock.now = new Date("2026-11-24T12:00:00Z");
  });

  function setup(imports: Partial<ImportSettings> = {}) {
    const surface = new MemorySurface().know(OTHER_ADMIN.email, "U0OTHER").know(THIRD.email, "U0THIRD");
    const core: Core = createCore({
      files: csvImportFormat,
      store: t.store,
      now: () => t.clock.now,
      imports: { approvalPolicy: { kind: "never" }, approvers: [], approvalTtlHours: 72, ...imports },
    });
    const chat = new Chat({ core, logger: pino({ level: "silent" }), imports: { chunkSize: 2, progressIntervalMs: 0 } });
    chat.attach(surface);
    chats.push(chat);
    return { surface, core, chat };
  }

  const file = (lines: string[], header = HEADER) => {
    const id = ++n;
    return {
      id: `F${id}`,
      name: `people-${id}.csv`,
      fetch: async () => ({
        name: `people-${id}.csv`,
        bytes: csvFile(
          lines.map((l) => l.split(",")),
          header,
        ),
      }),
    };
  };

  async function upload(chat: Chat, core: Core, surface: MemorySurface, f: ReturnType<typeof file>) {
    await chat.imports.receiveFile(surface, surface.who(ADMIN), f);
    const post = surface.of("post").at(-1)!;
    const code = /Import (IMP-\w+)/.exec(post.message.summary)![1]!;
    const { batch } = await core.getImport({ batchId: code });
    const id = String((batch.conversation as { slack: { summary: { id: string } } }).slack.summary.id);
    return { batch, id };
  }

  const latest = (surface: MemorySurface, id: string): Message => surface.messages.get(id)!;

  async function addUsers(core: Core, prefix: string, count: number, group = "Finance") {
    for (let i = 0; i < count; i++) {
      await core.addUser({ actor: ADMIN, input: { email: `${prefix}${i}@corp.example.org`, name: `${prefix} ${i}`, group, role: "User" } });
    }
  }

  it("export asked for in a shared conversation goes to the person's private one, and they are told where; asked privately, it is just sent", async () => {
    const { surface, chat } = setup();
    const told = await chat.directory.exportDirectory(surface, surface.who(ADMIN), "Finance");
    const [sent] = surface.of("file");
    expect(sent!.target).toEqual({ conversation: `DM-${ADMIN.platformUserId ?? ADMIN.email}` });
    expect(text(told!)).toMatch(
      /^The export \(\d+ users? of the Finance group: hms-users-finance-\d{4}-\d\d-\d\d\.csv\) is in your direct conversation with the bot/,
    );
    const inPrivate = surface.who(ADMIN, { conversation: "DM-ada" });
    expect(await chat.directory.exportDirectory(surface, inPrivate, "Finance")).toBeUndefined();
    expect(surface.of("file").at(-1)!.target).toEqual({ conversation: "DM-ada" });
  });

  describe("imports that update existing users", () => {
    it("an export sent back unchanged has nothing to change; edited, it shows each change and applies exactly those", async () => {
      const { surface, core, chat } = setup();
      await addUsers(core, "rt", 4);
      const exported = await core.exportUsers({ actor: ADMIN, group: "Finance" });
      const rows = new TextDecoder().decode(exported.bytes).trim().split("\r\n").slice(1);
      const mine = rows.filter((r) => r.startsWith("rt"));
      expect(mine).toHaveLength(4);

      const same = await upload(chat, core, surface, file(mine));
      expect(same.batch).toMatchObject({ readyRows: 0, updateRows: 0, unchangedRows: 4, attentionRows: 0 });
      const nothing = latest(surface, same.id);
      expect(text(nothing)).toContain("Nothing to change: every user in the file is already as it says.");
      expect(buttons(nothing)).toEqual([IMPORT_ACTIONS.cancel]);

      // Two moved to Sales, one made an Administrator, one new user.
      const edited = [
        mine[0]!.replace(",Finance,", ",Sales,"),
        mine[1]!.replace(",Finance,", ",Sales,"),
        mine[2]!.replace(",User,", ",Administrator,"),
        mine[3]!,
        "rt.new@corp.example.org,Rt New,Finance,User,,",
      ];
      const changed = await upload(chat, core, surface, file(edited));
      expect(changed.batch).toMatchObject({ readyRows: 1, updateRows: 3, unchangedRows: 1, adminUpdateRows: 1 });
      const summary = latest(surface, changed.id);
      expect(text(summary)).toContain("Changes to existing users (3)");
      expect(text(summary)).toContain("(rt0@corp.example.org): Group: Finance → Sales");
      expect(text(summary)).toContain("(rt2@corp.example.org): Role: User → Administrator (grants the Administrator role)");
      expect(buttons(summary)).toEqual([IMPORT_ACTIONS.create, IMPORT_ACTIONS.createAndUpdate, IMPORT_ACTIONS.cancel]);
      expect(summary.blocks.flatMap((b) => (b.type === "actions" ? b.buttons.map((x) => x.label) : []))).toEqual([
        "Create 1 account",
        "Create 1 and update 3",
        "Cancel",
      ]);

      await chat.imports.create(surface, surface.who(ADMIN), changed.batch.id, true);
      await chat.idle();
      const done = (await core.getImport({ batchId: changed.batch.id })).batch;
      expect(done).toMatchObject({ status: "CREATED", createdRows: 1, updatedRows: 3, includeUpdates: true });
      expect((await core.getUser({ actor: ADMIN, email: "rt0@corp.example.org" })).group.name).toBe("Sales");
      expect((await core.getUser({ actor: ADMIN, email: "rt2@corp.example.org" })).role).toBe("ADMINISTRATOR");
      const [event] = (await core.listAudit({ actor: ADMIN, about: "rt0@corp.example.org" })).events;
      expect(event).toMatchObject({
        action: "user.update",
        details: { import: changed.batch.code, changes: { group: { from: "Finance", to: "Sales" } } },
      });
    });

    it("Create N accounts leaves the updates out; a user changed after the check is skipped, not overwritten", async () => {
      const { surface, core, chat } = setup();
      await addUsers(core, "sk", 2);
      const { batch } = await upload(
        chat,
        core,
        surface,
        file([
          "sk0@corp.example.org,Renamed,Finance,User,,",
          "sk1@corp.example.org,Renamed Too,Finance,User,,",
          "sk.new@corp.example.org,New,Finance,,,",
        ]),
      );
      await chat.imports.create(surface, surface.who(ADMIN), batch.id);
      await chat.idle();
      expect((await core.getImport({ batchId: batch.id })).batch).toMatchObject({ status: "CREATED", createdRows: 1, updatedRows: 0 });
      expect((await core.getUser({ actor: ADMIN, email: "sk0@corp.example.org" })).name).toBe("sk 0");

      const again = await upload(
        chat,
        core,
        surface,
        file(["sk0@corp.example.org,Renamed,Finance,User,,", "sk1@corp.example.org,Renamed Too,Finance,User,,"]),
      );
      // Someone edits sk1 between the check and the Create.
      await core.updateUser({ actor: OTHER_ADMIN, email: "sk1@corp.example.org", input: { name: "Changed Meanwhile", group: "Finance" } });
      await chat.imports.create(surface, surface.who(ADMIN), again.batch.id, true);
      await chat.idle();
      const done = await core.getImport({ batchId: again.batch.id });
      expect(done.batch).toMatchObject({ updatedRows: 1, skippedRows: 1 });
      expect(done.attention.map((r) => r.issues[0]?.message)).toEqual([
        "The user sk1@corp.example.org was changed or removed after the file was checked; not updated.",
      ]);
      expect((await core.getUser({ actor: ADMIN, email: "sk1@corp.example.org" })).name).toBe("Changed Meanwhile");
    });
  });

  describe("fixes in place", () => {
    it("Create group X: the group is made, its rows are checked again, and the summary's counts follow", async () => {
      const { surface, core, chat } = setup();
      const { batch, id } = await upload(
        chat,
        core,
        surface,
        file([
          "m1@corp.example.org,M One,Marketing,,,",
          "m2@corp.example.org,M Two,marketing,,,",
          "m3@corp.example.org,M Three,Finance,,,",
        ]),
      );
      const summary = latest(surface, id);
      expect(text(summary)).toContain("Unknown group “Marketing” — 2 rows (2, 3)");
      const fix = summary.blocks.flatMap((b) => (b.type === "actions" ? b.buttons : [])).find((b) => b.id === IMPORT_ACTIONS.createGroup)!;
      expect(fix.label).toBe("Create group Marketing");
      expect(await chat.imports.createGroup(surface, surface.who(ADMIN), fix.value!)).toEqual({});
      await chat.idle();
      expect((await core.getImport({ batchId: batch.id })).batch).toMatchObject({ readyRows: 3, attentionRows: 0 });
      expect(buttons(latest(surface, id))).not.toContain(IMPORT_ACTIONS.createGroup);
      expect(surface.told(ADMIN.platformUserId!).at(-1)).toContain(
        "Created group Marketing with policy Default. 2 of the rows naming it are ready now",
      );
      // The same button again: the group exists, nothing left to fix, no harm.
      await chat.imports.createGroup(surface, surface.who(ADMIN), groupFixValue(batch.id, "Marketing"));
      await chat.idle();
      expect((await core.getImport({ batchId: batch.id })).batch.readyRows).toBe(3);
    });

    it("Fix a row: pick it, see its problems next to the fields, save it; it joins the import", async () => {
      const { surface, core, chat } = setup();
      const { batch } = await upload(
        chat,
        core,
        surface,
        file(["ok@corp.example.org,Ok,Finance,,,", "bad@@corp.example.org,Bad,Nowhere,,,", "ok@corp.example.org,Twice,Finance,,,"]),
      );
      const started = await chat.imports.fixRowStart(surface, surface.who(ADMIN), batch.id);
      if (!("form" in started)) throw new Error("expected the pick form");
      const rowChoices = started.form.inputs[0]!;
      expect(rowChoices.type === "select" && rowChoices.options.map((o) => o.label)).toEqual([
        "Row 3: bad@@corp.example.org",
        "Row 4: ok@corp.example.org",
      ]);
      const picked = await chat.imports.fixRowPicked(surface, surface.who(ADMIN), batch.id, 3);
      if (!("form" in picked)) throw new Error("expected the row's form");
      expect(picked.form.inputs.find((i) => i.id === "email")?.problem).toContain("is not a valid email address");
      expect(picked.form.inputs.find((i) => i.id === "group")?.problem).toContain("There is no group named “Nowhere”");
      const still = await chat.imports.saveFixedRow(surface, surface.who(ADMIN), batch.id, 3, {
        email: "ok@corp.example.org",
        name: "Bad",
        group: "Finance",
      });
      expect(still).toEqual({ kind: "errors", errors: { email: "Same Email ID as row 2, which is imported." } });
      const saved = await chat.imports.saveFixedRow(surface, surface.who(ADMIN), batch.id, 3, {
        email: "fixed@corp.example.org",
        name: "Fixed",
        group: "Finance",
      });
      expect(saved).toMatchObject({ kind: "done" });
      await chat.idle();
      expect((await core.getImport({ batchId: batch.id })).batch).toMatchObject({ readyRows: 2, attentionRows: 1 });
    });
  });

  describe("Administrator grants are four-eyes", () => {
    it("Add user as Administrator asks an approver first; once approved the user is added, and the requester told", async () => {
      const { surface, core, chat } = setup({ approvalPolicy: { kind: "admins" } });
      const outcome = await chat.addUser.submit(surface, surface.who(ADMIN), {
        email: "new.admin@corp.example.org",
        name: "New Admin",
        group: "Finance",
        role: "Administrator",
      });
      expect(outcome.kind).toBe("requested");
      expect(text((outcome as { message: Message }).message)).toContain(
        "“Add new.admin@corp.example.org as Administrator” needs another Administrator's approval",
      );
      await chat.idle();
      expect(await core.getUser({ actor: ADMIN, email: "new.admin@corp.example.org" }).catch((e: Error) => e.message)).toBe(
        "There is no user with Email ID new.admin@corp.example.org.",
      );
      const [request] = surface.of("approval");
      expect(text(request!.message)).toContain("Add new.admin@corp.example.org as Administrator");
      const batch = (await core.listImports({ actor: ADMIN })).find((b) => b.kind === "add-user")!;
      expect(text((await chat.imports.approve(surface, surface.who(ADMIN), approvalValue(batch))).notice!)).toContain(
        "another Administrator must approve",
      );
      await chat.imports.approve(surface, surface.who(OTHER_ADMIN), approvalValue(batch));
      await chat.idle();
      expect(await core.getUser({ actor: ADMIN, email: "new.admin@corp.example.org" })).toMatchObject({
        role: "ADMINISTRATOR",
        source: "FORM",
      });
      expect(surface.notified(ADMIN.platformUserId!).at(-1)).toContain(`was approved by ${OTHER_ADMIN.email}`);
      expect((await core.listAudit({ actor: ADMIN, about: "new.admin@corp.example.org" })).events.map((e) => e.action)).toContain(
        "user.add",
      );
      // A plain User is still added at once.
      expect(
        (await chat.addUser.submit(surface, surface.who(ADMIN), { email: "plain.new@corp.example.org", name: "Plain", group: "Finance" }))
          .kind,
      ).toBe("added");
    });

    it("Make Administrator on a card: a request with the policy, at once without", async () => {
      const four = setup({ approvalPolicy: { kind: "always" } });
      await addUsers(four.core, "promo", 1);
      const click = await four.chat.directory.cardClick(
        four.surface,
        four.surface.who(ADMIN),
        USER_ACTIONS.role,
        "promo0@corp.example.org",
      );
      expect(click.kind === "answer" && text(click.notice!)).toContain(
        "“Make promo0@corp.example.org an Administrator” needs another Administrator's approval",
      );
      await four.chat.idle();
      const batch = (await four.core.listImports({ actor: ADMIN })).find((b) => b.kind === "role" && b.status === "AWAITING_APPROVAL")!;
      await four.chat.imports.approve(four.surface, four.surface.who(THIRD), approvalValue(batch));
      await four.chat.idle();
      expect((await four.core.getUser({ actor: ADMIN, email: "promo0@corp.example.org" })).role).toBe("ADMINISTRATOR");

      const direct = setup({ approvalPolicy: { kind: "never" } });
      await addUsers(direct.core, "promo.direct", 1);
      const at = await direct.chat.directory.cardClick(
        direct.surface,
        direct.surface.who(ADMIN),
        USER_ACTIONS.role,
        "promo.direct0@corp.example.org",
      );
      expect(at.kind === "answer" && text(at.notice!)).toContain("is an Administrator now");
    });
  });

  describe("approvals that inform and notify", () => {
    it("the request lists who is made an Administrator and the groups; a rejection is told to the requester with its reason", async () => {
      const { surface, core, chat } = setup({ approvalPolicy: { kind: "always" } });
      const { batch } = await upload(
        chat,
        core,
        surface,
        file(["g1@corp.example.org,G1,Sales,Administrator,,", "g2@corp.example.org,G2,Sales,,,", "g3@corp.example.org,G3,Warehouse,,,"]),
      );
      await chat.imports.create(surface, surface.who(ADMIN), batch.id);
      await chat.idle();
      const [request] = surface.of("approval");
      expect(text(request!.message)).toContain("Granted the Administrator role (1)");
      expect(text(request!.message)).toContain("g1@corp.example.org");
      expect(text(request!.message)).toContain("Into groups: Sales 2 · Warehouse 1");
      const waiting = (await core.getImport({ batchId: batch.id })).batch;
      await chat.imports.reject(surface, surface.who(OTHER_ADMIN), approvalValue(waiting), "Wrong people");
      await chat.idle();
      expect(surface.notified(ADMIN.platformUserId!).at(-1)).toContain(
        `Import ${batch.code} (${batch.fileName}) was rejected by ${OTHER_ADMIN.email}`,
      );
      expect(surface.notified(ADMIN.platformUserId!).at(-1)).toContain("“Wrong people”");
    });

    it("half-way to expiry the approvers are reminded once; at expiry the requester is told", async () => {
      const { surface, core, chat } = setup({ approvalPolicy: { kind: "always" }, approvalTtlHours: 10 });
      const { batch } = await upload(chat, core, surface, file(["rem@corp.example.org,Rem,Sales,,,"]));
      await chat.imports.create(surface, surface.who(ADMIN), batch.id);
      await chat.idle();
      t.clock.now = new Date(t.clock.now.getTime() + 5.5 * 3_600_000);
      const due = await core.remindApprovals();
      expect(due.map((d) => d.batch.code)).toContain(batch.code);
      expect((await core.remindApprovals()).map((d) => d.batch.code)).not.toContain(batch.code);
      await chat.background.reminders(due.filter((d) => d.batch.code === batch.code));
      const reminder = surface.of("post").at(-1)!;
      expect(text(reminder.message)).toContain(`is still waiting for approval`);
      expect(reminder.message.blocks[0]).toMatchObject({
        text: expect.arrayContaining([{ mention: OTHER_ADMIN.email, platformId: "U0OTHER" }]),
      });
      t.clock.now = new Date(t.clock.now.getTime() + 5 * 3_600_000);
      await chat.background.expired(await core.expireImports());
      expect(surface.notified(ADMIN.platformUserId!).at(-1)).toContain("expired at");
    });

    it("an Administrator made too recently may not approve, unless APPROVERS or BOOTSTRAP_ADMINS name them", async () => {
      // Two days after the directory was seeded: its Administrators may approve; the new one may not.
      t.clock.now = new Date(t.clock.now.getTime() + 48 * 3_600_000);
      const fresh = setup({ approvalPolicy: { kind: "always" }, approverMinRoleAgeHours: 24 });
      await fresh.core.addUser({
        actor: ADMIN,
        input: { email: "fresh.admin@corp.example.org", name: "Fresh", group: "Finance", role: "User" },
      });
      const direct = setup({ approvalPolicy: { kind: "never" } });
      await direct.core.requestAdministrator({ actor: ADMIN, email: "fresh.admin@corp.example.org" });
      const { batch } = await upload(fresh.chat, fresh.core, fresh.surface, file(["fr@corp.example.org,Fr,Sales,,,"]));
      await fresh.chat.imports.create(fresh.surface, fresh.surface.who(ADMIN), batch.id);
      await fresh.chat.idle();
      const waiting: ImportBatch = (await fresh.core.getImport({ batchId: batch.id })).batch;
      expect((await fresh.core.getImport({ batchId: batch.id })).approvers).not.toContain("fresh.admin@corp.example.org");
      const freshAdmin = { email: "fresh.admin@corp.example.org", platform: "slack" as const, platformUserId: "U0FRESH" };
      const refused = await fresh.chat.imports.approve(fresh.surface, fresh.surface.who(freshAdmin), approvalValue(waiting));
      expect(text(refused.notice!)).toContain("You became an Administrator less than 24 hours ago, so you may not approve or reject yet");
      const trusted = setup({
        approvalPolicy: { kind: "always" },
        approverMinRoleAgeHours: 24,
        trustedAdministrators: ["fresh.admin@corp.example.org"],
      });
      expect(await trusted.chat.imports.approve(trusted.surface, trusted.surface.who(freshAdmin), approvalValue(waiting))).toEqual({});
    });
  });
});
