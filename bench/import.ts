/**
 * Import benchmark: a 150,000-row file (accents and CJK names, ~5% bad rows, in-file
 * duplicates, some emails already taken) against a directory of 100,000 users, on PGlite and,
 * when DATABASE_URL is set, on PostgreSQL (in a scratch database created and dropped on that
 * server). Prints each phase's seconds, rows/s and peak RSS, and a COPY of the same users as
 * the physical-limit reference.
 *
 * The parent writes the file to disk and makes a scratch database; for each database a first
 * child process fills it (migrations, groups, the users already there), a second times the
 * phases in isolation (parse+validate, duplicate check), and a third does exactly what the
 * bot does (open the database as the bot does, read the upload, stage it, create the
 * accounts) with the Node flags of `npm start`: its idle and peak RSS are the bot's.
 *
 *   npm run bench:import                                   # PGlite
 *   DATABASE_URL=postgresql://postgres@127.0.0.1/postgres npm run bench:import
 *   ROWS=1000 EXISTING=1000 npm run bench:import           # a smaller run
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { createCore } from "../src/core/index.ts";
import { csvImportFormat } from "../src/csv/index.ts";
import { readCsv } from "../src/csv/read.ts";
import { createRowValidator } from "../src/csv/validate.ts";
import { type Database, PGLITE_OPTIONS } from "../src/db/database.ts";
import { openMigratedDatabase } from "../src/db/open.ts";
import { createStore } from "../src/db/store.ts";
import { GROUPS, generateFile, seedExistingUsers } from "./data.ts";

type Kind = "pglite" | "postgresql";

const ROWS = Number(process.env.ROWS ?? 150_000);
const EXISTING = Number(process.env.EXISTING ?? 100_000);
const ADMIN = { email: "bench.admin@corp.example.org", platform: "slack" as const };
const APPROVER = { email: "bench.approver@corp.example.org", platform: "slack" as const };
const TARGETS: Record<Kind, { summary?: number; create: number; rss: number }> = {
  postgresql: { summary: 5, create: 8, rss: 450 },
  pglite: { create: 12, rss: 600 },
};

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
// This process's CPU time (user + system) since `since`: steadier than the clock on a busy machine.
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
};
const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Where a scratch database is: a PostgreSQL URL or a PGlite data directory. */
type Target = { kind: "postgresql"; url: string } | { kind: "pglite"; dataDir: string };

