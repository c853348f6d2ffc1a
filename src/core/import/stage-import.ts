import { createHash } from "node:crypto";
import { actorDetails, requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import type { Repositories } from "../ports.ts";
import type { Actor, Group } from "../types.ts";
import { importSettings, needsApproval, newBatchCode } from "./common.ts";
import type { FileInfo, FileRow, RowVerdict, ValidationCounts } from "./files.ts";
import type { NewImportBatch } from "./ports.ts";
import type { ImportBatch, ImportStatus } from "./types.ts";

export interface StageImportOptions {
  actor: Actor;
  file: { name: string; bytes: Uint8Array };
  /** Rows validated and stored per statement. */
  chunkSize?: number;
}

export interface StagedImport {
  batch: ImportBatch;
  /** The same file by the same admin while its batch is still open: that batch, unchanged. */
  reused: boolean;
  /** Columns of the file that were ignored. */
  unknownColumns: string[];
}

// Rows validated and stored per step. Small enough that a chunk's objects die young: bigger
// chunks outlive a couple of scavenges across their database round trips, get promoted, and
// swell the old generation (measured on 150,000 rows: 5,000 → +300 MB peak RSS; 1,000 →
// ~20% slower; see bench/import.ts).
const STAGE_CHUNK = 2_500;

/**
 * Validates every row of an uploaded CSV and stores the batch with its rows (status
 * VALIDATED). A whole-file error (AppError FILE_*), or any failure, leaves no batch behind.
 */
export async function stageImport(deps: CoreDeps, options: StageImportOptions): Promise<StagedImport> {
  const { store } = deps;
  const { actor, file } = options;
  await requireAdministrator(store, actor);
  const sha256 = createHash("sha256").update(file.bytes).digest("hex");
  const requesterEmail = actor.email.trim().toLowerCase();

  const open = await store.imports.findOpen(requesterEmail, sha256);
  if (open) return { batch: open, reused: true, unknownColumns: fileInfoOf(open).unknownColumns ?? [] };

  const reader = await deps.files.open(file.bytes);
  const groups = await store.imports.allGroups();
  const code = await newBatchCode(store);
  const newBatch: NewImportBatch = {
    code,
    fileName: file.name,
    sha256,
    sizeBytes: file.bytes.byteLength,
    requesterEmail,
    requesterPlatformId: actor.platformUserId ?? null,
    platform: actor.platform,
    // Where its messages are is recorded once they are posted (recordImportConversation).
    conversation: {},
    fileInfo: reader.info,
    // The core's clock, like every time the expiry and clean-up jobs compare it with.
    createdAt: deps.now(),
  };
  const chunks = () => reader.chunks(options.chunkSize ?? STAGE_CHUNK);
  const stage = store.concurrentStatements > 1 ? stageInLanes : stageInTransaction;

  try {
    const run = deps.bulk ? deps.bulk.run.bind(deps.bulk) : <T>(work: () => Promise<T>) => work();
    const batch = await run(() => stage(deps, { actor, newBatch, groups, chunks }));
    return { batch, reused: false, unknownColumns: reader.info.unknownColumns };
  } catch (error) {
    // The same file uploaded twice at once: the other upload's batch won the open-file index.
    const raced = await store.imports.findOpen(requesterEmail, sha256);
    if (raced) return { batch: raced, reused: true, unknownColumns: fileInfoOf(raced).unknownColumns ?? [] };
    throw error;
  }
}

interface Staging {
  actor: Actor;
  newBatch: NewImportBatch;
  groups: Group[];
  chunks: () => AsyncIterable<FileRow[]>;
}

/**
 * One connection (PGlite): the batch and its rows in one transaction, the next chunk validated
 * while the database stores the previous one.
 */
async function stageInTransaction(deps: CoreDeps, { actor, newBatch, groups, chunks }: Staging): Promise<ImportBatch> {
  return deps.store.transaction(
    async (tx) => {
      const created = await tx.imports.create(newBatch);
      const validator = deps.files.validator({ groups, existingUsers: (emails) => tx.imports.existingUsers(emails) });
      let storing: Promise<void> = Promise.resolve();
      for await (const chunk of chunks()) {
        const verdicts = await validator.validate(chunk);
        await storing;
        storing = tx.imports.insertRows(created.id, verdicts);
        storing.catch(() => {}); // awaited on the next turn or after the loop
      }
      await storing;
      return validate(deps, tx, actor, created, ["VALIDATED"], validator.counts());
    },
    { timeoutMs: 300_000 },
  );
}

/**
 * A connection pool (PostgreSQL): the rows are stored several statements at a time, outside a
 * transaction, under a batch created closed (FAILED, "interrupted") that nothing acts on; one
 * statement then makes it VALIDATED (with its audit event). On failure the batch and its rows are deleted; a
 * crash leaves only a closed batch. Measured ~1.2 s faster than one transaction on 150,000 rows.
 */
async function stageInLanes(deps: CoreDeps, { actor, newBatch, groups, chunks }: Staging): Promise<ImportBatch> {
  const { store } = deps;
  const created = await store.imports.create({
    ...newBatch,
    status: "FAILED",
    reason: "The upload was interrupted; upload the file again.",
  });
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  let validating: Promise<RowVerdict[]> | undefined;
  try {
    const validator = deps.files.validator({ groups, existingUsers: (emails) => store.imports.existingUsers(emails) });
    const storeRows = async (verdicts: RowVerdict[]) => {
      while (inFlight.size >= store.concurrentStatements) await Promise.race(inFlight);
      if (failure) throw failure.error;
      const storing: Promise<void> = store.imports
        .insertRows(created.id, verdicts)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(storing));
      inFlight.add(storing);
    };
    // A chunk's look-up of existing users is in flight while the next chunk is parsed (the bot
    // waited for each one: ~0.6 s of 150,000 rows). Rows are checked in file order all the same:
    // validate() checks a chunk's rows before it asks the directory.
    for await (const chunk of chunks()) {
      const next = validator.validate(chunk);
      next.catch(() => {}); // awaited on the next turn or after the loop
      if (validating) await storeRows(await validating);
      validating = next;
    }
    if (validating) await storeRows(await validating);
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    const counts = validator.counts();
    return await validate(deps, store, actor, created, ["FAILED"], counts);
  } catch (error) {
    await Promise.allSettled([...inFlight, validating]);
    await store.imports.discard(created.id).catch(() => {});
    throw error;
  }
}

