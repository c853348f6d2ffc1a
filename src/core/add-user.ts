import { actorDetails, requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode, isAppError } from "./errors.ts";
import { grantNeedsApproval, requestAddAdministrator } from "./import/request-one-user.ts";
import type { ImportBatch } from "./import/types.ts";
import { fieldIssue, type UserInput, userInputSchema, validateUserFields } from "./schemas.ts";
import type { Actor, Group, User } from "./types.ts";

export interface AddUserOptions {
  actor: Actor;
  input: UserInput;
}

export type AddUserResult =
  | { kind: "added"; user: User; group: Group }
  /** An Administrator, and policy asks an approver first: the request (the user is added once approved). */
  | { kind: "approval_requested"; batch: ImportBatch; approvers: string[] };

/**
 * Adds one user from the Add user form. Every field problem is reported at once
 * (VALIDATION_FAILED with field issues); nothing is written unless all pass.
 */
export async function addUser(deps: CoreDeps, { actor, input }: AddUserOptions): Promise<AddUserResult> {
  const { store } = deps;
  await requireAdministrator(store, actor);

  const parsed = userInputSchema.safeParse(input);
  if (!parsed.success) throw new AppError(ErrorCode.VALIDATION_FAILED, "The Add user input is malformed.");
  const { value, issues } = validateUserFields(parsed.data);
  const failed = (field: string) => issues.some((i) => i.field === field);

  const group = failed("group") ? null : await store.groups.findByName(value.group);
  if (!failed("group") && !group) issues.push(fieldIssue("group", "GROUP_UNKNOWN", value.group));
  if (!failed("email") && (await store.users.findByEmail(value.email))) {
    issues.push(fieldIssue("email", "EMAIL_TAKEN", value.email));
  }
  if (issues.length > 0 || !group) throw AppError.validation(issues);
  // Administrator grants are four-eyes, like imports' (APPROVAL_POLICY).
  if (value.role === "ADMINISTRATOR" && grantNeedsApproval(deps)) return requestAddAdministrator(deps, { actor, value, group });

  try {
    return await store.transaction(async (tx) => {
      const user = await tx.users.create({
        email: value.email,
        name: value.name,
        role: value.role,
        groupId: group.id,
        exchangeDomain: value.exchangeDomain,
        exchangeUsername: value.exchangeUsername,
        source: "FORM",
        createdBy: actor.email,
        roleSince: deps.now(),
      });
      await tx.audit.record({
        actor: actor.email,
        action: "user.add",
        subject: user.email,
        details: { ...actorDetails(actor), userId: user.id, group: group.name, role: user.role },
      });
      return { kind: "added" as const, user, group };
    });
  } catch (error) {
    // Someone else added the same email between the check and the insert.
    if (isAppError(error, ErrorCode.EMAIL_TAKEN)) {
      throw AppError.validation([fieldIssue("email", "EMAIL_TAKEN", value.email)]);
    }
    throw error;
  }
}
