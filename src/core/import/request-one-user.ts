/**
 * Administrator grants are four-eyes everywhere: adding one user as an Administrator through the
 * Add user form, and Make Administrator on a user's card, follow APPROVAL_POLICY like an import.
 * When policy asks an approver, the change becomes a one-user batch (kind "add-user" or "role")
 * that goes through the very same request, buttons, rules, expiry and audit as an import.
 */
import { createHash } from "node:crypto";
import { actorDetails, requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode } from "../errors.ts";
import { normalizeEmail, type ValidUserFields } from "../schemas.ts";
import { type Actor, type Group, ROLE_LABELS, type UserChanges, type UserWithGroup } from "../types.ts";
import { importSettings, needsApproval, newBatchCode } from "./common.ts";
import type { RowVerdict } from "./files.ts";
import { type SubmitImportResult, submitImport } from "./submit-import.ts";
import type { ImportBatch, ImportKind } from "./types.ts";

/** Whether policy asks an approver before one user becomes an Administrator. */
export function grantNeedsApproval(deps: CoreDeps): boolean {
  return needsApproval(importSettings(deps).approvalPolicy, { readyRows: 1, adminRows: 1 });
}

/** Stores a one-user batch for `verdict` and submits it for approval (nothing is left behind when that fails). */
async function requestOne(
  deps: CoreDeps,
  {
    actor,
    kind,
    title,
    verdict,
    counts,
  }: { actor: Actor; kind: ImportKind; title: string; verdict: RowVerdict; counts: Partial<ImportBatch> },
): Promise<Extract<SubmitImportResult, { kind: "approval_requested" }>> {
  const { store } = deps;
  const now = deps.now();
  const content = JSON.stringify({ kind, verdict, at: now.toISOString() });
  const batch = await store.transaction(async (tx) => {
    const created = await tx.imports.create({
      code: await newBatchCode(tx),
      kind,
      fileName: title,
      sha256: createHash("sha256").update(content).digest("hex"),
      sizeBytes: 0,
      requesterEmail: normalizeEmail(actor.email),
      requesterPlatformId: actor.platformUserId ?? null,
      platform: actor.platform,
      conversation: {},
      fileInfo: {},
      createdAt: now,
    });
    await tx.imports.insertRows(created.id, [verdict]);
    const validated = await tx.imports.transition(created.id, ["VALIDATED"], "VALIDATED", {
      dataRows: 1,
      approvalRequired: true,
      ...counts,
    });
    await tx.audit.record({
      actor: actor.email,
      action: "import.upload",
      subject: `import:${created.code}`,
      details: { ...actorDetails(actor), batchId: created.id, kind, title },
    });
    return validated!;
  });
  try {
    const submitted = await submitImport(deps, { actor, batchId: batch.id, includeUpdates: kind === "role" });
    if (submitted.kind !== "approval_requested") throw new Error(`one-user request ${batch.code} did not wait for approval`);
    return submitted;
  } catch (error) {
    // Nobody could approve (or anything else): the request does not linger.
    await store.imports.discard(batch.id).catch(() => {});
    throw error;
  }
}

/** Add user with the Administrator role, when policy asks an approver: the request (the user is created once approved). */
export async function requestAddAdministrator(
  deps: CoreDeps,
  { actor, value, group }: { actor: Actor; value: ValidUserFields; group: Group },
): Promise<Extract<SubmitImportResult, { kind: "approval_requested" }>> {
  const fields = {
    email: value.email,
    name: value.name,
    group: group.name,
    role: ROLE_LABELS[value.role],
    exchangeDomain: value.exchangeDomain ?? "",
    exchangeUsername: value.exchangeUsername ?? "",
  };
  return requestOne(deps, {
    actor,
    kind: "add-user",
    title: `Add ${value.email} as Administrator`,
    verdict: { rowNumber: 1, status: "READY", fields, ready: { value: { ...value, group: group.name }, groupId: group.id }, issues: [] },
    counts: { readyRows: 1, adminRows: 1 },
  });
}

export type AdministratorGrant =
  /** Done at once (policy asks nobody, or they already were one). */
  { kind: "granted"; user: UserWithGroup; changes: UserChanges } | Extract<SubmitImportResult, { kind: "approval_requested" }>;

/** Make Administrator on a user's card: at once when policy lets it, else a request an approver decides. */
export async function requestAdministrator(deps: CoreDeps, { actor, email }: { actor: Actor; email: string }): Promise<AdministratorGrant> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const user = await store.users.findByEmail(normalizeEmail(email));
  if (!user) throw new AppError(ErrorCode.NOT_FOUND, `There is no user with Email ID ${normalizeEmail(email)}.`);
  if (user.role === "ADMINISTRATOR") return { kind: "granted", user, changes: {} };
  const changes: UserChanges = { role: { from: ROLE_LABELS.USER, to: ROLE_LABELS.ADMINISTRATOR } };
  if (!grantNeedsApproval(deps)) {
    const granted = await store.transaction(async (tx) => {
      const updated = await tx.users.update(user.id, { ...snapshot(user), role: "ADMINISTRATOR", roleSince: deps.now() });
      await tx.audit.record({
        actor: actor.email,
        action: "user.update",
        subject: user.email,
        details: { ...actorDetails(actor), userId: user.id, changes, approval: "not required" },
      });
      return updated;
    });
    return { kind: "granted", user: granted, changes };
  }
  const fields = {
    email: user.email,
    name: user.name,
    group: user.group.name,
    role: ROLE_LABELS.ADMINISTRATOR,
    exchangeDomain: user.exchangeDomain ?? "",
    exchangeUsername: user.exchangeUsername ?? "",
  };
  const value: ValidUserFields = { ...snapshot(user), email: user.email, group: user.group.name, role: "ADMINISTRATOR" };
  return requestOne(deps, {
    actor,
    kind: "role",
    title: `Make ${user.email} an Administrator`,
    verdict: {
      rowNumber: 1,
      status: "UPDATE",
      fields,
      ready: { value, groupId: user.groupId },
      update: { userId: user.id, before: snapshot(user), changes },
      issues: [],
    },
    counts: { updateRows: 1, adminUpdateRows: 1 },
  });
}

function snapshot(user: UserWithGroup) {
  return {
    name: user.name,
    groupId: user.groupId,
    role: user.role,
    exchangeDomain: user.exchangeDomain,
    exchangeUsername: user.exchangeUsername,
  };
}
