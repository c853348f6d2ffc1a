import { AppError, ErrorCode } from "../core/errors.ts";

/**
 * What a unique violation names (constraint, columns), or undefined when `error` is not one.
 * Prisma reports it as P2002; inside interactive transactions the driver adapters surface a
 * DriverAdapterError instead, whose cause is either Prisma's mapped kind or the raw 23505.
 */
function uniqueViolationTarget(error: unknown): string | undefined {
  const e = error as { name?: string; code?: string; meta?: Record<string, unknown>; cause?: Record<string, unknown> } | null;
  if (!e || typeof e !== "object") return undefined;
  if (e.code === "P2002") {
    const adapterCause = (e.meta?.driverAdapterError as { cause?: unknown } | undefined)?.cause;
    return JSON.stringify([e.meta?.target ?? null, adapterCause ?? null]);
  }
  const cause = e.cause;
  if (e.name === "DriverAdapterError" && cause && (cause.kind === "UniqueConstraintViolation" || cause.code === "23505")) {
    return JSON.stringify(cause);
  }
  return undefined;
}

const UNREACHABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "TooManyConnections",
  "SocketTimeout",
  "TlsConnectionError",
]);
const UNREACHABLE_CODES = new Set([
  "P1001",
  "P1002",
  "P1008",
  "P1017",
  "P2024",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "57P01",
  "57P03",
]);

type ErrorLink = { code?: unknown; kind?: unknown; cause?: unknown; message?: unknown; meta?: { driverAdapterError?: unknown } };

/** An error and what it wraps: its causes, and the driver adapter's error Prisma keeps in `meta` (raw queries, P2010). */
function errorChain(error: unknown, depth = 0): ErrorLink[] {
  if (!error || typeof error !== "object" || depth > 4) return [];
  const e = error as ErrorLink;
  return [e, ...errorChain(e.cause, depth + 1), ...errorChain(e.meta?.driverAdapterError, depth + 1)];
}

/** The database is down or the connection was lost (not a problem with the request). */
function isUnreachable(error: unknown): boolean {
  return errorChain(error).some(
    (e) =>
      (typeof e.kind === "string" && UNREACHABLE_KINDS.has(e.kind)) ||
      (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code)) ||
      (typeof e.message === "string" && /PGlite is closed|Connection terminated|Cannot use a pool after calling end/i.test(e.message)),
  );
}

// Deadlock and serialization failure (and Prisma's names for them): the transaction was rolled
// back because of other work and succeeds when run again. Timeouts are not here: work that
// timed out once would likely time out again, for ever.
const BUSY_KINDS = new Set(["TransactionWriteConflict"]);
const BUSY_CODES = new Set(["40P01", "40001", "P2034"]);

/** The database turned this work down for now (a conflict with other work), not for good. */
function isBusy(error: unknown): boolean {
  return errorChain(error).some(
    (e) => (typeof e.kind === "string" && BUSY_KINDS.has(e.kind)) || (typeof e.code === "string" && BUSY_CODES.has(e.code)),
  );
}

/**
 * Translates a Prisma error into the core's AppError where the core has a meaning for it
 * (unique violations on users' emails and groups' names, an unreachable database); returns
 * other errors unchanged.
 */
export function translatePrismaError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (isUnreachable(error)) {
    return new AppError(ErrorCode.DATABASE_UNAVAILABLE, "The database is not answering.", { cause: error });
  }
  if (isBusy(error)) {
    return new AppError(ErrorCode.DATABASE_BUSY, "The database was busy with other work.", { cause: error });
  }
  const target = uniqueViolationTarget(error);
  if (target === undefined) return error;
  if (target.includes("User_email_key") || target.includes('"email"')) {
    return new AppError(ErrorCode.EMAIL_TAKEN, "A user with this Email ID already exists.", { cause: error });
  }
  if (target.includes("Group_name_lower_key")) {
    return new AppError(ErrorCode.GROUP_NAME_TAKEN, "A group with this name already exists.", { cause: error });
  }
  return error;
}

/** The same repository with every method's errors translated. */
export function translated<T extends object>(repository: T): T {
  return Object.fromEntries(
    Object.entries(repository).map(([name, method]) => [
      name,
      typeof method === "function" ? (...args: unknown[]) => translating(() => method(...args)) : method,
    ]),
  ) as T;
}

/** Runs a database call, rethrowing its error translated. */
export async function translating<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translatePrismaError(error);
  }
}
