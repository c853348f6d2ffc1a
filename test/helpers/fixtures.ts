import type { Actor } from "../../src/core/types.ts";
import type { TestDatabase } from "./db.ts";

export const ADMIN: Actor = { email: "admin@corp.example.org", platform: "slack", platformUserId: "U0ADMIN" };
export const OTHER_ADMIN: Actor = { email: "second.admin@corp.example.org", platform: "teams", platformUserId: "aad-2" };
/** Not seeded: tests that need a third Administrator make one (ensureBootstrapAdmins). */
export const THIRD_ADMIN: Actor = { email: "third.admin@corp.example.org", platform: "slack", platformUserId: "U0ADMIN3" };
export const PLAIN_USER: Actor = { email: "plain.user@corp.example.org", platform: "slack", platformUserId: "U0PLAIN" };

/** Two Administrators, one plain user, and the groups the CSV fixtures expect. */
export async function seedDirectory(t: TestDatabase, groups = ["Finance", "Engineering", "Warehouse", "Leadership", "Help Desk"]) {
  await t.core.ensureBootstrapAdmins({ emails: [ADMIN.email, OTHER_ADMIN.email] });
  for (const name of groups) await t.core.addGroup({ actor: ADMIN, input: { name } });
  await t.core.addUser({ actor: ADMIN, input: { email: PLAIN_USER.email, name: "Plain User", group: "Finance", role: "User" } });
}