/** Sets the counts and the approval need, moves the batch to VALIDATED, records the upload. */
async function validate(
  deps: CoreDeps,
  repos: Repositories,
  actor: Actor,
  created: ImportBatch,
  from: ImportStatus[],
  c: ValidationCounts,
): Promise<ImportBatch> {
  const counts = {
    dataRows: c.dataRows,
    readyRows: c.ready,
    attentionRows: c.needsAttention,
    blankRows: c.blank,
    adminRows: c.administrators,
    updateRows: c.updates,
    unchangedRows: c.unchanged,
    adminUpdateRows: c.adminUpdates,
  };
  const approvalRequired = needsApproval(importSettings(deps).approvalPolicy, counts);
  // The move and its audit event are one statement.
  const validated = await repos.imports.transition(
    created.id,
    from,
    "VALIDATED",
    { ...counts, approvalRequired, reason: null },
    undefined,
    {
      actor: actor.email,
      action: "import.upload",
      subject: `import:${created.code}`,
      details: {
        ...actorDetails(actor),
        batchId: created.id,
        fileName: created.fileName,
        sha256: created.sha256,
        sizeBytes: created.sizeBytes,
        ...counts,
      },
    },
  );
  if (!validated) throw new Error(`import ${created.code} changed while it was being staged`);
  return validated;
}

function fileInfoOf(batch: ImportBatch): Partial<FileInfo> {
  return (batch.fileInfo ?? {}) as Partial<FileInfo>;
}

/** How long a staging may take before a closed, never-validated batch counts as abandoned. */
export const ABANDONED_UPLOAD_MS = 60 * 60_000;

/**
 * Deletes the closed batches (and their rows) of uploads whose process died while staging
 * them: FAILED, never validated (no data row counted), older than ABANDONED_UPLOAD_MS.
 */
export function discardInterruptedUploads(deps: CoreDeps): Promise<number> {
  return deps.store.imports.discardAbandoned(new Date(deps.now().getTime() - ABANDONED_UPLOAD_MS));
}
