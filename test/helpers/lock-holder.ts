/**
 * A separate process that tries to lock a data directory and reports `locked <pid>` or
 * `refused <message>`; it holds the lock until killed. With `--race`, it prints `ready`, waits
 * for a `go` line on stdin, and when it finds the lock stale prints `stale` and waits for a
 * `takeover` line: the test decides who meets whom in the window between the two.
 * Usage: node --import tsx lock-holder.ts <dir> [--race]
 */
import { createInterface } from "node:readline";
import { lockDataDir } from "../../src/db/data-dir-lock.ts";

const [dir, race] = process.argv.slice(2) as [string, string | undefined];
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const waitFor = async (word: string) => {
  if (!race) return;
  for (let next = await lines.next(); !next.done; next = await lines.next()) if (next.value === word) return;
};
process.stdout.write("ready\n");
await waitFor("go");
let waited = false;
try {
  await lockDataDir(dir, {
    beforeTakeOver: async () => {
      if (waited) return;
      waited = true;
      process.stdout.write("stale\n");
      await waitFor("takeover");
    },
  });
  process.stdout.write(`locked ${process.pid}\n`);
  setInterval(() => {}, 60_000);
} catch (error) {
  process.stdout.write(`refused ${(error as Error).message}\n`);
  process.exit(1);
}
