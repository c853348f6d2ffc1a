/** What the import engine needs from storage and from mail. src/db and src/mail implement them. */

import type { AuditEventInput, Group } from "../types.ts";
import type { ExistingUser, RowVerdict } from "./files.ts";
import type {
  FailedInvitation,
  ImportBatch,
  ImportCounts,
  ImportInvitations,
  ImportRowRecord,
  ImportRowStatus,
  ImportStatus,
  InvitationCounts,
  InvitationToSend,
  ProblemGroup,
} from "./types.ts";

/** What a new batch is created with; counts and the rest start at their defaults (status VALIDATED). */
export type NewImportBatch = Pick<
  ImportBatch,
  | "code"
  | "fileName"
  | "sha256"
  | "sizeBytes"
  | "requesterEmail"
  | "requesterPlatformId"
  | "platform"
  | "conversation"
  | "fileInfo"
  | "createdAt"
> &
  Partial<Pick<ImportBatch, "status" | "reason" | "kind">>;

/** Fields a state transition may set besides the status. */
export type BatchChanges = Partial<
  Pick<
    ImportBatch,
    | "includeUpdates"
    | "approvalRequired"
    | "approvalRequestedAt"
    | "approvalExpiresAt"
    | "submitterEmail"
    | "submitterPlatformId"
    | "decidedBy"
    | "decidedAt"
    | "reason"
    | "conversation"
  >
> &
  Partial<ImportCounts>;

export interface ImportRepository {
  findById(id: string): Promise<ImportBatch | null>;
  findByCode(code: string): Promise<ImportBatch | null>;
  /** The requester's batch for this file content that is not closed yet. */
  findOpen(requesterEmail: string, sha256: string): Promise<ImportBatch | null>;
  /** Inserts the batch; a unique violation on its code or on the open-file index is rethrown. */
  create(batch: NewImportBatch): Promise<ImportBatch>;
  /** Deletes a batch and its rows (a staging that did not complete). */
  discard(id: string): Promise<void>;
  /** Deletes the closed, never-validated batches (FAILED with no data row) created before `before`. */
  discardAbandoned(before: Date): Promise<number>;
  /** Stores verdicts of one chunk of rows (set-based). */
  insertRows(batchId: string, verdicts: readonly RowVerdict[]): Promise<void>;
  /** The rows of a batch needing attention, by row number (those given), or those naming a group (any case). */
  attentionRows(batchId: string, filter: { rowNumbers?: readonly number[]; groupName?: string }): Promise<ImportRowRecord[]>;
  /** For these emails, the first row of the batch holding each, leaving out `except` rows. */
  firstRowsOf(batchId: string, emails: readonly string[], except: readonly number[]): Promise<Map<string, number>>;
  /**
   * Replaces rows needing attention by new verdicts (the same row numbers) and moves the batch's
   * counts by `deltas`, while the batch is VALIDATED; null (nothing written) once it is not.
   */
  replaceAttentionRows(batchId: string, verdicts: readonly RowVerdict[], deltas: Partial<ImportCounts>): Promise<ImportBatch | null>;
  /** Of these normalized emails, the ones that exist in the directory. */
  existingUsers(emails: readonly string[]): Promise<Map<string, ExistingUser>>;
  allGroups(): Promise<Group[]>;
  /**
   * Compare-and-set: moves the batch to `to` only if its status is one of `from` (and, with
   * `notExpiredAt`, its approval has not expired by then). Null when another change won.
   * With `audit`, that event is recorded in the same statement when (and only when) it moved:
   * atomic without a transaction around the two.
   */
  transition(
    id: string,
    from: readonly ImportStatus[],
    to: ImportStatus,
    changes?: BatchChanges,
    notExpiredAt?: Date,
    audit?: AuditEventInput,
  ): Promise<ImportBatch | null>;
  /**
   * Merges `patch` into the batch's record for one platform (`conversation[platform]`), leaving
   * the other platforms' records as they are; atomic, so two platforms may record at once.
   */
  mergeConversation(id: string, platform: string, patch: Readonly<Record<string, unknown>>): Promise<ImportBatch | null>;
  /** Rows of a batch in row order, optionally of some statuses, paged. */
  rows(batchId: string, options?: { statuses?: readonly ImportRowStatus[]; limit?: number; afterRow?: number }): Promise<ImportRowRecord[]>;
  /**
   * What an approver should know of the work: the emails granted the Administrator role (the
   * first `limit`, and how many), and the groups users go into with how many each.
   */
  requestFacts(
    batchId: string,
    options: { includeUpdates: boolean; limit: number },
  ): Promise<{ grants: string[]; grantTotal: number; groups: { name: string; users: number }[] }>;
  /** The problems of the rows of these statuses, grouped by kind (unknown groups by the group), most rows first. */
  problemGroups(batchId: string, statuses: readonly ImportRowStatus[]): Promise<ProblemGroup[]>;
  /**
   * Takes (or renews) the creation lease: APPROVED → CREATING, or CREATING whose lease expired
   * (its worker died). Marks READY rows whose group no longer exists FAILED. Null if not taken.
   */
  acquireCreationLease(id: string, owner: string, now: Date, until: Date): Promise<ImportBatch | null>;
  /** The first and last row numbers of the batch's rows in `status`; null when none is left. */
  pendingRange(id: string, status: "READY" | "UPDATE"): Promise<{ first: number; last: number } | null>;
  /**
   * Creates the users of the READY rows numbered `from` to `from + size - 1`, in one
   * transaction: new emails become users (rows CREATED), emails that exist by now are SKIPPED.
   * Renews the lease. Null when the lease is no longer `owner`'s (nothing written). Chunks of
   * other ranges of the same batch may be written at the same time, in other transactions.
   */
  createChunk(
    id: string,
    owner: string,
    range: { from: number; size: number },
    leaseUntil: Date,
  ): Promise<{ created: number; skipped: number; batch: ImportBatch } | null>;
  /**
   * Applies the UPDATE rows numbered `from` to `from + size - 1` in one transaction: each user
   * still as the file was checked against is changed (UPDATED, audited with `audit` and the
   * changes), the others SKIPPED. Renews the lease; null when it is no longer `owner`'s
   * (nothing written). Other ranges of the same batch may be written at the same time.
   */
  updateChunk(
    id: string,
    owner: string,
    range: { from: number; size: number },
    leaseUntil: Date,
    audit: { actor: string; details: Record<string, unknown> },
  ): Promise<{ updated: number; skipped: number; batch: ImportBatch } | null>;
  /** CREATING → CREATED once no READY row is left (nor UPDATE row, when updates are included), releasing the lease. */
  completeCreation(id: string, owner: string): Promise<ImportBatch | null>;
  /**
   * Batches whose creation needs a worker: CREATING with an expired lease (its worker died),
   * or APPROVED since before `approvedBefore` (the process died before a worker started).
   */
  interrupted(now: Date, approvedBefore: Date): Promise<ImportBatch[]>;
  /**
   * Moves to EXPIRED the AWAITING_APPROVAL batches whose approval expired at `now`, and the
   * VALIDATED ones staged before `unconfirmedBefore` (with `unconfirmedReason`); returns them.
   */
  expire(options: { now: Date; unconfirmedBefore: Date; unconfirmedReason: string }): Promise<ImportBatch[]>;
  /** Open batches, and closed ones changed since `since`, newest first (validated, never-finished uploads excluded). */
  recent(options: { since: Date; limit: number }): Promise<ImportBatch[]>;
  /** Marks reminded, and returns, the requests waiting for approval past half their time and not reminded yet. */
  takeDueReminders(now: Date): Promise<ImportBatch[]>;
  /** Batches whose buttons may still be clicked, for the edges. */
  findByStatus(statuses: readonly ImportStatus[]): Promise<ImportBatch[]>;
}

