/**
 * The database the bot runs on, opened and migrated. On an embedded data directory, creating
 * it (initdb) and migrating it run in a short-lived child process: PGlite's WASM memory grows
 * to what that work needs (~800 MB for initdb) and never shrinks, so the long-lived process
 * only ever opens a directory that is ready (~200 MB).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { type Database, type DatabaseOptions, openDatabase } from "./database.ts";
import { applyMigrations, MIGRATIONS_DIR, MigrationError, pendingMigrations } from "./migrate.ts";

const SETUP_PROCESS = fileURLToPath(new URL("./setup-process.ts", import.meta.url));

/** What the set-up child reports over IPC. */
export type SetupResult = { applied: string[] } | { error: string; name: string };

/**
 * Opens the database and applies pending migrations (from `migrationsDir`, the app's by
 * default); returns it and the migrations applied. On a data directory, the directory stays
 * locked until the database is closed.
 */
export async function openMigratedDatabase(
  options: DatabaseOptions,
  { migrationsDir = MIGRATIONS_DIR }: { migrationsDir?: string } = {},
): Promise<{ db: Database; applied: string[] }> {
  const dir = options.kind === "pglite" && "dataDir" in options && !options.dataDir.includes("://") ? options.dataDir : undefined;
  if (dir === undefined) {
    const db = await openDatabase(options);
    return { db, applied: await migrateOrClose(db, migrationsDir) };
  }
  const lock = await lockDataDir(dir);
  try {
    let applied: string[] = [];
    if (!existsSync(path.join(dir, "PG_VERSION"))) applied = await setUpInChild(dir, lock, migrationsDir);
    let db = await openDatabase({ kind: "pglite", dataDir: dir, lock });
    if ((await pendingMigrations(db, migrationsDir).catch(closing(db))).length > 0) {
      await db.close();
      applied = await setUpInChild(dir, lock, migrationsDir);
      db = await openDatabase({ kind: "pglite", dataDir: dir, lock });
    }
    // Nothing left to apply by now; this still checks that no applied migration was edited.
    applied.push(...(await migrateOrClose(db, migrationsDir)));
    let closed: Promise<void> | undefined;
    const close = () => (closed ??= db.close().finally(() => lock.release()));
    return { db: { ...db, close }, applied };
  } catch (error) {
    lock.release();
    throw error;
  }
}

async function migrateOrClose(db: Database, migrationsDir: string): Promise<string[]> {
  return applyMigrations(db, migrationsDir).catch(closing(db));
}

function closing(db: Database) {
  return async (error: unknown): Promise<never> => {
    await db.close().catch(() => {});
    throw error;
  };
}

/**
 * Runs setup-process.ts on `dir` (which this process has locked, and leaves closed): creates
 * the database if missing and applies pending migrations. A failure comes back as the
 * child's one-line message.
 */
function setUpInChild(dir: string, lock: DataDirLock, migrationsDir: string): Promise<string[]> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const child = spawn(process.execPath, ["--import", tsx, SETUP_PROCESS, dir, lock.token, migrationsDir], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  if (child.pid !== undefined) lock.setHelper(child.pid);
  let stderr = "";
  child.stderr!.on("data", (d) => {
    if (stderr.length < 64_000) stderr += d;
  });
  let result: SetupResult | undefined;
  child.on("message", (message) => (result = message as SetupResult));
  return new Promise<string[]>((resolve, reject) => {
    child.once("error", (error) => reject(new Error(`cannot run the set-up of ${dir}: ${error.message}`)));
    child.once("close", (code, signal) => {
      lock.setHelper(undefined);
      if (result && "applied" in result) resolve(result.applied);
      else if (result) reject(result.name === "MigrationError" ? new MigrationError(result.error) : new Error(result.error));
      else {
        const last = stderr.trim().split("\n").at(-1);
        reject(new Error(`setting up the embedded database in ${dir} failed (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ""}`));
      }
    });
  });
}
