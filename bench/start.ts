/**
 * Start-up benchmark: runs the bot as `npm start` does (same Node flags, src/main.ts) and
 * prints, for each start, the time to "ready", the RSS once idle and the peak RSS of the bot's
 * process (and of the short-lived set-up process, when there is one):
 *   - PGlite, first start: a fresh DATA_DIR (created and migrated by the set-up process);
 *   - PGlite, restart: the same DATA_DIR again;
 *   - PostgreSQL, when DATABASE_URL is set: in a scratch database it creates and drops.
 *
 *   npm run bench:start
 *   DATABASE_URL=postgresql://postgres@127.0.0.1/postgres npm run bench:start
 *   IDLE_SECONDS=60 npm run bench:start      # idle longer before reading the RSS (default 20)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS ?? 20);
const START = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start as string).replace(/^exec /, "").split(" ");

interface Measure {
  readyS: number;
  idleMb: number;
  peakMb: number;
  setupPeakMb?: number;
}

/** VmRSS / VmHWM of a live process, in MB (Linux). */
function status(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
    return { rss: Math.round(kb("VmRSS") / 1024), hwm: Math.round(kb("VmHWM") / 1024) };
  } catch {
    return undefined;
  }
}

/** Children of `pid` (the set-up process, esbuild's service), from /proc. */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

async function run(env: Record<string, string>): Promise<Measure> {
  const [command, ...args] = START as [string, ...string[]];
  const started = process.hrtime.bigint();
  const child: ChildProcess = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The set-up child's peak, sampled while it runs (its own VmHWM is gone with it).
  let setupPeakMb: number | undefined;
  while (!out.includes('"msg":"ready"')) {
    if (child.exitCode !== null) throw new Error(`the bot exited before it was ready:\n${out}`);
    for (const pid of children(child.pid!)) {
      if (!commandLine(pid).includes("setup-process")) continue;
      const s = status(pid);
      if (s) setupPeakMb = Math.max(setupPeakMb ?? 0, s.hwm);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const readyS = Number(process.hrtime.bigint() - started) / 1e9;
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  const s = status(child.pid!)!;
  child.kill("SIGTERM");
  await exited;
  return { readyS, idleMb: s.rss, peakMb: s.hwm, setupPeakMb };
}

function line(label: string, m: Measure): string {
  const setup = m.setupPeakMb === undefined ? "" : `; the set-up process peaked at ${m.setupPeakMb} MB and exited`;
  return `  ${label.padEnd(20)} ready in ${m.readyS.toFixed(1)} s   idle RSS ${m.idleMb} MB   peak RSS ${m.peakMb} MB${setup}`;
}

console.log(`the bot's process (${START.join(" ")}), RSS after ${IDLE_SECONDS} s idle:\n`);
const dir = await mkdtemp(path.join(tmpdir(), "hms-bench-start-"));
try {
  const dataDir = path.join(dir, "data");
  console.log("database: pglite");
  console.log(line("first start", await run({ DATA_DIR: dataDir })));
  console.log(line("restart", await run({ DATA_DIR: dataDir })));
} finally {
  await rm(dir, { recursive: true, force: true });
}

if (process.env.DATABASE_URL) {
  const name = `hms_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  try {
    const u = new URL(process.env.DATABASE_URL);
    u.pathname = `/${name}`;
    console.log("\ndatabase: postgresql");
    console.log(line("first start", await run({ DATABASE_URL: u.toString() })));
    console.log(line("restart", await run({ DATABASE_URL: u.toString() })));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}
