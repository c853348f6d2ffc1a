import { actorDetails, requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode, isPassingDatabaseError, retrying } from "../errors.ts";
import { normalizeEmail } from "../schemas.ts";
import type { Actor } from "../types.ts";
import { administratorAndBatch, closableFrom, loadBatch, stateError } from "./common.ts";
import type { ImportBatch, InvitationCounts } from "./types.ts";

/** Sends are retried with backoff (1, 2, 4, 8 minutes) up to this many attempts in all. */
export const MAX_INVITATION_ATTEMPTS = 5;
const SEND_LEASE_MS = 5 * 60_000;
// Claimed a few at a time: even at nodemailer's worst (~55 s a message) they are all sent
// well within their claim, so no other sender takes one over meanwhile.
const SEND_BATCH = 3;
/** How long a click spends sending; the background job sends the rest. */
export const INTERACTIVE_SEND_BUDGET_MS = 15_000;

export interface InvitationOutcome {
  counts: InvitationCounts;
  /** False when no SMTP server is configured: nothing was sent, invitations stay PENDING. */
  mailConfigured: boolean;
}

/**
 * Invite: an enrollment invitation for every user the batch created (CREATED, or FAILED
 * part-way, → INVITING → FINISHED), then one delivery pass. Without SMTP the invitations stay
 * PENDING and the result says so; failed sends are retried later by deliverInvitations.
 */
export async function inviteImportedUsers(
  deps: CoreDeps,
  { actor, batchId }: { actor: Actor; batchId: string },
): Promise<InvitationOutcome & { batch: ImportBatch }> {
  const { store } = deps;
  const { batch } = await administratorAndBatch(store, actor, batchId);
  const inviting = await store.transaction(async (tx) => {
    const moved = await tx.imports.transition(batch.id, [closableFrom(batch)], "INVITING");
    if (!moved) return null;
    const made = await tx.invitations.createForBatch(batch.id, normalizeEmail(actor.email), deps.now());
    await tx.audit.record({
      actor: actor.email,
      action: "import.invite",
      subject: `import:${batch.code}`,
      details: { ...actorDetails(actor), batchId: batch.id, invitations: made },
    });
    return moved;
  });
  if (!inviting) throw stateError(await loadBatch(store, batch.id));
  try {
    await deliverInvitations(deps, { batchId: batch.id, budgetMs: INTERACTIVE_SEND_BUDGET_MS });
  } finally {
    // The invitations exist; whatever this pass did, the background job sends the rest.
    await store.imports.transition(batch.id, ["INVITING"], "FINISHED");
  }
  const finished = await loadBatch(store, batch.id);
  return {
    batch: finished,
    counts: await store.invitations.counts({ batchId: batch.id }),
    mailConfigured: Boolean(deps.mailer?.configured),
  };
}

/** Invites one user (added by the form, say) to enroll; once per user. */
export async function inviteUser(deps: CoreDeps, { actor, email }: { actor: Actor; email: string }): Promise<InvitationOutcome> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const user = await store.users.findByEmail(normalizeEmail(email));
  if (!user) throw new AppError(ErrorCode.NOT_FOUND, `There is no user with Email ID ${normalizeEmail(email)}.`);
  const made = await store.transaction(async (tx) => {
    const created = await tx.invitations.createForUser(user.id, normalizeEmail(actor.email), deps.now());
    if (created)
      await tx.audit.record({
        actor: actor.email,
        action: "user.invite",
        subject: user.email,
        details: { ...actorDetails(actor), userId: user.id },
      });
    return created;
  });
  if (made) await deliverInvitations(deps, { userId: user.id, budgetMs: INTERACTIVE_SEND_BUDGET_MS });
  return { counts: await store.invitations.counts({ userId: user.id }), mailConfigured: Boolean(deps.mailer?.configured) };
}

/**
 * Sends the invitations that are due (new, or failed and due for a retry), optionally of one
 * batch or user, for at most `budgetMs` (then the rest waits for the next pass). Each is
 * claimed in the database first, so two replicas never send the same one; a send that fails
 * is retried with backoff. Returns what this pass did, and the imports whose invitations it
 * changed (their messages show the counts).
 */
export async function deliverInvitations(
  deps: CoreDeps,
  { budgetMs, ...filter }: { batchId?: string; userId?: string; budgetMs?: number } = {},
): Promise<{ sent: number; failed: number; batchIds: string[] }> {
  const { store, mailer } = deps;
  const batches = new Set<string>();
  const result = { sent: 0, failed: 0 };
  const done = () => ({ ...result, batchIds: [...batches] });
  if (!mailer?.configured) return done();
  const deadline = budgetMs === undefined ? Infinity : Date.now() + budgetMs;
  while (Date.now() < deadline) {
    const now = deps.now();
    const due = await store.invitations.claimDue({
      now,
      claimUntil: new Date(now.getTime() + SEND_LEASE_MS),
      limit: SEND_BATCH,
      maxAttempts: MAX_INVITATION_ATTEMPTS,
      ...filter,
    });
    if (due.length === 0) return done();
    for (const invitation of due) {
      if (invitation.batchId) batches.add(invitation.batchId);
      try {
        await mailer.send({ to: invitation.email, name: invitation.name, token: invitation.token, invitationId: invitation.id });
      } catch (error) {
        const retry =
          invitation.attempts < MAX_INVITATION_ATTEMPTS ? new Date(deps.now().getTime() + 60_000 * 2 ** (invitation.attempts - 1)) : null;
        await store.invitations.markFailed(
          invitation.id,
          error instanceof Error ? error.message : String(error),
          retry,
          invitation.claimedUntil,
        );
        result.failed++;
        continue;
      }
      // The mail is out: a failure to record that must never turn into a retry that sends it again.
      await recordSent(deps, invitation);
      result.sent++;
    }
  }
  return done();
}

/**
 * Records a sent invitation (and its user as INVITED), trying again over about 5 seconds when
 * the database does not answer or has a conflict; never marks it FAILED. If it still cannot be
 * recorded, it stays claimed for the rest of its 5-minute claim, and a pass after that sends it
 * again: the one way an invitation goes out twice (a database outage right after a send).
 */
function recordSent(deps: CoreDeps, invitation: { id: string; claimedUntil: Date }): Promise<void> {
  return retrying(() => deps.store.invitations.markSent(invitation.id, deps.now(), invitation.claimedUntil), {
    retryOn: isPassingDatabaseError,
    delaysMs: [250, 1000, 4000],
  });
}

/** An INVITING batch untouched this long lost its process mid-pass: its invitations exist. */
export const STALLED_INVITING_MS = 5 * 60_000;

/** Closes INVITING batches whose process died mid-pass (the background job sends the rest). */
export async function finishStalledInvitations(deps: CoreDeps): Promise<ImportBatch[]> {
  const cutoff = deps.now().getTime() - STALLED_INVITING_MS;
  const finished: ImportBatch[] = [];
  for (const batch of await deps.store.imports.findByStatus(["INVITING"])) {
    if (batch.updatedAt.getTime() >= cutoff) continue;
    const moved = await deps.store.imports.transition(batch.id, ["INVITING"], "FINISHED");
    if (moved) finished.push(moved);
  }
  return finished;
}
