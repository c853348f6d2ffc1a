import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode } from "../errors.ts";
import { type Actor, describeChanges } from "../types.ts";
import { batchFileName, batchFor, batchRowPages, describeState, rowFields } from "./common.ts";
import type { FileInfo, ResultRow, RowResult } from "./files.ts";
import type { ImportBatch, ImportRowRecord } from "./types.ts";

export interface ImportResults {
  /** The batch as it was when the file was made (where its messages are, its counts). */
  batch: ImportBatch;
  fileName: string;
  bytes: Uint8Array;
  /** Rows in the file: every non-blank row of the upload. */
  rows: number;
  /** How many rows had each result. */
  counts: Record<RowResult, number>;
}

/** Whether creation has run on the batch: from then on it has results. */
export function hasResults(batch: Pick<ImportBatch, "status" | "submitterEmail">): boolean {
  // A FAILED batch nobody clicked Create on is an upload that never finished staging.
  return ["CREATED", "INVITING", "FINISHED"].includes(batch.status) || (batch.status === "FAILED" && batch.submitterEmail !== null);
}

const problemsOf = (row: ImportRowRecord) => row.issues.map((i) => i.message).join(" ");
const sentence = (text: string) => (/[.!?]$/.test(text) ? text : `${text}.`);

/** What creation did with one stored row, and why, as the results file says it. */
export function rowResult(
  row: ImportRowRecord,
  batch: Pick<ImportBatch, "status" | "reason" | "includeUpdates">,
): Omit<ResultRow, "rowNumber" | "fields"> {
  const stopped = batch.status === "FAILED" ? sentence(batch.reason ?? "account creation stopped") : "account creation stopped.";
  switch (row.status) {
    case "CREATED":
      return { result: "created", details: "" };
    case "UPDATED":
      return { result: "updated", details: describeChanges(row.changes) };
    case "UNCHANGED":
      return { result: "unchanged", details: "Already as the file says: nothing to change." };
    case "UPDATE": {
      const would = describeChanges(row.changes);
      return batch.includeUpdates
        ? { result: "failed", details: `Not updated: ${stopped}` }
        : {
            result: "skipped",
            details: `Not updated: the accounts were created without the updates to existing users.${would ? ` The file would change ${would}.` : ""}`,
          };
    }
    case "READY":
      return { result: "failed", details: `Not created: ${stopped}` };
    case "NEEDS_ATTENTION":
      return { result: "skipped", details: `Not imported: ${problemsOf(row)}` };
    case "SKIPPED":
      return { result: "skipped", details: problemsOf(row) };
    case "FAILED":
      return { result: "failed", details: problemsOf(row) };
  }
}

/**
 * The results of an import's creation: every row of the batch in file order, with what
 * happened to it (created, updated, unchanged, skipped or failed, and why), in the upload's
 * format and delimiter, formula-safe. Read a page of rows at a time (a batch may hold 150,000).
 * Only once creation has run (CREATED, INVITING, FINISHED, or FAILED part-way).
 */
export async function importResults(
  deps: CoreDeps,
  { actor, batchId, pageSize }: { actor?: Actor; batchId: string; pageSize?: number },
): Promise<ImportResults> {
  const batch = await batchFor(deps.store, actor, batchId);
  if (!hasResults(batch)) {
    throw new AppError(ErrorCode.BATCH_WRONG_STATE, `${describeState(batch)} Its results come once its accounts are created.`, {
      details: { batchId: batch.id, status: batch.status },
    });
  }
  const counts: Record<RowResult, number> = { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
  let rows = 0;
  async function* pages() {
    for await (const page of batchRowPages(deps.store, batch.id, { pageSize })) {
      rows += page.length;
      yield page.map((row): ResultRow => {
        const outcome = rowResult(row, batch);
        counts[outcome.result]++;
        return { rowNumber: row.rowNumber, fields: rowFields(row), ...outcome };
      });
    }
  }
  const bytes = await deps.files.resultsFile(pages(), batch.fileInfo as FileInfo);
  return { batch, fileName: batchFileName(batch, "results"), bytes, rows, counts };
}
