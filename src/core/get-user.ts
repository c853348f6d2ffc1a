import { requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode } from "./errors.ts";
import { isEmail, normalizeEmail } from "./schemas.ts";
import type { Actor, UserDetails } from "./types.ts";

export interface GetUserOptions {
  actor: Actor;
  email: string;
}

/** One user, for their card: group, role, Exchange account, the import that created them, their invitation. */
export async function getUser(deps: CoreDeps, { actor, email }: GetUserOptions): Promise<UserDetails> {
  await requireAdministrator(deps.store, actor);
  const wanted = normalizeEmail(email);
  if (!wanted) throw new AppError(ErrorCode.VALIDATION_FAILED, "Give the Email ID of the user.");
  if (!isEmail(wanted)) throw new AppError(ErrorCode.VALIDATION_FAILED, `“${email.trim()}” is not an email address.`);
  const user = await deps.store.users.details(wanted);
  if (!user) throw new AppError(ErrorCode.NOT_FOUND, `There is no user with Email ID ${wanted}.`);
  return user;
}
