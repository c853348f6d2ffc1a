import { requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode, type UserField } from "../errors.ts";
import type { Repositories } from "../ports.ts";
import { normalizeEmail } from "../schemas.ts";
import { type Actor, ROLE_LABELS, type Role } from "../types.ts";
import {
  type ApprovalPolicy,
  awaitsInviteOrFinish,
  DEFAULT_IMPORT_SETTINGS,
  type ImportBatch,
  type ImportRowRecord,
  type ImportRowStatus,
  type ImportSettings,
} from "./types.ts";

export function importSettings(deps: CoreDeps): ImportSettings {
  return deps.imports ?? DEFAULT_IMPORT_SETTINGS;
}

const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"; // no 0/O, 1/I/L, U

/** A short code no batch has yet, e.g. IMP-7K3Q. */
export async function newBatchCode(repos: Repositories): Promise<string> {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(4));
    const code = `IMP-${[...bytes].map((b) => CODE_ALPHABET[b % CODE_ALPHABET.length]).join("")}`;
    if (!(await repos.imports.findByCode(code))) return code;
  }
}

/** A batch by id or by its code (IMP-7K3Q); BATCH_NOT_FOUND otherwise. */
export async function loadBatch(repos: Repositories, idOrCode: string): Promise<ImportBatch> {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const batch = UUID.test(idOrCode) ? await repos.imports.findById(idOrCode) : await repos.imports.findByCode(idOrCode);
  if (!batch) throw new AppError(ErrorCode.BATCH_NOT_FOUND, `There is no import ${idOrCode}.`);
  return batch;
}

/** The batch, for an Administrator when an actor is given (the background asks with none). */
export async function batchFor(repos: Repositories, actor: Actor | undefined, idOrCode: string): Promise<ImportBatch> {
  return actor ? (await administratorAndBatch(repos, actor, idOrCode)).batch : loadBatch(repos, idOrCode);
}

/**
 * The actor checked as an Administrator and the batch loaded, both at once. A refusal of the
 * actor comes first: someone who is not an Administrator learns nothing about the batch.
 */
export async function administratorAndBatch(
  repos: Repositories,
  actor: Actor,
  idOrCode: string,
): Promise<{ admin: Awaited<ReturnType<typeof requireAdministrator>>; batch: ImportBatch }> {
  const [admin, batch] = await Promise.allSettled([requireAdministrator(repos, actor), loadBatch(repos, idOrCode)]);
  if (admin.status === "rejected") throw admin.reason;
  if (batch.status === "rejected") throw batch.reason;
  return { admin: admin.value, batch: batch.value };
}

/**
 * The state Invite and Finish move a batch from: CREATED, or FAILED when creation stopped
 * after some accounts were made (their users deserve an invitation, and the batch an end).
 */
export function closableFrom(batch: ImportBatch): "CREATED" | "FAILED" {
  return batch.status === "FAILED" && awaitsInviteOrFinish(batch) ? "FAILED" : "CREATED";
}

/** Whether policy asks an approver's click before creating this batch's accounts. */
export function needsApproval(policy: ApprovalPolicy, counts: { readyRows: number; adminRows: number }): boolean {
  switch (policy.kind) {
    case "always":
      return true;
    case "never":
      return false;
    case "admins":
      return counts.adminRows > 0;
    case "atLeast":
      return counts.readyRows >= policy.count;
  }
}

/**
 * The requesters of a batch: who uploaded the file and, once someone clicked Create, who did.
 * None of them may approve or reject it.
 */
export function requestersOf(batch: Pick<ImportBatch, "requesterEmail" | "submitterEmail">): string[] {
  return [...new Set([batch.requesterEmail, batch.submitterEmail].filter((e): e is string => Boolean(e)).map(normalizeEmail))];
}

/** The requesters as audit events record them. */
export function requesterDetails(batch: Pick<ImportBatch, "requesterEmail" | "submitterEmail">): Record<string, unknown> {
  return { uploadedBy: batch.requesterEmail, submittedBy: batch.submitterEmail };
}

/**
 * When an Administrator of `roleSince` may approve: after APPROVER_MIN_ROLE_AGE_HOURS (no wait for
 * those listed in APPROVERS or BOOTSTRAP_ADMINS); undefined: already.
 */
export function mayApproveFrom(settings: ImportSettings, email: string, roleSince: Date, now: Date): Date | undefined {
  const hours = settings.approverMinRoleAgeHours ?? 0;
  const trusted = [...settings.approvers, ...(settings.trustedAdministrators ?? [])].map(normalizeEmail);
  if (hours <= 0 || trusted.includes(normalizeEmail(email))) return undefined;
  const from = new Date(roleSince.getTime() + hours * 3_600_000);
  return from > now ? from : undefined;
}

