/**
 * One process per embedded-database directory: real processes lock a real directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { DataDirLockedError, LOCK_FILE, lockDataDir } from "../../src/db/data-dir-lock.ts";
import { openDatabase } from "../../src/db/database.ts";

const HOLDER = path.resolve(import.meta.dirname, "../helpers/lock-holder.ts");

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
  }
});

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(path.join(tmpdir(), "hms-lock-"));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

interface Holder {
  child: ChildProcess;
  /** The next line it prints that passes `match`. */
  next(match?: (line: string) => boolean): Promise<string>;
  send(line: string): void;
}

/** Starts a lock holder (see lock-holder.ts). */
function startHolder(dir: string, race = false): Holder {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, dir, ...(race ? ["--race"] : [])], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(child);
  const lines: string[] = [];
  let buffer = "";
  let wake = () => {};
  child.stdout!.on("data", (d) => {
    buffer += d;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  let exited = false;
  child.once("exit", () => {
    exited = true;
    wake();
  });
  return {
    child,
    async next(match = () => true) {
      for (;;) {
        const index = lines.findIndex(match);
        if (index >= 0) return lines.splice(0, index + 1).at(-1)!;
        if (exited) throw new Error(`holder ${child.pid} exited before printing the line awaited`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    send: (line) => child.stdin!.write(`${line}\n`),
  };
}

/** A holder's verdict: "locked <pid>" or "refused <message>". */
const verdict = (h: Holder) => h.next((l) => l.startsWith("locked ") || l.startsWith("refused "));

function holder(dir: string): { child: ChildProcess; line: Promise<string> } {
  const h = startHolder(dir);
  return { child: h.child, line: verdict(h) };
}

async function kill(child: ChildProcess) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

/** A pid that is certainly not running: a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""]);
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

describe("the data directory lock", { timeout: 60_000 }, () => {
  it("refuses a second process, naming the directory and the holder; a SIGKILLed holder's lock is taken over", async () => {
    const dir = await tempDir();
    const first = holder(dir);
    expect(await first.line).toBe(`locked ${first.child.pid}`);

    const second = holder(dir);
    expect(await second.line).toBe(
      `refused the embedded database in ${dir} is in use by process ${first.child.pid} (one process per DATA_DIR: stop that one, or set another DATA_DIR)`,
    );

    await kill(first.child); // leaves its lock behind
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    const third = holder(dir);
    expect(await third.line).toBe(`locked ${third.child.pid}`);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE), "utf8")).pid).toBe(third.child.pid);
  });

  it("of several processes racing for one stale lock, exactly one takes it over", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), start: "1", token: "stale", host: "x" }));
    // All find the lock stale; then they take it over two by two: the first pair at the same
    // moment, the later pairs after the lock was taken (their finding is out of date).
    const racers = Array.from({ length: 6 }, () => startHolder(dir, true));
    for (const r of racers) await r.next((l) => l === "ready");
    for (const r of racers) r.send("go");
    for (const r of racers) await r.next((l) => l === "stale");
    const lines: string[] = [];
    for (let pair = 0; pair < racers.length; pair += 2) {
      const two = racers.slice(pair, pair + 2);
      for (const r of two) r.send("takeover");
      lines.push(...(await Promise.all(two.map(verdict))));
    }
    const winners = lines.filter((l) => l.startsWith("locked "));
    expect(winners).toHaveLength(1);
    const winner = Number(winners[0]!.split(" ")[1]);
    for (const line of lines.filter((l) => l.startsWith("refused "))) expect(line).toContain(`in use by process ${winner} `);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE), "utf8")).pid).toBe(winner);
    // Nothing left over from the takeover but the lock itself.
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it("a lock naming a running process that started at another time (a reused pid) is stale", async () => {
    const dir = await tempDir();
    // The parent of this test process runs, but it is not the process that wrote this lock.
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, start: "1", token: "reused", host: "x" }));
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid, token: lock.token });
    lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("a lock whose holder was killed but not yet reaped (a zombie) is stale", async () => {
    const dir = await tempDir();
    // The short sleep exits after its parent shell became the long one, which never waits for it: a zombie.
    const parent = spawn("sh", ["-c", "sleep 0.3 & echo $!; exec sleep 60"], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(parent);
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once("data", (d) => resolve(String(d).trim()))));
    const stat = async () => {
      const text = await readFile(`/proc/${zombie}/stat`, "utf8");
      return text.slice(text.lastIndexOf(")") + 2).split(" ");
    };
    for (let i = 0; i < 100 && (await stat())[0] !== "Z"; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await stat())[0]).toBe("Z");
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: zombie, start: (await stat())[19], token: "killed", host: "x" }));
    const lock = await lockDataDir(dir);
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid, token: lock.token });
    lock.release();
  });

  it("a helper's pid keeps the lock alive after its holder died", async () => {
    const dir = await tempDir();
    const helper = holder(await tempDir()); // any live process
    await helper.line;
    const lock = JSON.stringify({ pid: await deadPid(), token: "t", host: "x", helper: { pid: helper.child.pid } });
    await writeFile(path.join(dir, LOCK_FILE), lock);
    await expect(lockDataDir(dir)).rejects.toThrow(new DataDirLockedError(dir, helper.child.pid!));
    await kill(helper.child);
    (await lockDataDir(dir)).release();
  });

  it("the same process cannot open one directory twice, and release leaves another holder's lock alone", async () => {
    const dir = await tempDir();
    const lock = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toThrow(`is in use by process ${process.pid} `);
    lock.release();
    const next = await lockDataDir(dir);
    lock.release(); // a second release of the old lock: nothing
    expect(JSON.parse(await readFile(path.join(dir, LOCK_FILE), "utf8")).token).toBe(next.token);
    next.release();
  });

  it("a lock file this bot did not write is left alone, with a message saying what to do", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, LOCK_FILE), "");
    await expect(lockDataDir(dir)).rejects.toThrow(
      `${path.join(dir, LOCK_FILE)} is not a lock this bot wrote; delete it if no hms-userbot uses ${dir}`,
    );
  });

  it("openDatabase locks an embedded data directory while it is open", async () => {
    const dir = await tempDir();
    const db = await openDatabase({ kind: "pglite", dataDir: dir });
    try {
      const other = holder(dir);
      expect(await other.line).toContain(`is in use by process ${process.pid} `);
    } finally {
      await db.close();
    }
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });
});
