/**
 * Work the chat layer does after answering: detached tasks (creation, approval posts, uploads)
 * that shutdown waits for, and the edit scheduler (throttled progress edits, edits tried again
 * after a platform's Retry-After).
 */
import type { Logger } from "pino";

/** Tasks that run after the answer went out; stop() lets them finish (within a grace period). */
export class Detached {
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly logger: Logger) {}

  /** Runs `work` now without waiting for it; a failure is logged (work reports its own to people). */
  run(name: string, work: () => Promise<void>): void {
    if (this.stopped) {
      this.logger.warn({ task: name }, "shutting down: follow-up work not started");
      return;
    }
    const task: Promise<void> = Promise.resolve()
      .then(work)
      .catch((error: unknown) => this.logger.error({ err: error, task: name }, "follow-up work failed"))
      .finally(() => this.running.delete(task));
    this.running.add(task);
  }

  /** Resolves once nothing runs (tests, and shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Takes no more work and waits for what runs, at most `graceMs`; resolves false when some was left running. */
  async stop(graceMs: number): Promise<boolean> {
    this.stopped = true;
    if (this.running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const done = this.idle().then(() => true as const);
    const finished = await Promise.race([done, timeout]);
    clearTimeout(timer);
    return finished;
  }
}

/** At most one edit per interval; the first always goes. */
export class Throttle {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** True (and counted) when an edit may go now. */
  ready(): boolean {
    const t = this.now();
    if (t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }
}

/**
 * Edits a platform asked to wait for (Retry-After), run again later: one waiting run per key
 * (a newer one replaces it, so what runs is built from the state at that time), at most
 * `maxTries` rate limits in a row per key, and none after stop().
 */
export class EditScheduler {
  private readonly waiting = new Map<string, { timer: NodeJS.Timeout; run: () => Promise<void> }>();
  private readonly tries = new Map<string, number>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly logger: Logger,
    private readonly maxTries = 3,
  ) {}

  /**
   * After a rate limit under `key`: runs `run` after `waitMs`, unless this is past `maxTries`
   * in a row (then it gives up, logged, and returns false).
   */
  retry(key: string, waitMs: number, run: () => Promise<void>): boolean {
    if (this.stopped) {
      this.logger.warn({ key }, "shutting down: a rate-limited edit is not tried again");
      return false;
    }
    const tries = (this.tries.get(key) ?? 0) + 1;
    if (tries > this.maxTries) {
      this.tries.delete(key);
      this.logger.error(
        { key, tries: this.maxTries },
        "import messages still rate-limited after 3 tries; they may show an old state until the next change",
      );
      return false;
    }
    this.tries.set(key, tries);
    this.logger.warn({ key, waitMs }, "import message edit rate-limited; refreshing again after Retry-After");
    const waiting = this.waiting.get(key);
    if (waiting) {
      waiting.run = run;
      return true;
    }
    const entry = {
      run,
      timer: setTimeout(() => {
        this.waiting.delete(key);
        const task: Promise<void> = entry
          .run()
          .catch((error: unknown) => this.logger.error({ err: error, key }, "editing a message again after a rate limit failed"))
          .finally(() => this.running.delete(task));
        this.running.add(task);
      }, waitMs),
    };
    entry.timer.unref();
    this.waiting.set(key, entry);
    return true;
  }

  /** An edit under `key` went through: the next rate limit counts from one again. */
  succeeded(key: string): void {
    this.tries.delete(key);
  }

  /** Drops the edits still waiting, and waits for those running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.waiting.size > 0)
      this.logger.warn({ edits: this.waiting.size }, "shutting down: rate-limited edits waiting to be tried again are dropped");
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    await Promise.allSettled([...this.running]);
  }
}
