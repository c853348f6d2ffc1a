import { AppError, ErrorCode } from "./errors.ts";
import type { Repositories } from "./ports.ts";
import { normalizeEmail } from "./schemas.ts";
import type { Actor, Role } from "./types.ts";

/**
 * The acting HMS user, who must hold the Administrator role; throws NOT_ADMINISTRATOR otherwise.
 * Only the role is read (every click checks it: one lookup, no group).
 */
export async function requireAdministrator(repos: Repositories, actor: Actor): Promise<{ email: string; role: Role; roleSince: Date }> {
  const email = actor.email ? normalizeEmail(actor.email) : "";
  const user = email ? await repos.users.roleOf(email) : null;
  if (user?.role !== "ADMINISTRATOR") {
    throw new AppError(ErrorCode.NOT_ADMINISTRATOR, "You need the Administrator role in HMS to do this.", {
      details: { actor: actor.email, known: Boolean(user) },
    });
  }
  return { email, ...user };
}

/** Audit details that identify the actor on their platform. */
export function actorDetails(actor: Actor): Record<string, unknown> {
  return actor.platformUserId ? { platform: actor.platform, platformUserId: actor.platformUserId } : { platform: actor.platform };
}
