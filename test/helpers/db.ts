/**
 * Test databases: a fresh in-memory PGlite per call, and, when TEST_DATABASE_URL is set, a
 * fresh PostgreSQL database per call, dropped on close. Both migrated with the app's migrator.
 */
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { type Core, createCore } from "../../src/core/index.ts";
import type { Store } from "../../src/core/ports.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { type Database, type DatabaseKind, openDatabase } from "../../src/db/database.ts";
import { applyMigrations } from "../../src/db/migrate.ts";
import { createStore } from "../../src/db/store.ts";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** The database kinds every database test runs on. */
export const databaseKinds: DatabaseKind[] = TEST_DATABASE_URL ? ["pglite", "postgresql"] : ["pglite"];

export interface TestDatabase {
  kind: DatabaseKind;
  db: Database;
  store: Store;
  core: Core;
  /** Connection URL of the fresh PostgreSQL database (postgresql only). */
  url?: string;
  /** The core's clock; tests move it to exercise expiry. */
  clock: { now: Date };
  close(): Promise<void>;
}

/** A URL of the same server as TEST_DATABASE_URL with another database name. */
export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Creates an empty PostgreSQL database on the test server; returns its URL and a dropper. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error("TEST_DATABASE_URL is not set");
  const name = `hms_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabaseName(TEST_DATABASE_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Opens a fresh, migrated database of the given kind. */
export async function openTestDatabase(kind: DatabaseKind, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  let db: Database;
  let url: string | undefined;
  let drop = async () => {};
  if (kind === "postgresql") {
    const created = await createPostgresDatabase();
    url = created.url;
    drop = created.drop;
    db = await openDatabase({ kind: "postgresql", url, poolSize: 5 });
  } else {
    db = await openDatabase({ kind: "pglite", instance: await PGlite.create() });
  }
  if (options.migrate !== false) await applyMigrations(db);
  const store = createStore(db);
  const clock = { now: new Date("2026-11-24T12:00:00Z") };
  return {
    clock,
    kind,
    db,
    store,
    url,
    core: createCore({ files: csvImportFormat, store, now: () => clock.now }),
    async close() {
      await db.close();
      await drop();
    },
  };
}

export type { Core };
