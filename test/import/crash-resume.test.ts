/**
 * Exactly-once account creation across a real crash: a worker process is killed with
 * SIGKILL mid-way; the batch is resumed on the "next start" and compared with the file.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createCore } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { applyMigrations } from "../../src/db/migrate.ts";
import { createStore } from "../../src/db/store.ts";
import { csvFile, validRows } from "../helpers/csv.ts";
import { createPostgresDatabase, databaseKinds } from "../helpers/db.ts";
import { ADMIN, OTHER_ADMIN } from "../helpers/fixtures.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ROWS = 3_000;

function coreOn(db: Database, now = () => new Date()) {
  return createCore({ files: csvImportFormat, store: createStore(db), now });
}

async function killMidway(target: string, batchId: string): Promise<number> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/create-worker.ts", target, batchId], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      // Killed after a few committed chunks, in the middle of the work.
      if ((out.match(/progress/g) ?? []).length >= 5) resolve();
    });
    child.on("exit", () => reject(new Error(`worker ended before it was killed:\n${out}\n${err}`)));
  });
  child.kill("SIGKILL");
  await exited;
  const last =
    out
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("progress"))
      .at(-1) ?? "progress 0";
  return Number(last.split(" ")[1]);
}

describe.each(databaseKinds)("crash and resume on %s", (kind) => {
  it("a worker killed with SIGKILL mid-creation leaves a batch that resumes with no duplicate and no lost row", async () => {
    let target: string;
    let cleanup: () => Promise<void>;
    if (kind === "postgresql") {
      const created = await createPostgresDatabase();
      target = created.url;
      cleanup = created.drop;
    } else {
      target = await mkdtemp(path.join(tmpdir(), "hms-crash-"));
      cleanup = () => rm(target, { recursive: true, force: true });
    }
    const open = () => openDatabase(kind === "postgresql" ? { kind, url: target } : { kind, dataDir: target });
    try {
      // Prepare an approved batch, then close (PGlite allows one process per data dir).
      let db = await open();
      await applyMigrations(db);
      let core = coreOn(db);
      await core.ensureBootstrapAdmins({ emails: [ADMIN.email, OTHER_ADMIN.email] });
      await core.addGroup({ actor: ADMIN, input: { name: "Finance" } });
      const { batch } = await core.stageImport({
        actor: ADMIN,
        file: { name: "big.csv", bytes: csvFile(validRows(ROWS, { prefix: "k" })) },
      });
      await core.submitImport({ actor: ADMIN, batchId: batch.id });
      await core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: batch.sha256.slice(0, 12) });
      await db.close();

      const reported = await killMidway(target, batch.id);
      expect(reported).toBeGreaterThan(0);
      expect(reported).toBeLessThan(ROWS);

      // The next start: the dead worker's lease expires, the batch resumes and completes.
      db = await open();
      const interrupted = await db.prisma.importBatch.findUniqueOrThrow({ where: { id: batch.id } });
      expect(interrupted.status).toBe("CREATING");
      expect(await db.prisma.user.count({ where: { importBatchId: batch.id } })).toBe(interrupted.createdRows);
      core = coreOn(db, () => new Date(Date.now() + 60_000));
      const [resumed] = await core.resumeInterruptedImports();
      expect(resumed?.batch).toMatchObject({ status: "CREATED", createdRows: ROWS, skippedRows: 0, failedRows: 0 });
      const emails = await db.sql.query<{ n: number; d: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT email)::int AS d FROM "User" WHERE "importBatchId" = $1`,
        [batch.id],
      );
      expect(emails).toEqual([{ n: ROWS, d: ROWS }]);
      expect(await db.prisma.importRow.count({ where: { batchId: batch.id, status: "CREATED", userId: { not: null } } })).toBe(ROWS);
      await db.close();
    } finally {
      await cleanup();
    }
  }, 90_000); // three processes open the database (PGlite: initdb, then two opens): ~20 s on a quiet 2-core machine
});
