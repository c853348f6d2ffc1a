/**
 * The platform-neutral core: use cases bound to their dependencies. Edges call these and
 * never reach the database or each other.
 */

import { type AddGroupOptions, addGroup } from "./add-group.ts";
import { type AddUserOptions, addUser } from "./add-user.ts";
import { requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { ensureBootstrapAdmins } from "./ensure-bootstrap-admins.ts";
import { AppError, ErrorCode } from "./errors.ts";
import { type ExportUsersOptions, exportUsers } from "./export-users.ts";
import { type FindUsersOptions, findUsers } from "./find-users.ts";
import { createGate } from "./gate.ts";
import { type GetUserOptions, getUser } from "./get-user.ts";
import { type CreateAccountsOptions, createAccounts, resumeInterruptedImports } from "./import/create-accounts.ts";
import {
  approveImport,
  cancelImport,
  checkImportDecision,
  type DecideImportOptions,
  expireImports,
  rejectImport,
} from "./import/decide-import.ts";
import { finishImport } from "./import/finish-import.ts";
import { importResults } from "./import/import-results.ts";
import { invitationStatus, resendInvitations } from "./import/invitation-status.ts";
import { deliverInvitations, finishStalledInvitations, inviteImportedUsers, inviteUser } from "./import/invite.ts";
import { listImports } from "./import/list-imports.ts";
import { getImport, importErrorReport } from "./import/read-import.ts";
import { createGroupForImport, fixImportRow, importRow } from "./import/recheck-import.ts";
import { remindApprovals } from "./import/remind-approvals.ts";
import { requestAdministrator } from "./import/request-one-user.ts";
import { discardInterruptedUploads, type StageImportOptions, stageImport } from "./import/stage-import.ts";
import { submitImport } from "./import/submit-import.ts";
import { type ListAuditOptions, listAudit } from "./list-audit.ts";
import { type ListGroupsOptions, listGroups } from "./list-groups.ts";
import { removeUser } from "./remove-user.ts";
import { normalizeEmail } from "./schemas.ts";
import type { Actor } from "./types.ts";
import { type UpdateUserOptions, updateUser } from "./update-user.ts";

/** The actor with its email as the directory stores it (every edge may pass any case). */
function normalizedActor(actor: Actor): Actor {
  return { ...actor, email: normalizeEmail(actor.email) };
}

/** Use-case options with their actor, if any, normalized: done here once for every use case. */
function asActor<O extends { actor?: Actor }>(options: O): O {
  return options.actor ? { ...options, actor: normalizedActor(options.actor) } : options;
}

/** Builds the use cases over one store and clock. */
export function createCore(options: CoreDeps) {
  const deps: CoreDeps = { ...options, bulk: options.bulk ?? createGate(1) };
  return {
    addUser: (options: AddUserOptions) => addUser(deps, asActor(options)),
    addGroup: (options: AddGroupOptions) => addGroup(deps, asActor(options)),
    listGroups: (options: ListGroupsOptions) => listGroups(deps, asActor(options)),
    findUsers: (options: FindUsersOptions) => findUsers(deps, asActor(options)),
    getUser: (options: GetUserOptions) => getUser(deps, asActor(options)),
    updateUser: (options: UpdateUserOptions) => updateUser(deps, asActor(options)),
    removeUser: (options: { actor: Actor; email: string }) => removeUser(deps, asActor(options)),
    /** Make Administrator: at once, or a request for an approver when APPROVAL_POLICY asks. */
    requestAdministrator: (options: { actor: Actor; email: string }) => requestAdministrator(deps, asActor(options)),
    exportUsers: (options: ExportUsersOptions) => exportUsers(deps, asActor(options)),
    listAudit: (options: ListAuditOptions) => listAudit(deps, asActor(options)),
    invitationStatus: (options: { actor: Actor; batch?: string }) => invitationStatus(deps, asActor(options)),
    resendInvitations: (options: { actor: Actor; batchId?: string; email?: string }) => resendInvitations(deps, asActor(options)),
    ensureBootstrapAdmins: (options: { emails: readonly string[] }) => ensureBootstrapAdmins(deps, options),
    /**
     * True the first time a platform delivery (e.g. `slack:event:Ev123`) is seen, false for
     * retries of it, across replicas. Keys older than a day are forgotten now and then.
     */
    claimDelivery: async (key: string) => {
      const first = await deps.store.events.claim(key);
      if (first && Math.random() < 0.01) await deps.store.events.prune(new Date(deps.now().getTime() - 86_400_000));
      return first;
    },
    // Imports
    /** The CSV template and how to fill it in. */
    importTemplate: () => deps.files.template(),
    stageImport: (options: StageImportOptions) => stageImport(deps, asActor(options)),
    getImport: (options: Parameters<typeof getImport>[1]) => getImport(deps, asActor(options)),
    listImports: (options: { actor: Actor; limit?: number }) => listImports(deps, asActor(options)),
    importErrorReport: (options: Parameters<typeof importErrorReport>[1]) => importErrorReport(deps, asActor(options)),
    /** Every row of a created batch with what happened to it, as a file (after creation only). */
    importResults: (options: Parameters<typeof importResults>[1]) => importResults(deps, asActor(options)),
    /**
     * Records where a platform posted a batch's messages (opaque to the core), merged into that
     * platform's record: other platforms' records are kept.
     */
    recordImportConversation: async ({
      batchId,
      platform,
      record,
    }: {
      batchId: string;
      platform: string;
      record: Readonly<Record<string, unknown>>;
    }) => {
      const batch = await deps.store.imports.mergeConversation(batchId, platform, record);
      if (!batch) throw new AppError(ErrorCode.BATCH_NOT_FOUND, `There is no import ${batchId}.`);
      return batch;
    },
    submitImport: (options: { actor: Actor; batchId: string; includeUpdates?: boolean }) => submitImport(deps, asActor(options)),
    checkImportDecision: (options: DecideImportOptions) => checkImportDecision(deps, asActor(options)),
    approveImport: (options: DecideImportOptions) => approveImport(deps, asActor(options)),
    rejectImport: (options: DecideImportOptions & { reason: string }) => rejectImport(deps, asActor(options)),
    cancelImport: (options: { actor: Actor; batchId: string }) => cancelImport(deps, asActor(options)),
    createAccounts: (options: CreateAccountsOptions) => createAccounts(deps, asActor(options)),
    resumeInterruptedImports: (options?: Parameters<typeof resumeInterruptedImports>[1]) => resumeInterruptedImports(deps, options),
    expireImports: () => expireImports(deps),
    /** Create group X from a summary, and its rows checked again. */
    createGroupForImport: (options: { actor: Actor; batchId: string; group: string }) => createGroupForImport(deps, asActor(options)),
    importRow: (options: { actor: Actor; batchId: string; rowNumber: number }) => importRow(deps, asActor(options)),
    fixImportRow: (options: Parameters<typeof fixImportRow>[1]) => fixImportRow(deps, asActor(options)),
    /** The approval requests to remind their approvers of (once, half-way to expiry). */
    remindApprovals: () => remindApprovals(deps),
    finishImport: (options: { actor: Actor; batchId: string }) => finishImport(deps, asActor(options)),
    inviteImportedUsers: (options: { actor: Actor; batchId: string }) => inviteImportedUsers(deps, asActor(options)),
    inviteUser: (options: { actor: Actor; email: string }) => inviteUser(deps, asActor(options)),
    finishStalledInvitations: () => finishStalledInvitations(deps),
    discardInterruptedUploads: () => discardInterruptedUploads(deps),
    deliverInvitations: (filter?: Parameters<typeof deliverInvitations>[1]) => deliverInvitations(deps, filter),
    /** Resolves the actor to an HMS Administrator or throws NOT_ADMINISTRATOR. */
    requireAdministrator: (actor: Actor) => requireAdministrator(deps.store, normalizedActor(actor)),
  };
}

export type Core = ReturnType<typeof createCore>;

export type { AddUserResult } from "./add-user.ts";
export type { CoreDeps } from "./deps.ts";
export * from "./errors.ts";
export type { DirectoryExport } from "./export-users.ts";
export { describeState } from "./import/common.ts";
export type * from "./import/files.ts";
export type { ImportResults } from "./import/import-results.ts";
export type { InvitationStatus, ResendOutcome } from "./import/invitation-status.ts";
export type * from "./import/ports.ts";
export type { ImportSummary } from "./import/read-import.ts";
export type { AdministratorGrant } from "./import/request-one-user.ts";
export * from "./import/types.ts";
export type { AuditListing } from "./list-audit.ts";
export type * from "./ports.ts";
export * from "./schemas.ts";
export * from "./types.ts";
export type { UpdateUserResult } from "./update-user.ts";
