/**
 * One process per embedded-database directory. Two PGlite processes on one data directory
 * corrupt it, so whoever opens DATA_DIR first holds `hms-userbot.lock` inside it until it
 * closes the database; another process refuses to start, naming the holder. A lock left by a
 * killed process is taken over: its holder is identified by pid *and* start time, so a reused
 * pid does not keep it alive.
 *
 * Every change is atomic: a lock appears complete (hard link of a written file), is replaced
 * whole (rename), and a stale one is taken over by exactly one process (the one that creates
 * the claim named after that lock's random token).
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "hms-userbot.lock";

// A claim older than this belongs to a process that died in the microseconds between taking
// over and replacing the lock: it is removed so start-up is not blocked for ever.
const ABANDONED_CLAIM_MS = 10_000;

interface ProcessId {
  pid: number;
  /** Start time in clock ticks since boot (Linux); absent where it cannot be read. */
  start?: string;
}

interface LockRecord extends ProcessId {
  token: string;
  host: string;
  /** A short-lived helper working on the directory for the holder (initdb, migrations). */
  helper?: ProcessId;
}

/** A held lock on a data directory. */
export interface DataDirLock {
  readonly dir: string;
  readonly token: string;
  /** Records (or, with undefined, clears) a helper process that works on the directory meanwhile. */
  setHelper(pid: number | undefined): void;
  /** Removes the lock if it is still this one; later calls do nothing. */
  release(): void;
}

/** Another live process holds the directory; the message is one line for the operator. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the embedded database in ${dir} is in use by process ${pid} (one process per DATA_DIR: stop that one, or set another DATA_DIR)`);
    this.name = "DataDirLockedError";
  }
}

/**
 * Takes the lock on `dir` (created if missing), taking over a stale one; throws
 * DataDirLockedError if held. `beforeTakeOver` (tests) runs between finding a lock stale and
 * taking it over: the window in which racing processes meet.
 */
export async function lockDataDir(dir: string, { beforeTakeOver }: { beforeTakeOver?: () => Promise<void> } = {}): Promise<DataDirLock> {
  await mkdir(dir, { recursive: true });
  const lockPath = path.join(dir, LOCK_FILE);
  const me: LockRecord = { ...thisProcess(), token: randomBytes(16).toString("hex"), host: hostname() };
  const pending = `${lockPath}.${me.token}`;
  writeDurably(pending, me, "wx");
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(pending, lockPath); // atomic: nobody ever reads a half-written lock
        return held(dir, lockPath, me);
      } catch (error) {
        if (code(error) !== "EEXIST") throw error;
      }
      const current = readLock(lockPath);
      if (current === "gone") continue; // released meanwhile
      if (current === "unreadable") {
        throw new Error(`${lockPath} is not a lock this bot wrote; delete it if no hms-userbot uses ${dir}`);
      }
      const holder = liveHolder(current);
      if (holder !== undefined) throw new DataDirLockedError(dir, holder);
      await beforeTakeOver?.();
      if (takeOver(lockPath, current.token, pending)) return held(dir, lockPath, me);
      if (attempt >= 50) throw new Error(`could not take over the stale lock ${lockPath}; delete it if no hms-userbot uses ${dir}`);
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  } finally {
    try {
      unlinkSync(pending);
    } catch {
      // renamed into place by takeOver
    }
  }
}

/**
 * The lock of the parent process, for a helper it started to work on the directory (the
 * parent keeps it and releases it). Throws unless the directory is locked with `token`.
 */
export function adoptDataDirLock(dir: string, token: string): DataDirLock {
  const current = readLock(path.join(dir, LOCK_FILE));
  if (typeof current === "string" || current.token !== token)
    throw new Error(`${dir} is not locked by the process that started this helper`);
  return { dir, token, setHelper: () => {}, release: () => {} };
}

/**
 * Replaces the stale lock whose token is `staleToken` with `pending`, unless another process
 * is doing so: the claim `<lock>.takeover-<token>` can be created by one process only.
 */
