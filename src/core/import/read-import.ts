import { requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import type { Actor } from "../types.ts";
import { batchFileName, batchFor, batchRowPages, eligibleApprovers, importSettings, rowFields } from "./common.ts";
import type { FileInfo } from "./files.ts";
import type { ImportBatch, ImportRowRecord, InvitationCounts, ProblemGroup } from "./types.ts";

export interface ImportSummary {
  batch: ImportBatch;
  /** The first rows needing attention, in row order (at most `attentionLimit`). */
  attention: ImportRowRecord[];
  /** The problems of the rows needing attention (or, once created, skipped or failed), by kind. */
  problems: ProblemGroup[];
  /** The first rows that change an existing user, with their changes. */
  changes: ImportRowRecord[];
  invitations: InvitationCounts;
  /** Who may approve it now (emails), while it waits for approval; empty otherwise. */
  approvers: string[];
  /** False when no mail server is configured: invitations stay pending. */
  mailConfigured: boolean;
  /** While it waits for approval: who is granted the Administrator role, and who goes into which group. */
  facts?: { grants: string[]; grantTotal: number; groups: { name: string; users: number }[] };
}

/** Grants of the Administrator role an approval request lists by email, at most. */
export const GRANTS_SHOWN = 20;

/** Rows with changes fetched for a summary. */
export const CHANGES_SHOWN = 10;

export interface GetImportOptions {
  actor?: Actor;
  batchId: string;
  /** Rows needing attention (and problem groups, changes) fetched; 0: none, for a view that shows none. */
  attentionLimit?: number;
  /** The batch as a use case returned it a moment ago (staged, submitted, created): not read again. */
  batch?: ImportBatch;
  /** Who may approve it, as the use case that asked for approval found a moment ago: not looked up again. */
  approvers?: string[];
}

/** Statuses a batch has before any account of it is created (so it has no invitations yet). */
const BEFORE_CREATION: readonly string[] = ["VALIDATED", "AWAITING_APPROVAL", "APPROVED", "EXPIRED", "CANCELLED", "REJECTED"];

const NO_INVITATIONS: InvitationCounts = { pending: 0, sent: 0, failed: 0 };

/** A batch with the rows an admin has to look at, for the summary message. Its reads run at once. */
export async function getImport(deps: CoreDeps, options: GetImportOptions): Promise<ImportSummary> {
  const { actor, batchId, attentionLimit = 50 } = options;
  let batch: ImportBatch;
  if (options.batch) {
    if (actor) await requireAdministrator(deps.store, actor);
    batch = options.batch;
  } else batch = await batchFor(deps.store, actor, batchId);
  const created = !BEFORE_CREATION.includes(batch.status);
  const awaiting = batch.status === "AWAITING_APPROVAL";
  const [attention, problems, changes, invitations, approvers, facts] = await Promise.all([
    attentionLimit > 0
      ? deps.store.imports.rows(batch.id, { statuses: ["NEEDS_ATTENTION", "SKIPPED", "FAILED"], limit: attentionLimit })
      : [],
    attentionLimit > 0 ? deps.store.imports.problemGroups(batch.id, created ? ["SKIPPED", "FAILED"] : ["NEEDS_ATTENTION"]) : [],
    attentionLimit > 0 && batch.updateRows > 0
      ? deps.store.imports.rows(batch.id, { statuses: ["UPDATE", "UPDATED"], limit: CHANGES_SHOWN })
      : [],
    created ? deps.store.invitations.counts({ batchId: batch.id }) : NO_INVITATIONS,
    !awaiting ? [] : (options.approvers ?? eligibleApprovers(deps.store, batch, importSettings(deps), deps.now())),
    awaiting ? deps.store.imports.requestFacts(batch.id, { includeUpdates: batch.includeUpdates, limit: GRANTS_SHOWN }) : undefined,
  ]);
  return { batch, attention, problems, changes, invitations, approvers, facts, mailConfigured: Boolean(deps.mailer?.configured) };
}

/**
 * The error report: each row's number in the uploaded file, the template's columns and the
 * problems, only the rows that need attention (or were skipped or failed), formula-safe and in
 * the upload's delimiter, so the admin fixes it and uploads it again. Read a page at a time.
 */
export async function importErrorReport(
  deps: CoreDeps,
  { actor, batchId, pageSize }: { actor?: Actor; batchId: string; pageSize?: number },
): Promise<{ fileName: string; bytes: Uint8Array; rows: number }> {
  const batch = await batchFor(deps.store, actor, batchId);
  let rows = 0;
  async function* pages() {
    for await (const page of batchRowPages(deps.store, batch.id, { statuses: ["NEEDS_ATTENTION", "SKIPPED", "FAILED"], pageSize })) {
      rows += page.length;
      yield page.map((r) => ({ rowNumber: r.rowNumber, fields: rowFields(r), problems: r.issues.map((i) => i.message) }));
    }
  }
  const bytes = await deps.files.errorReport(pages(), batch.fileInfo as FileInfo);
  return { fileName: batchFileName(batch, "problems"), bytes, rows };
}
