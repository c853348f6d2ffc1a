/** The architecture's import rules, checked on the source text. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const SRC = path.resolve(import.meta.dirname, "../src");

function sources(dir: string): string[] {
  // A platform not built yet (Teams) has no folder and so nothing to check.
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => !f.includes(`${path.sep}generated${path.sep}`));
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)].map((m) => m[1]!);
}

function offenders(dir: string, forbidden: RegExp) {
  return sources(path.join(SRC, dir)).flatMap((file) =>
    imports(file)
      .filter((spec) => forbidden.test(spec))
      .map((spec) => `${path.relative(SRC, file)} imports ${spec}`),
  );
}

describe("architecture boundaries", () => {
  it("src/core imports no platform, database, framework or file-format code (src/csv implements its port)", () => {
    expect(
      offenders(
        "core",
        /^(@slack\/|@microsoft\/|botbuilder|@prisma\/|prisma|pg$|@electric-sql\/|pglite|express|pino|nodemailer|csv-parse)|generated\/prisma|\/(db|platforms|render|csv|chat)\//,
      ),
    ).toEqual([]);
  });

  it("src/csv and src/render stay pure: no platform or database imports", () => {
    const forbidden = /^(@slack\/|@microsoft\/|botbuilder|@prisma\/|pg$|@electric-sql\/)|generated\/prisma|\/(db|platforms|chat)\//;
    expect([...offenders("csv", forbidden), ...offenders("render", forbidden)]).toEqual([]);
  });

  it("src/chat imports only the core, the views and the logger: no platform, database or edge", () => {
    const allowed = (spec: string) => /^(\.\/|\.\.\/(core|render)\/)/.test(spec) || spec === "pino";
    const found = sources(path.join(SRC, "chat")).flatMap((file) =>
      imports(file)
        .filter((spec) => !allowed(spec))
        .map((spec) => `${path.relative(SRC, file)} imports ${spec}`),
    );
    expect(found).toEqual([]);
  });

  it("the Slack and Teams edges never import each other or Prisma", () => {
    expect(offenders("platforms/slack", /platforms\/teams|\.\.\/teams\/|@microsoft\/|botbuilder|@prisma\/|generated\/prisma/)).toEqual([]);
    expect(offenders("platforms/teams", /platforms\/slack|\.\.\/slack\/|@slack\/|@prisma\/|generated\/prisma/)).toEqual([]);
  });

  it("src/config.ts is the only reader of process.env", () => {
    const readers = sources(SRC).filter((f) => /process\.env\b/.test(readFileSync(f, "utf8")));
    expect(readers.map((f) => path.relative(SRC, f))).toEqual(["config.ts"]);
  });
});
