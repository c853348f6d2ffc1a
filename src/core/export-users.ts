import { actorDetails, requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode } from "./errors.ts";
import type { DirectoryRow } from "./import/files.ts";
import { tidyGroupName } from "./schemas.ts";
import { type Actor, ROLE_LABELS, type UserWithGroup } from "./types.ts";

/** Users read from the database per page of an export. */
const EXPORT_PAGE = 5_000;

export interface ExportUsersOptions {
  actor: Actor;
  /** Only this group's users (any case). */
  group?: string;
  pageSize?: number;
}

export interface DirectoryExport {
  fileName: string;
  bytes: Uint8Array;
  users: number;
  group?: string;
}

function row(user: UserWithGroup): DirectoryRow {
  return {
    email: user.email,
    name: user.name,
    group: user.group.name,
    role: ROLE_LABELS[user.role],
    exchangeDomain: user.exchangeDomain ?? "",
    exchangeUsername: user.exchangeUsername ?? "",
  };
}

/**
 * The directory, or one group, as a file in the template's columns: edited and sent back as an
 * import, it updates the users. Read a page at a time, so a large directory is never in memory
 * as users.
 */
export async function exportUsers(deps: CoreDeps, { actor, group, pageSize = EXPORT_PAGE }: ExportUsersOptions): Promise<DirectoryExport> {
  const { store } = deps;
  await requireAdministrator(store, actor);
  const wanted = group ? tidyGroupName(group) : undefined;
  const found = wanted ? await store.groups.findByName(wanted) : null;
  if (wanted && !found) throw new AppError(ErrorCode.NOT_FOUND, `There is no group named “${wanted}”.`);
  let users = 0;
  async function* pages() {
    for (let after: string | undefined; ; ) {
      const page = await store.users.page({ groupId: found?.id, afterEmail: after, limit: pageSize });
      if (page.length === 0) return;
      users += page.length;
      yield page.map(row);
      if (page.length < pageSize) return;
      after = page.at(-1)!.email;
    }
  }
  const bytes = await deps.files.directoryFile(pages());
  const day = deps.now().toISOString().slice(0, 10);
  const slug = found
    ? `-${
        found.name
          .toLowerCase()
          .replace(/[^\p{L}\p{N}]+/gu, "-")
          .replace(/^-|-$/g, "") || "group"
      }`
    : "";
  await store.audit.record({
    actor: actor.email,
    action: "directory.export",
    subject: found ? `group:${found.name}` : "directory",
    details: { ...actorDetails(actor), users, ...(found ? { group: found.name } : {}) },
  });
  return { fileName: `hms-users${slug}-${day}.csv`, bytes, users, group: found?.name };
}
