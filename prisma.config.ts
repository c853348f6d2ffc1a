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
    const { PGlite } = await import("@electric-sql/pglite");
    const { PrismaPGlite } = await import("pglite-prisma-adapter");
    return new PrismaPGlite(new PGlite(process.env.DATA_DIR ?? "./data"));
  },
});
