/**
 * The Prisma CLI on the embedded database (prisma.config.ts): it exits when done, and it
 * respects the data directory's lock like the bot does.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOCK_FILE } from "../src/db/data-dir-lock.ts";
import { openDatabase } from "../src/db/database.ts";
import { applyMigrations } from "../src/db/migrate.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

/** `npx prisma <args>` on DATA_DIR; killed, all its processes (exit code null), if it has not exited after `ms`. */
function prisma(args: string[], dataDir: string, ms = 60_000): Promise<{ code: number | null; output: string }> {
  const child = spawn("npx", ["prisma", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own group: a CLI that hangs is killed with npx's shell and node
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), ms);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

let dir: string;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("npx prisma on the embedded database", { timeout: 180_000 }, () => {
  it("migrate status reports and exits, leaving the directory closed and unlocked; it refuses while the bot holds it", async () => {
    dir = await mkdtemp(path.join(tmpdir(), "hms-cli-"));
    let db = await openDatabase({ kind: "pglite", dataDir: dir });
    await applyMigrations(db);
    await db.close();

    const status = await prisma(["migrate", "status"], dir);
    expect(status.output).toContain("Database schema is up to date!");
    expect(status.code).toBe(0);
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);

    db = await openDatabase({ kind: "pglite", dataDir: dir });
    try {
      const refused = await prisma(["migrate", "status"], dir);
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain(`the embedded database in ${dir} is in use by process ${process.pid} `);
    } finally {
      await db.close();
    }
  });
});
