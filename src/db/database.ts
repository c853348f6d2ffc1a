import { mkdir } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { PGLITE_OPTIONS } from "./pglite-options.ts";

export type DatabaseKind = "pglite" | "postgresql";

/** Raw SQL access beside Prisma: migrations and set-based bulk statements. */
export interface SqlRunner {
  /** Runs a script of one or more statements (no parameters). */
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** An open database: the Prisma client, raw SQL, and how to close both. */
export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  sql: SqlRunner;
  /**
   * Bulk load outside any transaction: `csv` (CSV text, one line per row, NULL as an unquoted
   * empty cell) into `table (columns)` with one COPY. PostgreSQL: COPY FROM STDIN on a pooled
   * connection; PGlite: COPY FROM '/dev/blob'.
   */
  copy(table: string, columns: readonly string[], csv: string): Promise<void>;
  /** Runs `work` holding an exclusive, cross-process lock (PostgreSQL advisory lock). */
  withExclusiveLock<T>(key: number, work: (sql: SqlRunner) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { kind: "postgresql"; url: string; poolSize?: number }
  /**
   * A data directory, locked for this process while it is open (see data-dir-lock.ts). With
   * `lock`, the caller holds the lock already and releases it itself.
   */
  | { kind: "pglite"; dataDir: string; lock?: DataDirLock }
  /** An existing PGlite instance (tests: in-memory, cloned); closed with the database. */
  | { kind: "pglite"; instance: PGlite };

/** Opens PostgreSQL (`url`) or embedded PGlite (`dataDir`, created if missing). */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.kind === "postgresql" ? openPostgres(options.url, options.poolSize) : openPglite(options);
}

async function openPostgres(url: string, poolSize = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client that errors (server restart) must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseUnreachableError(describeUrl(url), error);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const sqlFor = (client: pg.Pool | pg.PoolClient): SqlRunner => ({
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
  });
  return {
    kind: "postgresql",
    prisma,
    sql: sqlFor(pool),
    async copy(table, columns, csv) {
      const client = await pool.connect();
      let failed: unknown;
      try {
        await pipeline(Readable.from([csv]), client.query(copyFrom(copyStatement(table, columns, "STDIN"))));
      } catch (error) {
        failed = error;
        throw error;
      } finally {
        // A connection whose COPY failed part-way is not handed out again.
        client.release(failed instanceof Error ? failed : undefined);
      }
    },
    async withExclusiveLock(key, work) {
      const client = await pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock($1)", [key]);
        try {
          return await work(sqlFor(client));
        } finally {
          await client.query("SELECT pg_advisory_unlock($1)", [key]);
        }
      } finally {
        client.release();
      }
    },
    ping: (timeoutMs = 2_000) =>
      withTimeout(
        pool.query("SELECT 1").then(() => {}),
        timeoutMs,
      ),
    close: once(async () => {
      await prisma.$disconnect();
      await pool.end();
    }),
  };
}

export { PGLITE_OPTIONS };

async function openPglite(options: { dataDir: string; lock?: DataDirLock } | { instance: PGlite }): Promise<Database> {
  let pglite: PGlite;
  let ownLock: DataDirLock | undefined;
  if ("instance" in options) pglite = options.instance;
  else {
    const { dataDir } = options;
    // memory://, idb:// …: nothing on disk that another process could open.
    const onDisk = dataDir.startsWith("file://") ? dataDir.slice("file://".length) : dataDir.includes("://") ? undefined : dataDir;
    if (onDisk !== undefined) {
      if (options.lock) await mkdir(onDisk, { recursive: true });
      else ownLock = await lockDataDir(onDisk);
    }
    try {
      pglite = await PGlite.create(dataDir, PGLITE_OPTIONS);
    } catch (error) {
      ownLock?.release();
      throw new DatabaseUnreachableError(`the embedded database in ${dataDir}`, error);
    }
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  let lockTail: Promise<unknown> = Promise.resolve();
  const sql: SqlRunner = {
    exec: async (text) => {
      await pglite.exec(text);
    },
    query: async <T>(text: string, params?: unknown[]) => (await pglite.query<T>(text, params)).rows,
  };
  return {
    kind: "pglite",
    prisma,
    sql,
    async copy(table, columns, csv) {
      await pglite.query(copyStatement(table, columns, "'/dev/blob'"), [], { blob: new Blob([csv]) });
    },
    // One process owns a PGlite data dir, so an in-process lock is all that is needed.
    withExclusiveLock: (_key, work) => {
      const run = lockTail.then(() => work(sql));
      lockTail = run.catch(() => {});
      return run;
    },
    ping: (timeoutMs = 2_000) =>
      withTimeout(
        pglite.query("SELECT 1").then(() => {}),
        timeoutMs,
      ),
    close: once(async () => {
      try {
        await prisma.$disconnect();
        if (!pglite.closed) await pglite.close();
      } finally {
        ownLock?.release();
      }
    }),
  };
}

const copyStatement = (table: string, columns: readonly string[], source: string) =>
  `COPY "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) FROM ${source} WITH (FORMAT csv)`;

/** The database could not be reached or opened; the message is one line for the operator. */
export class DatabaseUnreachableError extends Error {
  constructor(where: string, cause: unknown) {
    super(`cannot open ${where}: ${oneLine(cause)}`, { cause });
    this.name = "DatabaseUnreachableError";
  }
}

/** A connection URL with its password removed, for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    // pg also takes secrets as parameters (?password=…, ?sslpassword=…).
    for (const key of [...u.searchParams.keys()]) if (/pass/i.test(key)) u.searchParams.set(key, "***");
    return `PostgreSQL at ${u.toString()}`;
  } catch {
    return "PostgreSQL (DATABASE_URL is not a valid URL)";
  }
}

function oneLine(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return oneLine(error.errors[0]);
  const text = error instanceof Error ? error.message || error.name : String(error);
  const code = (error as { code?: unknown })?.code;
  const line = text.split("\n")[0] ?? "";
  return typeof code === "string" && !line.includes(code) ? `${line} (${code})` : line;
}

/** Runs `close` the first time; later calls get the same promise. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
