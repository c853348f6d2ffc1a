import { requireAdministrator } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import type { Actor } from "../types.ts";
import type { ImportBatch } from "./types.ts";

/** Imports listed at most; closed imports older than this are left out. */
export const IMPORTS_SHOWN = 15;
export const RECENT_IMPORTS_DAYS = 7;

/** The open imports and those closed in the last week, newest first. */
export async function listImports(
  deps: CoreDeps,
  { actor, limit = IMPORTS_SHOWN }: { actor: Actor; limit?: number },
): Promise<ImportBatch[]> {
  await requireAdministrator(deps.store, actor);
  const since = new Date(deps.now().getTime() - RECENT_IMPORTS_DAYS * 86_400_000);
  return deps.store.imports.recent({ since, limit });
}
