// Prisma CLI configuration (generate, migrate deploy/status/diff). The application itself
// does not use this file: src/db opens its own client and applies migrations at start.
//
// The JS schema engine needs no native binaries; pointing these at /dev/null stops the CLI
// from trying to download them (these machines reach only the npm registry).
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= "/dev/null";
process.env.PRISMA_QUERY_ENGINE_LIBRARY ??= "/dev/null";

import path from "node:path";
import { defineConfig } from "prisma/config";

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  async adapter() {
    const url = process.env.DATABASE_URL;
    if (url) {
      const { default: pg } = await import("pg");
      const { PrismaPg } = await import("@prisma/adapter-pg");
      // adapter-pg 6.x cannot decode the catalog type `name` (oid 19) that the schema engine
      // reads (prisma/orm#27403, fixed only in the 7.x adapter): report it as text (oid 25).
      class CatalogSafePool extends pg.Pool {
        // biome-ignore lint/suspicious/noExplicitAny: pg.Pool.query's overloads cannot be forwarded with their types
        override query(...args: any[]): any {
          // biome-ignore lint/suspicious/noExplicitAny: pg.Pool.query's overloads cannot be forwarded with their types
          const result = (super.query as any)(...args);
          if (result && typeof result.then === "function") {
            return result.then((res: import("pg").QueryResult) => {
              for (const field of res?.fields ?? []) if (field.dataTypeID === 19) field.dataTypeID = 25;
              return res;
            });
          }
          return result;
        }
      }
      return new PrismaPg(new CatalogSafePool({ connectionString: url }));
    }
    embedded ??= openEmbedded(process.env.DATA_DIR ?? "./data");
    return embedded;
  },
});

// The CLI asks for the adapter more than once per command: one PGlite for them all, as two on
// one data directory would corrupt it.
let embedded: Promise<import("pglite-prisma-adapter").PrismaPGlite> | undefined;

/**
 * PGlite over DATA_DIR, opened like the bot opens it and under the same lock (the CLI refuses
 * while the bot runs). The CLI never disposes of its adapter and waits for the event loop to
 * empty: PGlite is closed (its files flushed) when nothing else is left to do.
 */
async function openEmbedded(dataDir: string) {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PrismaPGlite } = await import("pglite-prisma-adapter");
  const { lockDataDir } = await import("./src/db/data-dir-lock.ts");
  const { PGLITE_OPTIONS } = await import("./src/db/pglite-options.ts");
  const lock = await lockDataDir(dataDir);
  process.once("exit", () => lock.release());
  let pglite: InstanceType<typeof PGlite>;
  try {
    pglite = await PGlite.create(dataDir, PGLITE_OPTIONS);
  } catch (error) {
    lock.release();
    throw error;
  }
  process.once("beforeExit", () => {
    void pglite.close().finally(() => lock.release());
  });
  return new PrismaPGlite(pglite);
}
