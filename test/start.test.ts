/**
 * The README's `npm start`, run for real: boots on the embedded database with no
 * configuration, answers /healthz, stops cleanly on SIGTERM, and fails fast with one line.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/database.ts";
import { applyMigrations } from "../src/db/migrate.ts";
import { createPostgresDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { START_SCRIPT, startCommand } from "./helpers/start-command.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

interface Running {
  child: ChildProcess;
  port: number;
  output: () => string;
  exit: Promise<number | null>;
}

/**
 * `npm start` with only PATH/HOME from this environment plus `env`. With `direct`, the start
 * script's command without npm in between, so the app's own exit code on a signal is seen.
 */
function npmStart(
  env: Record<string, string>,
  direct = false,
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  // The script `exec`s node, so that npm's own signals reach the app and not a shell.
  expect(START_SCRIPT).toBe("exec node --max-old-space-size=384 --max-semi-space-size=8 --import tsx src/main.ts");
  const [command, ...args] = direct ? startCommand() : ["npm", "start", "--silent"];
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  started.push({ child, exit });
  return { child, output: () => out, exit };
}

// A test that fails half-way must not leave its app running (and its data dir open).
const started: { child: ChildProcess; exit: Promise<number | null> }[] = [];
afterEach(async () => {
  for (const { child, exit } of started.splice(0)) {
    try {
      process.kill(-child.pid!, "SIGKILL"); // the whole group: npm, its shell and the app
    } catch {
      // already gone
    }
    await exit;
  }
});

async function startAndWaitForPort(env: Record<string, string>, direct = false): Promise<Running> {
  const run = npmStart({ PORT: "0", ...env }, direct);
  const deadline = Date.now() + 40_000;
  while (Date.now() < deadline) {
    const match = /"port":(\d+)/.exec(run.output());
    if (match) return { ...run, port: Number(match[1]) };
    if (run.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`npm start did not listen:\n${run.output()}`);
}

async function healthWhenReady({ port, output }: Running): Promise<{ status: number; body: unknown }> {
  const deadline = Date.now() + 30_000;
  let last = { status: 0, body: null as unknown };
  while (Date.now() < deadline) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch((error: unknown) => {
      throw new Error(`GET /healthz failed (${String((error as Error).cause ?? error)}); the app printed:\n${output()}`);
    });
    last = { status: res.status, body: await res.json() };
    if (res.status === 200) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Signals the process `npm start` created (npm itself), alone: what a supervisor does. */
function stop(run: Running, signal: NodeJS.Signals = "SIGTERM") {
  process.kill(run.child.pid!, signal);
  return run.exit;
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
function ctrlC(run: Running) {
  process.kill(-run.child.pid!, "SIGINT");
  return run.exit;
}

/** The processes of a group (npm start runs detached: its group is its tree), from /proc. */
function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is the state: a zombie has exited, its parent just has not reaped it yet.
      if (Number(fields[2]) === pgid && fields[0] !== "Z") pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return ""; // exited meanwhile
  }
}

/**
 * Stops a running `npm start` with `send` and checks what a supervisor needs: every process
 * of its tree gone within 15 s, the database closed, and the data directory free at once.
 */
async function expectCleanStop(run: Running, send: (run: Running) => Promise<number | null>, dataDir: string) {
  const tree = groupPids(run.child.pid!);
  expect(tree.length).toBeGreaterThanOrEqual(2); // npm and the app (a shell between them would be a third)
  const started = Date.now();
  const code = await send(run);
  await until(() => groupPids(run.child.pid!).length === 0, 15_000);
  expect(groupPids(run.child.pid!)).toEqual([]);
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(code).toBe(0);
  const lines = messages(run.output());
  expect(lines.slice(lines.indexOf("shutting down"))).toEqual(["shutting down", "database closed", "stopped"]);
  const db = await openDatabase({ kind: "pglite", dataDir });
  try {
    expect(await db.sql.query('SELECT count(*)::int AS n FROM "_prisma_migrations"')).toEqual([{ n: expect.any(Number) }]);
  } finally {
    await db.close();
  }
}

function messages(output: string): string[] {
  return output
    .split("\n")
    .map((l) => /"msg":"([^"]+)"/.exec(l)?.[1])
    .filter((m): m is string => m !== undefined);
}

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), "hms-start-"));
  dirs.push(dir);
  return dir;
}

