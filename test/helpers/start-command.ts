import { readFileSync } from "node:fs";
import path from "node:path";

/** The repository's root (where package.json is). */
export const ROOT = path.resolve(import.meta.dirname, "../..");

/** `npm start`'s script as written in package.json. */
export const START_SCRIPT: string = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.start;

/**
 * The command `npm start` runs, without npm and its `exec` in between (so a signal reaches the
 * app itself): `[executable, ...args]`, with `node` resolved to this Node.
 */
export function startCommand(): [string, ...string[]] {
  const [command, ...args] = START_SCRIPT.replace(/^exec /, "").split(" ");
  return [command === "node" ? process.execPath : command!, ...args];
}
