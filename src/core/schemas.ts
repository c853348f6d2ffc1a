import { z } from "zod/v4";
import { ErrorCode, type FieldIssue, type UserField } from "./errors.ts";
import { DEFAULT_POLICY, type Role } from "./types.ts";

/** Longest name the directory keeps, in characters (code points). */
export const NAME_MAX = 128;
export const EMAIL_MAX = 254;
export const GROUP_NAME_MAX = 64;
export const POLICY_MAX = 64;
export const EXCHANGE_USERNAME_MAX = 64;

// C0 and C1 control characters, DEL included: tabs and line breaks pasted from a spreadsheet.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// The same, for replacing every one (a global regex is stateful in .test(), so it is kept apart).
const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, "g");
// A practical address check: one @, a dot-atom local part, a domain of LDH labels with a dot.
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// NetBIOS domain (CORP, CORP-EU): 1-15 characters, letters, digits, - and _.
const NETBIOS_DOMAIN = /^[a-z0-9][a-z0-9_-]{0,14}$/i;
// DNS domain (corp.example.com): two or more LDH labels, TLD not all digits.
const DNS_DOMAIN = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?=[a-z0-9-]*[a-z])[a-z0-9-]{2,63}$/i;
const EXCHANGE_USERNAME = /^[^\s"/\\[\]:;|=,+*?<>]+$/;

// A Map, not an object: a cell reading "constructor" or "toString" is not a role.
const ROLE_WORDS: ReadonlyMap<string, Role> = new Map([
  ["administrator", "ADMINISTRATOR"],
  ["admin", "ADMINISTRATOR"],
  ["user", "USER"],
]);

/** Whether a normalized (trimmed, lower-cased) email is a valid address: the one rule everywhere. */
export function isEmail(email: string): boolean {
  return email.length <= EMAIL_MAX && EMAIL.test(email);
}

/** Trimmed, lower-cased form under which emails are stored and compared. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A group name as stored: trimmed, inner runs of whitespace made one space. */
export function tidyGroupName(name: string): string {
  return name.trim().replace(/\s+/g, " ");
}

/** Key under which group names are compared (tidied, case-insensitive). */
export function groupKey(name: string): string {
  return tidyGroupName(name).toLowerCase();
}

/** Parses Administrator / User (any case, "admin" accepted); undefined when not a role. */
export function parseRole(value: string): Role | undefined {
  return ROLE_WORDS.get(value.trim().toLowerCase());
}

function quote(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 57)}…` : value;
  return `“${shown.replace(CONTROL_CHARS_ALL, "?")}”`;
}

/** Human messages per code; the value is what the admin typed. */
export const fieldMessages = {
  EMAIL_REQUIRED: () => "Email ID is required.",
  EMAIL_INVALID: (v: string) => `Email ID ${quote(v)} is not a valid email address.`,
  EMAIL_TAKEN: (v: string) => `A user with Email ID ${v} already exists.`,
  NAME_REQUIRED: () => "Name is required.",
  NAME_TOO_LONG: (v: string) => `Name is ${[...v].length} characters long; the limit is ${NAME_MAX}.`,
  NAME_CONTROL_CHARS: () => "Name contains a control character (a tab or a line break, for example).",
  GROUP_REQUIRED: () => "Group is required.",
  GROUP_UNKNOWN: (v: string) => `There is no group named ${quote(v)}.`,
  ROLE_INVALID: (v: string) => `Role ${quote(v)} is not valid: use Administrator or User.`,
  EXCHANGE_USERNAME_MISSING: () => "Exchange username is missing: give both Exchange domain and username for ActiveSync, or neither.",
  EXCHANGE_DOMAIN_MISSING: () => "Exchange domain is missing: give both Exchange domain and username for ActiveSync, or neither.",
  EXCHANGE_DOMAIN_INVALID: (v: string) =>
    `Exchange domain ${quote(v)} is neither a NetBIOS name (like CORP) nor a DNS domain (like corp.example.com).`,
  EXCHANGE_USERNAME_INVALID: (v: string) =>
    `Exchange username ${quote(v)} is not valid: at most ${EXCHANGE_USERNAME_MAX} characters, no spaces, control characters or any of " / \\ [ ] : ; | = , + * ? < >.`,
  GROUP_NAME_REQUIRED: () => "Group name is required.",
  GROUP_NAME_TOO_LONG: (v: string) => `Group name is ${[...v].length} characters long; the limit is ${GROUP_NAME_MAX}.`,
  GROUP_NAME_CONTROL_CHARS: () => "Group name contains a control character.",
  GROUP_NAME_TAKEN: (v: string) => `A group named ${quote(v)} already exists.`,
  POLICY_TOO_LONG: (v: string) => `Policy name is ${[...v].length} characters long; the limit is ${POLICY_MAX}.`,
  POLICY_CONTROL_CHARS: () => "Policy name contains a control character.",
  // The value is the spreadsheet row number of the email's first occurrence.
  EMAIL_DUPLICATE_IN_FILE: (v: string) => `Same Email ID as row ${v}, which is imported.`,
  // The value is the column's name.
  INVALID_UTF8_BYTES: (v: string) =>
    `${v} has bytes that are not valid UTF-8 (shown as �): part of the file was saved in another encoding. Correct the cell, save the file as CSV UTF-8 and upload it again.`,
  UNDEFINED_BYTES: (v: string) =>
    `${v} has bytes that the file's encoding does not define (shown as �): the file is probably in another encoding. Save it as CSV UTF-8 and upload it again.`,
} satisfies Partial<Record<ErrorCode, (value: string) => string>>;

