/**
 * Import batches, rows and invitations in the database. Bulk paths are set-based SQL, one
 * statement per chunk, not row-by-row: rows are staged with COPY outside transactions (inside
 * one, via jsonb_to_recordset), accounts are created as an INSERT … SELECT from the stored rows
 * whose RETURNING marks those rows in the same statement. Prisma's query compiler, not the
 * database, is the bottleneck for createMany at this size, and for large parameters too.
 */

import type { FieldIssue } from "../core/errors.ts";
import type { ExistingUser, RowVerdict } from "../core/import/files.ts";
import type { BatchChanges, ImportRepository, InvitationRepository } from "../core/import/ports.ts";
import type { ImportBatch, ImportCounts, ImportRowRecord, InvitationToSend } from "../core/import/types.ts";
import { CLOSED_IMPORT_STATUSES } from "../core/import/types.ts";
import type { UserChanges } from "../core/types.ts";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { Database, DatabaseKind } from "./database.ts";
import { isUniqueViolation } from "./errors.ts";

type Client = PrismaClient | Prisma.TransactionClient;
/** COPY and plain SQL (no Prisma in between), for repositories used outside a transaction. */
type Bulk = Pick<Database, "copy" | "sql">;

const asBatch = (row: unknown) => row as ImportBatch;

// Prisma's client keeps its last ~100 requests, parameters included, in a cache: one 5,000-row
// JSON parameter is ~2 MB, so large statements would hold ~200 MB. Statements of at most this
// many rows bound that to a few tens of MB at no measurable cost in speed.
const ROWS_PER_STATEMENT = 1_000;

/** JSON text for a jsonb parameter: PGlite and pg both take it as text and cast. */
const json = (value: unknown) => JSON.stringify(value);

const IMPORT_ROW_COLUMNS = [
  "batchId",
  "rowNumber",
  "status",
  "email",
  "name",
  "groupName",
  "role",
  "exchangeDomain",
  "exchangeUsername",
  "groupId",
  "issues",
  "userId",
  "changes",
] as const;

/** Text inside a quoted COPY cell: quotes doubled. */
const quoted = (value: string) => (value.includes('"') ? value.replaceAll('"', '""') : value);

/**
 * The verdicts as COPY's CSV input, in IMPORT_ROW_COLUMNS order (as insertRowSlice stores them):
 * NULL unquoted and empty, any text quoted (so "" stays an empty string). Each line is joined
 * from its parts, then the lines: no rope of concatenations for the driver to flatten.
 */
function rowsCsv(batchId: string, verdicts: readonly RowVerdict[]): string {
  const lines = new Array<string>(verdicts.length);
  const head = `${batchId},`;
  for (let k = 0; k < verdicts.length; k++) {
    const v = verdicts[k]!;
    const f = v.fields;
    const role = v.ready ? v.ready.value.role : f.role;
    const issues = v.issues.length === 0 ? "[]" : quoted(json(v.issues));
    const changes = v.update ? `"${quoted(json({ before: v.update.before, changes: v.update.changes }))}"` : "";
    lines[k] = [
      head,
      String(v.rowNumber),
      `,${v.status},"`,
      quoted(f.email),
      '","',
      quoted(f.name),
      '","',
      quoted(f.group),
      '","',
      quoted(role),
      '","',
      quoted(f.exchangeDomain),
      '","',
      quoted(f.exchangeUsername),
      '",',
      v.ready?.groupId ?? "",
      ',"',
      issues,
      '",',
      v.update?.userId ?? "",
      ",",
      changes,
      "\n",
    ].join("");
  }
  return lines.join("");
}

/** One INSERT … SELECT FROM jsonb_to_recordset of up to ROWS_PER_STATEMENT verdicts (inside a transaction). */
async function insertRowSlice(db: Client, batchId: string, verdicts: readonly RowVerdict[]): Promise<void> {
  if (verdicts.length === 0) return;
  const records = verdicts.map((v) => ({
    n: v.rowNumber,
    s: v.status,
    e: v.fields.email,
    nm: v.fields.name,
    g: v.fields.group,
    r: v.ready ? v.ready.value.role : v.fields.role,
    d: v.fields.exchangeDomain,
    u: v.fields.exchangeUsername,
    gid: v.ready?.groupId ?? null,
    i: v.issues,
    // Updates: the user, and what they were when checked (the change applies only if they still are).
    uid: v.update?.userId ?? null,
    ch: v.update ? { before: v.update.before, changes: v.update.changes } : null,
  }));
  await db.$executeRaw`
    INSERT INTO "ImportRow" ("batchId", "rowNumber", "status", "email", "name", "groupName", "role", "exchangeDomain", "exchangeUsername", "groupId", "issues", "userId", "changes")
    SELECT ${batchId}::uuid, x.n, x.s::"ImportRowStatus", x.e, x.nm, x.g, x.r, x.d, x.u, x.gid::uuid, x.i, x.uid::uuid, x.ch
    FROM jsonb_to_recordset(${json(records)}::jsonb)
      AS x(n int, s text, e text, nm text, g text, r text, d text, u text, gid text, i jsonb, uid text, ch jsonb)`;
}

/**
 * A batch's rows in row order: of some statuses ($2, an array literal as text (textArray), which
 * both drivers pass as it is; null: all), after a row number ($3), at most $4 (null: all).
 */
