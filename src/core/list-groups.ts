import { requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import type { Actor, GroupSummary } from "./types.ts";

export interface ListGroupsOptions {
  actor: Actor;
  /** Only groups whose name contains this (case-insensitive). */
  fragment?: string;
  limit?: number;
}

/** Groups by name with their policy and user count; total is the count before the limit. */
export async function listGroups(
  deps: CoreDeps,
  { actor, fragment, limit }: ListGroupsOptions,
): Promise<{ groups: GroupSummary[]; total: number }> {
  await requireAdministrator(deps.store, actor);
  const filter = fragment?.trim() || undefined;
  const groups = await deps.store.groups.list({ fragment: filter, limit });
  const total = limit !== undefined && groups.length >= limit ? await deps.store.groups.count(filter) : groups.length;
  return { groups, total };
}
