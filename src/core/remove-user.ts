import { actorDetails, requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode } from "./errors.ts";
import { normalizeEmail } from "./schemas.ts";
import { type Actor, ROLE_LABELS, type UserWithGroup } from "./types.ts";
import { refuseLastAdministrator } from "./update-user.ts";

/** Removes a user from the directory (their invitation goes with them), audited with what they were. */
export async function removeUser(deps: CoreDeps, { actor, email }: { actor: Actor; email: string }): Promise<UserWithGroup> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const wanted = normalizeEmail(email);
  if (wanted === normalizeEmail(actor.email)) {
    throw new AppError(ErrorCode.CANNOT_REMOVE_SELF, "You cannot remove yourself; another Administrator can.");
  }
  return store.transaction(async (tx) => {
    const user = await tx.users.findByEmail(wanted);
    if (!user) throw new AppError(ErrorCode.NOT_FOUND, `There is no user with Email ID ${wanted}.`);
    await refuseLastAdministrator(tx.users, user);
    await tx.users.remove(user.id);
    await tx.audit.record({
      actor: actor.email,
      action: "user.remove",
      subject: user.email,
      details: { ...actorDetails(actor), userId: user.id, name: user.name, group: user.group.name, role: ROLE_LABELS[user.role] },
    });
    return user;
  });
}
