import { randomUUID } from "node:crypto";
import { actorDetails, requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { ErrorCode, errorSummary, isAppError, isPassingDatabaseError, retrying } from "../errors.ts";
import type { Repositories } from "../ports.ts";
import type { Actor } from "../types.ts";
import { loadBatch, stateError } from "./common.ts";
import type { CreationProgress, ImportBatch } from "./types.ts";

/** How long a worker holds a batch without renewing; an expired lease means the worker died. */
export const CREATION_LEASE_MS = 30_000;
export const CREATION_CHUNK = 5_000;
/** An APPROVED batch no worker picked up for this long is resumed (its process died first). */
export const APPROVED_GRACE_MS = 60_000;

export interface CreateAccountsOptions {
  /** Who clicked; absent when a batch interrupted by a crash is resumed. */
  actor?: Actor;
  batchId: string;
  onProgress?: (progress: CreationProgress) => void | Promise<void>;
  chunkSize?: number;
}

export interface CreateAccountsResult {
  batch: ImportBatch;
  /** False when another worker holds the batch, or its accounts were already created. */
  ran: boolean;
}

/**
 * Creates the accounts of an APPROVED batch (or resumes one whose worker died), exactly once:
 * a lease in the database admits one worker per batch; each chunk of READY rows becomes users
 * and CREATED/SKIPPED rows in one transaction, so a crash loses or repeats nothing. Emails
 * created meanwhile are SKIPPED with the reason. Progress is reported after every chunk.
 */
export async function createAccounts(deps: CoreDeps, options: CreateAccountsOptions): Promise<CreateAccountsResult> {
  if (options.actor) await requireAdministrator(deps.store, options.actor);
  return deps.bulk ? deps.bulk.run(() => create(deps, options)) : create(deps, options);
}

async function create(deps: CoreDeps, options: CreateAccountsOptions): Promise<CreateAccountsResult> {
  const { store } = deps;
  const owner = randomUUID();
  const leaseUntil = () => new Date(deps.now().getTime() + CREATION_LEASE_MS);

  const initial = await loadBatch(store, options.batchId);
  let batch = await store.imports.acquireCreationLease(initial.id, owner, deps.now(), leaseUntil());
  if (!batch) {
    const current = await loadBatch(store, initial.id);
    if (["CREATING", "CREATED", "INVITING", "FINISHED"].includes(current.status)) return { batch: current, ran: false };
    throw stateError(current);
  }
  const total = batch.readyRows + (batch.includeUpdates ? batch.updateRows : 0);
  const report = async (b: ImportBatch, ended = false) =>
    options.onProgress?.({ batch: b, done: doneRows(b), total, ...(ended ? { ended: true as const } : {}) });
  await report(batch);

  // The accounts first, then (when Create included them) the updates: each chunk one transaction.
  const size = options.chunkSize ?? CREATION_CHUNK;
  const audit = {
    actor: options.actor?.email ?? "system:resume",
    details: options.actor ? actorDetails(options.actor) : { resumed: true },
  };
  let reported = doneRows(batch);
  /** A chunk's batch: the latest counts are reported (chunks in parallel may finish out of order). */
  const progressed = async (b: ImportBatch) => {
    if (doneRows(b) <= reported) return;
    reported = doneRows(b);
    batch = b;
    await report(b);
  };
  // Ranges of `size` row numbers, as many transactions at once as the database takes usefully
  // (the rows of two ranges never meet, and each chunk keeps the lease's rule): the accounts
  // first, then (when Create included them) the updates. False: the lease was lost.
  const lanes = Math.max(1, store.concurrentStatements);
  const inRanges = async (
    status: "READY" | "UPDATE",
    write: (tx: Repositories, range: { from: number; size: number }) => Promise<{ batch: ImportBatch } | null>,
  ): Promise<boolean> => {
    for (;;) {
      const range = await store.imports.pendingRange(batch!.id, status);
      if (!range) return true;
      const before = reported;
      let next = range.first;
      let outcome: { error: unknown; inChunk: boolean } | "lost" | undefined;
      const lane = async () => {
        while (outcome === undefined && next <= range.last) {
          const from = next;
          next += size;
          let chunk: { batch: ImportBatch } | null;
          try {
            chunk = await chunkRetryingConflicts(deps, (tx) => write(tx, { from, size }));
          } catch (error) {
            outcome ??= { error, inChunk: true };
            return;
          }
          // Lost the lease (we stalled past it and another worker took over): stop writing.
          if (!chunk) {
            outcome ??= "lost";
            return;
          }
          try {
            await progressed(chunk.batch);
          } catch (error) {
            outcome ??= { error, inChunk: false };
            return;
          }
        }
      };
      // Every lane ends before the outcome is acted on: no chunk is still being written then.
      await Promise.all(Array.from({ length: lanes }, lane));
      if (outcome === "lost") return false;
      if (outcome) {
        // An outage, a stall (a transaction that timed out waiting) or a lasting conflict is
        // resumed later, once the lease lapses; anything else a chunk met would fail again.
        if (outcome.inChunk && !isPassingDatabaseError(outcome.error)) {
          const failed = await markFailed(deps, batch!, owner, outcome.error, options.actor);
          if (failed) await report(failed, true);
        }
        throw outcome.error;
      }
      // Rows left by a pass that moved nothing are left to completeCreation's check.
      if (reported === before) return true;
    }
  };
  const kept =
    (await inRanges("READY", (tx, range) => tx.imports.createChunk(batch!.id, owner, range, leaseUntil()))) &&
    (!batch.includeUpdates ||
      (await inRanges("UPDATE", (tx, range) => tx.imports.updateChunk(batch!.id, owner, range, leaseUntil(), audit))));
  if (!kept) return { batch: await loadBatch(store, batch.id), ran: false };

  const done = await store.transaction(async (tx) => {
    const completed = await tx.imports.completeCreation(batch!.id, owner);
    if (completed) {
      await tx.audit.record({
        actor: options.actor?.email ?? "system:resume",
        action: "import.create",
        subject: `import:${completed.code}`,
        details: {
          ...(options.actor ? actorDetails(options.actor) : { resumed: true }),
          batchId: completed.id,
          created: completed.createdRows,
          ...(completed.includeUpdates ? { updated: completed.updatedRows } : {}),
          skipped: completed.skippedRows,
          failed: completed.failedRows,
        },
      });
      // A user added through the form (once approved) has the form's event in their own trail too.
      if (completed.kind === "add-user") {
        for (const row of await tx.imports.rows(completed.id, { statuses: ["CREATED"] })) {
          await tx.audit.record({
            actor: completed.requesterEmail,
            action: "user.add",
            subject: row.email,
            details: {
              batchId: completed.id,
              import: completed.code,
              approvedBy: completed.decidedBy,
              group: row.groupName,
              role: row.role,
            },
          });
        }
      }
    }
    return completed;
  });
  const final = done ?? (await loadBatch(store, batch.id));
  await report(final, Boolean(done));
  return { batch: final, ran: Boolean(done) };
}

/** Rows decided so far: created, updated, skipped or failed. */
function doneRows(b: ImportBatch): number {
  return b.createdRows + b.updatedRows + b.skippedRows + b.failedRows;
}

/** One chunk in its transaction; a deadlock or serialization failure rolled it back whole, so it is tried again. */
function chunkRetryingConflicts<T>(deps: CoreDeps, chunk: (tx: Repositories) => Promise<T>): Promise<T> {
  return retrying(() => deps.store.transaction(chunk), {
    retryOn: (error) => isAppError(error, ErrorCode.DATABASE_BUSY),
    delaysMs: [100, 400, 1600],
  });
}

/** CREATING → FAILED with the reason, so the batch is not retried forever; its created users stay. Null: it had moved on. */
async function markFailed(deps: CoreDeps, batch: ImportBatch, owner: string, error: unknown, actor?: Actor): Promise<ImportBatch | null> {
  const reason = `account creation stopped: ${errorSummary(error)}`.slice(0, 500);
  return deps.store.transaction(async (tx) => {
    const failed = await tx.imports.transition(batch.id, ["CREATING"], "FAILED", { reason, decidedAt: deps.now() });
    if (failed) {
      await tx.audit.record({
        actor: actor?.email ?? "system:resume",
        action: "import.fail",
        subject: `import:${batch.code}`,
        details: { batchId: batch.id, reason, owner },
      });
    }
    return failed;
  });
}

/**
 * Resumes every batch whose creation was interrupted (its worker's lease expired, or it was
 * approved and its process died before a worker started): run at start and now and then, so
 * a crash or a dead replica leaves no batch half-created or waiting forever.
 */
export async function resumeInterruptedImports(
  deps: CoreDeps,
  options: { onProgress?: CreateAccountsOptions["onProgress"] } = {},
): Promise<CreateAccountsResult[]> {
  const results: CreateAccountsResult[] = [];
  const now = deps.now();
  for (const batch of await deps.store.imports.interrupted(now, new Date(now.getTime() - APPROVED_GRACE_MS))) {
    results.push(await createAccounts(deps, { batchId: batch.id, onProgress: options.onProgress }));
  }
  return results;
}