/**
 * Administrators who may approve this batch: never one of its requesters, narrowed by APPROVERS,
 * and none made an Administrator too recently.
 */
export async function eligibleApprovers(
  repos: Repositories,
  batch: Pick<ImportBatch, "requesterEmail" | "submitterEmail">,
  settings: ImportSettings,
  now: Date,
  /** The Administrators, when the caller read them already. */
  administrators?: { email: string; roleSince: Date }[],
): Promise<string[]> {
  const admins = administrators ?? (await repos.users.administrators());
  const requesters = new Set(requestersOf(batch));
  const narrowed = settings.approvers.length > 0 ? new Set(settings.approvers.map(normalizeEmail)) : undefined;
  return admins
    .filter(
      ({ email, roleSince }) =>
        !requesters.has(email) && (!narrowed || narrowed.has(email)) && !mayApproveFrom(settings, email, roleSince, now),
    )
    .map((a) => a.email);
}

const when = (date: Date | null) => (date ? ` at ${date.toISOString().replace("T", " ").slice(0, 16)} UTC` : "");

/** What happened to a batch, worded for the person who clicked a button too late. */
export function describeState(batch: ImportBatch): string {
  const by = batch.decidedBy ? ` by ${batch.decidedBy}` : "";
  const approved = batch.approvalRequired && batch.decidedBy ? `was already approved${by}${when(batch.decidedAt)}` : "";
  const then = (rest: string) => (approved ? `Import ${batch.code} ${approved}; ${rest}.` : `Import ${batch.code}: ${rest}.`);
  switch (batch.status) {
    case "VALIDATED":
      return `Import ${batch.code} is validated and waiting for Create.`;
    case "AWAITING_APPROVAL":
      return `Import ${batch.code} is waiting for an approver.`;
    case "APPROVED":
      return approved ? `Import ${batch.code} ${approved}.` : `Import ${batch.code} is approved.`;
    case "CREATING":
      return then("its accounts are being created");
    case "CREATED":
      return then(`its accounts were created (${batch.createdRows})`);
    case "INVITING":
      return then("its users are being invited");
    case "FINISHED":
      return then("it is finished");
    case "REJECTED":
      return `Import ${batch.code} was already rejected${by}${when(batch.decidedAt)}${batch.reason ? `: ${batch.reason}` : "."}`;
    case "CANCELLED":
      return `Import ${batch.code} was cancelled${by}${when(batch.decidedAt)}.`;
    case "EXPIRED":
      return `The approval request for import ${batch.code} expired${when(batch.approvalExpiresAt)}; upload the file again.`;
    case "FAILED":
      return `Import ${batch.code} failed${batch.reason ? `: ${batch.reason}` : "."}`;
  }
}

/** BATCH_WRONG_STATE, or BATCH_ALREADY_DECIDED / BATCH_EXPIRED when that is what happened. */
export function stateError(batch: ImportBatch): AppError {
  const code =
    batch.status === "EXPIRED"
      ? ErrorCode.BATCH_EXPIRED
      : batch.decidedAt && !["VALIDATED", "AWAITING_APPROVAL"].includes(batch.status)
        ? ErrorCode.BATCH_ALREADY_DECIDED
        : ErrorCode.BATCH_WRONG_STATE;
  return new AppError(code, describeState(batch), { details: { batchId: batch.id, status: batch.status } });
}

/** Stored rows read per page when a whole batch is written to a file. */
export const ROWS_PER_PAGE = 5_000;

/**
 * The rows of a batch (of these statuses, or all), a page at a time in row order: a file of a
 * 150,000-row batch is written without the batch ever being in memory as rows.
 */
export async function* batchRowPages(
  repos: Repositories,
  batchId: string,
  { statuses, pageSize = ROWS_PER_PAGE }: { statuses?: readonly ImportRowStatus[]; pageSize?: number } = {},
): AsyncGenerator<ImportRowRecord[]> {
  for (let afterRow: number | undefined; ; ) {
    const page = await repos.imports.rows(batchId, { statuses, limit: pageSize, afterRow });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    afterRow = page[page.length - 1]!.rowNumber;
  }
}

/** A stored row's cells in the template's fields (the role as people read it). */
export function rowFields(row: ImportRowRecord): Record<UserField, string> {
  return {
    email: row.email,
    name: row.name,
    group: row.groupName,
    role: ROLE_LABELS[row.role as Role] ?? row.role,
    exchangeDomain: row.exchangeDomain,
    exchangeUsername: row.exchangeUsername,
  };
}

/** The name of a file the bot makes for a batch: the upload's name, the code, and what it is. */
export function batchFileName(batch: Pick<ImportBatch, "fileName" | "code">, what: string): string {
  const base = batch.fileName.replace(/\.[^.]*$/, "") || "import";
  return `${base}-${batch.code}-${what}.csv`;
}