type MessageCode = keyof typeof fieldMessages;

/** Builds the FieldIssue for a code, with its human message. */
export function fieldIssue(field: string, code: MessageCode, value = ""): FieldIssue {
  return { field, code, message: fieldMessages[code](value) };
}

// A spreadsheet cell or form value: missing, null or text; always trimmed.
const cell = z
  .string()
  .nullish()
  .transform((v) => (v ?? "").trim());

/** Raw Add user input, as the form or a CSV row gives it (all text, any may be blank). */
export const userInputSchema = z.object({
  email: cell,
  name: cell,
  group: cell,
  role: cell,
  exchangeDomain: cell,
  exchangeUsername: cell,
});
export type UserInput = z.input<typeof userInputSchema>;

/** A user's fields after every rule passed; `group` is still a name to resolve. */
export interface ValidUserFields {
  email: string;
  name: string;
  group: string;
  role: Role;
  exchangeDomain: string | null;
  exchangeUsername: string | null;
}

export type RawUserFields = z.output<typeof userInputSchema>;

/**
 * What userInputSchema makes of cells that are all text (a CSV row): each trimmed. Without
 * zod's machinery, for the importer's hundreds of thousands of rows.
 */
export function trimmedUserFields(cells: Readonly<Record<keyof RawUserFields, string>>): RawUserFields {
  return {
    email: cells.email.trim(),
    name: cells.name.trim(),
    group: cells.group.trim(),
    role: cells.role.trim(),
    exchangeDomain: cells.exchangeDomain.trim(),
    exchangeUsername: cells.exchangeUsername.trim(),
  };
}

/** Whether `text` has more than `max` characters (code points); a string is never longer than its UTF-16 length. */
function longerThan(text: string, max: number): boolean {
  return text.length > max && [...text].length > max;
}

/**
 * The field rules of the Add user form and of import rows, on trimmed input. Collects every
 * problem (not only the first) and still returns the normalized value, so callers can run
 * the directory checks (group exists, email free) on the fields that passed.
 */
