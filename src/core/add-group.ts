import { actorDetails, requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode, isAppError } from "./errors.ts";
import { check, fieldIssue, type GroupInput, groupInputSchema } from "./schemas.ts";
import type { Actor, Group } from "./types.ts";

export interface AddGroupOptions {
  actor: Actor;
  input: GroupInput;
}

/** Creates a group; its name must be new regardless of case. */
export async function addGroup(deps: CoreDeps, { actor, input }: AddGroupOptions): Promise<Group> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const checked = check(groupInputSchema, input);
  if (!checked.ok) throw AppError.validation(checked.issues);
  const { name, policy } = checked.value;

  const taken = () => AppError.validation([fieldIssue("name", "GROUP_NAME_TAKEN", name)]);
  if (await store.groups.findByName(name)) throw taken();
  try {
    return await store.transaction(async (tx) => {
      const group = await tx.groups.create({ name, policy });
      await tx.audit.record({
        actor: actor.email,
        action: "group.add",
        subject: `group:${group.name}`,
        details: { ...actorDetails(actor), groupId: group.id, policy: group.policy },
      });
      return group;
    });
  } catch (error) {
    if (isAppError(error, ErrorCode.GROUP_NAME_TAKEN)) throw taken();
    throw error;
  }
}
