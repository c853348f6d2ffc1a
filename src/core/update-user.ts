import { actorDetails, requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode } from "./errors.ts";
import type { UserRepository } from "./ports.ts";
import { fieldIssue, normalizeEmail, type UserInput, userInputSchema, validateUserFields } from "./schemas.ts";
import { type Actor, ROLE_LABELS, type UserChanges, type UserWithGroup } from "./types.ts";

export interface UpdateUserOptions {
  actor: Actor;
  /** Whom to change (their Email ID, which is their logon ID and does not change). */
  email: string;
  /** The fields as the Edit form gives them; blank Exchange cells remove the Exchange account. */
  input: UserInput;
}

export interface UpdateUserResult {
  user: UserWithGroup;
  changes: UserChanges;
}

const exchangeOf = (u: { exchangeDomain: string | null; exchangeUsername: string | null }) =>
  u.exchangeDomain && u.exchangeUsername ? `${u.exchangeDomain}\\${u.exchangeUsername}` : "none";

/**
 * Edit, Move to group, Make User: changes a user's name, group, role or Exchange account with the
 * Add user form's rules, audited with the old and new values. Granting the Administrator role is
 * not done here (it follows the approval policy: requestAdministratorGrant); removing the last
 * Administrator's role is refused.
 */
export async function updateUser(deps: CoreDeps, { actor, email, input }: UpdateUserOptions): Promise<UpdateUserResult> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const current = await store.users.findByEmail(normalizeEmail(email));
  if (!current) throw new AppError(ErrorCode.NOT_FOUND, `There is no user with Email ID ${normalizeEmail(email)}.`);

  const parsed = userInputSchema.safeParse({ ...input, email: input.email || current.email });
  if (!parsed.success) throw new AppError(ErrorCode.VALIDATION_FAILED, "The Edit input is malformed.");
  const { value, issues } = validateUserFields(parsed.data);
  if (!issues.some((i) => i.field === "email") && value.email !== current.email) {
    issues.push({
      field: "email",
      code: ErrorCode.VALIDATION_FAILED,
      message: `The Email ID is the logon ID and cannot be changed; add ${value.email} as a new user instead.`,
    });
  }
  const group = issues.some((i) => i.field === "group") ? null : await store.groups.findByName(value.group);
  if (value.group && !group && !issues.some((i) => i.field === "group")) issues.push(fieldIssue("group", "GROUP_UNKNOWN", value.group));
  if (value.role === "ADMINISTRATOR" && current.role !== "ADMINISTRATOR") {
    issues.push({
      field: "role",
      code: ErrorCode.ADMIN_GRANT_NEEDS_APPROVAL,
      message: "Use Make Administrator on the user's card: granting the Administrator role follows the approval policy.",
    });
  }
  if (issues.length > 0 || !group) throw AppError.validation(issues);

  const changes: UserChanges = {};
  if (value.name !== current.name) changes.name = { from: current.name, to: value.name };
  if (group.id !== current.groupId) changes.group = { from: current.group.name, to: group.name };
  if (value.role !== current.role) changes.role = { from: ROLE_LABELS[current.role], to: ROLE_LABELS[value.role] };
  const exchange = { exchangeDomain: value.exchangeDomain, exchangeUsername: value.exchangeUsername };
  if (exchangeOf(exchange) !== exchangeOf(current)) changes.exchange = { from: exchangeOf(current), to: exchangeOf(exchange) };
  if (Object.keys(changes).length === 0) return { user: current, changes };

  const user = await store.transaction(async (tx) => {
    if (changes.role) await refuseLastAdministrator(tx.users, current);
    const updated = await tx.users.update(current.id, {
      name: value.name,
      groupId: group.id,
      role: value.role,
      ...exchange,
      ...(changes.role ? { roleSince: deps.now() } : {}),
    });
    await tx.audit.record({
      actor: actor.email,
      action: "user.update",
      subject: current.email,
      details: { ...actorDetails(actor), userId: current.id, changes },
    });
    return updated;
  });
  return { user, changes };
}

/**
 * Refuses to take the role of the last Administrator (nobody could then use the bot). Locks the
 * Administrators' rows for the transaction, so two demotions at once cannot both pass.
 */
export async function refuseLastAdministrator(users: Pick<UserRepository, "lockAdministrators">, user: UserWithGroup): Promise<void> {
  if (user.role !== "ADMINISTRATOR") return;
  const admins = await users.lockAdministrators();
  if (admins.length <= 1) {
    throw new AppError(
      ErrorCode.LAST_ADMINISTRATOR,
      `${user.email} is the only HMS Administrator: make someone else an Administrator first.`,
    );
  }
}