export function validateUserFields(raw: RawUserFields): { value: ValidUserFields; issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const email = normalizeEmail(raw.email);
  if (!email) issues.push(fieldIssue("email", "EMAIL_REQUIRED"));
  else if (!isEmail(email)) issues.push(fieldIssue("email", "EMAIL_INVALID", raw.email));

  if (!raw.name) issues.push(fieldIssue("name", "NAME_REQUIRED"));
  else {
    if (CONTROL_CHARS.test(raw.name)) issues.push(fieldIssue("name", "NAME_CONTROL_CHARS"));
    if (longerThan(raw.name, NAME_MAX)) issues.push(fieldIssue("name", "NAME_TOO_LONG", raw.name));
  }

  if (!raw.group) issues.push(fieldIssue("group", "GROUP_REQUIRED"));

  // A blank role is the least-privileged one, as the form's default.
  const role = raw.role ? parseRole(raw.role) : "USER";
  if (!role) issues.push(fieldIssue("role", "ROLE_INVALID", raw.role));

  const { exchangeDomain, exchangeUsername } = raw;
  if (exchangeDomain && !exchangeUsername) issues.push(fieldIssue("exchangeUsername", "EXCHANGE_USERNAME_MISSING"));
  if (exchangeUsername && !exchangeDomain) issues.push(fieldIssue("exchangeDomain", "EXCHANGE_DOMAIN_MISSING"));
  if (exchangeDomain && !NETBIOS_DOMAIN.test(exchangeDomain) && !DNS_DOMAIN.test(exchangeDomain))
    issues.push(fieldIssue("exchangeDomain", "EXCHANGE_DOMAIN_INVALID", exchangeDomain));
  if (
    exchangeUsername &&
    (longerThan(exchangeUsername, EXCHANGE_USERNAME_MAX) ||
      !EXCHANGE_USERNAME.test(exchangeUsername) ||
      CONTROL_CHARS.test(exchangeUsername))
  )
    issues.push(fieldIssue("exchangeUsername", "EXCHANGE_USERNAME_INVALID", exchangeUsername));

  const value: ValidUserFields = {
    email,
    name: raw.name,
    group: raw.group,
    role: role ?? "USER",
    exchangeDomain: exchangeDomain || null,
    exchangeUsername: exchangeUsername || null,
  };
  return { value, issues };
}

function addIssues(ctx: { addIssue(issue: z.core.$ZodRawIssue): void }, issues: FieldIssue[]): void {
  for (const issue of issues) {
    ctx.addIssue({ code: "custom", path: [issue.field], message: issue.message, params: { code: issue.code }, input: undefined });
  }
}

/** Raw input of the add-group command. */
export const groupInputSchema = z.object({ name: cell, policy: cell }).transform((raw, ctx) => {
  const issues: FieldIssue[] = [];
  if (!raw.name) issues.push(fieldIssue("name", "GROUP_NAME_REQUIRED"));
  else {
    if (CONTROL_CHARS.test(raw.name)) issues.push(fieldIssue("name", "GROUP_NAME_CONTROL_CHARS"));
    if ([...raw.name].length > GROUP_NAME_MAX) issues.push(fieldIssue("name", "GROUP_NAME_TOO_LONG", raw.name));
  }
  if (CONTROL_CHARS.test(raw.policy)) issues.push(fieldIssue("policy", "POLICY_CONTROL_CHARS"));
  if ([...raw.policy].length > POLICY_MAX) issues.push(fieldIssue("policy", "POLICY_TOO_LONG", raw.policy));
  addIssues(ctx, issues);
  return { name: tidyGroupName(raw.name), policy: raw.policy || DEFAULT_POLICY };
});
export type GroupInput = z.input<typeof groupInputSchema>;

/** Result of checking input against a schema: the value, or every field issue. */
export type Checked<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/** Runs a schema of this module and returns its value or its field issues with codes. */
export function check<T>(schema: z.ZodType<T>, input: unknown): Checked<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      field: String(issue.path[0] ?? ""),
      code: ((issue as { params?: { code?: string } }).params?.code ?? ErrorCode.VALIDATION_FAILED) as ErrorCode,
      message: issue.message,
    })),
  };
}

/** The fields of the Add user form, in form order, with their labels. */
export const USER_FIELD_LABELS: Record<UserField, string> = {
  email: "Email ID",
  name: "Name",
  group: "Group",
  role: "Role",
  exchangeDomain: "Exchange domain",
  exchangeUsername: "Exchange username",
};
