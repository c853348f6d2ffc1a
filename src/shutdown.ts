/**
 * The stop sequence: steps run one after the other, each whatever the one before it did, and
 * the whole stop within a budget (what supervisors wait before SIGKILL: systemd 90 s, Docker
 * 10 s, Kubernetes 30 s by default). A step still running when its share of the budget is
 * spent is left behind; the last step (closing the database) always runs, to its end.
 */

export interface ShutdownStep {
  name: string;
  work: () => Promise<void> | void;
}

export interface ShutdownReport {
  /** Steps that threw. */
  failed: { step: string; error: unknown }[];
  /** Steps left running when their time was up. */
  cut: string[];
}

/**
 * Runs `steps` in order; all but the last must be done `reserveMs` before `budgetMs` is spent,
 * else the sequence moves on. The last step is never cut.
 */
export async function runShutdown(
  steps: ShutdownStep[],
  { budgetMs, reserveMs }: { budgetMs: number; reserveMs: number },
): Promise<ShutdownReport> {
  const cutoff = Date.now() + budgetMs - reserveMs;
  const report: ShutdownReport = { failed: [], cut: [] };
  for (const [index, { name, work }] of steps.entries()) {
    const last = index === steps.length - 1;
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = Promise.resolve().then(work);
      if (last) await run;
      else {
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), Math.max(0, cutoff - Date.now()));
        });
        // A step cut short may still fail later: that must not surface as an unhandled rejection.
        run.catch(() => {});
        if ((await Promise.race([run, late])) === "late") report.cut.push(name);
      }
    } catch (error) {
      report.failed.push({ step: name, error });
    } finally {
      clearTimeout(timer);
    }
  }
  return report;
}
