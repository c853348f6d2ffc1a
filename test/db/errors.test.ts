/**
 * Database failures as the core sees them: a real deadlock on PostgreSQL (PGlite has one
 * connection, so it cannot deadlock) is DATABASE_BUSY, which callers may try again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/errors.ts";
import { translatePrismaError } from "../../src/db/errors.ts";
import { openTestDatabase, TEST_DATABASE_URL, type TestDatabase } from "../helpers/db.ts";

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
});
