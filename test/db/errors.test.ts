/**
 * Database failures as the core sees them, each produced for real: a deadlock on PostgreSQL
 * (PGlite has one connection, so it cannot deadlock) is DATABASE_BUSY, which callers may try
 * again at once; waiting on the database past a limit (a lock held elsewhere, every connection
 * taken) is DATABASE_UNAVAILABLE, which leaves work to be resumed; a misuse is neither.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, isPassingDatabaseError } from "../../src/core/errors.ts";
import { translatePrismaError } from "../../src/db/errors.ts";
import { databaseKinds, openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from "../helpers/db.ts";

const codeOf = (error: unknown) => {
  const translated = translatePrismaError(error);
  return translated instanceof AppError ? translated.code : undefined;
};
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: unknown) => error,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(databaseKinds)("transaction limits translated (%s)", (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(async () => t?.close());

  it("a transaction that could not start within maxWait (the connections are taken) is DATABASE_UNAVAILABLE", async () => {
    const poolSize = kind === "postgresql" ? 5 : 1;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    const holders = Array.from({ length: poolSize }, () =>
      t.db.prisma.$transaction(
        async () => {
          started++;
          await held;
        },
        { timeout: 10_000, maxWait: 5_000 },
      ),
    );
    while (started < poolSize) await sleep(10);
    // Prisma tells only once it got a connection, late: the holders let go after maxWait.
    setTimeout(release, 500);
    const error = await failureOf(t.db.prisma.$transaction(async () => {}, { timeout: 1_000, maxWait: 200 }));
    await Promise.all(holders);
    expect(error).toMatchObject({ code: "P2028", message: expect.stringContaining("Unable to start a transaction in the given time") });
    expect(codeOf(error)).toBe("DATABASE_UNAVAILABLE");
  });

  it("a transaction used after its commit is a bug, not a passing error", async () => {
    let kept: { $queryRawUnsafe(sql: string): Promise<unknown> } | undefined;
    await t.db.prisma.$transaction(async (tx) => {
      kept = tx;
    });
    const error = await failureOf(kept!.$queryRawUnsafe("SELECT 1"));
    expect(error).toMatchObject({ code: "P2028", message: expect.stringContaining("committed transaction") });
    expect(isPassingDatabaseError(translatePrismaError(error))).toBe(false);
  });
});

describe.runIf(TEST_DATABASE_URL)("PostgreSQL errors translated (postgresql)", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase("postgresql");
    await t.db.sql.exec(
      `INSERT INTO "Group" (id, name, policy, "updatedAt") VALUES (gen_random_uuid(), 'Lock A', 'Default', now()), (gen_random_uuid(), 'Lock B', 'Default', now())`,
    );
  });
  afterAll(async () => t?.close());

  it("a deadlock is DATABASE_BUSY", async () => {
    let locked = 0;
    const bothLocked = async () => {
      locked++;
      while (locked < 2) await new Promise((r) => setTimeout(r, 10));
    };
    const crossing = (first: string, second: string) =>
      t.db.prisma.$transaction(
        async (tx) => {
          await tx.$executeRawUnsafe(`UPDATE "Group" SET policy = 'x' WHERE name = $1`, first);
          await bothLocked();
          await tx.$executeRawUnsafe(`UPDATE "Group" SET policy = 'y' WHERE name = $1`, second);
        },
        { timeout: 20_000 },
      );
    const results = await Promise.allSettled([crossing("Lock A", "Lock B"), crossing("Lock B", "Lock A")]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failures).toHaveLength(1);
    const translated = translatePrismaError(failures[0]!.reason);
    expect(translated).toBeInstanceOf(AppError);
    expect((translated as AppError).code).toBe("DATABASE_BUSY");
  });

  /** Runs `work` while another session holds `LOCK TABLE "Group" IN SHARE MODE`, released `ms` after `work` waits for it. */
  async function whileLocked<T>(ms: number, work: () => Promise<T>): Promise<T> {
    const locker = new pg.Client({ connectionString: t.url });
    await locker.connect();
    try {
      await locker.query(`BEGIN; LOCK TABLE "Group" IN SHARE MODE`);
      const released = (async () => {
        for (;;) {
          const { rows } = await locker.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          if (rows[0].n > 0) break;
          await sleep(20);
        }
        await sleep(ms);
        await locker.query("COMMIT");
      })();
      const [result] = await Promise.all([work(), released]);
      return result;
    } finally {
      await locker.end();
    }
  }
  const insertGroup = (name: string) =>
    `INSERT INTO "Group" (id, name, policy, "updatedAt") VALUES (gen_random_uuid(), '${name}', 'Default', now())`;

  it("a transaction that outlived its timeout waiting on a lock (a later statement, or its commit, fails) is DATABASE_UNAVAILABLE and wrote nothing", async () => {
    for (const more of [true, false]) {
      const name = `Stalled ${more}`;
      const error = await whileLocked(1_500, () =>
        failureOf(
          t.db.prisma.$transaction(
            async (tx) => {
              await tx.$executeRawUnsafe(insertGroup(name));
              if (more) await tx.$queryRawUnsafe("SELECT 1");
            },
            { timeout: 500 },
          ),
        ),
      );
      expect(error).toMatchObject({ code: "P2028", message: expect.stringContaining("expired transaction") });
      expect(codeOf(error)).toBe("DATABASE_UNAVAILABLE");
      expect(await t.db.sql.query(`SELECT 1 FROM "Group" WHERE name = $1`, [name])).toEqual([]);
    }
  });

  it("PostgreSQL's lock_timeout is DATABASE_UNAVAILABLE", async () => {
    const error = await whileLocked(1_000, () =>
      failureOf(
        t.db.prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe("SET LOCAL lock_timeout = '200ms'");
          await tx.$executeRawUnsafe(insertGroup("Lock timeout"));
        }),
      ),
    );
    expect(codeOf(error)).toBe("DATABASE_UNAVAILABLE");
  });

  it("no connection from the pool in time (pg: timeout exceeded when trying to connect) is DATABASE_UNAVAILABLE", async () => {
    const pool = new pg.Pool({ connectionString: t.url, max: 1, connectionTimeoutMillis: 200 });
    const taken = await pool.connect();
    try {
      const error = await failureOf(pool.query("SELECT 1"));
      expect(error).toMatchObject({ message: "timeout exceeded when trying to connect" });
      expect(codeOf(error)).toBe("DATABASE_UNAVAILABLE");
    } finally {
      taken.release();
      await pool.end();
    }
  });
});
