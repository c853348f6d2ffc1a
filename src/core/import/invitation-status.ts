import { actorDetails, requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode } from "../errors.ts";
import { normalizeEmail } from "../schemas.ts";
import type { Actor } from "../types.ts";
import { loadBatch } from "./common.ts";
import { deliverInvitations, INTERACTIVE_SEND_BUDGET_MS, MAX_INVITATION_ATTEMPTS } from "./invite.ts";
import type { FailedInvitation, ImportInvitations, InvitationCounts } from "./types.ts";

/** Failed invitations listed at most; imports shown at most when none is named. */
export const FAILED_SHOWN = 20;
export const RECENT_IMPORTS_SHOWN = 10;

export interface InvitationStatus {
  /** The import asked about, or the recent imports with invitations. */
  imports: ImportInvitations[];
  /** The one import asked about, when one was. */
  batchId?: string;
  failed: FailedInvitation[];
  failedTotal: number;
  /** False: no mail server, invitations stay pending. */
  mailConfigured: boolean;
}

/** Invitation counts of one import (by code or id) or of the recent ones, and the failed invitations with their last error. */
export async function invitationStatus(deps: CoreDeps, { actor, batch }: { actor: Actor; batch?: string }): Promise<InvitationStatus> {
  await requireAdministrator(deps.store, actor);
  const { invitations } = deps.store;
  const mailConfigured = Boolean(deps.mailer?.configured);
  if (batch?.trim()) {
    const found = await loadBatch(deps.store, batch.trim());
    const [counts, failed] = await Promise.all([
      invitations.counts({ batchId: found.id }),
      invitations.failed({ batchId: found.id, limit: FAILED_SHOWN, maxAttempts: MAX_INVITATION_ATTEMPTS }),
    ]);
    const imports = [{ batchId: found.id, code: found.code, fileName: found.fileName, createdAt: found.createdAt, counts }];
    return { imports, batchId: found.id, failed: failed.invitations, failedTotal: failed.total, mailConfigured };
  }
  const [imports, failed] = await Promise.all([
    invitations.recentImports(RECENT_IMPORTS_SHOWN),
    invitations.failed({ limit: FAILED_SHOWN, maxAttempts: MAX_INVITATION_ATTEMPTS }),
  ]);
  return { imports, failed: failed.invitations, failedTotal: failed.total, mailConfigured };
}

export interface ResendOutcome {
  /** How many invitations were made due again. */
  resent: number;
  counts: InvitationCounts;
  mailConfigured: boolean;
}

/**
 * Resend: the failed invitations of an import sent again from their first attempt (also those
 * past their last retry); or one user's invitation, sent again whatever happened to it (made
 * when they have none). Then one delivery pass.
 */
export async function resendInvitations(
  deps: CoreDeps,
  { actor, batchId, email }: { actor: Actor; batchId?: string; email?: string },
): Promise<ResendOutcome> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const mailConfigured = Boolean(deps.mailer?.configured);
  const now = deps.now();
  if (email !== undefined) {
    const user = await store.users.findByEmail(normalizeEmail(email));
    if (!user) throw new AppError(ErrorCode.NOT_FOUND, `There is no user with Email ID ${normalizeEmail(email)}.`);
    const resent = await store.transaction(async (tx) => {
      const made = await tx.invitations.createForUser(user.id, normalizeEmail(actor.email), now);
      const again = made ? 0 : await tx.invitations.resend({ userId: user.id, statuses: ["FAILED", "SENT"] }, now);
      await tx.audit.record({
        actor: actor.email,
        action: made ? "user.invite" : "user.reinvite",
        subject: user.email,
        details: { ...actorDetails(actor), userId: user.id },
      });
      return made ? 1 : again;
    });
    await deliverInvitations(deps, { userId: user.id, budgetMs: INTERACTIVE_SEND_BUDGET_MS });
    return { resent, counts: await store.invitations.counts({ userId: user.id }), mailConfigured };
  }
  if (!batchId) throw new AppError(ErrorCode.VALIDATION_FAILED, "Say which import's invitations to send again.");
  const batch = await loadBatch(store, batchId);
  const resent = await store.transaction(async (tx) => {
    const count = await tx.invitations.resend({ batchId: batch.id, statuses: ["FAILED"] }, now);
    if (count > 0)
      await tx.audit.record({
        actor: actor.email,
        action: "import.reinvite",
        subject: `import:${batch.code}`,
        details: { ...actorDetails(actor), batchId: batch.id, invitations: count },
      });
    return count;
  });
  if (resent > 0) await deliverInvitations(deps, { batchId: batch.id, budgetMs: INTERACTIVE_SEND_BUDGET_MS });
  return { resent, counts: await store.invitations.counts({ batchId: batch.id }), mailConfigured };
}
