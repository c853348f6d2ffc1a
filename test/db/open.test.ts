/**
 * openMigratedDatabase on an embedded data directory: creating and migrating it happen in a
 * short-lived child process, under this process's lock.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../../src/db/data-dir-lock.ts";
import { MIGRATIONS_DIR, readMigrations } from "../../src/db/migrate.ts";
import { openMigratedDatabase } from "../../src/db/open.ts";

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), "hms-open-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The app's migrations plus one more, named `name`, running `sql`. */
async function migrationsPlus(name: string, sql: string): Promise<string> {
  const dir = await tempDir();
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  await mkdir(path.join(dir, name));
  await writeFile(path.join(dir, name, "migration.sql"), sql);
  return dir;
}

const mb = (bytes: number) => Math.round(bytes / 1048576);

describe("openMigratedDatabase on a data directory", { timeout: 120_000 }, () => {
  let dataDir: string;
  const all = async () => (await readMigrations()).map((m) => m.name);

  it("creates and migrates a new directory in a child process, which keeps initdb's memory to itself", async () => {
    // First in this file (vitest gives each file its own process): this process's peak RSS is low.
    dataDir = path.join(await tempDir(), "data");
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const { db, applied } = await openMigratedDatabase({ kind: "pglite", dataDir });
    // Opening a ready directory takes ~150 MB; running initdb here would take ~600 MB more.
    const grown = mb(process.resourceUsage().maxRSS * 1024 - peakBefore);
    try {
      expect(grown).toBeLessThan(400);
      expect(applied).toEqual(await all());
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
      expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(true);
      expect(await db.sql.query(`SELECT count(*)::int AS n FROM "_prisma_migrations"`)).toEqual([{ n: applied.length }]);
    } finally {
      await db.close();
    }
    expect(existsSync(path.join(dataDir, LOCK_FILE))).toBe(false);
  });

  it("opens an up-to-date directory with nothing to apply", async () => {
    const { db, applied } = await openMigratedDatabase({ kind: "pglite", dataDir });
    await db.close();
    expect(applied).toEqual([]);
  });

  it("applies a pending migration to an existing directory and reports it", async () => {
    const upgraded = await tempDir();
    await cp(dataDir, upgraded, { recursive: true });
    const migrationsDir = await migrationsPlus("29990101000000_more", `CREATE TABLE "More" (id int);`);
    const { db, applied } = await openMigratedDatabase({ kind: "pglite", dataDir: upgraded }, { migrationsDir });
    try {
      expect(applied).toEqual(["29990101000000_more"]);
      expect(await db.sql.query(`SELECT to_regclass('"More"')::text AS t`)).toEqual([{ t: '"More"' }]);
    } finally {
      await db.close();
    }
  });

  it("a migration failing in the child comes back as its one-line message, and leaves the directory unlocked", async () => {
    const fresh = path.join(await tempDir(), "data");
    const migrationsDir = await migrationsPlus(
      "29990101000000_broken",
      `CREATE TABLE "Half" (id int);\nSELECT nonsense_column FROM "User";\n`,
    );
    await expect(openMigratedDatabase({ kind: "pglite", dataDir: fresh }, { migrationsDir })).rejects.toThrow(
      /^migration 29990101000000_broken failed and was rolled back: column "nonsense_column" does not exist$/,
    );
    expect(existsSync(path.join(fresh, LOCK_FILE))).toBe(false);
    // The migrations before it were applied, each in its own transaction; the broken one was not.
    const { db, applied } = await openMigratedDatabase({ kind: "pglite", dataDir: fresh });
    try {
      expect(applied).toEqual([]);
      expect(await db.sql.query(`SELECT to_regclass('"Half"')::text AS t`)).toEqual([{ t: null }]);
    } finally {
      await db.close();
    }
  });
});
