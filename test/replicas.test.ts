/**
 * Two replicas of the real app (npm start's command) on one PostgreSQL database, behind one
 * fake Slack: the clicks of one import go alternately to both, and the replica creating its
 * accounts is killed with SIGKILL mid-way. The survivor's background job resumes the batch
 * once the dead worker's lease has expired; every ready row becomes exactly one account, and
 * the messages end in the right state.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createCore } from "../src/core/index.ts";
import { csvImportFormat } from "../src/csv/index.ts";
import { type Database, openDatabase } from "../src/db/database.ts";
import { applyMigrations } from "../src/db/migrate.ts";
import { createStore } from "../src/db/store.ts";
import { IMPORT_ACTIONS } from "../src/render/import-views.ts";
import { csvFile, validRows } from "./helpers/csv.ts";
import { createPostgresDatabase, TEST_DATABASE_URL } from "./helpers/db.ts";
import { FakeSlack, type RecordedCall } from "./helpers/fake-slack.ts";
import { SLACK_USERS } from "./helpers/slack-app.ts";
import {
  blockActionsPayload,
  eventBody,
  fileSharePayload,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  type SlackAnswer,
} from "./helpers/slack-requests.ts";
import { startCommand } from "./helpers/start-command.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
/** Six chunks of 5,000 (CREATION_CHUNK): the kill lands inside the third, the first two committed. */
const ROWS = 30_000;
const PREFIX = "replica";
const [ada, bob] = [SLACK_USERS.admin, SLACK_USERS.otherAdmin];

interface Replica {
  name: string;
  child: ChildProcess;
  /** The JSON log lines it printed so far. */
  logs: Record<string, unknown>[];
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  eventsUrl: string;
}

// Every replica started, so none outlives the test, whatever happens (each leads its own process group).
const started = new Set<ChildProcess>();
const killAll = () => {
  for (const child of started) {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
};
process.once("exit", killAll); // the test runner's worker going away abruptly

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs` saying what it waited for. */
async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  diagnose = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${diagnose()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `npm start`'s command itself (no npm in between, so SIGKILL reaches the app), on `env` alone. */
async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const [command, ...args] = startCommand();
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let out = "";
  let partial = "";
  const logs: Record<string, unknown>[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    out += d;
    const lines = (partial + d.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.on("data", (d) => (out += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      started.delete(child);
      resolve({ code, signal });
    }),
  );
  const output = () => out;
  const port = await until(
    `replica ${name} to listen`,
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica ${name} ended before it listened:\n${out}`);
      return logs.find((l) => l.msg === "listening")?.port as number | undefined;
    },
    90_000,
    () => `; it printed:\n${out}`,
  );
  await until(
    `replica ${name} to be ready`,
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica ${name} ended before it was ready:\n${out}`);
      return logs.some((l) => l.msg === "ready") || undefined;
    },
    90_000,
    () => `; it printed:\n${out}`,
  );
  return { name, child, logs, output, exit, eventsUrl: `http://127.0.0.1:${port}/slack/events` };
}

type Bk = { type: string; fields?: { text: string }[]; elements?: { action_id?: string; value?: string }[] };
const blocksOf = (call: RecordedCall) => (call.args.blocks ?? []) as Bk[];
const buttonsOf = (call: RecordedCall) =>
  blocksOf(call)
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({ id: e.action_id!, value: e.value }));
const fieldsOf = (call: RecordedCall) =>
  Object.fromEntries(
    blocksOf(call)
      .flatMap((b) => b.fields ?? [])
      .map((f) => /^\*(.+)\*\n(.*)$/s.exec(f.text)!.slice(1, 3) as [string, string]),
  );

