import { actorDetails } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import type { Actor } from "../types.ts";
import { administratorAndBatch, closableFrom, loadBatch, stateError } from "./common.ts";
import type { ImportBatch } from "./types.ts";

/** Finish: closes a batch whose accounts are created (or that failed part-way), without inviting anyone. */
export async function finishImport(deps: CoreDeps, { actor, batchId }: { actor: Actor; batchId: string }): Promise<ImportBatch> {
  const { store } = deps;
  const { batch } = await administratorAndBatch(store, actor, batchId);
  const finished = await store.transaction(async (tx) => {
    const moved = await tx.imports.transition(batch.id, [closableFrom(batch)], "FINISHED");
    if (moved)
      await tx.audit.record({
        actor: actor.email,
        action: "import.finish",
        subject: `import:${batch.code}`,
        details: { ...actorDetails(actor), batchId: batch.id },
      });
    return moved;
  });
  if (finished) return finished;
  throw stateError(await loadBatch(store, batch.id));
}
