import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from "../../src/db/migrate.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";

describe.each(databaseKinds)("migrations on %s", (kind) => {
  let t: TestDatabase | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    t = undefined;
    dir = undefined;
  });

  it("applies every migration once, recorded as Prisma records them, and is idempotent", async () => {
    t = await openTestDatabase(kind, { migrate: false });
    const all = await readMigrations();
    expect(await applyMigrations(t.db)).toEqual(all.map((m) => m.name));
    expect(await applyMigrations(t.db)).toEqual([]);
    const rows = await t.db.sql.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum, r.finished_at !== null])).toEqual(all.map((m) => [m.name, m.checksum, true]));
  });

  it("rewrites the Slack records of open imports made before conversations were kept per platform", async () => {
    t = await openTestDatabase(kind, { migrate: false });
    dir = await mkdtemp(path.join(tmpdir(), "hms-mig-"));
    const all = await readMigrations();
    const rewrite = all.findIndex((m) => m.name.endsWith("_conversation_per_platform"));
    for (const m of all.slice(0, rewrite)) await cp(path.join(MIGRATIONS_DIR, m.name), path.join(dir, m.name), { recursive: true });
    await applyMigrations(t.db, dir);
    const insert = (code: string, conversation: unknown) =>
      t!.db.sql.query(
        `INSERT INTO "ImportBatch" ("code", "fileName", "sha256", "sizeBytes", "requesterEmail", "platform", "conversation") VALUES ($1, 'f.csv', $1, 1, 'a@b.co', 'slack', $2::jsonb)`,
        [code, JSON.stringify(conversation)],
      );
    await insert("IMP-OLD1", {
      slack: {
        team: "T1",
        channel: "C1",
        threadTs: "1.1",
        summaryTs: "1.2",
        approvalChannel: "C9",
        approvalTs: "9.9",
        requester: "U1",
        approvers: ["x@y.z"],
      },
    });
    await insert("IMP-OLD2", { slack: { channel: "D1", requester: "U1" } });
    await insert("IMP-NEW1", { slack: { place: { channel: "C2" }, summary: { channel: "C2", ts: "2.2" } } });
    await insert("IMP-NONE", {});
    await applyMigrations(t.db);
    const rows = await t.db.sql.query<{ code: string; conversation: unknown }>(
      `SELECT "code", "conversation" FROM "ImportBatch" ORDER BY "code"`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.code, r.conversation]))).toEqual({
      "IMP-NEW1": { slack: { place: { channel: "C2" }, summary: { channel: "C2", ts: "2.2" } } },
      "IMP-NONE": {},
      "IMP-OLD1": {
        slack: {
          place: { team: "T1", channel: "C1", threadTs: "1.1" },
          summary: { channel: "C1", ts: "1.2" },
          approval: { channel: "C9", ts: "9.9" },
        },
      },
      "IMP-OLD2": { slack: { place: { channel: "D1" } } },
    });
  });

  it("runs concurrent migrators without applying anything twice", async () => {
    t = await openTestDatabase(kind, { migrate: false });
    const results = await Promise.all([applyMigrations(t.db), applyMigrations(t.db), applyMigrations(t.db)]);
    expect(results.flat()).toEqual((await readMigrations()).map((m) => m.name));
  });

  it("refuses to start on a migration edited after it was applied", async () => {
    t = await openTestDatabase(kind);
    dir = await mkdtemp(path.join(tmpdir(), "hms-mig-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const [first] = await readMigrations(dir);
    await writeFile(path.join(dir, first!.name, "migration.sql"), `${first!.sql}\n-- edited\n`);
    await expect(applyMigrations(t.db, dir)).rejects.toThrow(`migration ${first!.name} was changed after it was applied`);
  });

  it("import_submitter: a batch submitted before it learns who clicked Create from the audit trail", async () => {
    t = await openTestDatabase(kind, { migrate: false });
    dir = await mkdtemp(path.join(tmpdir(), "hms-mig-"));
    const all = await readMigrations();
    const at = all.findIndex((m) => m.name.endsWith("_import_submitter"));
    expect(at).toBeGreaterThan(0);
    for (const m of all.slice(0, at)) await cp(path.join(MIGRATIONS_DIR, m.name), path.join(dir, m.name), { recursive: true });
    await applyMigrations(t.db, dir);
    await t.db.sql.exec(`
      INSERT INTO "ImportBatch" ("code", "fileName", "sha256", "sizeBytes", "requesterEmail", "platform", "status")
      VALUES ('IMP-OLD1', 'a.csv', 'ab', 1, 'ada@corp.example.org', 'slack', 'AWAITING_APPROVAL'),
             ('IMP-OLD2', 'b.csv', 'cd', 1, 'ada@corp.example.org', 'slack', 'VALIDATED');
      INSERT INTO "AuditEvent" ("actor", "action", "subject", "details")
      VALUES ('Bob@Corp.example.org', 'import.approval_requested', 'import:IMP-OLD1', '{"platform":"slack","platformUserId":"U0BOB"}'),
             ('ada@corp.example.org', 'import.upload', 'import:IMP-OLD2', '{}');`);
    expect(await applyMigrations(t.db)).toEqual(all.slice(at).map((m) => m.name));
    const batches = await t.db.sql.query<{ code: string; submitterEmail: string | null; submitterPlatformId: string | null }>(
      `SELECT "code", "submitterEmail", "submitterPlatformId" FROM "ImportBatch" ORDER BY "code"`,
    );
    expect(batches).toEqual([
      { code: "IMP-OLD1", submitterEmail: "bob@corp.example.org", submitterPlatformId: "U0BOB" },
      { code: "IMP-OLD2", submitterEmail: null, submitterPlatformId: null },
    ]);
  });

  it("rolls back a failing migration entirely and names it", async () => {
    t = await openTestDatabase(kind);
    dir = await mkdtemp(path.join(tmpdir(), "hms-mig-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await cp(path.join(MIGRATIONS_DIR, (await readMigrations())[0]!.name), path.join(dir, "29990101000000_broken"), { recursive: true });
    await writeFile(
      path.join(dir, "29990101000000_broken", "migration.sql"),
      `CREATE TABLE "Half" (id int);\nSELECT nonsense_column FROM "User";\n`,
    );
    await expect(applyMigrations(t.db, dir)).rejects.toThrow(/migration 29990101000000_broken failed and was rolled back/);
    const half = await t.db.sql.query(`SELECT to_regclass('"Half"') AS t`);
    expect(half).toEqual([{ t: null }]);
  });
});
