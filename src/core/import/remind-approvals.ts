import type { CoreDeps } from "../deps.ts";
import { eligibleApprovers, importSettings } from "./common.ts";
import type { ImportBatch } from "./types.ts";

/**
 * The approval requests half-way to expiry that nobody has answered: each is taken once (marked
 * reminded in the database, so one replica reminds) and returned with who may approve it now.
 */
export async function remindApprovals(deps: CoreDeps): Promise<{ batch: ImportBatch; approvers: string[] }[]> {
  const now = deps.now();
  const due = await deps.store.imports.takeDueReminders(now);
  return Promise.all(
    due.map(async (batch) => ({ batch, approvers: await eligibleApprovers(deps.store, batch, importSettings(deps), now) })),
  );
}