const ROWS_SQL = `
  SELECT "rowNumber", "status"::text AS "status", "email", "name", "groupName", "role", "exchangeDomain", "exchangeUsername",
    "issues", "changes" -> 'changes' AS "changes"
  FROM "ImportRow"
  WHERE "batchId" = $1::uuid AND ($2::text IS NULL OR "status" = ANY($2::text::"ImportRowStatus"[]))
    AND ($3::int IS NULL OR "rowNumber" > $3::int)
  ORDER BY "rowNumber" LIMIT $4::int`;

type StoredRow = Omit<ImportRowRecord, "issues" | "changes"> & { issues: unknown; changes: unknown };

/**
 * A text[] parameter as its literal, `{"a","b"}`: what pg writes for an array, without escaping
 * element by element (emails hold neither a quote nor a backslash; a list that does is left to pg).
 */
function textArray(values: readonly string[]): string | readonly string[] {
  for (const v of values) if (v.includes('"') || v.includes("\\")) return values;
  return values.length === 0 ? "{}" : `{"${values.join('","')}"}`;
}

const EXISTING_USERS_SQL = `
  SELECT u."id", u."email", u."name", u."groupId", g."name" AS "groupName", u."role", u."exchangeDomain", u."exchangeUsername"
  FROM unnest($1::text[]) AS e("email")
    CROSS JOIN LATERAL (
      SELECT x."id", x."email", x."name", x."groupId", x."role"::text AS "role", x."exchangeDomain", x."exchangeUsername"
      FROM "User" x WHERE x."email" = e."email" LIMIT 1
    ) u
    JOIN "Group" g ON g."id" = u."groupId"`;

/**
 * One chunk of account creation: the READY rows among the `size` row numbers from `from` on,
 * a range of the primary key bounded whatever the planner estimates (on a batch it has no
 * statistics for yet, an ORDER BY … LIMIT was planned as a sort of all the batch's READY rows,
 * each chunk). No index covers what marking a row changes: on PGlite, whose pages keep room for
 * it, a row's new version is a heap-only update. New emails become users; the INSERT's RETURNING
 * marks their rows CREATED without looking the emails up again, the others SKIPPED (taken by now). "checked": emails taken are
 * looked up first (one index probe each) and left out of a plain INSERT; "on conflict": ON
 * CONFLICT DO NOTHING. The batch's counts move, and its lease is renewed, only while `owner`
 * holds it: no row returned means the lease was lost (the caller rolls the chunk back).
 */
function createChunkSql(
  id: string,
  owner: string,
  { from, size }: { from: number; size: number },
  leaseUntil: Date,
  mode: "unchecked" | "checked" | "on conflict",
): Prisma.Sql {
  const taken =
    mode === "checked"
      ? Prisma.sql`LEFT JOIN LATERAL (SELECT true AS taken FROM "User" u WHERE u."email" = r."email" LIMIT 1) t ON true`
      : Prisma.sql`LEFT JOIN LATERAL (SELECT NULL::boolean AS taken) t ON true`;
  const insert =
    mode === "unchecked"
      ? Prisma.sql`WHERE c."groupExists"`
      : mode === "checked"
        ? Prisma.sql`WHERE c."groupExists" AND c.taken IS NOT TRUE`
        : Prisma.sql`WHERE c."groupExists" ON CONFLICT ("email") DO NOTHING`;
  return Prisma.sql`
    WITH chunk AS MATERIALIZED (
      SELECT r.ctid AS tid, r."rowNumber", r."email", r."name", r."role", r."groupId", r."exchangeDomain", r."exchangeUsername", t.taken,
        EXISTS (SELECT 1 FROM "Group" g WHERE g."id" = r."groupId") AS "groupExists"
      FROM "ImportRow" r ${taken}
      WHERE r."batchId" = ${id}::uuid AND r."status" = 'READY'
        AND r."rowNumber" >= ${from}::int AND r."rowNumber" < ${from + size}::int
    ), batch AS MATERIALIZED (
      -- Read once, not probed again for every row the INSERT joins it with.
      SELECT "id", "kind", "requesterEmail" FROM "ImportBatch" WHERE "id" = ${id}::uuid
    ), made AS (
      INSERT INTO "User" ("email", "name", "role", "groupId", "exchangeDomain", "exchangeUsername", "source", "createdBy", "importBatchId")
      SELECT c."email", c."name", c."role"::"Role", c."groupId", NULLIF(c."exchangeDomain", ''), NULLIF(c."exchangeUsername", ''),
             (CASE WHEN b."kind" = 'add-user' THEN 'FORM' ELSE 'IMPORT' END)::"UserSource", b."requesterEmail", b."id"
      FROM chunk c CROSS JOIN batch b
      ${insert}
      RETURNING "id", "email"
    ), made_ids AS MATERIALIZED (
      -- email → id, looked up per row: a join of the two CTEs is planned on estimates that
      -- know nothing of them (a nested loop over both measured 20 s per chunk). Read once
      -- (a sub-select), not joined: a join copies the map for every row.
      SELECT coalesce(jsonb_object_agg("email", "id"), '{}'::jsonb) AS ids FROM made
    ), marked AS (
      -- The chunk's rows by their ctids, as one array, and nothing else the planner could reach
      -- them by: a TID scan whatever the estimates (on a batch without statistics, a join with
      -- the CTE was planned as a hash join over all of its rows, and a filter on the batch as a
      -- scan of its READY rows testing each against the array).
      -- A row not created: its group was deleted since the lease was taken (FAILED, as the lease
      -- marks them), else its email was taken meanwhile (SKIPPED).
      UPDATE "ImportRow" r SET
        "status" = CASE WHEN (SELECT ids FROM made_ids) ? r."email" THEN 'CREATED'
          WHEN NOT EXISTS (SELECT 1 FROM "Group" g WHERE g."id" = r."groupId") THEN 'FAILED' ELSE 'SKIPPED' END::"ImportRowStatus",
        "userId" = ((SELECT ids FROM made_ids) ->> r."email")::uuid,
        "issues" = CASE WHEN (SELECT ids FROM made_ids) ? r."email" THEN r."issues"
          WHEN NOT EXISTS (SELECT 1 FROM "Group" g WHERE g."id" = r."groupId")
            THEN jsonb_build_array(jsonb_build_object('field', 'group', 'code', 'GROUP_UNKNOWN', 'message', 'The group ' || r."groupName" || ' no longer exists.'))
          ELSE jsonb_build_array(jsonb_build_object('field', 'email', 'code', 'EMAIL_TAKEN', 'message', 'A user with Email ID ' || r."email" || ' was created in the meantime; skipped.')) END
      WHERE r.ctid = ANY(ARRAY(SELECT tid FROM chunk))
      RETURNING r."status"
    ), counted AS (
      SELECT count(*) FILTER (WHERE "status" = 'CREATED')::int AS created, count(*) FILTER (WHERE "status" = 'SKIPPED')::int AS skipped,
        count(*) FILTER (WHERE "status" = 'FAILED')::int AS failed
      FROM marked
    )
    UPDATE "ImportBatch" b SET "createdRows" = b."createdRows" + c.created, "skippedRows" = b."skippedRows" + c.skipped,
      "failedRows" = b."failedRows" + c.failed, "leaseUntil" = ${leaseUntil}, "updatedAt" = now()
    FROM counted c WHERE b."id" = ${id}::uuid AND b."status" = 'CREATING' AND b."leaseOwner" = ${owner}
    RETURNING b.*, c.created, c.skipped, c.failed`;
}

