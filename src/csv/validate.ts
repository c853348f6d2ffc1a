/**
 * Validating import rows: the core's field rules, then the directory checks (the group exists;
 * an email already in the directory makes the row an update of that user) and duplicates within
 * the file, chunk after chunk.
 */
import type { FieldIssue, UserField } from "../core/errors.ts";
import type { ExistingUser, RowVerdict } from "../core/import/files.ts";
import { fieldIssue, groupKey, type RawUserFields, trimmedUserFields, type ValidUserFields, validateUserFields } from "../core/schemas.ts";
import { type Group, ROLE_LABELS, type UserChanges } from "../core/types.ts";
import { COLUMN_FIELDS, type CsvRow, type DirectoryView, type RowValidator, TEMPLATE_COLUMNS, type ValidationCounts } from "./types.ts";

/** In an Exchange cell of an update, this clears the user's Exchange account (a blank cell keeps it). */
export const CLEAR_CELL = "-";

// Past this many groups, listing them in every GROUP_UNKNOWN message would drown it.
const MAX_GROUPS_LISTED = 10;
const FIELD_ORDER: readonly UserField[] = TEMPLATE_COLUMNS.map((column) => COLUMN_FIELDS[column]);
const FIELD_RANK = new Map(FIELD_ORDER.map((field, i) => [field as string, i]));
const COLUMN_OF = Object.fromEntries(TEMPLATE_COLUMNS.map((column) => [COLUMN_FIELDS[column], column])) as Record<UserField, string>;
const NO_ISSUES: readonly FieldIssue[] = Object.freeze([]);
// Group cells are a handful of names repeated on every row: each is resolved once, up to this
// many different cells (a file of garbage must not grow the cache without bound).
const MAX_GROUP_CELLS = 10_000;

interface Pending {
  row: CsvRow;
  /** The cells as judged for a new user (trimmed, "-" in an Exchange cell as blank). */
  judged: RawUserFields;
  value: ValidUserFields;
  issues: FieldIssue[];
  group: Group | undefined;
  /** The normalized email, when it passed the field rules. */
  email: string | undefined;
  /** Problems from reading the row's bytes, kept when an update is validated again. */
  byteIssues: readonly FieldIssue[];
}

const exchangeText = (domain: string | null, username: string | null) => (domain && username ? `${domain}\\${username}` : "none");

/** The changes a valid row makes to an existing user. */
function changesOf(user: ExistingUser, value: ValidUserFields, group: Group): UserChanges {
  const changes: UserChanges = {};
  if (value.name !== user.name) changes.name = { from: user.name, to: value.name };
  if (group.id !== user.groupId) changes.group = { from: user.groupName, to: group.name };
  if (value.role !== user.role) changes.role = { from: ROLE_LABELS[user.role], to: ROLE_LABELS[value.role] };
  const before = exchangeText(user.exchangeDomain, user.exchangeUsername);
  const after = exchangeText(value.exchangeDomain, value.exchangeUsername);
  if (before !== after) changes.exchange = { from: before, to: after };
  return changes;
}

/**
 * A validator over the directory as it is now (groups are resolved once, case-insensitively).
 * It asks `directory.existingUsers` once per chunk (not at all when no email is valid).
 */