function takeOver(lockPath: string, staleToken: string, pending: string): boolean {
  const claim = `${lockPath}.takeover-${staleToken}`;
  try {
    linkSync(lockPath, claim);
  } catch (error) {
    if (code(error) === "EEXIST") removeIfAbandoned(claim);
    return false; // EEXIST: someone else is taking over; ENOENT: the lock went meanwhile
  }
  try {
    // The claim is a link to whatever the lock was when we linked it: if that is no longer
    // the stale lock (another process took over and finished meanwhile), step back.
    const linked = readLock(claim);
    if (typeof linked === "string" || linked.token !== staleToken) return false;
    renameSync(pending, lockPath);
    return true;
  } finally {
    unlinkSync(claim);
  }
}

function removeIfAbandoned(claim: string): void {
  try {
    if (Date.now() - statSync(claim).mtimeMs > ABANDONED_CLAIM_MS) unlinkSync(claim);
  } catch {
    // gone already
  }
}

function held(dir: string, lockPath: string, me: LockRecord): DataDirLock {
  let released = false;
  const write = (record: LockRecord) => {
    const next = `${lockPath}.${record.token}.next`;
    writeDurably(next, record, "w");
    renameSync(next, lockPath);
  };
  return {
    dir,
    token: me.token,
    setHelper(pid) {
      if (released) return;
      write(pid === undefined ? me : { ...me, helper: { pid, start: startTime(pid) } });
    },
    release() {
      if (released) return;
      released = true;
      const current = readLock(lockPath);
      if (typeof current !== "string" && current.token === me.token) unlinkSync(lockPath);
    },
  };
}

// On disk before it is linked or renamed into place: after a power cut the lock is whole or absent.
function writeDurably(file: string, record: LockRecord, flag: "w" | "wx"): void {
  const fd = openSync(file, flag);
  try {
    writeSync(fd, JSON.stringify(record));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readLock(file: string): LockRecord | "gone" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (code(error) === "ENOENT") return "gone";
    throw error;
  }
  try {
    const record = JSON.parse(text) as Partial<LockRecord>;
    if (typeof record.pid === "number" && typeof record.token === "string") return record as LockRecord;
  } catch {
    // falls through
  }
  return "unreadable";
}

/** The pid of the lock's holder or of its helper if either is still running, else undefined. */
function liveHolder(record: LockRecord): number | undefined {
  for (const id of [record, record.helper]) if (id && isRunning(id)) return id.pid;
  return undefined;
}

/** True if the process `id` names still runs: same pid and, where known, same start time. */
function isRunning({ pid, start }: ProcessId): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // This very process (a second open of the same directory), or a process of an earlier
  // container that had the same pid.
  if (pid === process.pid) return start === undefined || start === startTime(pid);
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (code(error) !== "EPERM") return false; // ESRCH: no such process
  }
  // A killed bot stays a zombie until its parent (or an init that reaps lazily) collects it; it
  // answers kill(0) but holds nothing: dead.
  const stat = procStat(pid);
  if (stat?.state === "Z" || stat?.state === "X") return false;
  // A pid alone may have been reused (a new container starts from pid 1 again): the start time
  // tells the bot that locked the directory from whatever runs under its pid now.
  const now = stat?.start;
  return start === undefined || now === undefined || now === start;
}

function thisProcess(): ProcessId {
  return { pid: process.pid, start: startTime(process.pid) };
}

/** The start time of a process (Linux), undefined where /proc does not tell. */
function startTime(pid: number): string | undefined {
  return procStat(pid)?.start;
}

/** Fields 3 (state) and 22 (start time) of /proc/<pid>/stat, after the command name, which may contain anything. */
function procStat(pid: number): { state: string; start: string | undefined } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", start: fields[19] };
  } catch {
    return undefined;
  }
}

function code(error: unknown): string | undefined {
  return (error as { code?: string })?.code;
}