describe("two replicas on one PostgreSQL database", () => {
  let fake: FakeSlack | undefined;
  let db: Database | undefined;
  let drop: (() => Promise<void>) | undefined;
  let holder: pg.Client | undefined;
  const replicas: Replica[] = [];

  afterAll(async () => {
    killAll();
    await Promise.all(replicas.map((r) => r.exit));
    await holder?.end().catch(() => {});
    await db?.close();
    await drop?.();
    await fake?.close();
  });

  it("the replica creating the accounts is killed mid-way: the other finishes the batch, each ready row one account, and the messages end right", {
    timeout: 300_000,
  }, async ({ skip }) => {
    skip(!TEST_DATABASE_URL, "TEST_DATABASE_URL is not set: replicas share a PostgreSQL database (PGlite serves one process)");
    const database = await createPostgresDatabase();
    drop = database.drop;
    // The directory the import needs: migrated, two Administrators and the group (the replicas find them there).
    db = await openDatabase({ kind: "postgresql", url: database.url, poolSize: 2 });
    await applyMigrations(db);
    const core = createCore({ files: csvImportFormat, store: createStore(db), now: () => new Date() });
    await core.ensureBootstrapAdmins({ emails: [ada.email, bob.email] });
    await core.addGroup({ actor: { email: ada.email, platform: "slack" }, input: { name: "Finance" } });

    fake = await FakeSlack.start();
    for (const u of [ada, bob]) fake.addUser({ id: u.id, email: u.email, name: u.name });
    const env = {
      DATABASE_URL: database.url,
      PORT: "0",
      SLACK_BOT_TOKEN: "xoxb-hms-replicas",
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      BOOTSTRAP_ADMINS: `${ada.email},${bob.email}`,
      APPROVAL_POLICY: "always",
    };
    const [a, b] = await Promise.all([startReplica("A", env), startReplica("B", env)]);
    replicas.push(a!, b!);
    const logsOf = () => replicas.map((r) => `\n--- replica ${r.name} ---\n${r.output().split("\n").slice(-40).join("\n")}`).join("");
    const batchRow = async (id: string) => db!.prisma.importBatch.findUniqueOrThrow({ where: { id } });
    let clicks = 0;
    const click = async (replica: Replica, actionId: string, value: string, user: string, messageTs: string, threadTs?: string) => {
      const n = ++clicks;
      const payload = blockActionsPayload({
        actionId,
        value,
        user,
        channel: "D0ADMIN",
        messageTs,
        threadTs,
        responseUrl: fake!.responseUrl(),
        triggerId: `1234567890123.2222222222.${String(n).padStart(32, "0")}`,
      });
      const answer: SlackAnswer = await postSigned(replica.eventsUrl, interactionBody(payload));
      expect(answer.status, `${actionId} on replica ${replica.name}`).toBe(200);
    };

    // 1. The file, shared in Ada's DM with the bot: to replica A.
    const shareTs = "1700009000.000100";
    const file = fake.addFile({
      id: "F0REPLICA1",
      name: "replicas.csv",
      content: Buffer.from(csvFile(validRows(ROWS, { prefix: PREFIX }))),
    });
    const shared = await postSigned(
      a!.eventsUrl,
      eventBody(fileSharePayload({ eventId: "Ev0REPLICA01", user: ada.id, ts: shareTs, files: [file] })),
    );
    expect(shared.status).toBe(200);
    const [summary] = await fake.waitForCalls(
      // In a DM, the summary is posted in the conversation, not in a thread under the upload.
      (c) => c.method === "chat.postMessage" && c.args.channel === "D0ADMIN" && String(c.args.text).startsWith("Import IMP-"),
      1,
      120_000,
      "the summary of the upload",
    );
    expect(fieldsOf(summary!)).toMatchObject({ "Data rows": "30,000", Ready: "30,000", "Need attention": "0" });
    const batchId = buttonsOf(summary!).find((x) => x.id === IMPORT_ACTIONS.create)!.value!;
    // A posted message's ts (as the fake answered it), once the batch has it on record, so that
    // any replica can find the message later (however the edge lays its record out).
    const recorded = async (call: RecordedCall, what: string) => {
      const ts = await until(`the ts of ${what}`, () => (call.reply as { ts?: string } | undefined)?.ts, 10_000);
      await until(
        `the ts of ${what} on the batch`,
        async () => JSON.stringify((await batchRow(batchId)).conversation).includes(`"${ts}"`) || undefined,
        30_000,
      );
      return ts;
    };
    const summaryTs = await recorded(summary!, "the summary");

    // 2. Create, by Ada: to replica B. The approval request goes to the DM (and a copy to Bob's), for Bob.
    await click(b!, IMPORT_ACTIONS.create, batchId, ada.id, summaryTs);
    const [request] = await fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && String(c.args.text).startsWith("Approval needed"),
      1,
      60_000,
      "the approval request",
    );
    expect(JSON.stringify(request!.args.blocks)).toContain(`<@${bob.id}>: <@${ada.id}> asks for approval`);
    const approve = buttonsOf(request!).find((x) => x.id === IMPORT_ACTIONS.approve)!;
    const approvalTs = await recorded(request!, "the approval request");

    // The row in the middle of the file, locked: the creating replica commits the chunks before
    // it, then waits inside the next chunk's transaction (its users inserted, not committed),
    // however loaded the machine is. There it is killed.
    holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query(`SELECT 1 FROM "ImportRow" WHERE "batchId" = $1 AND "rowNumber" = $2 FOR UPDATE`, [batchId, ROWS / 2 + 1]);
    const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;

    // 3. Approve, by Bob: to replica A, which starts creating the accounts.
    await click(a!, IMPORT_ACTIONS.approve, approve.value!, bob.id, approvalTs);
    const waiting = await until(
      "replica A to wait inside a chunk for the locked row",
      async () => {
        const pids = await db!.sql.query<{ pid: number }>(
          `SELECT "pid" FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids("pid"))`,
          [holderPid],
        );
        return pids.length > 0 ? pids.map((p) => p.pid) : undefined;
      },
      120_000,
      logsOf,
    );
    // What the admins see: the summary says the accounts are being created.
    await fake.waitForCalls(
      (c) => c.method === "chat.update" && c.args.ts === summaryTs && String(c.args.text).includes("creating accounts…"),
      1,
      30_000,
      "the summary showing the creation under way",
    );
    // Chunks are written two at a time: the other lane goes on with the chunks after the locked
    // one and then stops, so the count settles with every chunk but the waiting one committed.
    let seen = -1;
    const midway = await until(
      "the chunks beside the waiting one to be committed",
      async () => {
        const batch = await batchRow(batchId);
        const settled = batch.createdRows === seen;
        seen = batch.createdRows;
        if (!settled) await new Promise((resolve) => setTimeout(resolve, 1_000));
        return settled ? batch : undefined;
      },
      60_000,
      logsOf,
    );
    expect(midway.status).toBe("CREATING");
    expect(midway.createdRows).toBeGreaterThan(0); // progress: the chunks before the locked row are committed
    expect(midway.createdRows).toBeLessThanOrEqual(ROWS - 5_000); // not the waiting chunk's 5,000
    // 4. SIGKILL the replica creating them (A: the one that took Bob's click), then let go of the row.
    expect(a!.logs.some((l) => l.msg === "import approved")).toBe(true);
    expect(b!.logs.some((l) => l.msg === "import approved")).toBe(false);
    process.kill(-a!.child.pid!, "SIGKILL");
    expect(await a!.exit).toMatchObject({ signal: "SIGKILL" });
    await holder.query("ROLLBACK");
    await holder.end();
    holder = undefined;
    // A's database session ends with it (its chunk rolled back): what it committed stays, nothing more.
    await until(
      "replica A's database session to end",
      async () => {
        const [left] = await db!.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE "pid" = ANY($1::int[])`, [
          waiting,
        ]);
        return left!.n === 0 || undefined;
      },
      30_000,
    );
    const killed = await batchRow(batchId);
    expect(killed).toMatchObject({ status: "CREATING", createdRows: midway.createdRows });
    expect(await db.prisma.user.count({ where: { importBatchId: batchId } })).toBe(midway.createdRows);

    // 5. The survivor resumes it: its job runs every 15 s; the dead worker's lease lasts 30 s.
    const created = await until(
      "the survivor to finish the batch",
      async () => {
        const batch = await batchRow(batchId);
        if (batch.status !== "CREATING" && batch.status !== "CREATED") throw new Error(`batch ended ${batch.status}: ${batch.reason}`);
        return batch.status === "CREATED" ? batch : undefined;
      },
      150_000,
      logsOf,
    );
    expect(created).toMatchObject({ createdRows: ROWS, skippedRows: 0, failedRows: 0, leaseOwner: null });
    // Logged once the job's pass is over (after its last edits).
    const resumed = await until(
      "the survivor to log the resumption",
      () => b!.logs.find((l) => l.msg === "resumed an interrupted import"),
      30_000,
      logsOf,
    );
    expect(resumed).toMatchObject({ batch: created.code, created: ROWS });
    const [users] = await db.sql.query<{ n: number; distinct: number; ours: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT "email")::int AS distinct, count(*) FILTER (WHERE "importBatchId" = $1)::int AS ours
         FROM "User" WHERE "email" LIKE $2`,
      [batchId, `${PREFIX}%`],
    );
    expect(users).toEqual({ n: ROWS, distinct: ROWS, ours: ROWS });
    const rows = await db.prisma.importRow.groupBy({ by: ["status"], where: { batchId }, _count: { _all: true } });
    expect(rows.map((r) => [r.status, r._count._all])).toEqual([["CREATED", ROWS]]);
    expect(await db.prisma.importRow.count({ where: { batchId, userId: null } })).toBe(0);
    const [linked] = await db.sql.query<{ n: number }>(
      `SELECT count(DISTINCT r."userId")::int AS n FROM "ImportRow" r JOIN "User" u ON u."id" = r."userId" AND u."email" = r."email" WHERE r."batchId" = $1`,
      [batchId],
    );
    expect(linked).toEqual({ n: ROWS });

    // The messages: the summary's last edit is the created state with Invite and Finish; the request shows Bob's approval.
    const isCreatedSummary = (c: RecordedCall) =>
      c.method === "chat.update" && c.args.ts === summaryTs && buttonsOf(c).some((x) => x.id === IMPORT_ACTIONS.finish);
    await fake.waitForCalls(isCreatedSummary, 1, 30_000, "the created summary");
    const summaryEdits = () => fake!.calls.filter((c) => c.method === "chat.update" && c.args.ts === summaryTs);
    const last = summaryEdits().at(-1)!;
    expect(String(last.args.text)).toBe(`Import ${created.code}: 30,000 accounts created, 0 skipped, 0 failed.`);
    expect(buttonsOf(last).map((x) => x.id)).toEqual([IMPORT_ACTIONS.invite, IMPORT_ACTIONS.finish]);
    expect(fieldsOf(last)).toMatchObject({ Created: "30,000", Skipped: "0", Failed: "0" });
    const requestEdits = fake.calls.filter((c) => c.method === "chat.update" && c.args.ts === approvalTs);
    expect(String(requestEdits.at(-1)?.args.text)).toBe(`Import ${created.code} was approved by ${bob.email}.`);
    expect(buttonsOf(requestEdits.at(-1)!)).toEqual([]);

    // 6. Finish, by Ada: on the survivor.
    await click(b!, IMPORT_ACTIONS.finish, batchId, ada.id, summaryTs);
    const finishedText = `Import ${created.code} finished: 30,000 accounts created, no invitations sent.`;
    await fake.waitForCalls(
      (c) => c.method === "chat.update" && c.args.ts === summaryTs && String(c.args.text) === finishedText,
      1,
      30_000,
      "the finished summary",
    );
    expect((await batchRow(batchId)).status).toBe("FINISHED");
    const final = summaryEdits().at(-1)!;
    expect(String(final.args.text)).toBe(finishedText);
    expect(buttonsOf(final)).toEqual([]);

    // The survivor still stops cleanly.
    process.kill(-b!.child.pid!, "SIGTERM");
    expect(await b!.exit).toEqual({ code: 0, signal: null });
  });
});
