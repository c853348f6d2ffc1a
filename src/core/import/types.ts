/** Import batches, their rows and enrollment invitations, as the core sees them. */
import type { FieldIssue } from "../errors.ts";
import type { UserChanges } from "../types.ts";

export const IMPORT_STATUSES = [
  "VALIDATED",
  "AWAITING_APPROVAL",
  "APPROVED",
  "CREATING",
  "CREATED",
  "INVITING",
  "FINISHED",
  "CANCELLED",
  "REJECTED",
  "EXPIRED",
  "FAILED",
] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** States after which a batch is closed: a new upload of the same file starts a new batch. */
export const CLOSED_IMPORT_STATUSES: readonly ImportStatus[] = ["FINISHED", "CANCELLED", "REJECTED", "EXPIRED", "FAILED"];

/** Whether Invite and Finish apply: its accounts are created, or creation failed part-way after making some. */
export function awaitsInviteOrFinish(batch: { status: ImportStatus; createdRows: number }): boolean {
  return batch.status === "CREATED" || (batch.status === "FAILED" && batch.createdRows > 0);
}

export type ImportRowStatus = "READY" | "NEEDS_ATTENTION" | "CREATED" | "SKIPPED" | "FAILED" | "UPDATE" | "UNCHANGED" | "UPDATED";

/** What a batch asks for: a CSV import, or one user through the Add user form or a role change that needs an approver. */
export type ImportKind = "import" | "add-user" | "role";

/** When an import needs an approver's click before accounts are created. */
export type ApprovalPolicy =
  | { kind: "always" }
  | { kind: "never" }
  /** Only when the batch grants the Administrator role. */
  | { kind: "admins" }
  /** When the batch creates at least `count` accounts. */
  | { kind: "atLeast"; count: number };

export interface ImportSettings {
  approvalPolicy: ApprovalPolicy;
  /** Narrows who may approve (never a requester); empty: every other Administrator. */
  approvers: readonly string[];
  approvalTtlHours: number;
  /** An Administrator for less than this may not approve (APPROVER_MIN_ROLE_AGE_HOURS); 0: no wait. */
  approverMinRoleAgeHours?: number;
  /** Exempt from that wait besides APPROVERS: the BOOTSTRAP_ADMINS. */
  trustedAdministrators?: readonly string[];
}

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = { approvalPolicy: { kind: "always" }, approvers: [], approvalTtlHours: 72 };

export interface ImportCounts {
  dataRows: number;
  readyRows: number;
  attentionRows: number;
  blankRows: number;
  adminRows: number;
  /** Rows updating an existing user; rows leaving one as they are; updates granting the Administrator role. */
  updateRows: number;
  unchangedRows: number;
  adminUpdateRows: number;
  createdRows: number;
  updatedRows: number;
  skippedRows: number;
  failedRows: number;
}

export interface ImportBatch extends ImportCounts {
  id: string;
  code: string;
  fileName: string;
  sha256: string;
  sizeBytes: number;
  /** Who uploaded the file. They and the submitter are its requesters: neither may approve or reject it. */
  requesterEmail: string;
  requesterPlatformId: string | null;
  /** Who clicked Create (recorded with the submit); null before. */
  submitterEmail: string | null;
  submitterPlatformId: string | null;
  platform: string;
  kind: ImportKind;
  /** Create chose to apply the updates too ("Create N and update M"). */
  includeUpdates: boolean;
  conversation: unknown;
  fileInfo: unknown;
  status: ImportStatus;
  approvalRequired: boolean;
  approvalRequestedAt: Date | null;
  approvalExpiresAt: Date | null;
  /** When the approvers were reminded (once, half-way). */
  approvalRemindedAt: Date | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  reason: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A stored row, for summaries and the error report. */
export interface ImportRowRecord {
  rowNumber: number;
  status: ImportRowStatus;
  email: string;
  name: string;
  groupName: string;
  role: string;
  exchangeDomain: string;
  exchangeUsername: string;
  issues: FieldIssue[];
  /** UPDATE and UPDATED rows: what changes. */
  changes: UserChanges | null;
}

/** One kind of problem of a batch's rows: how many rows have it, and the first of them. */
export interface ProblemGroup {
  code: string;
  field: string;
  /** For an unknown group: the group the rows name (as the first of them writes it). */
  value?: string;
  rows: number;
  /** The first rows with it, by row number (at most five). */
  firstRows: number[];
}

/** Live progress of account creation, reported after each committed chunk. */
export interface CreationProgress {
  batch: ImportBatch;
  /** Rows decided so far (created + skipped + failed) out of the READY rows at the start. */
  done: number;
  total: number;
  /**
   * This worker took the batch to its end: CREATED, or FAILED when creation stopped for good.
   * Reported once per batch, whichever worker (a click's, the background job's) finished it.
   */
  ended?: true;
}

export interface InvitationCounts {
  pending: number;
  sent: number;
  failed: number;
}

/** An invitation that could not be sent (its last error), for the invitation status. */
export interface FailedInvitation {
  email: string;
  name: string;
  attempts: number;
  lastError: string | null;
  /** The import it invites for, if any. */
  batchCode: string | null;
  /** True when no more tries are due: only a Resend sends it. */
  exhausted: boolean;
}

/** An import's invitations, counted. */
export interface ImportInvitations {
  batchId: string;
  code: string;
  fileName: string;
  createdAt: Date;
  counts: InvitationCounts;
}

/** An invitation a sender holds and must deliver. */
export interface InvitationToSend {
  id: string;
  /** The sender's claim: it may record the outcome only while this still holds. */
  claimedUntil: Date;
  token: string;
  attempts: number;
  userId: string;
  /** The import it invites for; null for a single user. */
  batchId: string | null;
  email: string;
  name: string;
}
