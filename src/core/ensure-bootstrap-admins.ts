import type { CoreDeps } from "./deps.ts";
import { ErrorCode, isAppError } from "./errors.ts";
import { normalizeEmail } from "./schemas.ts";
import { ADMINISTRATORS_GROUP, DEFAULT_POLICY, type Group } from "./types.ts";

export const BOOTSTRAP_ACTOR = "system:bootstrap";

export interface BootstrapResult {
  created: string[];
  promoted: string[];
  unchanged: string[];
}

/**
 * Makes each email an HMS Administrator so a fresh install is usable: new ones are created in
 * the "Administrators" group; existing users are promoted and keep their group. Idempotent,
 * and safe when two replicas start at once.
 */
export async function ensureBootstrapAdmins(deps: CoreDeps, { emails }: { emails: readonly string[] }): Promise<BootstrapResult> {
  const result: BootstrapResult = { created: [], promoted: [], unchanged: [] };
  if (emails.length === 0) return result;
  const { store } = deps;
  const group = await ensureAdministratorsGroup(deps);

  for (const email of new Set(emails.map(normalizeEmail))) {
    // Two attempts: a concurrent replica may insert the same user between our read and write.
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await store.transaction(async (tx) => {
          const existing = await tx.users.findByEmail(email);
          if (existing?.role === "ADMINISTRATOR") return "unchanged" as const;
          if (existing) {
            await tx.users.setRole(existing.id, "ADMINISTRATOR", deps.now());
            await tx.audit.record({
              actor: BOOTSTRAP_ACTOR,
              action: "user.promote",
              subject: email,
              details: { reason: "BOOTSTRAP_ADMINS" },
            });
            return "promoted" as const;
          }
          const user = await tx.users.create({
            email,
            name: email.split("@")[0] ?? email,
            role: "ADMINISTRATOR",
            groupId: group.id,
            exchangeDomain: null,
            exchangeUsername: null,
            source: "FORM",
            createdBy: BOOTSTRAP_ACTOR,
            roleSince: deps.now(),
          });
          await tx.audit.record({
            actor: BOOTSTRAP_ACTOR,
            action: "user.add",
            subject: email,
            details: { userId: user.id, group: group.name, role: "ADMINISTRATOR", reason: "BOOTSTRAP_ADMINS" },
          });
          return "created" as const;
        });
        result[outcome].push(email);
        break;
      } catch (error) {
        if (attempt < 2 && isAppError(error, ErrorCode.EMAIL_TAKEN)) continue;
        throw error;
      }
    }
  }
  return result;
}

async function ensureAdministratorsGroup({ store }: CoreDeps): Promise<Group> {
  const existing = await store.groups.findByName(ADMINISTRATORS_GROUP);
  if (existing) return existing;
  try {
    return await store.transaction(async (tx) => {
      const group = await tx.groups.create({ name: ADMINISTRATORS_GROUP, policy: DEFAULT_POLICY });
      await tx.audit.record({
        actor: BOOTSTRAP_ACTOR,
        action: "group.add",
        subject: `group:${group.name}`,
        details: { groupId: group.id, policy: group.policy },
      });
      return group;
    });
  } catch (error) {
    if (!isAppError(error, ErrorCode.GROUP_NAME_TAKEN)) throw error;
    const raced = await store.groups.findByName(ADMINISTRATORS_GROUP);
    if (!raced) throw error;
    return raced;
  }
}
