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

// pg-pool's "timeout exceeded when trying to connect": no connection within its timeout, because
// the server does not accept one or every pooled connection is stuck waiting on it.
const UNREACHABLE_MESSAGES =
  /PGlite is closed|Connection terminated|Cannot use a pool after calling end|timeout exceeded when trying to connect/i;

type ErrorLink = { code?: unknown; kind?: unknown; cause?: unknown; message?: unknown; meta?: { driverAdapterError?: unknown } };

/** An error and what it wraps: its causes, and the driver adapter's error Prisma keeps in `meta` (raw queries, P2010). */
function errorChain(error: unknown, depth = 0): ErrorLink[] {
  if (!error || typeof error !== "object" || depth > 4) return [];
  const e = error as ErrorLink;
  return [e, ...errorChain(e.cause, depth + 1), ...errorChain(e.meta?.driverAdapterError, depth + 1)];
}

/** A unique violation (raw SQL included: Prisma's P2010 keeps the driver's 23505 in `meta`). */
export function isUniqueViolation(error: unknown): boolean {
  return (
    uniqueViolationTarget(error) !== undefined ||
    errorChain(error).some((e) => e.code === "23505" || e.code === "P2002" || e.kind === "UniqueConstraintViolation")
  );
}

/** The database is down or the connection was lost (not a problem with the request). */
function isUnreachable(error: unknown): boolean {
  return errorChain(error).some(
    (e) =>
      (typeof e.kind === "string" && UNREACHABLE_KINDS.has(e.kind)) ||
      (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code)) ||
      (typeof e.message === "string" && UNREACHABLE_MESSAGES.test(e.message)),
  );
}

// Waiting on the database past a limit (a lock held elsewhere, a stalled network, every
// connection taken): the work never committed and succeeds once the database answers. Prisma's
// transaction timeout does not cancel the statement that waits; the work fails when it answers
// again, with one of these P2028s: the transaction outlived its timeout ("expired"), could not
// start within maxWait, was rolled back under it by a disconnect, or closed so long ago that
// Prisma forgot it. Other P2028s (a transaction used after its commit, an internal
// inconsistency, a bad option) would fail again. 55P03 and 57014 are PostgreSQL's lock_timeout
// and statement_timeout (or a cancel), when an operator sets them.
const TIMED_OUT_TRANSACTION =
  /expired transaction|Unable to start a transaction in the given time|cannot be executed on a transaction that was rolled back|Transaction not found/i;
const TIMED_OUT_CODES = new Set(["55P03", "57014"]);

/** The work waited on the database past a limit and was rolled back (see above). */
function isTimedOut(error: unknown): boolean {
  return errorChain(error).some(
    (e) =>
      (typeof e.code === "string" && TIMED_OUT_CODES.has(e.code)) ||
      (e.code === "P2028" && typeof e.message === "string" && TIMED_OUT_TRANSACTION.test(e.message)),
  );
}

// Deadlock and serialization failure (and Prisma's names for them): the transaction was rolled
// back because of other work and succeeds when run again at once. (Work that timed out waiting is
// DATABASE_UNAVAILABLE instead: it is resumed once the database answers, not run again at once.)
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
 * (unique violations on users' emails and groups' names; a database that is unreachable or did
 * not answer in time; a deadlock or serialization failure); returns other errors unchanged.
 */
export function translatePrismaError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (isUnreachable(error)) {
    return new AppError(ErrorCode.DATABASE_UNAVAILABLE, "The database is not answering.", { cause: error });
  }
  if (isTimedOut(error)) {
    return new AppError(ErrorCode.DATABASE_UNAVAILABLE, "The database did not answer in time.", { cause: error });
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
