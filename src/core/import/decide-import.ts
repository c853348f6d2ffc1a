import { actorDetails } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode } from "../errors.ts";
import type { Repositories } from "../ports.ts";
import { normalizeEmail } from "../schemas.ts";
import type { Actor } from "../types.ts";
import { administratorAndBatch, importSettings, loadBatch, mayApproveFrom, requesterDetails, stateError } from "./common.ts";
import type { ImportBatch } from "./types.ts";

export interface DecideImportOptions {
  actor: Actor;
  batchId: string;
  /**
   * The start of the file's SHA-256 (at least 12 hex digits) that the approval request showed:
   * the decision applies to that content only. Required: a decision that does not say which
   * content it is about is refused.
   */
  sha256Prefix: string | undefined;
}

// How much of the SHA-256 a decision must name, at least: 12 hex digits (48 bits), as the request shows.
const MIN_SHA256_PREFIX = 12;

/**
 * Checks that `actor` (an Administrator since `roleSince`) may decide on `batch`: not one of its
 * requesters, an approver, and for its content.
 */
function checkApprover(deps: CoreDeps, actor: Actor, roleSince: Date, batch: ImportBatch, sha256Prefix: string | undefined): void {
  const email = normalizeEmail(actor.email);
  if (email === batch.requesterEmail) {
    const what = batch.kind === "import" ? `import ${batch.code}` : `${batch.code} (“${batch.fileName}”)`;
    throw new AppError(ErrorCode.SELF_APPROVAL, `You requested ${what}; another Administrator must approve or reject it.`);
  }
  if (batch.submitterEmail && email === normalizeEmail(batch.submitterEmail)) {
    throw new AppError(
      ErrorCode.SELF_APPROVAL,
      `You clicked Create on import ${batch.code}; another Administrator must approve or reject it.`,
    );
  }
  const settings = importSettings(deps);
  const { approvers } = settings;
  if (approvers.length > 0 && !approvers.map(normalizeEmail).includes(email)) {
    throw new AppError(ErrorCode.NOT_AN_APPROVER, `Only ${approvers.join(", ")} may approve imports.`);
  }
  const from = mayApproveFrom(settings, email, roleSince, deps.now());
  if (from) {
    const at = from.toISOString().replace("T", " ").slice(0, 16);
    throw new AppError(
      ErrorCode.ROLE_TOO_NEW,
      `You became an Administrator less than ${settings.approverMinRoleAgeHours} hours ago, so you may not approve or reject yet (from ${at} UTC). Another Administrator can.`,
    );
  }
  const prefix = sha256Prefix?.trim().toLowerCase() ?? "";
  if (!new RegExp(`^[0-9a-f]{${MIN_SHA256_PREFIX},64}$`).test(prefix)) {
    throw new AppError(
      ErrorCode.BATCH_WRONG_STATE,
      `This decision does not say which file content of import ${batch.code} it is for (its SHA-256), so nothing changed. Use the Approve or Reject button of the approval request.`,
      { details: { batchId: batch.id } },
    );
  }
  if (!batch.sha256.startsWith(prefix)) {
    throw new AppError(ErrorCode.BATCH_WRONG_STATE, `This approval request does not match the content of import ${batch.code}.`, {
      details: { batchId: batch.id },
    });
  }
}

/**
 * Whether `actor` may approve or reject the batch now: it waits for approval, the request has
 * not expired (one found expired is marked so), and the actor is an eligible approver. Edges
 * call it before asking for a reject reason, so nobody types one in vain.
 */
export async function checkImportDecision(deps: CoreDeps, { actor, batchId, sha256Prefix }: DecideImportOptions): Promise<ImportBatch> {
  const { admin, batch } = await administratorAndBatch(deps.store, actor, batchId);
  if (batch.status !== "AWAITING_APPROVAL") throw stateError(batch);
  if (batch.approvalExpiresAt && batch.approvalExpiresAt <= deps.now()) throw stateError(await expireIfDue(deps, batch.id, deps.now()));
  checkApprover(deps, actor, admin.roleSince, batch, sha256Prefix);
  return batch;
}

/**
 * Approve: a compare-and-set AWAITING_APPROVAL → APPROVED while the request has not expired.
 * Of any number of concurrent clicks exactly one wins; the others get "already approved by X at T".
 */
