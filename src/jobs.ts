/**
 * Background work every replica does now and then: resume account creations whose worker
 * died, expire approval requests and unconfirmed summaries past their time, and retry
 * invitations that are due. Each step is safe to run on several replicas at once (leases and
 * compare-and-set in the core).
 */
import type { Logger } from "pino";
import type { Core, CreationProgress, ImportBatch } from "./core/index.ts";

/** What the platforms want to hear about, to update the messages they posted. */
export interface ImportListeners {
  /** Imports that just expired (an approval request, or a summary nobody confirmed): their buttons must go. */
  expired?(batches: ImportBatch[]): Promise<void>;
  /** Progress of a creation resumed after a crash. */
  progress?(progress: CreationProgress): void | Promise<void>;
  /** Approval requests half-way to expiry that nobody answered: their approvers are reminded. */
  reminders?(due: { batch: ImportBatch; approvers: string[] }[]): Promise<void>;
  /** Imports whose invitations the background sent (or failed): their messages show the counts. */
  invitations?(batchIds: string[]): Promise<void>;
}

export interface Jobs {
  /** Runs every step once now (also what the timer does). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

export function startJobs({
  core,
  logger,
  listeners = {},
  intervalMs = 15_000,
}: {
  core: Core;
  logger: Logger;
  listeners?: ImportListeners;
  intervalMs?: number;
}): Jobs {
  let running: Promise<void> | undefined;
  const step = async (name: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      logger.error({ err: error, job: name }, "background job failed; it runs again shortly");
    }
  };
  const runOnce = () => {
    running ??= (async () => {
      await step("resume imports", async () => {
        for (const { batch, ran } of await core.resumeInterruptedImports({ onProgress: listeners.progress })) {
          if (ran) logger.info({ batch: batch.code, created: batch.createdRows }, "resumed an interrupted import");
        }
      });
      await step("expire imports", async () => {
        const expired = await core.expireImports();
        if (expired.length > 0) {
          logger.info({ batches: expired.map((b) => b.code) }, "imports expired (approval request, or summary never confirmed)");
          await listeners.expired?.(expired);
        }
      });
      await step("remind approvers", async () => {
        const due = await core.remindApprovals();
        if (due.length > 0) {
          logger.info({ batches: due.map((d) => d.batch.code) }, "approvers reminded of requests half-way to expiry");
          await listeners.reminders?.(due);
        }
      });
      await step("finish stalled invitations", () => core.finishStalledInvitations());
      await step("discard interrupted uploads", () => core.discardInterruptedUploads());
      // Bounded, so expiry and resumption are not held up behind a large mailing.
      await step("deliver invitations", async () => {
        const { batchIds } = await core.deliverInvitations({ budgetMs: 60_000 });
        if (batchIds.length > 0) await listeners.invitations?.(batchIds);
      });
    })().finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void runOnce(), intervalMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
