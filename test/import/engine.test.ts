import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.ts";
import type { ImportSettings } from "../../src/core/import/types.ts";
import { type Core, createCore } from "../../src/core/index.ts";
import type { Store } from "../../src/core/ports.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { createStore } from "../../src/db/store.ts";
import { createSmtpMailer } from "../../src/mail/smtp.ts";
import { csvFile, headerOf, readBack, validRows } from "../helpers/csv.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { appErrorOf } from "../helpers/errors.ts";
import { ADMIN, OTHER_ADMIN, PLAIN_USER, seedDirectory, THIRD_ADMIN } from "../helpers/fixtures.ts";
import { CSV_FIXTURES as FIXTURES } from "../helpers/shared.ts";
import { type FakeSmtp, startFakeSmtp } from "../helpers/smtp.ts";

const fixture = (name: string) => new Uint8Array(readFileSync(path.join(FIXTURES, name)));
/** What an approval request's buttons carry: the start of the file's SHA-256. */
const prefixOf = (batch: { sha256: string }) => batch.sha256.slice(0, 12);
const expectations = JSON.parse(readFileSync(path.join(FIXTURES, "users.expect.json"), "utf8")) as {
  data_rows: number;
  row_notes_spreadsheet_numbering: Record<string, string>;
};

describe.each(databaseKinds)("import engine on %s", (kind) => {
  let t: TestDatabase;
  let smtp: FakeSmtp;
  let counter = 0;
  /** A core with its own settings and mailer over the same database and clock. */
  const coreWith = (imports: Partial<ImportSettings> = {}, mail: { smtpUrl?: string } = {}): Core =>
    createCore({
      files: csvImportFormat,
      store: t.store,
      now: () => t.clock.now,
      imports: { approvalPolicy: { kind: "always" }, approvers: [], approvalTtlHours: 72, ...imports },
      mailer: createSmtpMailer({ smtpUrl: mail.smtpUrl, from: "HMS <hms@corp.example.org>", enrollUrl: "https://hms.example.com/enroll" }),
    });
  /** A distinct file each time (content differs, so no batch is reused unless asked). */
  const uniqueFile = (rows: string[][]) => csvFile([...rows, [`unique${++counter}@corp.example.org`, "Unique", "Finance", "User", "", ""]]);

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await seedDirectory(t);
    smtp = await startFakeSmtp();
  });
  afterAll(async () => {
    await smtp.close();
    await t.close();
  });
  beforeEach(() => {
    t.clock.now = new Date("2026-11-24T12:00:00Z");
    smtp.failing = false;
  });

  describe("staging", () => {
    it("validates the LibreOffice fixture: counts, row numbers and reasons as the spreadsheet shows them", async () => {
      const core = coreWith();
      const { batch, reused } = await core.stageImport({
        actor: ADMIN,
        file: { name: "users.csv", bytes: fixture("users.libreoffice-comma-utf8.csv") },
      });
      expect(reused).toBe(false);
      expect(batch.code).toMatch(/^IMP-[2-9A-HJKMNP-TV-Z]{4}$/);
      const flagged = Object.entries(expectations.row_notes_spreadsheet_numbering)
        .filter(([, note]) => !note.startsWith("valid"))
        .map(([row]) => Number(row));
      expect(batch).toMatchObject({
        status: "VALIDATED",
        dataRows: expectations.data_rows,
        attentionRows: flagged.length,
        readyRows: expectations.data_rows - flagged.length,
        blankRows: 0,
        requesterEmail: ADMIN.email,
        platform: "slack",
        approvalRequired: true,
      });
      const summary = await core.getImport({ actor: ADMIN, batchId: batch.id });
      expect(summary.attention.map((r) => r.rowNumber)).toEqual(flagged);
      const byRow = new Map(summary.attention.map((r) => [r.rowNumber, r.issues.map((i) => i.code)]));
      expect(byRow.get(4)).toEqual(["EMAIL_INVALID"]);
      expect(byRow.get(8)).toEqual(["EMAIL_DUPLICATE_IN_FILE"]);
      expect(summary.attention.find((r) => r.rowNumber === 8)?.issues[0]?.message).toBe("Same Email ID as row 3, which is imported.");
      expect(byRow.get(13)).toEqual(["GROUP_UNKNOWN"]);
      expect(byRow.get(18)).toEqual(["NAME_REQUIRED"]);
      expect(byRow.get(23)).toEqual(["ROLE_INVALID"]);
      expect(byRow.get(28)).toEqual(["EXCHANGE_DOMAIN_MISSING"]);
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.upload", subject: `import:${batch.code}` } })).toBe(1);
    });

    it("returns the open batch when the same admin uploads the same file again, even concurrently", async () => {
      const core = coreWith();
      const bytes = uniqueFile(validRows(3, { prefix: "same" }));
      const results = await Promise.all([1, 2, 3].map(() => core.stageImport({ actor: ADMIN, file: { name: "a.csv", bytes } })));
      expect(new Set(results.map((r) => r.batch.id)).size).toBe(1);
      const again = await core.stageImport({ actor: ADMIN, file: { name: "renamed.csv", bytes } });
      expect(again).toMatchObject({ reused: true, batch: { id: results[0]!.batch.id } });
      // Another admin uploading the same file gets their own batch.
      const other = await core.stageImport({ actor: OTHER_ADMIN, file: { name: "a.csv", bytes } });
      expect(other.batch.id).not.toBe(results[0]!.batch.id);
      // Once closed, the same file starts a new batch.
      await core.cancelImport({ actor: ADMIN, batchId: results[0]!.batch.id });
      const fresh = await core.stageImport({ actor: ADMIN, file: { name: "a.csv", bytes } });
      expect(fresh.reused).toBe(false);
    });

    it("writes nothing for a whole-file error or a non-administrator", async () => {
      const core = coreWith();
      const before = await t.db.prisma.importBatch.count();
      expect((await appErrorOf(core.stageImport({ actor: ADMIN, file: { name: "x.csv", bytes: new Uint8Array() } }))).code).toBe(
        "FILE_EMPTY",
      );
      expect(
        (await appErrorOf(core.stageImport({ actor: ADMIN, file: { name: "x.csv", bytes: csvFile([["a@b.org"]], "Email ID,Name") } })))
          .code,
      ).toBe("FILE_MISSING_COLUMNS");
      expect((await appErrorOf(core.stageImport({ actor: PLAIN_USER, file: { name: "x.csv", bytes: uniqueFile([]) } }))).code).toBe(
        "NOT_ADMINISTRATOR",
      );
      expect(await t.db.prisma.importBatch.count()).toBe(before);
    });

    it("records each platform's conversation by merging it: another platform's record is never erased", async () => {
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "c.csv", bytes: uniqueFile(validRows(1, { prefix: "conv" })) },
      });
      await core.recordImportConversation({ batchId: batch.id, platform: "slack", record: { place: { channel: "C1" } } });
      await core.recordImportConversation({ batchId: batch.id, platform: "slack", record: { summary: { channel: "C1", ts: "1.2" } } });
      // Both platforms at once, as when the same open file is uploaded from Teams too.
      await Promise.all([
        core.recordImportConversation({ batchId: batch.id, platform: "teams", record: { place: { conversation: "a:1" } } }),
        core.recordImportConversation({ batchId: batch.id, platform: "slack", record: { approval: { channel: "C9", ts: "3.4" } } }),
      ]);
      const { batch: stored } = await core.getImport({ batchId: batch.id });
      expect(stored.conversation).toEqual({
        slack: { place: { channel: "C1" }, summary: { channel: "C1", ts: "1.2" }, approval: { channel: "C9", ts: "3.4" } },
        teams: { place: { conversation: "a:1" } },
      });
      expect(
        (
          await appErrorOf(
            core.recordImportConversation({ batchId: "00000000-0000-0000-0000-000000000000", platform: "slack", record: {} }),
          )
        ).code,
      ).toBe("BATCH_NOT_FOUND");
    });

    it("leaves no batch and no row behind when the file breaks after some chunks were stored", async () => {
      const core = coreWith();
      const [batches, rows] = [await t.db.prisma.importBatch.count(), await t.db.prisma.importRow.count()];
      const good = validRows(40, { prefix: "partial" })
        .map((r) => r.join(","))
        .join("\r\n");
      const bytes = new TextEncoder().encode(
        `Email ID,Name,Group,Role,Exchange Domain,Exchange Username\r\n${good}\r\nlate@corp.example.org,"Unclosed quote,Finance,User,,\r\n`,
      );
      const error = await appErrorOf(core.stageImport({ actor: ADMIN, file: { name: "broken.csv", bytes }, chunkSize: 5 }));
      expect(error.code).toBe("FILE_MALFORMED");
      expect([await t.db.prisma.importBatch.count(), await t.db.prisma.importRow.count()]).toEqual([batches, rows]);
    });

    /** A core staging in lanes (as on PostgreSQL, on either database) whose directory look-ups go through `lookup`. */
    const inLanes = (lookup: (emails: readonly string[], call: number) => Promise<void>) => {
      let call = 0;
      const store: Store = {
        ...t.store,
        concurrentStatements: 2,
        imports: {
          ...t.store.imports,
          existingUsers: async (emails) => {
            await lookup(emails, ++call);
            return t.store.imports.existingUsers(emails);
          },
        },
      };
      return createCore({ files: csvImportFormat, store, now: () => t.clock.now });
    };

    it("in lanes, a directory look-up failing for a later chunk (asked while the next is parsed) leaves nothing behind", async () => {
      const counts = async () => [await t.db.prisma.importBatch.count(), await t.db.prisma.importRow.count()];
      const before = await counts();
      const failing = new Error("the directory did not answer");
      const asked: number[] = [];
      const core = inLanes(async (_, call) => {
        asked.push(call);
        if (call === 3) throw failing;
      });
      const file = { name: "lanes.csv", bytes: uniqueFile(validRows(12, { prefix: "lookup" })) };
      await expect(core.stageImport({ actor: ADMIN, file, chunkSize: 2 })).rejects.toBe(failing);
      expect(asked.slice(0, 3)).toEqual([1, 2, 3]);
      expect(await counts()).toEqual(before);
    });

    it("in lanes, a row is checked against the rows of earlier chunks, whose look-ups are still answering", async () => {
      // Each look-up answers late: the next chunks are checked meanwhile.
      const core = inLanes(() => new Promise((resolve) => setTimeout(resolve, 20)));
      const rows = validRows(5, { prefix: "order" });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "order.csv", bytes: uniqueFile([...rows, [rows[0]![0]!, "Again", "Finance", "User", "", ""]]) },
        chunkSize: 2,
      });
      expect(batch).toMatchObject({ status: "VALIDATED", dataRows: 7, readyRows: 6, attentionRows: 1 });
      const [again] = await t.store.imports.rows(batch.id, { statuses: ["NEEDS_ATTENTION"] });
      expect(again).toMatchObject({ rowNumber: 7, issues: [expect.objectContaining({ code: "EMAIL_DUPLICATE_IN_FILE" })] });
      expect(again!.issues[0]!.message).toBe("Same Email ID as row 2, which is imported.");
    });

    it("discards, after an hour, the closed batch of an upload whose process died while staging it", async () => {
      const core = coreWith();
      const abandoned = await t.store.imports.create({
        code: "IMP-DEAD",
        fileName: "dead.csv",
        sha256: "dead",
        sizeBytes: 1,
        requesterEmail: ADMIN.email,
        requesterPlatformId: null,
        platform: "slack",
        conversation: {},
        fileInfo: {},
        status: "FAILED",
        reason: "The upload was interrupted; upload the file again.",
        createdAt: t.clock.now,
      });
      // The rows it had stored when the process died ("ImportRow" has no foreign key to cascade).
      for (const n of [2, 3]) {
        await t.db.sql.query(
          `INSERT INTO "ImportRow" ("batchId", "rowNumber", "status", "email", "name", "groupName", "role", "exchangeDomain", "exchangeUsername")
           VALUES ($1::uuid, $2, 'READY', $3, 'Dead', 'Finance', 'User', '', '')`,
          [abandoned.id, n, `dead${n}@corp.example.org`],
        );
      }
      const rowsOf = async (batchId: string) => (await t.store.imports.rows(batchId)).length;
      const others = await t.db.prisma.importRow.count();
      t.clock.now = new Date(abandoned.createdAt.getTime() + 30 * 60_000);
      expect(await core.discardInterruptedUploads()).toBe(0);
      expect(await rowsOf(abandoned.id)).toBe(2);
      t.clock.now = new Date(abandoned.createdAt.getTime() + 61 * 60_000);
      expect(await core.discardInterruptedUploads()).toBe(1);
      expect(await t.store.imports.findById(abandoned.id)).toBeNull();
      expect(await rowsOf(abandoned.id)).toBe(0);
      expect(await t.db.prisma.importRow.count()).toBe(others - 2);
    });

    it("emails that exist in the directory are updates (their changes recorded, an Administrator grant counted), not errors", async () => {
      const { batch } = await coreWith().stageImport({
        actor: ADMIN,
        file: {
          name: "x.csv",
          bytes: uniqueFile([
            [PLAIN_USER.email.toUpperCase(), "P", "Finance", "Administrator", "", ""],
            [` ${PLAIN_USER.email} `, "P again", "Nowhere", "User", "", ""],
            ["fresh.admin@corp.example.org", "F", "Finance", "Administrator", "", ""],
          ]),
        },
      });
      const attention = await t.store.imports.rows(batch.id, { statuses: ["NEEDS_ATTENTION"] });
      expect(attention.map((r) => [r.rowNumber, r.issues.map((i) => i.code)])).toEqual([[3, ["EMAIL_DUPLICATE_IN_FILE", "GROUP_UNKNOWN"]]]);
      expect(attention[0]?.issues[0]?.message).toBe("Same Email ID as row 2, which is imported.");
      const [update] = await t.store.imports.rows(batch.id, { statuses: ["UPDATE"] });
      expect(update).toMatchObject({
        rowNumber: 2,
        changes: { name: { from: "Plain User", to: "P" }, role: { from: "User", to: "Administrator" } },
      });
      expect(batch).toMatchObject({ dataRows: 4, readyRows: 2, updateRows: 1, attentionRows: 1, adminRows: 1, adminUpdateRows: 1 });
    });

    it("looks up the users of a list of emails, whatever the text of the others (quotes, backslashes, braces, commas)", async () => {
      const odd = ['a"b@corp.example.org', "c\\d@corp.example.org", "{e}@corp.example.org", "f,g@corp.example.org", "NULL", ""];
      for (const emails of [[PLAIN_USER.email, ...odd], [...odd.slice(2), PLAIN_USER.email], [PLAIN_USER.email], []]) {
        const found = await t.store.imports.existingUsers(emails);
        expect([...found.keys()]).toEqual(emails.length > 0 ? [PLAIN_USER.email] : []);
        if (emails.length > 0)
          expect(found.get(PLAIN_USER.email)).toMatchObject({ name: "Plain User", groupName: "Finance", role: "USER" });
      }
    });
  });

  describe("approval", () => {
    it.each([
      [{ kind: "always" } as const, validRows(2), true],
      [{ kind: "never" } as const, validRows(2), false],
      [{ kind: "admins" } as const, validRows(2), false],
      [{ kind: "admins" } as const, validRows(2, { role: "Administrator" }), true],
      // Each file also has one unique row: 2 + 1 and 3 + 1 accounts.
      [{ kind: "atLeast", count: 4 } as const, validRows(2), false],
      [{ kind: "atLeast", count: 4 } as const, validRows(3), true],
    ])("policy %j, case %#: approval required = %s", async (policy, rows, required) => {
      const core = coreWith({ approvalPolicy: policy });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "p.csv", bytes: uniqueFile(rows.map((r) => [`p${counter}-${r[0]}`, ...r.slice(1)])) },
      });
      expect(batch.approvalRequired).toBe(required);
      const submitted = await core.submitImport({ actor: ADMIN, batchId: batch.id });
      expect(submitted.kind).toBe(required ? "approval_requested" : "approved");
    });

    it("asks the other Administrators, never the requester, and expires after the TTL", async () => {
      const core = coreWith({ approvalTtlHours: 2 });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(2, { prefix: "ttl" })) },
      });
      const submitted = await core.submitImport({ actor: ADMIN, batchId: batch.id });
      expect(submitted).toMatchObject({
        kind: "approval_requested",
        batch: { status: "AWAITING_APPROVAL", approvalExpiresAt: new Date("2026-11-24T14:00:00Z") },
      });
      if (submitted.kind === "approval_requested") expect(submitted.approvers).not.toContain(ADMIN.email);
      expect(submitted.kind === "approval_requested" && submitted.approvers).toContain(OTHER_ADMIN.email);
      t.clock.now = new Date("2026-11-24T14:00:01Z");
      const late = await appErrorOf(core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }));
      expect(late.code).toBe("BATCH_EXPIRED");
      expect((await t.store.imports.findById(batch.id))?.status).toBe("EXPIRED");
      // Found expired by a click, not by the job: the expiry is in the audit trail all the same, once.
      expect((await appErrorOf(core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code).toBe(
        "BATCH_EXPIRED",
      );
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.expire", subject: `import:${batch.code}` } })).toBe(1);
    });

    it("expireImports closes every request past its time", async () => {
      const core = coreWith({ approvalTtlHours: 1 });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(1, { prefix: "exp" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      expect(await core.expireImports()).toEqual([]);
      t.clock.now = new Date("2026-11-24T13:30:00Z");
      expect((await core.expireImports()).map((b) => b.id)).toContain(batch.id);
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.expire", subject: `import:${batch.code}` } })).toBe(1);
    });

    it("a summary nobody confirmed expires after the same time: the same file uploaded again is checked afresh", async () => {
      const core = coreWith({ approvalTtlHours: 2 });
      const bytes = uniqueFile(validRows(1, { prefix: "stale" }));
      const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "s.csv", bytes } });
      expect((await core.stageImport({ actor: ADMIN, file: { name: "s.csv", bytes } })).batch.id).toBe(batch.id); // still open: the same batch
      t.clock.now = new Date(batch.createdAt.getTime() + 2 * 3_600_000 - 1_000);
      expect((await core.expireImports()).map((b) => b.id)).not.toContain(batch.id);
      t.clock.now = new Date(batch.createdAt.getTime() + 2 * 3_600_000 + 1_000);
      const expired = (await core.expireImports()).find((b) => b.id === batch.id);
      expect(expired).toMatchObject({ status: "EXPIRED", reason: "Not confirmed within 2 hours." });
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.expire", subject: `import:${batch.code}` } })).toBe(1);
      const again = await core.stageImport({ actor: ADMIN, file: { name: "s.csv", bytes } });
      expect(again).toMatchObject({ reused: false, batch: { status: "VALIDATED" } });
      expect(again.batch.id).not.toBe(batch.id);
    });

    it("Cancel: allowed before creation (VALIDATED, AWAITING_APPROVAL, APPROVED), once, audited; refused after, nothing changes", async () => {
      const core = coreWith();
      const staged = async (prefix: string) =>
        (await core.stageImport({ actor: ADMIN, file: { name: "c.csv", bytes: uniqueFile(validRows(1, { prefix })) } })).batch;
      const validated = await staged("cv");
      const awaiting = await staged("ca");
      await core.submitImport({ actor: ADMIN, batchId: awaiting.id });
      const approved = await staged("cp");
      await core.submitImport({ actor: ADMIN, batchId: approved.id });
      await core.approveImport({ actor: OTHER_ADMIN, batchId: approved.id, sha256Prefix: prefixOf(approved) });
      for (const batch of [validated, awaiting, approved]) {
        expect(await core.cancelImport({ actor: OTHER_ADMIN, batchId: batch.id })).toMatchObject({
          status: "CANCELLED",
          decidedBy: OTHER_ADMIN.email,
        });
        expect((await appErrorOf(core.cancelImport({ actor: ADMIN, batchId: batch.id }))).code).toBe("BATCH_ALREADY_DECIDED");
        expect(await t.db.prisma.auditEvent.count({ where: { action: "import.cancel", subject: `import:${batch.code}` } })).toBe(1);
      }
      // A cancelled batch creates nothing.
      expect((await appErrorOf(core.createAccounts({ actor: ADMIN, batchId: approved.id }))).code).toBe("BATCH_ALREADY_DECIDED");
      expect(await t.db.prisma.user.count({ where: { email: { startsWith: "cp" } } })).toBe(0);

      const created = await staged("cc");
      await core.submitImport({ actor: ADMIN, batchId: created.id });
      await core.approveImport({ actor: OTHER_ADMIN, batchId: created.id, sha256Prefix: prefixOf(created) });
      await core.createAccounts({ actor: OTHER_ADMIN, batchId: created.id });
      expect((await appErrorOf(core.cancelImport({ actor: ADMIN, batchId: created.id }))).code).toMatch(/^BATCH_/);
      expect((await t.store.imports.findById(created.id))?.status).toBe("CREATED");
      expect((await appErrorOf(core.cancelImport({ actor: PLAIN_USER, batchId: validated.id }))).code).toBe("NOT_ADMINISTRATOR");
    });

    it("Cancel racing Create on an approved batch: exactly one wins; cancelled means no account, created means not cancelled", async () => {
      const core = coreWith();
      for (let i = 0; i < 6; i++) {
        const prefix = `race${i}x`;
        const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "r.csv", bytes: uniqueFile(validRows(2, { prefix })) } });
        await core.submitImport({ actor: ADMIN, batchId: batch.id });
        await core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) });
        const [cancel, create] = await Promise.allSettled([
          core.cancelImport({ actor: ADMIN, batchId: batch.id }),
          core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id }),
        ]);
        expect([cancel.status, create.status].sort()).toEqual(["fulfilled", "rejected"]);
        const status = (await t.store.imports.findById(batch.id))?.status;
        const users = await t.db.prisma.user.count({ where: { email: { startsWith: prefix } } });
        if (cancel.status === "fulfilled") expect({ status, users }).toEqual({ status: "CANCELLED", users: 0 });
        else expect({ status, users }).toEqual({ status: "CREATED", users: 2 });
      }
    });

    it("Ada uploads, Bob clicks Create: both are requesters; Bob may neither approve nor reject, Cy approves; the audit names both", async () => {
      const [ada, bob, cy] = [ADMIN, OTHER_ADMIN, THIRD_ADMIN];
      await t.core.ensureBootstrapAdmins({ emails: [cy.email] });
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ada,
        file: { name: "ab.csv", bytes: uniqueFile(validRows(2, { prefix: "abc" })) },
      });
      const submitted = await core.submitImport({ actor: bob, batchId: batch.id });
      expect(submitted).toMatchObject({
        kind: "approval_requested",
        batch: { requesterEmail: ada.email, submitterEmail: bob.email, submitterPlatformId: bob.platformUserId },
      });
      const approvers = submitted.kind === "approval_requested" ? submitted.approvers : [];
      expect(approvers).toContain(cy.email);
      expect(approvers).not.toContain(ada.email);
      expect(approvers).not.toContain(bob.email);

      const prefix = prefixOf(batch);
      const clickedCreate = `You clicked Create on import ${batch.code}; another Administrator must approve or reject it.`;
      for (const refused of [
        core.approveImport({ actor: bob, batchId: batch.id, sha256Prefix: prefix }),
        core.rejectImport({ actor: bob, batchId: batch.id, sha256Prefix: prefix, reason: "Looks wrong" }),
        core.checkImportDecision({ actor: bob, batchId: batch.id, sha256Prefix: prefix }),
      ]) {
        expect(await appErrorOf(refused)).toMatchObject({ code: "SELF_APPROVAL", message: clickedCreate });
      }
      expect(await appErrorOf(core.approveImport({ actor: ada, batchId: batch.id, sha256Prefix: prefix }))).toMatchObject({
        code: "SELF_APPROVAL",
        message: `You requested import ${batch.code}; another Administrator must approve or reject it.`,
      });
      expect((await t.store.imports.findById(batch.id))?.status).toBe("AWAITING_APPROVAL");
      expect(
        await t.db.prisma.auditEvent.count({
          where: { subject: `import:${batch.code}`, action: { in: ["import.approve", "import.reject"] } },
        }),
      ).toBe(0);

      expect(await core.approveImport({ actor: cy, batchId: batch.id, sha256Prefix: prefix })).toMatchObject({
        status: "APPROVED",
        decidedBy: cy.email,
      });
      expect((await core.createAccounts({ actor: cy, batchId: batch.id })).batch).toMatchObject({ status: "CREATED", createdRows: 3 });
      const audit = await t.db.prisma.auditEvent.findMany({ where: { subject: `import:${batch.code}` }, orderBy: { id: "asc" } });
      expect(audit.map((a) => [a.action, a.actor])).toEqual([
        ["import.upload", ada.email],
        ["import.approval_requested", bob.email],
        ["import.approve", cy.email],
        ["import.create", cy.email],
      ]);
      const requesters = { uploadedBy: ada.email, submittedBy: bob.email };
      expect(audit[1]!.details).toMatchObject({ ...requesters, platformUserId: bob.platformUserId });
      expect(audit[2]!.details).toMatchObject(requesters);
    });

    it("Reject is refused to whoever clicked Create, and the audit of a rejection names both requesters", async () => {
      await t.core.ensureBootstrapAdmins({ emails: [THIRD_ADMIN.email] });
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "rb.csv", bytes: uniqueFile(validRows(1, { prefix: "rjb" })) },
      });
      await core.submitImport({ actor: OTHER_ADMIN, batchId: batch.id });
      const prefix = prefixOf(batch);
      expect(
        (await appErrorOf(core.rejectImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefix, reason: "No" }))).code,
      ).toBe("SELF_APPROVAL");
      await core.rejectImport({ actor: THIRD_ADMIN, batchId: batch.id, sha256Prefix: prefix, reason: "Wrong file" });
      const reject = await t.db.prisma.auditEvent.findFirst({ where: { subject: `import:${batch.code}`, action: "import.reject" } });
      expect(reject).toMatchObject({ actor: THIRD_ADMIN.email, details: { uploadedBy: ADMIN.email, submittedBy: OTHER_ADMIN.email } });
    });

    it("nobody left to approve once the uploader and the Create clicker are set aside: NO_ELIGIBLE_APPROVER, nothing recorded", async () => {
      const core = coreWith({ approvers: [ADMIN.email, OTHER_ADMIN.email] });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "two.csv", bytes: uniqueFile(validRows(1, { prefix: "two" })) },
      });
      const error = await appErrorOf(core.submitImport({ actor: OTHER_ADMIN, batchId: batch.id }));
      expect(error.code).toBe("NO_ELIGIBLE_APPROVER");
      expect(error.message).toBe(
        `Nobody can approve import ${batch.code}: none of APPROVERS (${ADMIN.email}, ${OTHER_ADMIN.email}) is an HMS Administrator other than you and ${ADMIN.email} (who uploaded the file). Make one of them an Administrator, or change APPROVERS.`,
      );
      expect(await t.store.imports.findById(batch.id)).toMatchObject({ status: "VALIDATED", submitterEmail: null });
    });

    it("without approval (policy), whoever clicked Create is recorded with the submit all the same", async () => {
      const core = coreWith({ approvalPolicy: { kind: "never" } });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "nv.csv", bytes: uniqueFile(validRows(1, { prefix: "nvr" })) },
      });
      expect(await core.submitImport({ actor: OTHER_ADMIN, batchId: batch.id })).toMatchObject({
        kind: "approved",
        batch: { status: "APPROVED", submitterEmail: OTHER_ADMIN.email },
      });
      const submit = await t.db.prisma.auditEvent.findFirst({ where: { subject: `import:${batch.code}`, action: "import.submit" } });
      expect(submit?.details).toMatchObject({ uploadedBy: ADMIN.email, submittedBy: OTHER_ADMIN.email });
    });

    it("Approve and Reject without the content's SHA-256 (or with too little of it) are refused; nothing changes", async () => {
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "nh.csv", bytes: uniqueFile(validRows(1, { prefix: "nohash" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      const says = `This decision does not say which file content of import ${batch.code} it is for (its SHA-256), so nothing changed. Use the Approve or Reject button of the approval request.`;
      for (const sha256Prefix of [undefined, "", batch.sha256.slice(0, 4), "not-a-hash-at-all"]) {
        for (const refused of [
          core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix }),
          core.rejectImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix, reason: "Wrong file" }),
          core.checkImportDecision({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix }),
        ]) {
          expect(await appErrorOf(refused)).toMatchObject({ code: "BATCH_WRONG_STATE", message: says });
        }
      }
      expect(await t.store.imports.findById(batch.id)).toMatchObject({ status: "AWAITING_APPROVAL", decidedBy: null });
      expect(
        await t.db.prisma.auditEvent.count({
          where: { subject: `import:${batch.code}`, action: { in: ["import.approve", "import.reject"] } },
        }),
      ).toBe(0);
      // The whole hash, or the request's 12 digits: accepted.
      expect(await core.checkImportDecision({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: batch.sha256 })).toMatchObject({
        id: batch.id,
      });
      expect(await core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) })).toMatchObject({
        status: "APPROVED",
      });
    });

    it("refuses the requester, a non-approver and a plain user; nothing changes", async () => {
      const core = coreWith({ approvers: [OTHER_ADMIN.email] });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(1, { prefix: "who" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      expect((await appErrorOf(core.approveImport({ actor: ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code).toBe(
        "SELF_APPROVAL",
      );
      expect((await appErrorOf(core.approveImport({ actor: PLAIN_USER, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code).toBe(
        "NOT_ADMINISTRATOR",
      );
      await t.core.ensureBootstrapAdmins({ emails: ["third.admin@corp.example.org"] });
      expect(
        (
          await appErrorOf(
            core.approveImport({
              actor: { email: "third.admin@corp.example.org", platform: "slack" },
              batchId: batch.id,
              sha256Prefix: prefixOf(batch),
            }),
          )
        ).code,
      ).toBe("NOT_AN_APPROVER");
      expect((await appErrorOf(core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: "000000000000" }))).code).toBe(
        "BATCH_WRONG_STATE",
      );
      expect((await t.store.imports.findById(batch.id))?.status).toBe("AWAITING_APPROVAL");
    });

    it("checkImportDecision answers as Approve would, before anyone types a reject reason, and changes nothing", async () => {
      const core = coreWith({ approvalTtlHours: 1 });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(1, { prefix: "chk" })) },
      });
      expect(
        (await appErrorOf(core.checkImportDecision({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code,
      ).toBe("BATCH_WRONG_STATE");
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      expect((await appErrorOf(core.checkImportDecision({ actor: ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code).toBe(
        "SELF_APPROVAL",
      );
      expect(
        (await appErrorOf(core.checkImportDecision({ actor: PLAIN_USER, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code,
      ).toBe("NOT_ADMINISTRATOR");
      expect(
        (await appErrorOf(core.checkImportDecision({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: "000000000000" }))).code,
      ).toBe("BATCH_WRONG_STATE");
      expect(await core.checkImportDecision({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) })).toMatchObject({
        id: batch.id,
        status: "AWAITING_APPROVAL",
      });
      expect(
        await t.db.prisma.auditEvent.count({
          where: { subject: `import:${batch.code}`, action: { in: ["import.approve", "import.reject"] } },
        }),
      ).toBe(0);
      t.clock.now = new Date("2026-11-24T13:00:01Z");
      expect(
        (await appErrorOf(core.checkImportDecision({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }))).code,
      ).toBe("BATCH_EXPIRED");
      expect((await t.store.imports.findById(batch.id))?.status).toBe("EXPIRED");
    });

    it("says plainly when nobody could approve, and leaves the batch as it was", async () => {
      const core = coreWith({ approvers: [ADMIN.email] });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(1, { prefix: "lone" })) },
      });
      const error = await appErrorOf(core.submitImport({ actor: ADMIN, batchId: batch.id }));
      expect(error.code).toBe("NO_ELIGIBLE_APPROVER");
      expect(error.message).toContain("APPROVERS");
      expect((await t.store.imports.findById(batch.id))?.status).toBe("VALIDATED");
    });

    it("20 concurrent Approve clicks: exactly one approval, the others told who approved and when", async () => {
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(2, { prefix: "race" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, () => core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as AppError);
      expect(losers).toHaveLength(19);
      for (const loser of losers) {
        expect(loser.code).toBe("BATCH_ALREADY_DECIDED");
        expect(loser.message).toBe(`Import ${batch.code} was already approved by ${OTHER_ADMIN.email} at 2026-11-24 12:00 UTC.`);
      }
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.approve", subject: `import:${batch.code}` } })).toBe(1);
    });

    it("rejects with a reason (required), once", async () => {
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "a.csv", bytes: uniqueFile(validRows(1, { prefix: "rej" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      expect(
        (await appErrorOf(core.rejectImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch), reason: "  " }))).code,
      ).toBe("REASON_REQUIRED");
      const rejected = await core.rejectImport({
        actor: OTHER_ADMIN,
        batchId: batch.id,
        sha256Prefix: prefixOf(batch),
        reason: "Wrong group for contractors",
      });
      expect(rejected).toMatchObject({ status: "REJECTED", decidedBy: OTHER_ADMIN.email, reason: "Wrong group for contractors" });
      const again = await appErrorOf(core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) }));
      expect(again.message).toBe(
        `Import ${batch.code} was already rejected by ${OTHER_ADMIN.email} at 2026-11-24 12:00 UTC: Wrong group for contractors`,
      );
      expect((await appErrorOf(core.createAccounts({ actor: ADMIN, batchId: batch.id }))).code).toBe("BATCH_ALREADY_DECIDED");
    });
  });

  describe("creating accounts", () => {
    async function approvedBatch(core: Core, rows: string[][]) {
      const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "c.csv", bytes: uniqueFile(rows) } });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      return core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) });
    }

    it("creates the READY rows in chunks, reporting progress, recording batch and requester", async () => {
      const core = coreWith();
      const batch = await approvedBatch(core, [...validRows(25, { prefix: "mk" }), ["bad@@x", "Bad", "Finance", "User", "", ""]]);
      const progress: number[] = [];
      const { batch: done, ran } = await core.createAccounts({
        actor: OTHER_ADMIN,
        batchId: batch.id,
        chunkSize: 10,
        onProgress: (p) => void progress.push(p.done),
      });
      expect(ran).toBe(true);
      expect(done).toMatchObject({ status: "CREATED", readyRows: 26, createdRows: 26, skippedRows: 0, failedRows: 0, leaseOwner: null });
      expect(progress).toEqual([0, 10, 20, 26, 26]);
      const users = await t.db.prisma.user.findMany({ where: { importBatchId: batch.id } });
      expect(users).toHaveLength(26);
      expect(users.every((u) => u.source === "IMPORT" && u.createdBy === ADMIN.email && u.status === "CREATED")).toBe(true);
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.create", subject: `import:${batch.code}` } })).toBe(1);
    });

    it("marks the rows with no index covering what it changes; on PGlite each row stays on its page (a heap-only update)", async () => {
      const core = coreWith();
      const batch = await approvedBatch(core, validRows(60, { prefix: "inplace" }));
      const blocks = () =>
        t.db.sql.query<{ rowNumber: number; block: string }>(
          `SELECT "rowNumber", (ctid::text::point)[0]::text AS block FROM "ImportRow" WHERE "batchId" = $1::uuid ORDER BY "rowNumber"`,
          [batch.id],
        );
      const before = await blocks();
      expect(new Set(before.map((r) => r.block)).size).toBeGreaterThan(1);
      const { batch: done } = await core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id, chunkSize: 25 });
      expect(done).toMatchObject({ status: "CREATED", createdRows: 61 });
      // On PGlite each row's new version is on the page of the old one: its fill factor left room.
      if (kind === "pglite") expect(await blocks()).toEqual(before);
      // An index on a column creation changes (or in an index's predicate or expression) would
      // make each of those updates write an entry in every index of the table.
      const covering = await t.db.sql.query<{ index: string }>(
        `SELECT i.indexrelid::regclass::text AS index FROM pg_index i
         WHERE i.indrelid = '"ImportRow"'::regclass
           AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL OR EXISTS (
             SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
               AND a.attname IN ('status', 'userId', 'issues', 'changes')))`,
      );
      expect(covering).toEqual([]);
    });

    it("Create clicked 20 times at once creates each account once", async () => {
      const core = coreWith();
      const batch = await approvedBatch(core, validRows(40, { prefix: "twice" }));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id, chunkSize: 7 })),
      );
      expect(results.filter((r) => r.ran)).toHaveLength(1);
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(41);
      expect(await t.store.imports.findById(batch.id)).toMatchObject({ status: "CREATED", createdRows: 41 });
    });

    it("skips, with the reason, an email created meanwhile; fails rows whose group was deleted", async () => {
      const core = coreWith();
      await t.core.addGroup({ actor: ADMIN, input: { name: "Temporary" } });
      const batch = await approvedBatch(core, [
        ...validRows(3, { prefix: "meanwhile" }),
        ["temp1@corp.example.org", "Temp", "Temporary", "User", "", ""],
      ]);
      await t.core.addUser({ actor: ADMIN, input: { email: "meanwhile1@corp.example.org", name: "Early", group: "Finance" } });
      await t.db.prisma.group
        .delete({ where: { name: "Temporary" } as never })
        .catch(async () => t.db.sql.exec(`DELETE FROM "Group" WHERE name = 'Temporary'`));
      const { batch: done } = await core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id });
      expect(done).toMatchObject({ createdRows: 3, skippedRows: 1, failedRows: 1 });
      const problems = await core.getImport({ actor: ADMIN, batchId: batch.id });
      expect(problems.attention.map((r) => [r.rowNumber, r.status, r.issues[0]?.message])).toEqual([
        [3, "SKIPPED", "A user with Email ID meanwhile1@corp.example.org was created in the meantime; skipped."],
        [5, "FAILED", "The group Temporary no longer exists."],
      ]);
    });

    it("fails, with the reason, the rows of a group deleted while the accounts are being created; the others are created", async () => {
      await t.core.addGroup({ actor: ADMIN, input: { name: "Short-lived" } });
      const batch = await approvedBatch(coreWith(), [
        ...validRows(5, { prefix: "gone" }),
        ["gone-a@corp.example.org", "Gone A", "Short-lived", "User", "", ""],
        ["gone-b@corp.example.org", "Gone B", "Short-lived", "User", "", ""],
      ]);
      // One chunk at a time, so the group is deleted after the first chunk and before the third.
      const { batch: done } = await coreOver({ ...t.store, concurrentStatements: 1 }).createAccounts({
        actor: OTHER_ADMIN,
        batchId: batch.id,
        chunkSize: 3,
        onProgress: async (p) => {
          if (p.done === 3) await t.db.sql.exec(`DELETE FROM "Group" WHERE name = 'Short-lived'`);
        },
      });
      expect(done).toMatchObject({ status: "CREATED", createdRows: 6, skippedRows: 0, failedRows: 2 });
      const problems = await t.core.getImport({ actor: ADMIN, batchId: batch.id });
      expect(problems.attention.map((r) => [r.rowNumber, r.status, r.issues[0]?.message])).toEqual([
        [7, "FAILED", "The group Short-lived no longer exists."],
        [8, "FAILED", "The group Short-lived no longer exists."],
      ]);
      expect(await t.db.prisma.user.count({ where: { email: { startsWith: "gone-" } } })).toBe(0);
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(6);
    });

    // Two sessions: PGlite has one connection.
    it.runIf(kind === "postgresql")(
      "an email another session takes while a chunk is written is skipped with the reason; the other rows are created once",
      async () => {
        const core = coreWith();
        const batch = await approvedBatch(core, validRows(6, { prefix: "midchunk" }));
        const finance = await t.db.prisma.group.findFirstOrThrow({ where: { name: "Finance" } });
        const other = new pg.Client({ connectionString: t.url });
        await other.connect();
        try {
          // Not committed yet when the chunk looks the emails up; committed while its INSERT waits for it.
          await takeUncommitted(other, "midchunk3@corp.example.org", finance.id);
          const creating = core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id });
          await waitForLockWait(other);
          await other.query("COMMIT");
          const { batch: done } = await creating;
          // Six rows and the file's unique row: all but midchunk3 created.
          expect(done).toMatchObject({ status: "CREATED", createdRows: 6, skippedRows: 1, failedRows: 0 });
        } finally {
          await other.end();
        }
        const rows = await t.db.prisma.importRow.findMany({
          where: { batchId: batch.id, email: { startsWith: "midchunk" } },
          orderBy: { rowNumber: "asc" },
        });
        expect(rows.map((r) => [r.email, r.status])).toEqual(
          [0, 1, 2, 3, 4, 5].map((i) => [`midchunk${i}@corp.example.org`, i === 3 ? "SKIPPED" : "CREATED"]),
        );
        expect((rows[3]!.issues as { message: string }[])[0]?.message).toBe(
          "A user with Email ID midchunk3@corp.example.org was created in the meantime; skipped.",
        );
        const users = await t.db.prisma.user.findMany({ where: { email: { startsWith: "midchunk" } } });
        expect(users).toHaveLength(6);
        expect(users.find((u) => u.email === "midchunk3@corp.example.org")).toMatchObject({ name: "Other", importBatchId: null });
        expect(new Set(rows.filter((r) => r.userId).map((r) => r.userId))).toEqual(
          new Set(users.filter((u) => u.importBatchId === batch.id).map((u) => u.id)),
        );
        expect(rows[3]!.userId).toBeNull();
      },
    );

    it.runIf(kind === "postgresql")(
      "two emails taken in turn while a chunk is written, the second after the chunk looked again: both skipped, the rest created once",
      async () => {
        const core = coreWith();
        const batch = await approvedBatch(core, validRows(6, { prefix: "turns" }));
        const finance = await t.db.prisma.group.findFirstOrThrow({ where: { name: "Finance" } });
        const [first, second] = [new pg.Client({ connectionString: t.url }), new pg.Client({ connectionString: t.url })];
        await first.connect();
        await second.connect();
        try {
          await takeUncommitted(first, "turns1@corp.example.org", finance.id);
          await takeUncommitted(second, "turns4@corp.example.org", finance.id);
          const creating = core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id });
          // The chunk as written first (no look-up) waits for turns1; once that is taken, the chunk
          // is written again looking the emails up, which cannot see turns4 yet, and waits for it.
          const since = await lockWaitAfter(first, new Date(0));
          await first.query("COMMIT");
          await lockWaitAfter(first, since);
          await second.query("COMMIT");
          const { batch: done } = await creating;
          expect(done).toMatchObject({ status: "CREATED", createdRows: 5, skippedRows: 2, failedRows: 0 });
        } finally {
          await first.end();
          await second.end();
        }
        const rows = await t.db.prisma.importRow.findMany({
          where: { batchId: batch.id, email: { startsWith: "turns" } },
          orderBy: { rowNumber: "asc" },
        });
        expect(rows.map((r) => r.status)).toEqual(["CREATED", "SKIPPED", "CREATED", "CREATED", "SKIPPED", "CREATED"]);
        const users = await t.db.prisma.user.findMany({ where: { email: { startsWith: "turns" } } });
        expect(users).toHaveLength(6);
        expect(users.filter((u) => u.importBatchId === batch.id)).toHaveLength(4);
      },
    );

    it.runIf(kind === "postgresql")("writes two chunks at a time on PostgreSQL, each row once, progress only rising", async () => {
      const batch = await approvedBatch(coreWith(), validRows(59, { prefix: "lanes" }));
      let open = 0;
      let most = 0;
      const store: Store = {
        ...t.store,
        transaction: (async (work, options) => {
          most = Math.max(most, ++open);
          try {
            return await t.store.transaction(work, options);
          } finally {
            open--;
          }
        }) as Store["transaction"],
      };
      const progress: number[] = [];
      const { batch: done } = await coreOver(store).createAccounts({
        actor: OTHER_ADMIN,
        batchId: batch.id,
        chunkSize: 6,
        onProgress: (p) => void progress.push(p.done),
      });
      expect(most).toBe(2);
      expect(done).toMatchObject({ status: "CREATED", createdRows: 60, skippedRows: 0 });
      expect(progress.slice(0, -1)).toEqual([...progress.slice(0, -1)].sort((a, b) => a - b));
      expect(new Set(progress.slice(1, -1)).size).toBe(progress.length - 2);
      expect(progress.at(-1)).toBe(60);
      const rows = await t.db.prisma.importRow.findMany({ where: { batchId: batch.id }, select: { status: true, userId: true } });
      expect(rows.every((r) => r.status === "CREATED" && r.userId)).toBe(true);
      expect(new Set(rows.map((r) => r.userId)).size).toBe(60);
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(60);
    });

    // Another session holds the batch's row while it takes the lease over; the chunk, already
    // written, reaches the batch's counts last and finds the lease gone.
    it.runIf(kind === "postgresql")("a chunk whose lease is taken over while it is written keeps nothing of it", async () => {
      const batch = await approvedBatch(coreWith(), validRows(4, { prefix: "takeover" }));
      const owner = "worker-a";
      const leased = await t.store.imports.acquireCreationLease(batch.id, owner, t.clock.now, new Date(t.clock.now.getTime() + 30_000));
      expect(leased?.status).toBe("CREATING");
      const other = new pg.Client({ connectionString: t.url });
      await other.connect();
      try {
        await other.query("BEGIN");
        await other.query(`UPDATE "ImportBatch" SET "leaseOwner" = 'worker-b' WHERE "id" = $1`, [batch.id]);
        const chunk = t.store.transaction((tx) =>
          tx.imports.createChunk(batch.id, owner, { from: 2, size: 10 }, new Date(t.clock.now.getTime() + 30_000)),
        );
        await waitForLockWait(other);
        await other.query("COMMIT");
        expect(await chunk).toBeNull();
      } finally {
        await other.end();
      }
      expect(await t.store.imports.findById(batch.id)).toMatchObject({ status: "CREATING", leaseOwner: "worker-b", createdRows: 0 });
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(0);
      const rows = await t.db.prisma.importRow.findMany({ where: { batchId: batch.id }, select: { status: true } });
      expect(rows.every((r) => r.status === "READY")).toBe(true);
    });

    it("ends FAILED with the reason on a permanent error, keeping what was created; not retried", async () => {
      const core = coreWith();
      const batch = await approvedBatch(core, validRows(12, { prefix: "perm" }));
      // A row that breaks the Exchange CHECK constraint (validation would never let one through),
      // in the last of three chunks (rows 2–6, 7–11, 12–14): the two before it are kept, whether
      // the chunks were written one after the other or two at a time.
      await t.db.sql.query(`UPDATE "ImportRow" SET "exchangeDomain" = 'CORP' WHERE "batchId" = $1 AND "rowNumber" = 13`, [batch.id]);
      await expect(core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id, chunkSize: 5 })).rejects.toThrow();
      const failed = await t.store.imports.findById(batch.id);
      expect(failed).toMatchObject({ status: "FAILED", createdRows: 10 });
      // What went wrong, not Prisma's "Invalid `prisma.$executeRaw()` invocation:" nor nothing at all.
      expect(failed?.reason).toMatch(/^account creation stopped: Raw query failed\. /);
      if (kind === "postgresql") expect(failed?.reason).toContain("User_exchange_pair_check");
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(10);
      t.clock.now = new Date(t.clock.now.getTime() + 60_000);
      expect((await core.resumeInterruptedImports()).filter((r) => r.batch.id === batch.id)).toEqual([]);
      expect(await t.db.prisma.auditEvent.count({ where: { action: "import.fail", subject: `import:${batch.code}` } })).toBe(1);

      // The ten accounts made can still be invited (or the batch finished).
      const outcome = await coreWith({}, { smtpUrl: smtp.url }).inviteImportedUsers({ actor: ADMIN, batchId: batch.id });
      expect(outcome.batch.status).toBe("FINISHED");
      expect(outcome.counts).toEqual({ sent: 10, pending: 0, failed: 0 });
    });

    it("Finish closes a batch that failed part-way; one that failed before creating anything is not invited", async () => {
      const core = coreWith();
      const partial = await approvedBatch(core, validRows(12, { prefix: "part" }));
      await t.db.sql.query(`UPDATE "ImportRow" SET "exchangeDomain" = 'CORP' WHERE "batchId" = $1 AND "rowNumber" = 9`, [partial.id]);
      await expect(core.createAccounts({ actor: OTHER_ADMIN, batchId: partial.id, chunkSize: 5 })).rejects.toThrow();
      expect((await core.finishImport({ actor: ADMIN, batchId: partial.id })).status).toBe("FINISHED");

      const none = await approvedBatch(core, validRows(3, { prefix: "none" }));
      await t.db.sql.query(`UPDATE "ImportRow" SET "exchangeDomain" = 'CORP' WHERE "batchId" = $1 AND "rowNumber" = 2`, [none.id]);
      await expect(core.createAccounts({ actor: OTHER_ADMIN, batchId: none.id })).rejects.toThrow();
      expect(await t.store.imports.findById(none.id)).toMatchObject({ status: "FAILED", createdRows: 0 });
      expect((await appErrorOf(core.inviteImportedUsers({ actor: ADMIN, batchId: none.id }))).code).toMatch(/^BATCH_/);
      expect((await appErrorOf(core.finishImport({ actor: ADMIN, batchId: none.id }))).code).toMatch(/^BATCH_/);
    });

    /** The same core over a store (`base`) whose transactions first fail `times` times with `failure()`. */
    const coreWithFailures = (times: number, failure: () => unknown, base: Store = t.store) => {
      let left = times;
      const store = {
        ...base,
        transaction: ((work, options) =>
          left-- > 0 ? Promise.reject(failure()) : base.transaction(work, options)) as Store["transaction"],
      };
      return createCore({
        files: csvImportFormat,
        store,
        now: () => t.clock.now,
        imports: { approvalPolicy: { kind: "always" }, approvers: [], approvalTtlHours: 72 },
      });
    };
    const coreWithConflicts = (times: number) =>
      coreWithFailures(times, () => new AppError("DATABASE_BUSY", "The database was busy with other work."));
    /** The same core over another store of the same database. */
    const coreOver = (store: Store) => coreWithFailures(0, () => undefined, store);

    it("records a reason that says what went wrong when the error's message starts with a newline", async () => {
      // As Prisma words its errors: a blank line, then a line that only introduces the next.
      const prismaLike = (message: string) => Object.assign(new Error(message), { name: "PrismaClientKnownRequestError", code: "P2010" });
      const cases = [
        [
          "\nInvalid `prisma.$executeRaw()` invocation:\n\n\nRaw query failed. Code: `23514`. Message: `boom`",
          "Raw query failed. Code: `23514`. Message: `boom`",
        ],
        ["\n\n", "P2010"],
      ];
      for (const [message, said] of cases) {
        const batch = await approvedBatch(coreWith(), validRows(2, { prefix: `reason${said!.length}` }));
        await expect(
          coreWithFailures(1, () => prismaLike(message!)).createAccounts({ actor: OTHER_ADMIN, batchId: batch.id }),
        ).rejects.toThrow();
        expect(await t.store.imports.findById(batch.id)).toMatchObject({ status: "FAILED", reason: `account creation stopped: ${said}` });
      }
    });

    it("a chunk rolled back by a deadlock or serialization failure is tried again: every row created once", async () => {
      const batch = await approvedBatch(coreWith(), validRows(9, { prefix: "conflict" }));
      const { batch: done } = await coreWithConflicts(2).createAccounts({ actor: OTHER_ADMIN, batchId: batch.id, chunkSize: 4 });
      expect(done).toMatchObject({ status: "CREATED", createdRows: 10, failedRows: 0 });
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(10);
    });

    it("a conflict that lasts leaves the batch CREATING (not FAILED) for the background job to resume", async () => {
      const batch = await approvedBatch(coreWith(), validRows(3, { prefix: "lasting" }));
      const error = await appErrorOf(coreWithConflicts(4).createAccounts({ actor: OTHER_ADMIN, batchId: batch.id }));
      expect(error.code).toBe("DATABASE_BUSY");
      expect(await t.store.imports.findById(batch.id)).toMatchObject({ status: "CREATING", reason: null });
      t.clock.now = new Date(t.clock.now.getTime() + 61_000);
      const [resumed] = (await coreWith().resumeInterruptedImports()).filter((r) => r.batch.id === batch.id);
      expect(resumed?.batch).toMatchObject({ status: "CREATED", createdRows: 4 });
    });

    // PGlite has one connection: nothing else can hold a lock while a chunk waits.
    it.runIf(kind === "postgresql")(
      "a database stall longer than the transaction timeout leaves the batch resumable; the background job completes it",
      async () => {
        const batch = await approvedBatch(coreWith(), validRows(29, { prefix: "stall" }));
        // The same database, with a 1 s transaction timeout instead of 60 s, so the stall is short.
        const stalling = coreOver(createStore(t.db, { transactionTimeoutMs: 1_000 }));
        const locker = new pg.Client({ connectionString: t.url });
        await locker.connect();
        let released: Promise<void> | undefined;
        let error: unknown;
        try {
          error = await stalling
            .createAccounts({
              actor: OTHER_ADMIN,
              batchId: batch.id,
              chunkSize: 10,
              onProgress: async ({ done }) => {
                if (done !== 10) return;
                // After the first chunk another session locks "User" for three times the timeout.
                await locker.query(`BEGIN; LOCK TABLE "User" IN SHARE MODE`);
                released = (async () => {
                  await waitForLockWait(locker);
                  await new Promise((resolve) => setTimeout(resolve, 3_000));
                  await locker.query("COMMIT");
                })();
              },
            })
            .catch((failure: unknown) => failure);
          await released;
        } finally {
          await locker.end();
        }
        // The chunk that waited was rolled back whole; the batch waits for the background job.
        // (Two chunks are written at a time on PostgreSQL: the one beside the first may have
        // committed before the lock, so 10 or 20 accounts were made.)
        const stalled = await t.store.imports.findById(batch.id);
        expect(stalled).toMatchObject({ status: "CREATING", reason: null });
        expect([10, 20]).toContain(stalled?.createdRows);
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe("DATABASE_UNAVAILABLE");
        expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(stalled?.createdRows);

        t.clock.now = new Date(t.clock.now.getTime() + 31_000); // the stalled worker's lease lapsed
        const [resumed] = (await coreWith().resumeInterruptedImports()).filter((r) => r.batch.id === batch.id);
        expect(resumed?.batch).toMatchObject({ status: "CREATED", readyRows: 30, createdRows: 30, skippedRows: 0, failedRows: 0 });
        const rows = await t.db.prisma.importRow.findMany({
          where: { batchId: batch.id },
          select: { email: true, status: true, userId: true },
        });
        expect(rows.every((r) => r.status === "CREATED" && r.userId)).toBe(true);
        const users = await t.db.prisma.user.findMany({ where: { importBatchId: batch.id }, select: { id: true, email: true } });
        expect(users.map((u) => u.email).sort()).toEqual(rows.map((r) => r.email).sort());
        expect(new Set(rows.map((r) => r.userId))).toEqual(new Set(users.map((u) => u.id)));
      },
    );

    it("resumes an APPROVED batch whose process died before any worker started", async () => {
      const core = coreWith();
      const batch = await approvedBatch(core, validRows(4, { prefix: "orphan" }));
      const ours = (results: { batch: { id: string } }[]) => results.filter((r) => r.batch.id === batch.id);
      expect(ours(await core.resumeInterruptedImports())).toEqual([]); // within the grace period
      t.clock.now = new Date(t.clock.now.getTime() + 61_000);
      const [resumed] = ours(await core.resumeInterruptedImports());
      expect(resumed?.batch).toMatchObject({ id: batch.id, status: "CREATED", createdRows: 5 });
    });

    it("resumes a batch whose worker stopped mid-way, with no duplicate and no lost row", async () => {
      const core = coreWith();
      const batch = await approvedBatch(core, validRows(30, { prefix: "crash" }));
      let chunks = 0;
      await expect(
        core.createAccounts({
          actor: OTHER_ADMIN,
          batchId: batch.id,
          chunkSize: 8,
          onProgress: () => {
            if (++chunks === 3) throw new Error("worker died");
          },
        }),
      ).rejects.toThrow("worker died");
      const stalled = await t.store.imports.findById(batch.id);
      // Two chunks at a time on PostgreSQL: the one beside the third report's may have been written too.
      expect(stalled).toMatchObject({ status: "CREATING" });
      expect(kind === "postgresql" ? [16, 24] : [16]).toContain(stalled?.createdRows);
      const ours = (results: { batch: { id: string } }[]) => results.filter((r) => r.batch.id === batch.id);
      expect(ours(await core.resumeInterruptedImports())).toEqual([]); // lease still held
      t.clock.now = new Date(t.clock.now.getTime() + 31_000);
      const [resumed] = ours(await core.resumeInterruptedImports());
      expect(resumed?.batch).toMatchObject({ status: "CREATED", createdRows: 31, skippedRows: 0 });
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(31);
    });
  });

  describe("finish and invite", () => {
    async function createdBatch(core: Core, count: number, prefix: string) {
      const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "i.csv", bytes: uniqueFile(validRows(count, { prefix })) } });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      await core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) });
      return (await core.createAccounts({ actor: OTHER_ADMIN, batchId: batch.id })).batch;
    }

    it("Finish closes the batch once", async () => {
      const core = coreWith();
      const batch = await createdBatch(core, 1, "fin");
      expect((await core.finishImport({ actor: ADMIN, batchId: batch.id })).status).toBe("FINISHED");
      const twice = await appErrorOf(core.finishImport({ actor: ADMIN, batchId: batch.id }));
      expect(twice.code).toBe("BATCH_ALREADY_DECIDED");
      expect(twice.message).toBe(
        `Import ${batch.code} was already approved by ${OTHER_ADMIN.email} at 2026-11-24 12:00 UTC; it is finished.`,
      );
    });

    it("invites every created user by SMTP, once, with the enrollment link; users become INVITED", async () => {
      const core = coreWith({}, { smtpUrl: smtp.url });
      const batch = await createdBatch(core, 3, "inv");
      const sentBefore = smtp.received.length;
      const outcome = await core.inviteImportedUsers({ actor: ADMIN, batchId: batch.id });
      expect(outcome).toMatchObject({ mailConfigured: true, counts: { sent: 4, pending: 0, failed: 0 }, batch: { status: "FINISHED" } });
      const mails = smtp.received.slice(sentBefore);
      const recipients = mails.map((m) => m.to[0]);
      expect(recipients).toHaveLength(4);
      expect(recipients).toEqual(expect.arrayContaining(["inv0@corp.example.org", "inv1@corp.example.org", "inv2@corp.example.org"]));
      const invitation = await t.db.prisma.invitation.findFirstOrThrow({ where: { user: { email: "inv0@corp.example.org" } } });
      const inv0 = mails.find((m) => m.to[0] === "inv0@corp.example.org")!.raw.replace(/=\r\n/g, "");
      expect(inv0).toContain(`https://hms.example.com/enroll?token=${invitation.token}`);
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id, status: "INVITED" } })).toBe(4);
      // Never twice: another delivery pass and another Invite click send nothing more.
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 0, failed: 0 });
      expect((await appErrorOf(core.inviteImportedUsers({ actor: ADMIN, batchId: batch.id }))).code).toBe("BATCH_ALREADY_DECIDED");
      expect(smtp.received.length - sentBefore).toBe(4);
    });

    it("sends within a time budget and leaves the rest pending for the next pass", async () => {
      const core = coreWith({}, { smtpUrl: smtp.url });
      const batch = await createdBatch(core, 3, "budget");
      const before = smtp.received.length;
      // No budget left: the Invite click creates the invitations and sends none.
      await t.store.invitations.createForBatch(batch.id, ADMIN.email, t.clock.now);
      expect(await core.deliverInvitations({ batchId: batch.id, budgetMs: 0 })).toMatchObject({ sent: 0, failed: 0 });
      expect(await t.store.invitations.counts({ batchId: batch.id })).toEqual({ pending: 4, sent: 0, failed: 0 });
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 4, failed: 0 });
      expect(smtp.received.length - before).toBe(4);
    });

    it("without SMTP says invitations could not be sent and leaves them PENDING", async () => {
      const core = coreWith();
      const batch = await createdBatch(core, 2, "nomail");
      const outcome = await core.inviteImportedUsers({ actor: ADMIN, batchId: batch.id });
      expect(outcome).toMatchObject({ mailConfigured: false, counts: { pending: 3, sent: 0, failed: 0 } });
      expect(await t.db.prisma.user.count({ where: { importBatchId: batch.id, status: "INVITED" } })).toBe(0);
    });

    it("retries failed sends with backoff and sends each once when the server recovers", async () => {
      const core = coreWith({}, { smtpUrl: smtp.url });
      const batch = await createdBatch(core, 1, "retry");
      smtp.failing = true;
      const outcome = await core.inviteImportedUsers({ actor: ADMIN, batchId: batch.id });
      expect(outcome.counts).toEqual({ pending: 0, sent: 0, failed: 2 });
      const failed = await t.db.prisma.invitation.findMany({ where: { batchId: batch.id } });
      expect(failed.every((i) => i.attempts === 1 && /451/.test(i.lastError ?? "") && i.nextAttemptAt > t.clock.now)).toBe(true);
      smtp.failing = false;
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 0, failed: 0 }); // not due yet
      t.clock.now = new Date(t.clock.now.getTime() + 61_000);
      const before = smtp.received.length;
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 2, failed: 0 });
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 0, failed: 0 });
      expect(smtp.received.length - before).toBe(2);
    });

    it("a mail sent whose SENT could not be recorded at once is recorded on a second try, never sent again", async () => {
      let failures = 1;
      const flaky = {
        ...t.store,
        invitations: {
          ...t.store.invitations,
          markSent: (...args: Parameters<typeof t.store.invitations.markSent>) =>
            failures-- > 0
              ? Promise.reject(new AppError("DATABASE_UNAVAILABLE", "The database is not answering."))
              : t.store.invitations.markSent(...args),
        },
      };
      const core = createCore({
        files: csvImportFormat,
        store: flaky,
        now: () => t.clock.now,
        imports: { approvalPolicy: { kind: "always" }, approvers: [], approvalTtlHours: 72 },
        mailer: createSmtpMailer({ smtpUrl: smtp.url, from: "HMS <hms@corp.example.org>", enrollUrl: "https://hms.example.com/enroll" }),
      });
      const batch = await createdBatch(core, 0, "flaky");
      await t.store.invitations.createForBatch(batch.id, ADMIN.email, t.clock.now);
      const before = smtp.received.length;
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 1, failed: 0 });
      expect(await t.db.prisma.invitation.findMany({ where: { batchId: batch.id } })).toMatchObject([{ status: "SENT", attempts: 1 }]);
      expect(await t.db.prisma.user.findMany({ where: { importBatchId: batch.id }, select: { status: true } })).toEqual([
        { status: "INVITED" },
      ]);
      t.clock.now = new Date(t.clock.now.getTime() + 3_600_000);
      expect(await core.deliverInvitations({ batchId: batch.id })).toMatchObject({ sent: 0, failed: 0 });
      expect(smtp.received.length - before).toBe(1);
    });

    it("a sender whose claim lapsed cannot overwrite what the sender that took over recorded", async () => {
      const core = coreWith({}, { smtpUrl: smtp.url });
      const batch = await createdBatch(core, 0, "claim");
      await t.store.invitations.createForBatch(batch.id, ADMIN.email, t.clock.now);
      const first = await t.store.invitations.claimDue({
        now: t.clock.now,
        claimUntil: new Date(t.clock.now.getTime() + 1_000),
        limit: 5,
        maxAttempts: 5,
        batchId: batch.id,
      });
      expect(first).toHaveLength(1);
      // The first sender stalls past its claim; a second one takes the invitation over and sends it.
      const later = new Date(t.clock.now.getTime() + 2_000);
      const second = await t.store.invitations.claimDue({
        now: later,
        claimUntil: new Date(later.getTime() + 60_000),
        limit: 5,
        maxAttempts: 5,
        batchId: batch.id,
      });
      expect(second.map((i) => i.id)).toEqual(first.map((i) => i.id));
      await t.store.invitations.markSent(second[0]!.id, later, second[0]!.claimedUntil);
      await t.store.invitations.markFailed(first[0]!.id, "stale sender timed out", later, first[0]!.claimedUntil);
      expect(await t.db.prisma.invitation.findUniqueOrThrow({ where: { id: first[0]!.id } })).toMatchObject({
        status: "SENT",
        lastError: null,
      });
    });

    it("closes an INVITING batch whose process died mid-pass", async () => {
      const core = coreWith();
      const batch = await createdBatch(core, 1, "stall");
      await t.store.imports.transition(batch.id, ["CREATED"], "INVITING");
      expect(await core.finishStalledInvitations()).toEqual([]);
      t.clock.now = new Date(Date.now() + 6 * 60_000);
      expect((await core.finishStalledInvitations()).map((b) => b.id)).toContain(batch.id);
    });

    it("invites a single user added by the form, once", async () => {
      const core = coreWith({}, { smtpUrl: smtp.url });
      await t.core.addUser({ actor: ADMIN, input: { email: "solo@corp.example.org", name: "Solo", group: "Finance" } });
      expect(await core.inviteUser({ actor: ADMIN, email: " SOLO@corp.example.org" })).toEqual({
        mailConfigured: true,
        counts: { pending: 0, sent: 1, failed: 0 },
      });
      expect(await core.inviteUser({ actor: ADMIN, email: "solo@corp.example.org" })).toEqual({
        mailConfigured: true,
        counts: { pending: 0, sent: 1, failed: 0 },
      });
      expect(smtp.received.filter((m) => m.to[0] === "solo@corp.example.org")).toHaveLength(1);
      expect((await appErrorOf(core.inviteUser({ actor: ADMIN, email: "nobody@corp.example.org" }))).code).toBe("NOT_FOUND");
    });
  });

  describe("error report", () => {
    it("holds only the rows needing attention: Row first, the template's columns, Problems; formula-safe", async () => {
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: {
          name: "Q4 hires.csv",
          bytes: uniqueFile([
            ["ok@corp.example.org", "Fine", "Finance", "User", "", ""],
            ["bad@@corp.example.org", '=HYPERLINK("x")', "Finance", "Boss", "", ""],
          ]),
        },
      });
      const report = await core.importErrorReport({ actor: ADMIN, batchId: batch.id });
      expect(report.fileName).toBe(`Q4 hires-${batch.code}-problems.csv`);
      expect(report.rows).toBe(1);
      const text = new TextDecoder().decode(report.bytes).replace(/^\uFEFF/, "");
      const lines = text.split("\r\n").filter(Boolean);
      expect(lines[0]).toBe("Row,Email ID,Name,Group,Role,Exchange Domain,Exchange Username,Problems");
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^3,bad@@corp\.example\.org,/);
      expect(lines[1]).toContain(`"'=HYPERLINK(""x"")"`);
      expect(lines[1]).toContain("Role “Boss” is not valid");
    });

    it.each([
      [";", "semicolon"],
      ["\t", "tab"],
    ])(
      "a %j file gets a %s report, Row as the summary numbers it, duplicates naming the row kept; read a page at a time",
      async (delimiter) => {
        const core = coreWith();
        const n = ++counter;
        const rows = [
          [`dup${n}@corp.example.org`, "First", "Finance", "User", "", ""],
          [`ok${n}@corp.example.org`, "Lee, Ann", "Finance", "User", "", ""],
          ["", "", "", "", "", ""],
          // A quoted cell over two lines is one row of the spreadsheet.
          [`multi${n}@corp.example.org`, '"Two\nlines"', "Finance", "User", "", ""],
          [`DUP${n}@corp.example.org`, "Second", "Finance", "User", "", ""],
          [`nogroup${n}@corp.example.org`, "=cmd", "Nowhere", "User", "", ""],
        ];
        const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "eu.csv", bytes: csvFile(rows, undefined, delimiter) } });
        const summary = await core.getImport({ actor: ADMIN, batchId: batch.id });
        expect(summary.attention.map((r) => r.rowNumber)).toEqual([5, 6, 7]);
        const whole = await core.importErrorReport({ actor: ADMIN, batchId: batch.id });
        const paged = await core.importErrorReport({ actor: ADMIN, batchId: batch.id, pageSize: 1 });
        expect(Buffer.from(paged.bytes).equals(Buffer.from(whole.bytes))).toBe(true);
        expect(headerOf(whole.bytes, delimiter)).toEqual([
          "Row",
          "Email ID",
          "Name",
          "Group",
          "Role",
          "Exchange Domain",
          "Exchange Username",
          "Problems",
        ]);
        expect(readBack(whole.bytes, delimiter)).toEqual([
          expect.objectContaining({ Row: "5", Name: "Two\nlines", Problems: expect.stringContaining("control character") }),
          expect.objectContaining({
            Row: "6",
            "Email ID": `DUP${n}@corp.example.org`,
            Problems: "Same Email ID as row 2, which is imported.",
          }),
          expect.objectContaining({
            Row: "7",
            Name: "'=cmd",
            Group: "Nowhere",
            Problems: expect.stringContaining("There is no group named “Nowhere”."),
          }),
        ]);
        // Fixed and uploaded again as it is: the same delimiter is read, Row and Problems ignored.
        const again = await core.stageImport({ actor: ADMIN, file: { name: "eu-fixed.csv", bytes: whole.bytes } });
        expect(again.unknownColumns).toEqual([]);
        expect(again.batch.fileInfo).toMatchObject({ delimiter });
        const back = await core.getImport({ actor: ADMIN, batchId: again.batch.id });
        expect(back.attention.map((r) => [r.rowNumber, r.email, r.name])).toEqual([
          [2, `multi${n}@corp.example.org`, "Two\nlines"],
          [4, `nogroup${n}@corp.example.org`, "=cmd"],
        ]);
      },
    );
  });

  describe("results", () => {
    /** Every row's Row, Email ID, Result and Details, as the results file says them. */
    const outcomes = (bytes: Uint8Array, delimiter = ",") =>
      readBack(bytes, delimiter).map((r) => [Number(r.Row), r["Email ID"], r.Result, r.Details]);

    it("every row of the batch with what happened: created, updated, unchanged, skipped and failed, with why; read a page at a time", async () => {
      const core = coreWith({ approvalPolicy: { kind: "never" } });
      const n = ++counter;
      await t.core.addGroup({ actor: ADMIN, input: { name: `Short-lived ${n}` } });
      for (const [email, name] of [
        [`moves${n}@corp.example.org`, "Mover"],
        [`stays${n}@corp.example.org`, "Stayer"],
      ])
        await t.core.addUser({ actor: ADMIN, input: { email: email!, name: name!, group: "Finance" } });
      const rows = [
        [`new${n}@corp.example.org`, "New Person", "finance", "", "", ""],
        [`moves${n}@corp.example.org`, "Mover", "Engineering", "Administrator", "", ""],
        [`stays${n}@corp.example.org`, "Stayer", "Finance", "User", "", ""],
        [`late${n}@corp.example.org`, "Late", "Finance", "User", "", ""],
        [`gone${n}@corp.example.org`, "Gone", `Short-lived ${n}`, "User", "", ""],
        [`new${n}@corp.example.org`, "Again", "Finance", "User", "", ""],
        ["not-an-email", "+Bad", "Finance", "User", "", ""],
      ];
      const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "mixed.csv", bytes: csvFile(rows, undefined, ";") } });
      expect((await appErrorOf(core.importResults({ actor: ADMIN, batchId: batch.id }))).code).toBe("BATCH_WRONG_STATE");
      await core.submitImport({ actor: ADMIN, batchId: batch.id, includeUpdates: true });
      // Meanwhile: one email is created by someone else, one group is deleted.
      await t.core.addUser({ actor: ADMIN, input: { email: `late${n}@corp.example.org`, name: "Early bird", group: "Finance" } });
      await t.db.sql.query(`DELETE FROM "Group" WHERE name = $1`, [`Short-lived ${n}`]);
      const ended: string[] = [];
      await core.createAccounts({
        actor: ADMIN,
        batchId: batch.id,
        chunkSize: 2,
        onProgress: (p) => {
          if (p.ended) ended.push(p.batch.status);
        },
      });
      expect(ended).toEqual(["CREATED"]);

      // Read a page at a time: no read of the batch's rows asks for more than a page.
      const reads: (number | undefined)[] = [];
      const paging = createCore({
        files: csvImportFormat,
        store: {
          ...t.store,
          imports: {
            ...t.store.imports,
            rows: (id, options) => {
              reads.push(options?.limit);
              return t.store.imports.rows(id, options);
            },
          },
        },
        now: () => t.clock.now,
      });
      const results = await paging.importResults({ actor: ADMIN, batchId: batch.id, pageSize: 2 });
      expect(reads).toEqual([2, 2, 2, 2]);
      expect(results.fileName).toBe(`mixed-${batch.code}-results.csv`);
      expect(results.rows).toBe(7);
      expect(results.counts).toEqual({ created: 1, updated: 1, unchanged: 1, skipped: 3, failed: 1 });
      expect(headerOf(results.bytes, ";")).toEqual([
        "Row",
        "Email ID",
        "Name",
        "Group",
        "Role",
        "Exchange Domain",
        "Exchange Username",
        "Result",
        "Details",
      ]);
      expect(outcomes(results.bytes, ";")).toEqual([
        [2, `new${n}@corp.example.org`, "created", ""],
        [3, `moves${n}@corp.example.org`, "updated", "Group: Finance → Engineering; Role: User → Administrator"],
        [4, `stays${n}@corp.example.org`, "unchanged", "Already as the file says: nothing to change."],
        [5, `late${n}@corp.example.org`, "skipped", `A user with Email ID late${n}@corp.example.org was created in the meantime; skipped.`],
        [6, `gone${n}@corp.example.org`, "failed", `The group Short-lived ${n} no longer exists.`],
        [7, `new${n}@corp.example.org`, "skipped", "Not imported: Same Email ID as row 2, which is imported."],
        [8, "not-an-email", "skipped", "Not imported: Email ID “not-an-email” is not a valid email address."],
      ]);
      // The values as stored (the group as the directory spells it), formula-safe.
      const [first, , , , , , last] = readBack(results.bytes, ";");
      expect(first).toMatchObject({ Name: "New Person", Group: "Finance", Role: "User" });
      expect(last).toMatchObject({ Name: "'+Bad" });
      const whole = await core.importResults({ actor: ADMIN, batchId: batch.id });
      expect(Buffer.from(whole.bytes).equals(Buffer.from(results.bytes))).toBe(true);
      // Sent back as an upload, the added columns are not unknown columns.
      const again = await core.stageImport({ actor: ADMIN, file: { name: "again.csv", bytes: results.bytes } });
      expect(again.unknownColumns).toEqual([]);
    });

    it("updates left out by Create are skipped, saying what they would change", async () => {
      const core = coreWith({ approvalPolicy: { kind: "never" } });
      const n = ++counter;
      await t.core.addUser({ actor: ADMIN, input: { email: `kept${n}@corp.example.org`, name: "Kept", group: "Finance" } });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: {
          name: "t.csv",
          bytes: csvFile(
            [[`kept${n}@corp.example.org`, "Kept Renamed", "Finance", "", "", ""], ...validRows(1, { prefix: `t${n}x` })],
            undefined,
            "\t",
          ),
        },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      await core.createAccounts({ actor: ADMIN, batchId: batch.id });
      const results = await core.importResults({ actor: ADMIN, batchId: batch.id });
      expect(outcomes(results.bytes, "\t")).toEqual([
        [
          2,
          `kept${n}@corp.example.org`,
          "skipped",
          "Not updated: the accounts were created without the updates to existing users. The file would change Name: Kept → Kept Renamed.",
        ],
        [3, `t${n}x0@corp.example.org`, "created", ""],
      ]);
    });

    it("creation that stopped part-way: the rows it did not reach failed, with the reason; the end is reported once", async () => {
      const core = coreWith();
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "s.csv", bytes: uniqueFile(validRows(6, { prefix: "stop" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      await core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: prefixOf(batch) });
      // Rows 2–8 in chunks of 3: the last chunk (row 8) breaks, once the two before it are written,
      // one after the other or side by side.
      await t.db.sql.query(`UPDATE "ImportRow" SET "exchangeDomain" = 'CORP' WHERE "batchId" = $1 AND "rowNumber" = 8`, [batch.id]);
      const ended: string[] = [];
      await expect(
        core.createAccounts({
          actor: OTHER_ADMIN,
          batchId: batch.id,
          chunkSize: 3,
          onProgress: (p) => {
            if (p.ended) ended.push(p.batch.status);
          },
        }),
      ).rejects.toThrow();
      expect(ended).toEqual(["FAILED"]);
      const results = await core.importResults({ actor: ADMIN, batchId: batch.id });
      expect(results.counts).toMatchObject({ created: 6, failed: 1 });
      const rows = outcomes(results.bytes);
      expect(rows.slice(0, 6).map((r) => r[2])).toEqual(Array(6).fill("created"));
      expect(rows).toHaveLength(7);
      for (const row of rows.slice(6)) {
        expect(row[2]).toBe("failed");
        expect(row[3]).toMatch(/^Not created: account creation stopped: .+\.$/);
      }
    });
  });
});

/** Resolves once a session of `holder`'s database waits for a lock (one `holder` holds). */
/** Another session adds a user with `email`, in a transaction it leaves open (its caller commits it). */
async function takeUncommitted(session: pg.Client, email: string, groupId: string): Promise<void> {
  await session.query("BEGIN");
  await session.query(`INSERT INTO "User" ("email", "name", "groupId", "createdBy") VALUES ($1, 'Other', $2, 'other')`, [email, groupId]);
}

/** Waits until a statement that started after `after` waits for a lock; returns when it started. */
async function lockWaitAfter(holder: pg.Client, after: Date): Promise<Date> {
  for (;;) {
    const { rows } = await holder.query<{ started: Date }>(
      `SELECT max(query_start) AS started FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query_start > $1`,
      [after],
    );
    if (rows[0]?.started) return rows[0].started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitForLockWait(holder: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await holder.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