export interface InvitationRepository {
  /** One PENDING invitation per created user of the batch that has none; returns how many were made. */
  createForBatch(batchId: string, createdBy: string, now: Date): Promise<number>;
  /** A PENDING invitation for one user unless they have one; returns whether one was made. */
  createForUser(userId: string, createdBy: string, now: Date): Promise<boolean>;
  /**
   * Claims up to `limit` invitations due at `now` (PENDING, or FAILED with attempts left),
   * optionally of one batch or user, until `claimUntil`: no other sender takes them meanwhile.
   */
  claimDue(options: {
    now: Date;
    claimUntil: Date;
    limit: number;
    maxAttempts: number;
    batchId?: string;
    userId?: string;
  }): Promise<InvitationToSend[]>;
  /** SENT, the user INVITED; only while the sender's claim (`claimedUntil`) still holds it. */
  markSent(id: string, now: Date, claimedUntil: Date): Promise<void>;
  /** FAILED with the error, retried at `nextAttemptAt` (null: no more tries); same claim rule. */
  markFailed(id: string, error: string, nextAttemptAt: Date | null, claimedUntil: Date): Promise<void>;
  counts(filter: { batchId?: string; userId?: string }): Promise<InvitationCounts>;
  /** The failed invitations (of one batch when given), most recent first, and how many there are. */
  failed(options: { batchId?: string; limit: number; maxAttempts: number }): Promise<{ invitations: FailedInvitation[]; total: number }>;
  /** The imports with invitations, newest first, with their counts. */
  recentImports(limit: number): Promise<ImportInvitations[]>;
  /**
   * Invitations of a batch or a user in one of `statuses` made due again, from a first attempt
   * (a SENT one is then mailed once more); returns how many.
   */
  resend(filter: { batchId?: string; userId?: string; statuses: readonly ("FAILED" | "SENT")[] }, now: Date): Promise<number>;
}

/** Sends enrollment invitations. */
export interface InvitationMailer {
  /** False when no SMTP server is configured: invitations stay PENDING. */
  readonly configured: boolean;
  send(message: { to: string; name: string; token: string; invitationId: string }): Promise<void>;
}
