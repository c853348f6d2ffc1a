import { actorDetails } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode } from "../errors.ts";
import { normalizeEmail } from "../schemas.ts";
import type { Actor } from "../types.ts";
import {
  administratorAndBatch,
  eligibleApprovers,
  importSettings,
  loadBatch,
  needsApproval,
  requesterDetails,
  stateError,
} from "./common.ts";
import type { ImportBatch } from "./types.ts";

export type SubmitImportResult =
  /** Policy needs an approver: the batch waits for one of `approvers`. */
  | { kind: "approval_requested"; batch: ImportBatch; approvers: string[] }
  /** No approval needed: the batch is APPROVED; the caller starts createAccounts. */
  | { kind: "approved"; batch: ImportBatch };

/**
 * The Create button: asks for approval when policy says so (AWAITING_APPROVAL, expiring after
 * APPROVAL_TTL_HOURS), else approves at once. Refuses plainly when nobody could approve.
 * Whoever clicks is recorded on the batch with the move: a requester, like the uploader.
 * `includeUpdates` is the choice between "Create N accounts" and "Create N and update M": the
 * approval, and the work, cover exactly what was chosen.
 */
export async function submitImport(
  deps: CoreDeps,
  { actor, batchId, includeUpdates = false }: { actor: Actor; batchId: string; includeUpdates?: boolean },
): Promise<SubmitImportResult> {
  const { store } = deps;
  // The Administrators are read meanwhile: who may approve, should policy ask for it.
  const administrators = store.users.administrators();
  administrators.catch(() => {}); // awaited below only when approval is asked for
  const { batch } = await administratorAndBatch(store, actor, batchId);
  if (batch.status !== "VALIDATED") throw stateError(batch);
  const updates = includeUpdates ? batch.updateRows : 0;
  if (batch.readyRows + updates === 0) {
    throw new AppError(
      ErrorCode.NOTHING_TO_CREATE,
      batch.updateRows > 0
        ? `Import ${batch.code} creates no account: choose Create and update to apply its ${batch.updateRows} changes.`
        : batch.unchangedRows > 0 && batch.attentionRows === 0
          ? `Import ${batch.code} has nothing to change: every user in it is already as the file says.`
          : `Import ${batch.code} has no row ready to create: fix the rows that need attention and upload the file again.`,
    );
  }
  const settings = importSettings(deps);
  const now = deps.now();
  // What is asked: an import, or one user's request ("Make x an Administrator").
  const what = batch.kind === "import" ? `import ${batch.code}` : `“${batch.fileName}” (${batch.code})`;
  const submitter = { submitterEmail: normalizeEmail(actor.email), submitterPlatformId: actor.platformUserId ?? null };
  // The approval policy judges what was chosen: the accounts, and the updates when they are included.
  const approvalRequired = needsApproval(settings.approvalPolicy, {
    readyRows: batch.readyRows + updates,
    adminRows: batch.adminRows + (includeUpdates ? batch.adminUpdateRows : 0),
  });
  const choice = { includeUpdates: updates > 0, approvalRequired };

  if (!approvalRequired) {
    // The move and its audit event are one statement.
    const approved = await store.imports.transition(
      batch.id,
      ["VALIDATED"],
      "APPROVED",
      { ...submitter, ...choice, decidedAt: now, reason: "No approval needed (APPROVAL_POLICY)." },
      undefined,
      {
        actor: actor.email,
        action: "import.submit",
        subject: `import:${batch.code}`,
        details: { ...actorDetails(actor), batchId: batch.id, ...requesterDetails({ ...batch, ...submitter }), approval: "not required" },
      },
    );
    if (!approved) throw stateError(await loadBatch(store, batch.id));
    return { kind: "approved", batch: approved };
  }

  const approvers = await eligibleApprovers(store, { ...batch, ...submitter }, settings, now, await administrators);
  if (approvers.length === 0) {
    const narrowed = settings.approvers.length > 0;
    // The uploader is a requester too: name them when someone else uploaded the file.
    const uploader = batch.requesterEmail === submitter.submitterEmail ? undefined : batch.requesterEmail;
    const others = uploader ? `other than you and ${uploader} (who uploaded the file)` : "other than you";
    throw new AppError(
      ErrorCode.NO_ELIGIBLE_APPROVER,
      narrowed
        ? `Nobody can approve ${what}: none of APPROVERS (${settings.approvers.join(", ")}) is an HMS Administrator ${others}. Make one of them an Administrator, or change APPROVERS.`
        : uploader
          ? `Nobody can approve ${what}: no HMS Administrator is left besides you (who clicked Create) and ${uploader} (who uploaded the file), and nobody approves their own request.`
          : `Nobody can approve ${what}: you are the only HMS Administrator, and nobody approves their own request.`,
      // The edge adds how to add an Administrator on its platform.
      { details: { batchId: batch.id, onlyAdministrator: !narrowed, ...requesterDetails({ ...batch, ...submitter }) } },
    );
  }
  const expiresAt = new Date(now.getTime() + settings.approvalTtlHours * 3_600_000);
  const waiting = await store.imports.transition(
    batch.id,
    ["VALIDATED"],
    "AWAITING_APPROVAL",
    { ...submitter, ...choice, approvalRequestedAt: now, approvalExpiresAt: expiresAt },
    undefined,
    {
      actor: actor.email,
      action: "import.approval_requested",
      subject: `import:${batch.code}`,
      details: {
        ...actorDetails(actor),
        batchId: batch.id,
        ...requesterDetails({ ...batch, ...submitter }),
        approvers,
        expiresAt: expiresAt.toISOString(),
      },
    },
  );
  if (!waiting) throw stateError(await loadBatch(store, batch.id));
  return { kind: "approval_requested", batch: waiting, approvers };
}