export async function approveImport(deps: CoreDeps, { actor, batchId, sha256Prefix }: DecideImportOptions): Promise<ImportBatch> {
  const { store } = deps;
  const batch = await checkImportDecision(deps, { actor, batchId, sha256Prefix });
  const now = deps.now();
  // The move and its audit event are one statement.
  const approved = await store.imports.transition(
    batch.id,
    ["AWAITING_APPROVAL"],
    "APPROVED",
    { decidedBy: normalizeEmail(actor.email), decidedAt: now },
    now,
    {
      actor: actor.email,
      action: "import.approve",
      subject: `import:${batch.code}`,
      details: { ...actorDetails(actor), batchId: batch.id, ...requesterDetails(batch), sha256: batch.sha256 },
    },
  );
  if (approved) return approved;
  throw stateError(await expireIfDue(deps, batch.id, now));
}

/** Reject with a reason: the same compare-and-set, to REJECTED. */
export async function rejectImport(
  deps: CoreDeps,
  { actor, batchId, reason, sha256Prefix }: DecideImportOptions & { reason: string },
): Promise<ImportBatch> {
  const { store } = deps;
  const batch = await checkImportDecision(deps, { actor, batchId, sha256Prefix });
  const text = reason.trim();
  if (!text) throw new AppError(ErrorCode.REASON_REQUIRED, "Say why the import is rejected; the requester will see it.");
  const now = deps.now();
  const rejected = await store.transaction(async (tx) => {
    const moved = await tx.imports.transition(
      batch.id,
      ["AWAITING_APPROVAL"],
      "REJECTED",
      { decidedBy: normalizeEmail(actor.email), decidedAt: now, reason: text.slice(0, 500) },
      now,
    );
    if (moved) {
      await tx.audit.record({
        actor: actor.email,
        action: "import.reject",
        subject: `import:${batch.code}`,
        details: { ...actorDetails(actor), batchId: batch.id, ...requesterDetails(batch), sha256: batch.sha256, reason: text },
      });
    }
    return moved;
  });
  if (rejected) return rejected;
  throw stateError(await expireIfDue(deps, batch.id, now));
}

/** Cancel: the requester (or any Administrator) drops a batch before its accounts are created. */
export async function cancelImport(deps: CoreDeps, { actor, batchId }: { actor: Actor; batchId: string }): Promise<ImportBatch> {
  const { store } = deps;
  const { batch } = await administratorAndBatch(store, actor, batchId);
  const cancelled = await store.transaction(async (tx) => {
    const moved = await tx.imports.transition(batch.id, ["VALIDATED", "AWAITING_APPROVAL", "APPROVED"], "CANCELLED", {
      decidedBy: normalizeEmail(actor.email),
      decidedAt: deps.now(),
    });
    if (moved)
      await tx.audit.record({
        actor: actor.email,
        action: "import.cancel",
        subject: `import:${batch.code}`,
        details: { ...actorDetails(actor), batchId: batch.id },
      });
    return moved;
  });
  if (cancelled) return cancelled;
  throw stateError(await loadBatch(store, batch.id));
}

/** Moves a request whose time ran out to EXPIRED (losing clicks learn it expired). */
async function expireIfDue(deps: CoreDeps, batchId: string, now: Date): Promise<ImportBatch> {
  const batch = await loadBatch(deps.store, batchId);
  if (batch.status === "AWAITING_APPROVAL" && batch.approvalExpiresAt && batch.approvalExpiresAt <= now) {
    const expired = await deps.store.transaction(async (tx) => {
      const moved = await tx.imports.transition(batch.id, ["AWAITING_APPROVAL"], "EXPIRED", {
        decidedAt: now,
        reason: "The approval request expired.",
      });
      if (moved) await recordExpiry(tx, moved);
      return moved;
    });
    return expired ?? loadBatch(deps.store, batchId);
  }
  return batch;
}

function recordExpiry(tx: Repositories, batch: ImportBatch): Promise<void> {
  return tx.audit.record({
    actor: "system:expiry",
    action: "import.expire",
    subject: `import:${batch.code}`,
    details: { batchId: batch.id },
  });
}

/**
 * Expires every approval request past its time, and every summary nobody confirmed within the
 * same time (uploading that file again then checks it against the directory as it is now, rather
 * than returning the old check); returns those batches so edges update their buttons.
 */
export async function expireImports(deps: CoreDeps): Promise<ImportBatch[]> {
  const now = deps.now();
  const { approvalTtlHours } = importSettings(deps);
  const unconfirmedBefore = new Date(now.getTime() - approvalTtlHours * 3_600_000);
  const unconfirmedReason = `Not confirmed within ${approvalTtlHours} hours.`;
  return deps.store.transaction(async (tx) => {
    const expired = await tx.imports.expire({ now, unconfirmedBefore, unconfirmedReason });
    for (const batch of expired) await recordExpiry(tx, batch);
    return expired;
  });
}
