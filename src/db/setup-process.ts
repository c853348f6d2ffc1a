/**
 * Child process of openMigratedDatabase: creates the embedded database in a data directory
 * if missing and applies pending migrations, then exits, returning the WASM memory that work
 * grew to the OS. It runs under its parent's lock and reports over IPC.
 * Usage: node --import tsx setup-process.ts <data dir> <parent's lock token> <migrations dir>
 */
import { adoptDataDirLock } from "./data-dir-lock.ts";
import { openDatabase } from "./database.ts";
import { applyMigrations } from "./migrate.ts";
import type { SetupResult } from "./open.ts";

// Ctrl-C reaches the whole process group: the parent decides, and lets the step under way
// (initdb, a migration) finish rather than leave the directory half-written.
process.on("SIGINT", () => {});
process.on("SIGTERM", () => {});

const [dir, token, migrationsDir] = process.argv.slice(2) as [string, string, string];
let result: SetupResult;
try {
  const db = await openDatabase({ kind: "pglite", dataDir: dir, lock: adoptDataDirLock(dir, token) });
  try {
    result = { applied: await applyMigrations(db, migrationsDir) };
  } finally {
    await db.close();
  }
} catch (error) {
  result = { error: error instanceof Error ? error.message : String(error), name: error instanceof Error ? error.name : "Error" };
}
if (process.send)
  process.send(result, () => process.exit(0)); // an error too: the parent was killed
else process.stdout.write(`${JSON.stringify(result)}\n`);
