import { requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { type Actor, ROLE_LABELS, type Role } from "../types.ts";
import { eligibleApprovers, importSettings, loadBatch } from "./common.ts";
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

/** A batch with the rows an admin has to look at, for the summary message. */
export async function getImport(
  deps: CoreDeps,
  { actor, batchId, attentionLimit = 50 }: { actor?: Actor; batchId: string; attentionLimit?: number },
): Promise<ImportSummary> {
  if (actor) await requireAdministrator(deps.store, actor);
  const batch = await loadBatch(deps.store, batchId);
  const created = !["VALIDATED", "AWAITING_APPROVAL", "APPROVED", "EXPIRED", "CANCELLED", "REJECTED"].includes(batch.status);
  const [attention, problems, changes, invitations, approvers] = await Promise.all([
    deps.store.imports.rows(batch.id, { statuses: ["NEEDS_ATTENTION", "SKIPPED", "FAILED"], limit: attentionLimit }),
    attentionLimit > 0 ? deps.store.imports.problemGroups(batch.id, created ? ["SKIPPED", "FAILED"] : ["NEEDS_ATTENTION"]) : [],
    attentionLimit > 0 && batch.updateRows > 0
      ? deps.store.imports.rows(batch.id, { statuses: ["UPDATE", "UPDATED"], limit: CHANGES_SHOWN })
      : [],
    deps.store.invitations.counts({ batchId: batch.id }),
    batch.status === "AWAITING_APPROVAL" ? eligibleApprovers(deps.store, batch, importSettings(deps), deps.now()) : [],
  ]);
  const facts =
    batch.status === "AWAITING_APPROVAL"
      ? await deps.store.imports.requestFacts(batch.id, { includeUpdates: batch.includeUpdates, limit: GRANTS_SHOWN })
      : undefined;
  return { batch, attention, problems, changes, invitations, approvers, facts, mailConfigured: Boolean(deps.mailer?.configured) };
}

/**
 * The error report: the template's columns plus Problems, only the rows that need attention
 * (or were skipped or failed), formula-safe, so the admin fixes and re-uploads it.
 */
export async function importErrorReport(
  deps: CoreDeps,
  { actor, batchId }: { actor?: Actor; batchId: string },
): Promise<{ fileName: string; bytes: Uint8Array; rows: number }> {
  if (actor) await requireAdministrator(deps.store, actor);
  const batch = await loadBatch(deps.store, batchId);
  const rows: ImportRowRecord[] = [];
  for (let after = 0; ; ) {
    const page = await deps.store.imports.rows(batch.id, {
      statuses: ["NEEDS_ATTENTION", "SKIPPED", "FAILED"],
      limit: 10_000,
      afterRow: after,
    });
    rows.push(...page);
    if (page.length < 10_000) break;
    after = page[page.length - 1]!.rowNumber;
  }
  const bytes = deps.files.errorReport(
    rows.map((r) => ({
      rowNumber: r.rowNumber,
      fields: {
        email: r.email,
        name: r.name,
        group: r.groupName,
        role: ROLE_LABELS[r.role as Role] ?? r.role,
        exchangeDomain: r.exchangeDomain,
        exchangeUsername: r.exchangeUsername,
      },
      problems: r.issues.map((i) => i.message),
    })),
  );
  const base = batch.fileName.replace(/\.[^.]*$/, "") || "import";
  return { fileName: `${base}-${batch.code}-problems.csv`, bytes, rows: rows.length };
}