export function createRowValidator(directory: DirectoryView, options: { firstRows?: ReadonlyMap<string, number> } = {}): RowValidator {
  const groups = new Map<string, Group>();
  for (const group of directory.groups) if (!groups.has(groupKey(group.name))) groups.set(groupKey(group.name), group);
  // Group cell as trimmed → its group (or undefined: none).
  const groupOfCell = new Map<string, Group | undefined>();
  const groupOf = (cell: string): Group | undefined => {
    if (groupOfCell.has(cell)) return groupOfCell.get(cell);
    const group = groups.get(groupKey(cell));
    if (groupOfCell.size < MAX_GROUP_CELLS) groupOfCell.set(cell, group);
    return group;
  };
  const groupList =
    directory.groups.length === 0
      ? " There are no groups yet: add one first."
      : directory.groups.length <= MAX_GROUPS_LISTED
        ? ` Groups: ${directory.groups
            .map((g) => g.name)
            .sort((a, b) => a.localeCompare(b, "en"))
            .join(", ")}.`
        : "";
  // Normalized email → the row of its first occurrence in the file.
  // Seeded when rows are checked again: the rows of the batch they are not, which come first.
  const firstRow = new Map<string, number>(options.firstRows ?? []);
  const counts: ValidationCounts = {
    dataRows: 0,
    ready: 0,
    updates: 0,
    unchanged: 0,
    needsAttention: 0,
    blank: 0,
    administrators: 0,
    adminUpdates: 0,
  };

  /** The field rules and the group, on cells as given (`raw`); byte problems first: they may be why a rule fails. */
  function judge(raw: RawUserFields, byteIssues: readonly FieldIssue[]) {
    const { value, issues } = validateUserFields(raw);
    if (byteIssues.length > 0) issues.unshift(...byteIssues);
    let group: Group | undefined;
    if (raw.group) {
      group = groupOf(raw.group);
      if (!group) {
        const issue = fieldIssue("group", "GROUP_UNKNOWN", raw.group);
        issues.push({ ...issue, message: issue.message + groupList });
      }
    }
    return { value, issues, group };
  }

  function check(row: CsvRow): Pending {
    const raw = trimmed(row.fields);
    const byteIssues =
      row.invalidUtf8 || row.undefinedBytes
        ? [
            ...(row.invalidUtf8 ?? []).map((field) => fieldIssue(field, "INVALID_UTF8_BYTES", COLUMN_OF[field])),
            ...(row.undefinedBytes ?? []).map((field) => fieldIssue(field, "UNDEFINED_BYTES", COLUMN_OF[field])),
          ]
        : NO_ISSUES;
    // For a new user, "-" in an Exchange cell means what a blank one does: no Exchange account.
    const forCreate =
      raw.exchangeDomain === CLEAR_CELL || raw.exchangeUsername === CLEAR_CELL
        ? {
            ...raw,
            exchangeDomain: raw.exchangeDomain === CLEAR_CELL ? "" : raw.exchangeDomain,
            exchangeUsername: raw.exchangeUsername === CLEAR_CELL ? "" : raw.exchangeUsername,
          }
        : raw;
    const { value, issues, group } = judge(forCreate, byteIssues);
    const email = issues.length > 0 && issues.some((i) => i.field === "email") ? undefined : value.email;
    if (email !== undefined) {
      const first = firstRow.get(email);
      if (first === undefined || first > row.rowNumber) firstRow.set(email, row.rowNumber);
      else if (first < row.rowNumber) issues.push(fieldIssue("email", "EMAIL_DUPLICATE_IN_FILE", String(first)));
    }
    return { row, judged: forCreate, value, issues, group, email, byteIssues };
  }

  /**
   * A row for a user who exists: blank optional cells (Role, Exchange) keep what the user has,
   * "-" in an Exchange cell clears the account; the rest must pass the rules as for a new user.
   */
  function checkUpdate(p: Pending, user: ExistingUser): RowVerdict {
    const raw = trimmedUserFields(p.row.fields);
    const clear = raw.exchangeDomain === CLEAR_CELL || raw.exchangeUsername === CLEAR_CELL;
    const keep = !clear && !raw.exchangeDomain && !raw.exchangeUsername;
    const adjusted = {
      ...raw,
      role: raw.role || ROLE_LABELS[user.role],
      exchangeDomain: clear ? "" : keep ? (user.exchangeDomain ?? "") : raw.exchangeDomain,
      exchangeUsername: clear ? "" : keep ? (user.exchangeUsername ?? "") : raw.exchangeUsername,
    };
    // Cells that read the same as for a new user (an export's rows mostly do) were judged by
    // check() already, its duplicate included; otherwise again, keeping a duplicate it found.
    const same = (Object.keys(adjusted) as (keyof RawUserFields)[]).every((k) => adjusted[k] === p.judged[k]);
    const { value, issues, group } = same ? { value: p.value, issues: [...p.issues], group: p.group } : judge(adjusted, p.byteIssues);
    if (!same) issues.push(...p.issues.filter((i) => i.code === "EMAIL_DUPLICATE_IN_FILE"));
    sortIssues(issues);
    const fields = shownFields(p.row, value, group, issues);
    counts.dataRows++;
    if (issues.length > 0 || !group) {
      counts.needsAttention++;
      return { rowNumber: p.row.rowNumber, status: "NEEDS_ATTENTION", fields, issues };
    }
    const changes = changesOf(user, value, group);
    const before = {
      name: user.name,
      groupId: user.groupId,
      role: user.role,
      exchangeDomain: user.exchangeDomain,
      exchangeUsername: user.exchangeUsername,
    };
    const update = { userId: user.id, before, changes };
    const ready = { value: { ...value, group: group.name }, groupId: group.id };
    if (Object.keys(changes).length === 0) {
      counts.unchanged++;
      return { rowNumber: p.row.rowNumber, status: "UNCHANGED", fields, issues, ready, update };
    }
    counts.updates++;
    if (value.role === "ADMINISTRATOR" && user.role !== "ADMINISTRATOR") counts.adminUpdates++;
    return { rowNumber: p.row.rowNumber, status: "UPDATE", fields, issues, ready, update };
  }

  return {
    async validate(rows) {
      const pending: Pending[] = [];
      const emails = new Set<string>();
      for (const row of rows) {
        if (row.blank) {
          counts.blank++;
          continue;
        }
        const p = check(row);
        pending.push(p);
        if (p.email !== undefined) emails.add(p.email);
      }
      // One directory round trip per chunk, however many rows it holds.
      const existing = emails.size > 0 ? await directory.existingUsers([...emails]) : new Map<string, ExistingUser>();

      return pending.map((p): RowVerdict => {
        const { row, value, issues, group, email } = p;
        const user = email !== undefined ? existing.get(email) : undefined;
        if (user) return checkUpdate(p, user);
        sortIssues(issues);
        const fields = shownFields(row, value, group, issues);
        counts.dataRows++;
        if (issues.length > 0 || !group) {
          counts.needsAttention++;
          return { rowNumber: row.rowNumber, status: "NEEDS_ATTENTION", fields, issues };
        }
        counts.ready++;
        if (value.role === "ADMINISTRATOR") counts.administrators++;
        // The row's own value (nothing else holds it), with the group as the directory names it.
        value.group = group.name;
        return { rowNumber: row.rowNumber, status: "READY", fields, ready: { value, groupId: group.id }, issues };
      });
    },
    counts: () => ({ ...counts }),
  };
}

/** The cells trimmed: the row's own object when no cell has spaces around it (most rows). */
function trimmed(cells: Record<UserField, string>): RawUserFields {
  for (const field of FIELD_ORDER) if (cells[field].trim() !== cells[field]) return trimmedUserFields(cells);
  return cells;
}

/** Problems in the order of the columns, whichever check found them. */
function sortIssues(issues: FieldIssue[]): void {
  issues.sort((a, b) => (FIELD_RANK.get(a.field) ?? FIELD_ORDER.length) - (FIELD_RANK.get(b.field) ?? FIELD_ORDER.length));
}

/** Normalized values where the field passed, else the trimmed text of the cell. */
function shownFields(row: CsvRow, value: ValidUserFields, group: Group | undefined, issues: FieldIssue[]): Record<UserField, string> {
  const normalized: Record<UserField, string> = {
    email: value.email,
    name: value.name,
    group: group?.name ?? value.group,
    role: ROLE_LABELS[value.role],
    exchangeDomain: value.exchangeDomain ?? "",
    exchangeUsername: value.exchangeUsername ?? "",
  };
  for (const issue of issues) {
    const field = issue.field as UserField;
    if (FIELD_RANK.has(field)) normalized[field] = row.fields[field].trim();
  }
  return normalized;
}
