/** The directory read from chat: export, one user's details, the audit trail, invitation status and resend. */
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Core, createCore } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { csvFile, validRows } from "../helpers/csv.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { appErrorOf } from "../helpers/errors.ts";
import { ADMIN, OTHER_ADMIN, PLAIN_USER, seedDirectory } from "../helpers/fixtures.ts";

describe.each(databaseKinds)("the directory from chat (%s)", (kind) => {
  let t: TestDatabase;
  let failing = true;
  let core: Core;

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await seedDirectory(t);
    core = createCore({
      files: csvImportFormat,
      store: t.store,
      now: () => t.clock.now,
      imports: { approvalPolicy: { kind: "never" }, approvers: [], approvalTtlHours: 72 },
      mailer: {
        configured: true,
        send: async () => {
          if (failing) throw new Error("550 mailbox unavailable");
        },
      },
    });
    await core.addUser({
      actor: ADMIN,
      input: {
        email: "eve@corp.example.org",
        name: '=HYPERLINK("x")',
        group: "Engineering",
        role: "User",
        exchangeDomain: "CORP",
        exchangeUsername: "eve",
      },
    });
  });
  afterAll(() => t.close());

  async function importRows(prefix: string, count: number) {
    const { batch } = await core.stageImport({
      actor: ADMIN,
      file: { name: `${prefix}.csv`, bytes: csvFile(validRows(count, { prefix, group: "Warehouse" })) },
    });
    await core.submitImport({ actor: ADMIN, batchId: batch.id });
    await core.createAccounts({ actor: ADMIN, batchId: batch.id });
    return (await core.getImport({ batchId: batch.id })).batch;
  }

  describe("export", () => {
    it("writes every user in the template's columns, formula-safe, UTF-8 with a BOM and CRLF, a page at a time", async () => {
      const exported = await core.exportUsers({ actor: ADMIN, pageSize: 2 });
      const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(exported.bytes);
      expect(text.startsWith("\uFEFFEmail ID,Name,Group,Role,Exchange Domain,Exchange Username\r\n")).toBe(true);
      const rows = parse(text.slice(1), { columns: true }) as Record<string, string>[];
      expect(rows.map((r) => r["Email ID"])).toEqual([...rows.map((r) => r["Email ID"])].sort());
      expect(exported.users).toBe(rows.length);
      expect(rows.find((r) => r["Email ID"] === "eve@corp.example.org")).toEqual({
        "Email ID": "eve@corp.example.org",
        Name: '\'=HYPERLINK("x")',
        Group: "Engineering",
        Role: "User",
        "Exchange Domain": "CORP",
        "Exchange Username": "eve",
      });
      expect(rows.find((r) => r["Email ID"] === ADMIN.email)).toMatchObject({ Role: "Administrator", "Exchange Domain": "" });
      expect(exported.fileName).toBe("hms-users-2026-11-24.csv");
    });

    it("one group only (any case), named in the file; an unknown group is explained; only Administrators", async () => {
      const exported = await core.exportUsers({ actor: ADMIN, group: "  engineering " });
      expect(exported.group).toBe("Engineering");
      expect(exported.fileName).toBe("hms-users-engineering-2026-11-24.csv");
      expect(exported.users).toBe(1);
      expect((await appErrorOf(core.exportUsers({ actor: ADMIN, group: "Nowhere" }))).message).toBe("There is no group named “Nowhere”.");
      expect((await appErrorOf(core.exportUsers({ actor: PLAIN_USER }))).code).toBe("NOT_ADMINISTRATOR");
    });

    it("what it writes reads back as an import of the same users", async () => {
      const exported = await core.exportUsers({ actor: ADMIN });
      const opened = await csvImportFormat.open(exported.bytes);
      let rows = 0;
      for await (const chunk of opened.chunks()) rows += chunk.length;
      expect(rows).toBe(exported.users);
      expect(opened.info.unknownColumns).toEqual([]);
    });
  });

  describe("one user", () => {
    it("shows the import that created them and their invitation", async () => {
      const batch = await importRows("card", 1);
      await core.inviteImportedUsers({ actor: ADMIN, batchId: batch.id });
      const user = await core.getUser({ actor: ADMIN, email: " CARD0@corp.example.org " });
      expect(user).toMatchObject({
        email: "card0@corp.example.org",
        group: { name: "Warehouse" },
        importBatch: { code: batch.code },
        invitation: { status: "FAILED", attempts: 1, lastError: "550 mailbox unavailable" },
      });
      expect((await appErrorOf(core.getUser({ actor: ADMIN, email: "nobody@corp.example.org" }))).message).toBe(
        "There is no user with Email ID nobody@corp.example.org.",
      );
      expect((await appErrorOf(core.getUser({ actor: ADMIN, email: "not an email" }))).code).toBe("VALIDATION_FAILED");
    });
  });

  describe("the audit trail", () => {
    it("of a user (with the import that created them), of an import, of everything; newest first", async () => {
      const batch = await importRows("audit", 1);
      const forUser = await core.listAudit({ actor: ADMIN, about: "Audit0@corp.example.org" });
      expect(forUser.about).toEqual({ kind: "user", email: "audit0@corp.example.org" });
      expect(forUser.events.map((e) => e.action)).toEqual(["import.create"]);
      const forImport = await core.listAudit({ actor: ADMIN, about: batch.code.toLowerCase() });
      expect(forImport.events.map((e) => e.action)).toEqual(["import.create", "import.submit", "import.upload"]);
      const all = await core.listAudit({ actor: ADMIN, limit: 3 });
      expect(all.events).toHaveLength(3);
      expect(all.events[0]!.at.getTime()).toBeGreaterThanOrEqual(all.events[2]!.at.getTime());
      const eve = await core.listAudit({ actor: ADMIN, about: "eve@corp.example.org" });
      expect(eve.events).toEqual([
        expect.objectContaining({ action: "user.add", actor: ADMIN.email, details: expect.objectContaining({ platform: "slack" }) }),
      ]);
      expect((await appErrorOf(core.listAudit({ actor: ADMIN, about: "whatever" }))).message).toBe(
        "“whatever” is neither an email address nor an import code (like IMP-7K3Q).",
      );
      expect((await appErrorOf(core.listAudit({ actor: PLAIN_USER }))).code).toBe("NOT_ADMINISTRATOR");
    });
  });

  describe("invitations", () => {
    it("counts and the failed ones of an import, then Resend sends those again", async () => {
      failing = true;
      const batch = await importRows("inv", 2);
      await core.inviteImportedUsers({ actor: ADMIN, batchId: batch.id });
      const status = await core.invitationStatus({ actor: OTHER_ADMIN, batch: batch.code });
      expect(status.imports).toEqual([expect.objectContaining({ code: batch.code, counts: { pending: 0, sent: 0, failed: 2 } })]);
      expect(status.failed).toEqual([
        expect.objectContaining({
          email: expect.stringMatching(/^inv\d@/),
          lastError: "550 mailbox unavailable",
          batchCode: batch.code,
          exhausted: false,
        }),
        expect.anything(),
      ]);
      const recent = await core.invitationStatus({ actor: OTHER_ADMIN });
      expect(recent.imports[0]!.code).toBe(batch.code);
      failing = false;
      const resent = await core.resendInvitations({ actor: OTHER_ADMIN, batchId: batch.id });
      expect(resent).toMatchObject({ resent: 2, counts: { pending: 0, sent: 2, failed: 0 } });
      const audit = await core.listAudit({ actor: ADMIN, about: batch.code });
      expect(audit.events[0]).toMatchObject({ action: "import.reinvite", actor: OTHER_ADMIN.email });
    });

    it("one user: invited when they have no invitation, sent again when they have one", async () => {
      failing = false;
      const first = await core.resendInvitations({ actor: ADMIN, email: "eve@corp.example.org" });
      expect(first).toMatchObject({ resent: 1, counts: { sent: 1 } });
      const again = await core.resendInvitations({ actor: ADMIN, email: "eve@corp.example.org" });
      expect(again).toMatchObject({ resent: 1, counts: { sent: 1 } });
      expect((await core.listAudit({ actor: ADMIN, about: "eve@corp.example.org" })).events.map((e) => e.action)).toEqual([
        "user.reinvite",
        "user.invite",
        "user.add",
      ]);
    });
  });

  describe("changing one user", () => {
    it("Edit and Move: the changes are saved and audited with the old and new values; nothing to change changes nothing", async () => {
      await core.addUser({ actor: ADMIN, input: { email: "move.me@corp.example.org", name: "Move Me", group: "Finance" } });
      const moved = await core.updateUser({
        actor: OTHER_ADMIN,
        email: "Move.Me@corp.example.org",
        input: { name: "Moved Person", group: "warehouse", role: "User", exchangeDomain: "CORP", exchangeUsername: "moved" },
      });
      expect(moved.changes).toEqual({
        name: { from: "Move Me", to: "Moved Person" },
        group: { from: "Finance", to: "Warehouse" },
        exchange: { from: "none", to: "CORP\\moved" },
      });
      expect(moved.user).toMatchObject({ name: "Moved Person", group: { name: "Warehouse" }, exchangeDomain: "CORP" });
      const [event] = (await core.listAudit({ actor: ADMIN, about: "move.me@corp.example.org" })).events;
      expect(event).toMatchObject({ action: "user.update", actor: OTHER_ADMIN.email, details: { changes: moved.changes } });
      const again = await core.updateUser({
        actor: ADMIN,
        email: "move.me@corp.example.org",
        input: { name: "Moved Person", group: "Warehouse", exchangeDomain: "CORP", exchangeUsername: "moved" },
      });
      expect(again.changes).toEqual({});
    });

    it("refuses with the reasons next to the fields: a changed Email ID, an unknown group, an Administrator grant", async () => {
      const error = await appErrorOf(
        core.updateUser({
          actor: ADMIN,
          email: "eve@corp.example.org",
          input: { email: "eve2@corp.example.org", name: "Eve", group: "Nowhere", role: "Administrator" },
        }),
      );
      expect(error.fieldIssues.map((i) => [i.field, i.code])).toEqual([
        ["email", "VALIDATION_FAILED"],
        ["group", "GROUP_UNKNOWN"],
        ["role", "ADMIN_GRANT_NEEDS_APPROVAL"],
      ]);
    });

    it("Remove: audited with what the user was; not yourself, not the last Administrator, not twice", async () => {
      await core.addUser({ actor: ADMIN, input: { email: "leaver@corp.example.org", name: "Leaver", group: "Finance" } });
      const removed = await core.removeUser({ actor: ADMIN, email: "leaver@corp.example.org" });
      expect(removed.email).toBe("leaver@corp.example.org");
      expect((await core.listAudit({ actor: ADMIN, about: "leaver@corp.example.org" })).events[0]).toMatchObject({
        action: "user.remove",
        details: { name: "Leaver", group: "Finance", role: "User" },
      });
      expect((await appErrorOf(core.removeUser({ actor: ADMIN, email: "leaver@corp.example.org" }))).code).toBe("NOT_FOUND");
      expect((await appErrorOf(core.removeUser({ actor: ADMIN, email: ADMIN.email }))).code).toBe("CANNOT_REMOVE_SELF");
    });

    it("two Administrators demoting each other at once: one of them stays", async () => {
      const solo = await openTestDatabase(kind);
      try {
        await solo.core.ensureBootstrapAdmins({ emails: ["a1@corp.example.org", "a2@corp.example.org"] });
        const as = (email: string) => ({ email, platform: "slack" as const });
        const demote = (who: string, whom: string) =>
          solo.core.updateUser({ actor: as(who), email: whom, input: { name: whom.split("@")[0], group: "Administrators", role: "User" } });
        const results = await Promise.allSettled([
          demote("a1@corp.example.org", "a2@corp.example.org"),
          demote("a2@corp.example.org", "a1@corp.example.org"),
        ]);
        expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
        const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        expect(["LAST_ADMINISTRATOR", "NOT_ADMINISTRATOR"]).toContain(refused.reason.code);
        expect(await solo.db.prisma.user.count({ where: { role: "ADMINISTRATOR" } })).toBe(1);
      } finally {
        await solo.close();
      }
    });
  });
});