/** What a transition may set besides the status (BatchChanges): its SQL is built from these names only. */
const TRANSITION_COLUMNS: ReadonlySet<string> = new Set<keyof BatchChanges>([
  "includeUpdates",
  "approvalRequired",
  "approvalRequestedAt",
  "approvalExpiresAt",
  "submitterEmail",
  "submitterPlatformId",
  "decidedBy",
  "decidedAt",
  "reason",
  "conversation",
  "dataRows",
  "readyRows",
  "updateRows",
  "unchangedRows",
  "attentionRows",
  "blankRows",
  "adminRows",
  "adminUpdateRows",
  "createdRows",
  "updatedRows",
  "skippedRows",
  "failedRows",
]);

/** The batch as RETURNING gave it, without the counts the chunk statements add to it. */
function batchOf<K extends string>(row: ImportBatch & Record<K, unknown>, extra: readonly K[]): ImportBatch {
  const batch = { ...row } as Record<string, unknown>;
  for (const key of extra) delete batch[key];
  return batch as unknown as ImportBatch;
}

/** The import repository over `db`; with `bulk` (outside transactions), rows are staged with COPY. */
export function importRepository(db: Client, kind: DatabaseKind, bulk?: Bulk): ImportRepository {
  return {
    findById: async (id) => asBatch(await db.importBatch.findUnique({ where: { id } })),
    findByCode: async (code) => asBatch(await db.importBatch.findUnique({ where: { code: code.trim().toUpperCase() } })),
    findOpen: async (requesterEmail, sha256) =>
      asBatch(await db.importBatch.findFirst({ where: { requesterEmail, sha256, status: { notIn: [...CLOSED_IMPORT_STATUSES] } } })),
    create: async (batch) =>
      asBatch(
        await db.importBatch.create({
          data: { ...batch, conversation: batch.conversation as Prisma.InputJsonValue, fileInfo: batch.fileInfo as Prisma.InputJsonValue },
        }),
      ),

    // A batch and its rows in one statement ("ImportRow" has no foreign key to cascade from).
    // Its rows go by batch id, even when the batch was gone already.
    async discard(id) {
      await db.$executeRaw`
        WITH batch AS (DELETE FROM "ImportBatch" WHERE "id" = ${id}::uuid)
        DELETE FROM "ImportRow" WHERE "batchId" = ${id}::uuid`;
    },

    async discardAbandoned(before) {
      const [gone] = await db.$queryRaw<{ batches: number }[]>`
        WITH batches AS (
          DELETE FROM "ImportBatch" WHERE "status" = 'FAILED' AND "dataRows" = 0 AND "createdAt" < ${before} RETURNING "id"
        ), rows AS (DELETE FROM "ImportRow" WHERE "batchId" IN (SELECT "id" FROM batches))
        SELECT count(*)::int AS batches FROM batches`;
      return gone?.batches ?? 0;
    },

    async insertRows(batchId, verdicts) {
      if (verdicts.length === 0) return;
      // One COPY: no JSON to build and parse, no parameter through Prisma's query compiler.
      if (bulk) return bulk.copy("ImportRow", IMPORT_ROW_COLUMNS, rowsCsv(batchId, verdicts));
      for (let from = 0; from < verdicts.length; from += ROWS_PER_STATEMENT) {
        await insertRowSlice(db, batchId, verdicts.slice(from, from + ROWS_PER_STATEMENT));
      }
    },

    async attentionRows(batchId, { rowNumbers, groupName }) {
      const rows = await db.importRow.findMany({
        where: {
          batchId,
          status: "NEEDS_ATTENTION",
          ...(rowNumbers ? { rowNumber: { in: [...rowNumbers] } } : {}),
          ...(groupName !== undefined ? { groupName: { equals: groupName, mode: "insensitive" } } : {}),
        },
        orderBy: { rowNumber: "asc" },
      });
      return rows.map((r) => ({ ...r, issues: r.issues as unknown as FieldIssue[], changes: null }));
    },

    async firstRowsOf(batchId, emails, except) {
      if (emails.length === 0) return new Map();
      const rows = await db.$queryRaw<{ email: string; first: number }[]>`
        SELECT "email", min("rowNumber")::int AS first FROM "ImportRow"
        WHERE "batchId" = ${batchId}::uuid AND "email" = ANY(${[...emails]}::text[]) AND NOT ("rowNumber" = ANY(${[...except]}::int[]))
        GROUP BY "email"`;
      return new Map(rows.map((r) => [r.email, r.first]));
    },

    async replaceAttentionRows(batchId, verdicts, deltas) {
      const [locked] = await db.$queryRaw<{ id: string }[]>`
        SELECT "id" FROM "ImportBatch" WHERE "id" = ${batchId}::uuid AND "status" = 'VALIDATED' FOR UPDATE`;
      if (!locked) return null;
      const numbers = verdicts.map((v) => v.rowNumber);
      await db.$executeRaw`DELETE FROM "ImportRow" WHERE "batchId" = ${batchId}::uuid AND "status" = 'NEEDS_ATTENTION' AND "rowNumber" = ANY(${numbers}::int[])`;
      for (let from = 0; from < verdicts.length; from += ROWS_PER_STATEMENT) {
        await insertRowSlice(db, batchId, verdicts.slice(from, from + ROWS_PER_STATEMENT));
      }
      const d = (key: keyof ImportCounts) => deltas[key] ?? 0;
      const [batch] = await db.$queryRaw<ImportBatch[]>`
        UPDATE "ImportBatch" SET "readyRows" = "readyRows" + ${d("readyRows")}, "updateRows" = "updateRows" + ${d("updateRows")},
          "unchangedRows" = "unchangedRows" + ${d("unchangedRows")}, "attentionRows" = "attentionRows" + ${d("attentionRows")},
          "adminRows" = "adminRows" + ${d("adminRows")}, "adminUpdateRows" = "adminUpdateRows" + ${d("adminUpdateRows")}, "updatedAt" = now()
        WHERE "id" = ${batchId}::uuid RETURNING *`;
      return batch ?? null;
    },

    async existingUsers(emails) {
      if (emails.length === 0) return new Map();
      // One index probe per email, whatever the planner thinks: with `= ANY` of a few thousand
      // emails, or a plain join with the list, PostgreSQL prefers to scan and hash the whole
      // table, on every core (measured 5-20× slower); a LATERAL … LIMIT 1 cannot be turned into that.
      const list = [...emails];
      const rows = bulk
        ? // Outside a transaction: straight to the driver (Prisma compiles each list into its query).
          await bulk.sql.query<ExistingUser>(EXISTING_USERS_SQL, [textArray(list)])
        : await db.$queryRawUnsafe<ExistingUser[]>(EXISTING_USERS_SQL, list);
      return new Map(rows.map((r) => [r.email, r]));
    },

    allGroups: () => db.group.findMany({ orderBy: { name: "asc" } }),

    async transition(id, from, to, changes = {}, notExpiredAt, audit) {
      // Plain SQL: every click moves a batch, and Prisma's compiled update cost more than the statement.
      const now = new Date();
      const sets = [Prisma.sql`"status" = ${to}::"ImportStatus"`, Prisma.sql`"updatedAt" = ${now}`];
      for (const [column, value] of Object.entries(changes)) {
        if (value === undefined) continue;
        if (!TRANSITION_COLUMNS.has(column)) throw new Error(`a transition does not set ${column}`);
        sets.push(
          column === "conversation"
            ? Prisma.sql`"conversation" = ${json(value)}::jsonb`
            : Prisma.sql`${Prisma.raw(`"${column}"`)} = ${value}`,
        );
      }
      const unexpired = notExpiredAt
        ? Prisma.sql`AND ("approvalExpiresAt" IS NULL OR "approvalExpiresAt" > ${notExpiredAt})`
        : Prisma.empty;
      const moved = Prisma.sql`
        UPDATE "ImportBatch" SET ${Prisma.join(sets, ", ")}
        WHERE "id" = ${id}::uuid AND "status"::text = ANY(${[...from]}::text[]) ${unexpired}
        RETURNING *`;
      const [batch] = audit
        ? await db.$queryRaw<ImportBatch[]>`
            WITH moved AS (${moved}), audited AS (
              INSERT INTO "AuditEvent" ("at", "actor", "action", "subject", "details")
              SELECT ${now}, ${audit.actor}, ${audit.action}, ${audit.subject}, ${json(audit.details ?? {})}::jsonb FROM moved
            )
            SELECT * FROM moved`
        : await db.$queryRaw<ImportBatch[]>(moved);
      return batch ?? null;
    },

    async mergeConversation(id, platform, patch) {
      const [batch] = await db.$queryRaw<ImportBatch[]>`
        UPDATE "ImportBatch" SET "updatedAt" = now(),
          "conversation" = jsonb_set(coalesce("conversation", '{}'::jsonb), ARRAY[${platform}]::text[],
            coalesce("conversation" -> ${platform}, '{}'::jsonb) || ${json(patch)}::jsonb)
        WHERE "id" = ${id}::uuid RETURNING *`;
      return batch ?? null;
    },

    async rows(batchId, { statuses, limit, afterRow } = {}) {
      // Plain SQL: a results file reads all of a batch's rows, and Prisma's mapping of 150,000
      // model rows cost seconds of CPU (and its garbage). Outside transactions, straight to the driver.
      const params = [batchId, statuses ? textArray(statuses) : null, afterRow ?? null, limit ?? null];
      const rows = bulk ? await bulk.sql.query<StoredRow>(ROWS_SQL, params) : await db.$queryRawUnsafe<StoredRow[]>(ROWS_SQL, ...params);
      return rows.map((r) => ({ ...r, issues: (r.issues ?? []) as FieldIssue[], changes: (r.changes as UserChanges | null) ?? null }));
    },

    async requestFacts(batchId, { includeUpdates, limit }) {
      const statuses = includeUpdates ? ["READY", "UPDATE"] : ["READY"];
      const [grants, groups] = await Promise.all([
        db.$queryRaw<{ email: string; total: number }[]>`
          SELECT r."email", count(*) OVER ()::int AS total FROM "ImportRow" r
          WHERE r."batchId" = ${batchId}::uuid AND r."status"::text = ANY(${statuses}::text[]) AND r."role" = 'ADMINISTRATOR'
            AND (r."status" = 'READY' OR r."changes"->'changes' ? 'role')
          ORDER BY r."rowNumber" LIMIT ${limit}`,
        db.$queryRaw<{ name: string; users: number }[]>`
          SELECT r."groupName" AS name, count(*)::int AS users FROM "ImportRow" r
          WHERE r."batchId" = ${batchId}::uuid AND r."status"::text = ANY(${statuses}::text[])
            AND (r."status" = 'READY' OR r."changes"->'changes' ? 'group')
          GROUP BY r."groupName" ORDER BY users DESC, name LIMIT 20`,
      ]);
      return { grants: grants.map((g) => g.email), grantTotal: grants[0]?.total ?? 0, groups };
    },

    async problemGroups(batchId, statuses) {
      const groups = await db.$queryRaw<{ code: string; field: string; value: string | null; rows: number; firstRows: number[] }[]>`
        SELECT i->>'code' AS code, i->>'field' AS field,
          CASE WHEN i->>'code' = 'GROUP_UNKNOWN' THEN min(r."groupName") END AS value,
          count(*)::int AS rows, (array_agg(r."rowNumber" ORDER BY r."rowNumber"))[1:5] AS "firstRows"
        FROM "ImportRow" r CROSS JOIN LATERAL jsonb_array_elements(r."issues") i
        WHERE r."batchId" = ${batchId}::uuid AND r."status"::text = ANY(${[...statuses]}::text[])
        GROUP BY 1, 2, CASE WHEN i->>'code' = 'GROUP_UNKNOWN' THEN lower(r."groupName") END
        ORDER BY rows DESC, code LIMIT 20`;
      return groups.map(({ value, ...g }) => (value === null ? g : { ...g, value }));
    },

    async acquireCreationLease(id, owner, now, until) {
      const [batch] = await db.$queryRaw<ImportBatch[]>`
        UPDATE "ImportBatch" SET "status" = 'CREATING', "leaseOwner" = ${owner}, "leaseUntil" = ${until}, "updatedAt" = ${now}
        WHERE "id" = ${id}::uuid
          AND ("status" = 'APPROVED' OR ("status" = 'CREATING' AND ("leaseUntil" IS NULL OR "leaseUntil" < ${now} OR "leaseOwner" = ${owner})))
        RETURNING *`;
      if (!batch) return null;
      // Groups were resolved at upload; one deleted since cannot receive users.
      const failed = await db.$executeRaw`
        UPDATE "ImportRow" r SET "status" = 'FAILED',
          "issues" = jsonb_build_array(jsonb_build_object('field', 'group', 'code', 'GROUP_UNKNOWN', 'message', 'The group ' || r."groupName" || ' no longer exists.'))
        WHERE r."batchId" = ${id}::uuid AND r."status" IN ('READY', 'UPDATE')
          AND NOT EXISTS (SELECT 1 FROM "Group" g WHERE g."id" = r."groupId")`;
      if (failed === 0) return batch;
      const [updated] = await db.$queryRaw<ImportBatch[]>`
        UPDATE "ImportBatch" SET "failedRows" = "failedRows" + ${failed} WHERE "id" = ${id}::uuid RETURNING *`;
      return updated ?? batch;
    },

    async pendingRange(id, status) {
      const [range] = await db.$queryRaw<{ first: number | null; last: number | null }[]>`
        SELECT min("rowNumber") AS first, max("rowNumber") AS last FROM "ImportRow"
        WHERE "batchId" = ${id}::uuid AND "status" = ${status}::"ImportRowStatus"`;
      return range?.first == null || range.last == null ? null : { first: Number(range.first), last: Number(range.last) };
    },

    async createChunk(id, owner, range, leaseUntil) {
      // Chunks of one batch may run in parallel transactions (other row ranges), so the lease is
      // not locked up front: a cheap look spares the work when it is plainly lost, and the
      // chunk's last step, the batch's counts, moves only while the lease is still owner's; that
      // row stays locked until commit, so no other worker takes the lease over in between.
      const [lease] = await db.$queryRaw<{ id: string }[]>`
        SELECT "id" FROM "ImportBatch" WHERE "id" = ${id}::uuid AND "status" = 'CREATING' AND "leaseOwner" = ${owner}`;
      if (!lease) return null;
      // A READY row's email was free when the file was checked, and almost always still is: the
      // chunk is written as if none were taken, with neither a look-up per row (PostgreSQL's
      // unique index checks each insert anyway) nor ON CONFLICT (whose speculative insertion
      // measured ~40% of the chunk). One taken since (another import, the form) fails the
      // INSERT: then the chunk is written again from a savepoint, looking each email up first,
      // and if one was taken even after that look, with ON CONFLICT DO NOTHING.
      type Row = ImportBatch & { created: number; skipped: number; failed: number };
      // PGlite is one connection: nothing else runs inside this transaction, so the chunk's own
      // checks (the group exists, the batch's row is there: its counts move) are all the foreign
      // keys of "User" would check, row by row, in triggers that measured a third of the chunk.
      // Its user is a superuser; LOCAL: until the transaction ends, whatever ends it.
      if (kind === "pglite") await db.$executeRaw`SET LOCAL session_replication_role = replica`;
      await db.$executeRaw`SAVEPOINT hms_chunk`;
      let row: Row | undefined;
      for (const mode of ["unchecked", "checked", "on conflict"] as const) {
        try {
          [row] = await db.$queryRaw<Row[]>(createChunkSql(id, owner, range, leaseUntil, mode));
          break;
        } catch (error) {
          if (mode === "on conflict" || !isUniqueViolation(error)) throw error;
          await db.$executeRaw`ROLLBACK TO SAVEPOINT hms_chunk`;
        }
      }
      if (!row) {
        // The lease was taken over while the chunk was written: nothing of it is kept.
        await db.$executeRaw`ROLLBACK TO SAVEPOINT hms_chunk`;
        return null;
      }
      await db.$executeRaw`RELEASE SAVEPOINT hms_chunk`;
      return { created: Number(row.created), skipped: Number(row.skipped), batch: batchOf(row, ["created", "skipped", "failed"]) };
    },

    async updateChunk(id, owner, { from, size }, leaseUntil, audit) {
      // The lease as in createChunk: looked at first, held where the batch's counts move.
      const [lease] = await db.$queryRaw<{ code: string }[]>`
        SELECT "code" FROM "ImportBatch" WHERE "id" = ${id}::uuid AND "status" = 'CREATING' AND "leaseOwner" = ${owner}`;
      if (!lease) return null;
      // The UPDATE rows of the range (as in createChunk). Each user changes only if they are
      // still as the file was checked against; each change is audited with its old and new
      // values, in this statement.
      await db.$executeRaw`SAVEPOINT hms_chunk`;
      const [row] = await db.$queryRaw<(ImportBatch & { updated: number; skipped: number })[]>`
        WITH todo AS MATERIALIZED (
          SELECT r.ctid AS tid, r."rowNumber", r."userId", r."name", r."groupId", r."role", r."exchangeDomain", r."exchangeUsername", r."changes"
          FROM "ImportRow" r WHERE r."batchId" = ${id}::uuid AND r."status" = 'UPDATE'
            AND r."rowNumber" >= ${from}::int AND r."rowNumber" < ${from + size}::int
        ), targets AS MATERIALIZED (
          -- Each user still as the file was checked against, probed by id (not a hash of the
          -- whole table, whatever the planner estimates); updated below by its row's ctid.
          SELECT t.*, x.tid AS "userTid" FROM todo t CROSS JOIN LATERAL (
            SELECT u.ctid AS tid FROM "User" u
            WHERE u."id" = t."userId"
              AND u."name" = t."changes"->'before'->>'name'
              AND u."groupId" = (t."changes"->'before'->>'groupId')::uuid
              AND u."role"::text = t."changes"->'before'->>'role'
              AND u."exchangeDomain" IS NOT DISTINCT FROM t."changes"->'before'->>'exchangeDomain'
              AND u."exchangeUsername" IS NOT DISTINCT FROM t."changes"->'before'->>'exchangeUsername'
            LIMIT 1
          ) x
        ), applied AS (
          -- A user changed since this statement began is not found by its old ctid: skipped.
          UPDATE "User" u SET "name" = t."name", "groupId" = t."groupId", "role" = t."role"::"Role",
            "roleSince" = CASE WHEN u."role"::text = t."role" THEN u."roleSince" ELSE now() END,
            "exchangeDomain" = NULLIF(t."exchangeDomain", ''), "exchangeUsername" = NULLIF(t."exchangeUsername", ''), "updatedAt" = now()
          FROM targets t
          WHERE u.ctid = t."userTid" AND u."id" = t."userId"
          RETURNING u."id"
        ), applied_ids AS MATERIALIZED (
          SELECT coalesce(jsonb_object_agg("id", true), '{}'::jsonb) AS ids FROM applied
        ), marked AS (
          -- By their ctids alone, as in createChunk: a TID scan whatever the estimates.
          UPDATE "ImportRow" r SET
            "status" = CASE WHEN (SELECT ids FROM applied_ids) ? r."userId"::text THEN 'UPDATED' ELSE 'SKIPPED' END::"ImportRowStatus",
            "issues" = CASE WHEN (SELECT ids FROM applied_ids) ? r."userId"::text THEN r."issues"
              ELSE jsonb_build_array(jsonb_build_object('field', 'email', 'code', 'USER_CHANGED', 'message',
                'The user ' || r."email" || ' was changed or removed after the file was checked; not updated.')) END
          WHERE r.ctid = ANY(ARRAY(SELECT tid FROM todo))
          RETURNING r."status", r."userId", r."email", r."changes"
        ), audited AS (
          INSERT INTO "AuditEvent" ("actor", "action", "subject", "details")
          SELECT ${audit.actor}::text, 'user.update', m."email",
            ${json(audit.details)}::jsonb || jsonb_build_object('userId', m."userId", 'batchId', ${id}::text, 'import', ${lease.code}::text, 'changes', m."changes"->'changes')
          FROM marked m WHERE m."status" = 'UPDATED'
        ), counted AS (
          SELECT count(*) FILTER (WHERE "status" = 'UPDATED')::int AS updated, count(*) FILTER (WHERE "status" = 'SKIPPED')::int AS skipped
          FROM marked
        )
        UPDATE "ImportBatch" b SET "updatedRows" = b."updatedRows" + c.updated, "skippedRows" = b."skippedRows" + c.skipped,
          "leaseUntil" = ${leaseUntil}, "updatedAt" = now()
        FROM counted c WHERE b."id" = ${id}::uuid AND b."status" = 'CREATING' AND b."leaseOwner" = ${owner}
        RETURNING b.*, c.updated, c.skipped`;
      if (!row) {
        await db.$executeRaw`ROLLBACK TO SAVEPOINT hms_chunk`;
        return null;
      }
      await db.$executeRaw`RELEASE SAVEPOINT hms_chunk`;
      return { updated: Number(row.updated), skipped: Number(row.skipped), batch: batchOf(row, ["updated", "skipped"]) };
    },

    async completeCreation(id, owner) {
      const [batch] = await db.$queryRaw<ImportBatch[]>`
        UPDATE "ImportBatch" SET "status" = 'CREATED', "leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = now()
        WHERE "id" = ${id}::uuid AND "status" = 'CREATING' AND "leaseOwner" = ${owner}
          AND NOT EXISTS (SELECT 1 FROM "ImportRow" r JOIN "ImportBatch" b ON b."id" = r."batchId"
            WHERE r."batchId" = ${id}::uuid AND (r."status" = 'READY' OR (r."status" = 'UPDATE' AND b."includeUpdates")))
        RETURNING *`;
      return batch ?? null;
    },

    interrupted: async (now, approvedBefore) =>
      (await db.importBatch.findMany({
        where: {
          OR: [
            { status: "CREATING", OR: [{ leaseUntil: null }, { leaseUntil: { lt: now } }] },
            { status: "APPROVED", decidedAt: { lt: approvedBefore } },
          ],
        },
        orderBy: { createdAt: "asc" },
      })) as ImportBatch[],

    expire: async ({ now, unconfirmedBefore, unconfirmedReason }) =>
      [
        ...(await db.importBatch.updateManyAndReturn({
          where: { status: "AWAITING_APPROVAL", approvalExpiresAt: { lte: now } },
          data: { status: "EXPIRED", decidedAt: now, reason: "The approval request expired." },
        })),
        ...(await db.importBatch.updateManyAndReturn({
          where: { status: "VALIDATED", createdAt: { lte: unconfirmedBefore } },
          data: { status: "EXPIRED", decidedAt: now, reason: unconfirmedReason },
        })),
      ] as ImportBatch[],

    takeDueReminders: (now) =>
      db.$queryRaw<ImportBatch[]>`
        UPDATE "ImportBatch" SET "approvalRemindedAt" = ${now}
        WHERE "status" = 'AWAITING_APPROVAL' AND "approvalRemindedAt" IS NULL AND "approvalExpiresAt" > ${now}
          AND "approvalRequestedAt" + ("approvalExpiresAt" - "approvalRequestedAt") / 2 <= ${now}
        RETURNING *`,

    recent: async ({ since, limit }) =>
      (await db.importBatch.findMany({
        where: {
          // A closed batch with no data row is an upload that never finished: not an import.
          OR: [{ status: { notIn: [...CLOSED_IMPORT_STATUSES] } }, { updatedAt: { gte: since }, dataRows: { gt: 0 } }],
        },
        orderBy: { createdAt: "desc" },
        take: limit,
      })) as ImportBatch[],

    findByStatus: async (statuses) =>
      (await db.importBatch.findMany({ where: { status: { in: [...statuses] } }, orderBy: { createdAt: "asc" } })) as ImportBatch[],
  };
}

