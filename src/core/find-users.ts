import { requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode } from "./errors.ts";
import type { Actor, UserWithGroup } from "./types.ts";

export const FIND_USERS_LIMIT = 20;

export interface FindUsersOptions {
  actor: Actor;
  /** Part of an email or a name. */
  query: string;
  limit?: number;
}

/** Users whose email or name contains the query; at most `limit`, with the total count. */
export async function findUsers(
  deps: CoreDeps,
  { actor, query, limit = FIND_USERS_LIMIT }: FindUsersOptions,
): Promise<{ users: UserWithGroup[]; total: number; query: string }> {
  await requireAdministrator(deps.store, actor);
  const text = query.trim();
  if (!text) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, "Give part of an email or a name to search for.", {
      fieldIssues: [{ field: "query", code: ErrorCode.VALIDATION_FAILED, message: "Give part of an email or a name to search for." }],
    });
  }
  const { users, total } = await deps.store.users.search(text, limit);
  return { users, total, query: text };
}