// A data directory made and migrated once, copied for each test that needs an existing one.
let prepared: Promise<string> | undefined;
async function preparedDataDir(): Promise<string> {
  prepared ??= (async () => {
    const dir = await tempDir();
    const db = await openDatabase({ kind: "pglite", dataDir: dir });
    await applyMigrations(db);
    await db.close();
    return dir;
  })();
  const copy = await tempDir();
  await cp(await prepared, copy, { recursive: true });
  return copy;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

// Each test starts the real process (sometimes twice): generous time on a busy 2-core machine.
describe("npm start", { timeout: 90_000 }, () => {
  it("boots on the embedded database with no configuration, serves /healthz, and keeps its data", async () => {
    const dataDir = await tempDir();
    const first = await startAndWaitForPort({ DATA_DIR: dataDir, BOOTSTRAP_ADMINS: "root@corp.example.org" });
    expect(await healthWhenReady(first)).toEqual({ status: 200, body: { status: "ok", database: "pglite" } });
    await expectCleanStop(first, (run) => stop(run, "SIGTERM"), dataDir);

    // The data dir was closed cleanly: a second start opens it, finds the migration applied
    // and the administrator already there.
    const second = await startAndWaitForPort({ DATA_DIR: dataDir, BOOTSTRAP_ADMINS: "root@corp.example.org" });
    expect((await healthWhenReady(second)).status).toBe(200);
    await expectCleanStop(second, (run) => stop(run, "SIGINT"), dataDir);
    expect(second.output()).not.toContain("database migrated");
    expect(second.output()).not.toContain("bootstrap administrators ensured");
  });

  // Supervisors (systemd, Docker's `CMD npm start`, Kubernetes) signal only the process they
  // started; a terminal's Ctrl-C signals the whole group, so the app hears SIGINT twice.
  it.each([
    ["SIGTERM to the npm process alone", (run: Running) => stop(run, "SIGTERM")],
    ["SIGINT to the npm process alone", (run: Running) => stop(run, "SIGINT")],
    ["Ctrl-C (SIGINT to the process group)", ctrlC],
  ])("%s stops the whole tree within 15 s with the database closed", async (_name, send) => {
    const dataDir = await preparedDataDir();
    const run = await startAndWaitForPort({ DATA_DIR: dataDir });
    expect((await healthWhenReady(run)).status).toBe(200);
    await expectCleanStop(run, send, dataDir);
  });

  it("a second start on the same DATA_DIR refuses with one line naming the holder; after the first is killed, a start takes over", async () => {
    const dataDir = await preparedDataDir();
    const first = await startAndWaitForPort({ DATA_DIR: dataDir });
    expect((await healthWhenReady(first)).status).toBe(200);
    // The node process npm started (not npm, nor tsx's esbuild service): the one holding the directory.
    const app = groupPids(first.child.pid!).filter((pid) => commandLine(pid).includes("src/main.ts"));
    expect(app).toHaveLength(1);

    const second = npmStart({ PORT: "0", DATA_DIR: dataDir });
    expect(await second.exit).toBe(1);
    expect(second.output().trim().split("\n").at(-1)).toBe(
      `hms-userbot: cannot start: the embedded database in ${dataDir} is in use by process ${app[0]} (one process per DATA_DIR: stop that one, or set another DATA_DIR)`,
    );
    expect((await fetch(`http://127.0.0.1:${first.port}/healthz`)).status).toBe(200); // the first runs on

    // SIGKILL leaves the lock behind; the next start finds its holder gone and takes over.
    process.kill(-first.child.pid!, "SIGKILL");
    await first.exit;
    await until(() => groupPids(first.child.pid!).length === 0);
    const third = await startAndWaitForPort({ DATA_DIR: dataDir });
    expect((await healthWhenReady(third)).status).toBe(200);
    await expectCleanStop(third, (run) => stop(run), dataDir);
  });

  it("a SIGTERM during start-up waits for the database step under way, then closes it cleanly", async () => {
    const dataDir = await tempDir();
    const first = await startAndWaitForPort({ DATA_DIR: dataDir }, true);
    // Still opening (or migrating) the fresh data directory.
    expect(first.output()).not.toContain('"msg":"database migrated"');
    expect(await stop(first)).toBe(0);
    await until(() => first.output().includes('"msg":"stopped"'));
    const lines = first
      .output()
      .split("\n")
      .map((l) => /"msg":"([^"]+)"/.exec(l)?.[1])
      .filter(Boolean);
    // The database it was opening was closed, after the step under way, before the process ended.
    const tail = lines.slice(lines.indexOf("shutting down"));
    expect(tail).toEqual([
      "shutting down",
      ...(tail.includes("database migrated") ? ["database migrated"] : []),
      "database closed",
      "stopped",
    ]);
    expect(lines).not.toContain("ready");

    const second = await startAndWaitForPort({ DATA_DIR: dataDir }, true);
    expect((await healthWhenReady(second)).status).toBe(200);
    expect(await stop(second)).toBe(0);
  });

  it.runIf(TEST_DATABASE_URL)("boots on PostgreSQL when DATABASE_URL is set", async () => {
    const database = await createPostgresDatabase();
    try {
      const run = await startAndWaitForPort({ DATABASE_URL: database.url }, true);
      expect(await healthWhenReady(run)).toEqual({ status: 200, body: { status: "ok", database: "postgresql" } });
      expect(await stop(run)).toBe(0);
    } finally {
      await database.drop();
    }
  });

  it("exits non-zero with one line and no stack when DATABASE_URL cannot be reached", async () => {
    const run = npmStart({ PORT: "0", DATABASE_URL: "postgresql://hms:s3cret@127.0.0.1:1/hms" });
    expect(await run.exit).toBe(1);
    const errors = run
      .output()
      .split("\n")
      .filter((l) => l.startsWith("hms-userbot:"));
    expect(errors).toEqual([
      "hms-userbot: cannot start: cannot open PostgreSQL at postgresql://hms:***@127.0.0.1:1/hms: connect ECONNREFUSED 127.0.0.1:1",
    ]);
    expect(run.output()).not.toMatch(/\n\s+at /);
    expect(run.output()).not.toContain("s3cret");
  });

  it("exits with one line naming a malformed variable", async () => {
    const run = npmStart({ PORT: "eighty" });
    expect(await run.exit).toBe(2);
    expect(run.output().trim().split("\n").at(-1)).toBe("hms-userbot: cannot start: invalid configuration: PORT must be a whole number");
  });
});
