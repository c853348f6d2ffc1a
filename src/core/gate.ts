/**
 * A first-come, first-served gate admitting `limit` holders at a time. The core runs bulk work
 * (staging a file, creating a batch's accounts) through one, so a process's memory stays that
 * of one bulk job however many admins upload at once; the others wait their turn.
 */
export interface Gate {
  run<T>(work: () => Promise<T>): Promise<T>;
}

export function createGate(limit = 1): Gate {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async run(work) {
      if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
      else active++;
      try {
        return await work();
      } finally {
        const next = waiting.shift();
        if (next) next();
        else active--;
      }
    },
  };
}
