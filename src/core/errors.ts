/**
 * Stable error codes. The code is the contract (edges map codes to what users see,
 * tests assert codes); messages are for humans and may be reworded.
 */
export const ErrorCode = {
  // Field rules (the Add user form and CSV rows share them)
  EMAIL_REQUIRED: "EMAIL_REQUIRED",
  EMAIL_INVALID: "EMAIL_INVALID",
  EMAIL_TAKEN: "EMAIL_TAKEN",
  NAME_REQUIRED: "NAME_REQUIRED",
  NAME_TOO_LONG: "NAME_TOO_LONG",
  NAME_CONTROL_CHARS: "NAME_CONTROL_CHARS",
  GROUP_REQUIRED: "GROUP_REQUIRED",
  GROUP_UNKNOWN: "GROUP_UNKNOWN",
  ROLE_INVALID: "ROLE_INVALID",
  EXCHANGE_DOMAIN_MISSING: "EXCHANGE_DOMAIN_MISSING",
  EXCHANGE_USERNAME_MISSING: "EXCHANGE_USERNAME_MISSING",
  EXCHANGE_DOMAIN_INVALID: "EXCHANGE_DOMAIN_INVALID",
  EXCHANGE_USERNAME_INVALID: "EXCHANGE_USERNAME_INVALID",
  // Groups
  GROUP_NAME_REQUIRED: "GROUP_NAME_REQUIRED",
  GROUP_NAME_TOO_LONG: "GROUP_NAME_TOO_LONG",
  GROUP_NAME_CONTROL_CHARS: "GROUP_NAME_CONTROL_CHARS",
  GROUP_NAME_TAKEN: "GROUP_NAME_TAKEN",
  POLICY_TOO_LONG: "POLICY_TOO_LONG",
  POLICY_CONTROL_CHARS: "POLICY_CONTROL_CHARS",
  // Import rows (besides the field rules above)
  EMAIL_DUPLICATE_IN_FILE: "EMAIL_DUPLICATE_IN_FILE",
  /** A cell of a UTF-8 file holds bytes that are not valid UTF-8. */
  INVALID_UTF8_BYTES: "INVALID_UTF8_BYTES",
  /** A cell of an 8-bit file holds bytes its code page does not define. */
  UNDEFINED_BYTES: "UNDEFINED_BYTES",
  // Whole import files
  FILE_EMPTY: "FILE_EMPTY",
  FILE_NOT_TEXT: "FILE_NOT_TEXT",
  FILE_TOO_LARGE: "FILE_TOO_LARGE",
  FILE_TOO_MANY_ROWS: "FILE_TOO_MANY_ROWS",
  FILE_MISSING_COLUMNS: "FILE_MISSING_COLUMNS",
  FILE_MALFORMED: "FILE_MALFORMED",
  // Import batches
  BATCH_NOT_FOUND: "BATCH_NOT_FOUND",
  BATCH_WRONG_STATE: "BATCH_WRONG_STATE",
  BATCH_ALREADY_DECIDED: "BATCH_ALREADY_DECIDED",
  BATCH_EXPIRED: "BATCH_EXPIRED",
  NOT_AN_APPROVER: "NOT_AN_APPROVER",
  SELF_APPROVAL: "SELF_APPROVAL",
  /** An Administrator since too recently to approve (APPROVER_MIN_ROLE_AGE_HOURS). */
  ROLE_TOO_NEW: "ROLE_TOO_NEW",
  NO_ELIGIBLE_APPROVER: "NO_ELIGIBLE_APPROVER",
  NOTHING_TO_CREATE: "NOTHING_TO_CREATE",
  REASON_REQUIRED: "REASON_REQUIRED",
  MAIL_NOT_CONFIGURED: "MAIL_NOT_CONFIGURED",
  // Changing users
  ADMIN_GRANT_NEEDS_APPROVAL: "ADMIN_GRANT_NEEDS_APPROVAL",
  LAST_ADMINISTRATOR: "LAST_ADMINISTRATOR",
  CANNOT_REMOVE_SELF: "CANNOT_REMOVE_SELF",
  // Whole-request errors
  VALIDATION_FAILED: "VALIDATION_FAILED",
  NOT_ADMINISTRATOR: "NOT_ADMINISTRATOR",
  NOT_FOUND: "NOT_FOUND",
  DATABASE_UNAVAILABLE: "DATABASE_UNAVAILABLE",
  /** A transient conflict (deadlock, serialization failure): the same work may succeed again. */
  DATABASE_BUSY: "DATABASE_BUSY",
  INTERNAL: "INTERNAL",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Fields of the Add user form and of an import row. */
export type UserField = "email" | "name" | "group" | "role" | "exchangeDomain" | "exchangeUsername";

/** One problem with one field, as shown next to that field or in an import summary. */
export interface FieldIssue {
  field: string;
  code: ErrorCode;
  message: string;
}

/** An error the product expects and explains; anything else is a bug. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly fieldIssues: readonly FieldIssue[];
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { fieldIssues?: FieldIssue[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.fieldIssues = options.fieldIssues ?? [];
    this.details = options.details ?? {};
  }

  /** A VALIDATION_FAILED error carrying every field issue. */
  static validation(fieldIssues: FieldIssue[]): AppError {
    const summary = fieldIssues.map((i) => i.message).join(" ");
    return new AppError(ErrorCode.VALIDATION_FAILED, summary || "The input is not valid.", { fieldIssues });
  }
}

/** True when `error` is an AppError, optionally with the given code. */
export function isAppError(error: unknown, code?: ErrorCode): error is AppError {
  return error instanceof AppError && (code === undefined || error.code === code);
}

/** The database is away or turned the work down for now: the same work may succeed later. */
export function isPassingDatabaseError(error: unknown): boolean {
  return isAppError(error, ErrorCode.DATABASE_UNAVAILABLE) || isAppError(error, ErrorCode.DATABASE_BUSY);
}

/**
 * One line that says what went wrong, never empty: the first line of the message that is not
 * blank and not just an introduction to the next one (ending with ":", as Prisma's "Invalid
 * `prisma.$executeRaw()` invocation:" does), else the error's code, else its name.
 */
export function errorSummary(error: unknown): string {
  const e = (error && typeof error === "object" ? error : {}) as { message?: unknown; code?: unknown; name?: unknown };
  const text = typeof e.message === "string" ? e.message : typeof error === "object" ? "" : String(error ?? "");
  const lines = text
    .split(/\r?\n|\r/)
    .map((line) => line.trim())
    .filter(Boolean);
  const line = lines.find((l) => !l.endsWith(":")) ?? lines[0];
  if (line) return line;
  for (const fallback of [e.code, e.name]) if (typeof fallback === "string" && fallback.trim()) return fallback.trim();
  return "unknown error";
}

/**
 * Runs `work`, and again after each of `delaysMs` while it fails in a way `retryOn` accepts;
 * the last failure (or any other) is thrown.
 */
export async function retrying<T>(
  work: () => Promise<T>,
  { retryOn, delaysMs }: { retryOn: (error: unknown) => boolean; delaysMs: readonly number[] },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= delaysMs.length || !retryOn(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delaysMs[attempt]));
    }
  }
}
