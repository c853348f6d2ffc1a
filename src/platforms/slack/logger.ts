import { type Logger as BoltLogger, LogLevel } from "@slack/bolt";
import type { Logger } from "pino";

const PINO_TO_BOLT: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/**
 * Bolt's and the Web API client's logger interface over pino, so their lines are JSON lines
 * like ours (component "slack"). Their level follows ours; setLevel/setName are ignored.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: "slack" });
  const text = (a: unknown): string => {
    if (typeof a === "string") return a;
    if (a instanceof Error) return a.message;
    try {
      return JSON.stringify(a) ?? String(a);
    } catch {
      return String(a);
    }
  };
  const line = (args: unknown[]) => args.map(text).join(" ");
  return {
    debug: (...args: unknown[]) => log.debug(line(args)),
    info: (...args: unknown[]) => log.info(line(args)),
    warn: (...args: unknown[]) => log.warn(line(args)),
    error: (...args: unknown[]) => log.error(line(args)),
    setLevel: () => {},
    getLevel: () => PINO_TO_BOLT[log.level] ?? LogLevel.INFO,
    setName: () => {},
  };
}