/** Parent: an empty scratch database (a PostgreSQL database on that server, or a directory) and its disposal. */
async function createScratch(kind: Kind): Promise<{ target: Target; dispose(): Promise<void> }> {
  if (kind === "pglite") {
    const dir = await mkdtemp(path.join(tmpdir(), "hms-bench-"));
    return { target: { kind, dataDir: path.join(dir, "data") }, dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const name = `hms_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = `/${name}`;
  return {
    target: { kind, url: u.toString() },
    async dispose() {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** The scratch database, opened and migrated as the bot opens it. */
async function open(target: Target): Promise<Database> {
  return (await openMigratedDatabase(target)).db;
}

/** Child: migrates the scratch database and adds the groups, two Administrators and EXISTING users. */
async function seed(target: Target): Promise<Record<string, number>> {
  const db = await open(target);
  try {
    const core = createCore({ files: csvImportFormat, store: createStore(db), now: () => new Date() });
    await core.ensureBootstrapAdmins({ emails: [ADMIN.email, APPROVER.email] });
    for (const name of GROUPS) await core.addGroup({ actor: ADMIN, input: { name } });
    await seedExistingUsers(db, EXISTING);
    return {};
  } finally {
    await db.close();
  }
}

/** Child: parse+validate alone, then the duplicate check alone. */
async function phases(target: Target, file: string): Promise<Record<string, number>> {
  const bytes = new Uint8Array(await readFile(file));
  const db = await open(target);
  try {
    const groups = await db.prisma.group.findMany();
    let start = process.hrtime.bigint();
    const reader = await readCsv(bytes);
    const validator = createRowValidator({ groups, existingUsers: async () => new Map() });
    const emails: string[][] = [];
    for await (const chunk of reader.chunks(5_000)) {
      await validator.validate(chunk);
      emails.push(chunk.map((r) => r.fields.email.trim().toLowerCase()));
    }
    const parseValidate = seconds(start);
    const store = createStore(db);
    start = process.hrtime.bigint();
    let found = 0;
    for (const chunk of emails) found += (await store.imports.existingUsers(chunk)).size;
    return { parseValidate, duplicateCheck: seconds(start), found };
  } finally {
    await db.close();
  }
}

// COPY of the created users into a table shaped like "User" (same columns, defaults, indexes
// and checks), so both paths pay for the unique email index.
const COPY_COLUMNS = `"email", "name", "role", "groupId", "exchangeDomain", "exchangeUsername", "source", "createdBy"`;

async function copyReference(db: Database, target: Target, batchId: string): Promise<number> {
  await db.sql.exec(`CREATE TABLE bench_copy (LIKE "User" INCLUDING ALL)`);
  const select = `SELECT ${COPY_COLUMNS} FROM "User" WHERE "importBatchId" = '${batchId}'`;
  if (target.kind === "pglite") {
    // On PGlite the database is this process's: reopen the directory as a bare PGlite.
    await db.close();
    const pglite = await PGlite.create(target.dataDir, PGLITE_OPTIONS);
    try {
      const out = await pglite.query(`COPY (${select}) TO '/dev/blob' WITH (FORMAT csv)`);
      const start = process.hrtime.bigint();
      await pglite.query(`COPY bench_copy (${COPY_COLUMNS}) FROM '/dev/blob' WITH (FORMAT csv)`, [], { blob: out.blob });
      return seconds(start);
    } finally {
      await pglite.close();
    }
  }
  const rows = await db.sql.query<Record<string, string | null>>(select);
  const csv = `${rows
    .map((r) =>
      Object.values(r)
        .map((v) => (v === null ? "" : `"${String(v).replace(/"/g, '""')}"`))
        .join(","),
    )
    .join("\n")}\n`;
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  const start = process.hrtime.bigint();
  await pipeline(Readable.from([csv]), client.query(copyFrom(`COPY bench_copy (${COPY_COLUMNS}) FROM STDIN WITH (FORMAT csv)`)));
  const took = seconds(start);
  await client.end();
  return took;
}

/** Child: what the bot does with an upload, start to finish; its peak RSS is the bot's. */
async function bot(target: Target, file: string): Promise<Record<string, number>> {
  const db = await open(target);
  try {
    const core = createCore({ files: csvImportFormat, store: createStore(db), now: () => new Date() });
    const rssIdle = Math.round(process.memoryUsage().rss / 1048576);
    let start = process.hrtime.bigint();
    let cpu = process.cpuUsage();
    const bytes = new Uint8Array(await readFile(file)); // the download
    const chunkSize = process.env.STAGE_CHUNK ? Number(process.env.STAGE_CHUNK) : undefined; // default: the bot's
    const { batch } = await core.stageImport({ actor: ADMIN, file: { name: "bench.csv", bytes }, chunkSize });
    const staged = seconds(start);
    const stagedCpu = cpuSeconds(cpu);
    const rssStaged = peakMb();
    await core.submitImport({ actor: ADMIN, batchId: batch.id });
    await core.approveImport({ actor: APPROVER, batchId: batch.id, sha256Prefix: batch.sha256.slice(0, 12) });
    start = process.hrtime.bigint();
    cpu = process.cpuUsage();
    const { batch: created } = await core.createAccounts({ actor: APPROVER, batchId: batch.id });
    const create = seconds(start);
    const createCpu = cpuSeconds(cpu);
    const rssCreated = peakMb();
    const copy = await copyReference(db, target, batch.id);
    return {
      staged,
      stagedCpu,
      create,
      createCpu,
      copy,
      ready: batch.readyRows,
      attention: batch.attentionRows,
      created: created.createdRows,
      rssIdle,
      rssStaged,
      rssCreated,
    };
  } finally {
    await db.close();
  }
}

// The bot child runs with the Node flags of `npm start` (its heap cap), as the bot does.
const START_FLAGS = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).scripts.start as string)
  .split(" ")
  .filter((arg) => arg.startsWith("--max-") && !arg.startsWith("--import")); // the heap flags

type Role = "seed" | "phases" | "bot";

function child(role: Role, target: Target, file: string): Record<string, number> {
  const flags = role === "bot" ? START_FLAGS : [];
  const run = spawnSync(
    process.execPath,
    [...flags, "--import", "tsx", fileURLToPath(import.meta.url), role, JSON.stringify(target), file],
    {
      env: process.env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 20,
    },
  );
  if (run.status !== 0) throw new Error(`${role} on ${target.kind} failed (exit ${run.status})`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
}

const [role, targetJson, file] = process.argv.slice(2) as [Role | undefined, string, string];
if (role) {
  const target = JSON.parse(targetJson) as Target;
  const result = await { seed, phases, bot }[role](target, file);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const dir = await mkdtemp(path.join(tmpdir(), "hms-bench-file-"));
  const path_ = path.join(dir, "users.csv");
  const generated = generateFile(ROWS, { existing: EXISTING });
  await writeFile(path_, generated.text);
  const f = (s: number) => `${s.toFixed(2)} s`.padEnd(9);
  try {
    console.log(
      `file: ${ROWS.toLocaleString("en")} rows, ${(Buffer.byteLength(generated.text) / 1e6).toFixed(1)} MB; ${generated.bad} bad, ` +
        `${generated.duplicates} in-file duplicates, ${generated.taken} already among the ${EXISTING.toLocaleString("en")} users in the directory\n`,
    );
    for (const k of ["pglite", ...(process.env.DATABASE_URL ? ["postgresql"] : [])] as Kind[]) {
      const scratch = await createScratch(k);
      let p: Record<string, number>;
      let b: Record<string, number>;
      try {
        child("seed", scratch.target, path_);
        p = child("phases", scratch.target, path_);
        b = child("bot", scratch.target, path_);
      } finally {
        await scratch.dispose();
      }
      const t = TARGETS[k];
      const persist = Math.max(0, b.staged! - p.parseValidate! - p.duplicateCheck!);
      console.log(
        `${[
          `database: ${k}   (verdict: ${b.ready} ready, ${b.attention} need attention; the duplicate check found ${p.found})`,
          `  parse+validate   ${f(p.parseValidate!)}`,
          `  duplicate check  ${f(p.duplicateCheck!)}`,
          `  batch persist    ${f(persist)}(the rest of upload→summary)`,
          `  upload→summary   ${f(b.staged!)}(the bot's CPU: ${b.stagedCpu!.toFixed(2)} s)${t.summary ? `; target ≤ ${t.summary} s` : ""}`,
          `  create accounts  ${f(b.create!)}(the bot's CPU: ${b.createCpu!.toFixed(2)} s); ${Math.round(b.created! / b.create!).toLocaleString("en")} rows/s, ${b.created} created; target ≤ ${t.create} s`,
          `  COPY reference   ${f(b.copy!)}${Math.round(b.created! / b.copy!).toLocaleString("en")} rows/s into a table like "User"; creation is ${(b.create! / b.copy!).toFixed(1)}× COPY`,
          `  bot RSS          idle ${b.rssIdle} MB (database open, before the upload); peak ${b.rssStaged} MB after staging, ${b.rssCreated} MB after creation; target ≤ ${t.rss} MB`,
        ].join("\n")}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
