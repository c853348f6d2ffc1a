/**
 * botbuilder and teams-ai have no logger to plug in: they write to console (a token that failed
 * validation, a missing app id). While the edge runs a turn, those lines go to the app's logger
 * (JSON, component "teams") instead; console output anywhere else is left alone.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { format } from "node:util";
import type { Logger } from "pino";

const turn = new AsyncLocalStorage<Logger>();
const METHODS = ["error", "warn", "info", "log", "debug"] as const;
type Method = (typeof METHODS)[number];
const LEVEL: Record<Method, "error" | "warn" | "info" | "debug"> = {
  error: "warn",
  warn: "warn",
  info: "info",
  log: "info",
  debug: "debug",
};

let installed = 0;
const originals = new Map<Method, (...args: unknown[]) => void>();

/**
 * Routes the libraries' console lines during turns to the logger (a token refused is a warning
 * here, not an error of ours). Returns the undo; installs once however many edges call it.
 */
export function routeLibraryLogs(): () => void {
  if (installed++ === 0) {
    for (const method of METHODS) {
      const original = console[method].bind(console);
      originals.set(method, original);
      console[method] = (...args: unknown[]) => {
        const log = turn.getStore();
        if (!log) return original(...args);
        log[LEVEL[method]]({ library: "botbuilder" }, format(...args));
      };
    }
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (--installed > 0) return;
    for (const [method, original] of originals) console[method] = original;
    originals.clear();
  };
}

/** Runs `work` (a turn) with the libraries' console lines going to `log`. */
export function withLibraryLogs<T>(log: Logger, work: () => Promise<T>): Promise<T> {
  return turn.run(log, work);
}