export function invitationRepository(db: Client, newToken: () => string): InvitationRepository {
  return {
    async createForBatch(batchId, createdBy, now) {
      const users = await db.user.findMany({ where: { importBatchId: batchId, invitation: null }, select: { id: true } });
      if (users.length === 0) return 0;
      const records = users.map((u) => ({ u: u.id, t: newToken() }));
      return db.$executeRaw`
        INSERT INTO "Invitation" ("userId", "batchId", "token", "createdBy", "nextAttemptAt")
        SELECT x.u::uuid, ${batchId}::uuid, x.t, ${createdBy}, ${now} FROM jsonb_to_recordset(${json(records)}::jsonb) AS x(u text, t text)
        ON CONFLICT ("userId") DO NOTHING`;
    },

    async createForUser(userId, createdBy, now) {
      const made = await db.$executeRaw`
        INSERT INTO "Invitation" ("userId", "token", "createdBy", "nextAttemptAt") VALUES (${userId}::uuid, ${newToken()}, ${createdBy}, ${now})
        ON CONFLICT ("userId") DO NOTHING`;
      return made === 1;
    },

    async claimDue({ now, claimUntil, limit, maxAttempts, batchId, userId }) {
      const batchFilter = batchId ? Prisma.sql`AND i."batchId" = ${batchId}::uuid` : Prisma.empty;
      const userFilter = userId ? Prisma.sql`AND i."userId" = ${userId}::uuid` : Prisma.empty;
      return db.$queryRaw<InvitationToSend[]>`
        WITH due AS (
          SELECT i."id" FROM "Invitation" i
          WHERE i."status" IN ('PENDING', 'FAILED') AND i."attempts" < ${maxAttempts} AND i."nextAttemptAt" <= ${now}
            AND (i."claimedUntil" IS NULL OR i."claimedUntil" < ${now}) ${batchFilter} ${userFilter}
          ORDER BY i."nextAttemptAt" LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE "Invitation" i SET "claimedUntil" = ${claimUntil}, "attempts" = i."attempts" + 1, "updatedAt" = ${now}
        FROM due, "User" u
        WHERE i."id" = due."id" AND u."id" = i."userId"
        RETURNING i."id", i."token", i."attempts", i."userId", i."batchId", u."email", u."name", i."claimedUntil"`;
    },

    // Both only while this sender's claim holds: a sender that stalled past its claim must
    // not overwrite what the sender that took over recorded (SENT stays SENT).
    async markSent(id, now, claimedUntil) {
      // One statement, so the invitation is never SENT while its user stays CREATED.
      await db.$executeRaw`
        WITH sent AS (
          UPDATE "Invitation" SET "status" = 'SENT', "sentAt" = ${now}, "claimedUntil" = NULL, "lastError" = NULL, "updatedAt" = ${now}
          WHERE "id" = ${id}::uuid AND "claimedUntil" = ${claimedUntil} AND "status" <> 'SENT' RETURNING "userId")
        UPDATE "User" u SET "status" = 'INVITED', "updatedAt" = ${now} FROM sent WHERE u."id" = sent."userId" AND u."status" = 'CREATED'`;
    },

    async markFailed(id, error, nextAttemptAt, claimedUntil) {
      await db.invitation.updateMany({
        where: { id, claimedUntil, status: { not: "SENT" } },
        data: { status: "FAILED", lastError: error.slice(0, 1000), claimedUntil: null, nextAttemptAt: nextAttemptAt ?? new Date(8.64e15) },
      });
    },

    async failed({ batchId, limit, maxAttempts }) {
      const where: Prisma.InvitationWhereInput = { status: "FAILED", ...(batchId ? { batchId } : {}) };
      const [rows, total] = await Promise.all([
        db.invitation.findMany({
          where,
          orderBy: { updatedAt: "desc" },
          take: limit,
          select: { attempts: true, lastError: true, user: { select: { email: true, name: true } }, batch: { select: { code: true } } },
        }),
        db.invitation.count({ where }),
      ]);
      return {
        total,
        invitations: rows.map((r) => ({
          email: r.user.email,
          name: r.user.name,
          attempts: r.attempts,
          lastError: r.lastError,
          batchCode: r.batch?.code ?? null,
          exhausted: r.attempts >= maxAttempts,
        })),
      };
    },

    async recentImports(limit) {
      const rows = await db.$queryRaw<
        { batchId: string; code: string; fileName: string; createdAt: Date; pending: number; sent: number; failed: number }[]
      >`
        SELECT b."id" AS "batchId", b."code", b."fileName", b."createdAt",
          count(*) FILTER (WHERE i."status" = 'PENDING')::int AS pending,
          count(*) FILTER (WHERE i."status" = 'SENT')::int AS sent,
          count(*) FILTER (WHERE i."status" = 'FAILED')::int AS failed
        FROM "Invitation" i JOIN "ImportBatch" b ON b."id" = i."batchId"
        GROUP BY b."id" ORDER BY b."createdAt" DESC, max(i."createdAt") DESC LIMIT ${limit}`;
      return rows.map(({ pending, sent, failed, ...b }) => ({ ...b, counts: { pending, sent, failed } }));
    },

    async resend({ batchId, userId, statuses }, now) {
      const { count } = await db.invitation.updateMany({
        where: { status: { in: [...statuses] }, ...(batchId ? { batchId } : {}), ...(userId ? { userId } : {}) },
        data: { status: "PENDING", attempts: 0, nextAttemptAt: now, claimedUntil: null },
      });
      return count;
    },

    async counts({ batchId, userId }) {
      const groups = await db.invitation.groupBy({ by: ["status"], where: { batchId, userId }, _count: { _all: true } });
      const count = (status: string) => groups.find((g) => g.status === status)?._count._all ?? 0;
      return { pending: count("PENDING"), sent: count("SENT"), failed: count("FAILED") };
    },
  };
}
