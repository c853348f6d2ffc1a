/**
 * Validating import rows: the core's field rules, then the directory checks (the group
 * exists, the email is free) and duplicates within the file, chunk after chunk.
 */
import type { FieldIssue, UserField } from "../core/errors.ts";
import { fieldIssue, groupKey, userInputSchema, type ValidUserFields, validateUserFields } from "../core/schemas.ts";
import { type Group, ROLE_LABELS } from "../core/types.ts";
import { COLUMN_FIELDS, type CsvRow, type DirectoryView, type RowValidator, TEMPLATE_COLUMNS, type ValidationCounts } from "./types.ts";

// Past this many groups, listing them in every GROUP_UNKNOWN message would drown it.
const MAX_GROUPS_LISTED = 10;
const FIELD_ORDER: readonly UserField[] = TEMPLATE_COLUMNS.map((column) => COLUMN_FIELDS[column]);
const FIELD_RANK = new Map(FIELD_ORDER.map((field, i) => [field as string, i]));
const COLUMN_OF = Object.fromEntries(TEMPLATE_COLUMNS.map((column) => [COLUMN_FIELDS[column], column])) as Record<UserField, string>;

interface Pending {
  row: CsvRow;
  value: ValidUserFields;
  issues: FieldIssue[];
  group: Group | undefined;
  /** The normalized email, when it passed the field rules. */
  email: string | undefined;
}

/**
 * A validator over the directory as it is now (groups are resolved once, case-insensitively).
 * It asks `directory.existingEmails` once per chunk (not at all when no email is valid).
 */
export function createRowValidator(directory: DirectoryView): RowValidator {
  const groups = new Map<string, Group>();
  for (const group of directory.groups) if (!groups.has(groupKey(group.name))) groups.set(groupKey(group.name), group);
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
  const firstRow = new Map<string, number>();
  const counts: ValidationCounts = { dataRows: 0, ready: 0, needsAttention: 0, blank: 0, administrators: 0 };

  function check(row: CsvRow): Pending {
    const raw = userInputSchema.parse(row.fields);
    const { value, issues } = validateUserFields(raw);
    // The cause first: a cell with bytes that could not be read may fail its field's rule.
    issues.unshift(
      ...(row.invalidUtf8 ?? []).map((field) => fieldIssue(field, "INVALID_UTF8_BYTES", COLUMN_OF[field])),
      ...(row.undefinedBytes ?? []).map((field) => fieldIssue(field, "UNDEFINED_BYTES", COLUMN_OF[field])),
    );
    let group: Group | undefined;
    if (raw.group) {
      group = groups.get(groupKey(raw.group));
      if (!group) {
        const issue = fieldIssue("group", "GROUP_UNKNOWN", raw.group);
        issues.push({ ...issue, message: issue.message + groupList });
      }
    }
    const email = issues.some((i) => i.field === "email") ? undefined : value.email;
    if (email !== undefined) {
      const first = firstRow.get(email);
      if (first === undefined) firstRow.set(email, row.rowNumber);
      else issues.push(fieldIssue("email", "EMAIL_DUPLICATE_IN_FILE", String(first)));
    }
    return { row, value, issues, group, email };
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
      const taken = emails.size > 0 ? await directory.existingEmails([...emails]) : new Set<string>();

      return pending.map(({ row, value, issues, group, email }) => {
        if (email !== undefined && taken.has(email)) issues.push(fieldIssue("email", "EMAIL_TAKEN", email));
        // Problems in the order of the columns, whichever check found them.
        issues.sort((a, b) => (FIELD_RANK.get(a.field) ?? FIELD_ORDER.length) - (FIELD_RANK.get(b.field) ?? FIELD_ORDER.length));
        const fields = shownFields(row, value, group, issues);
        counts.dataRows++;
        if (issues.length > 0 || !group) {
          counts.needsAttention++;
          return { rowNumber: row.rowNumber, status: "NEEDS_ATTENTION", fields, issues };
        }
        counts.ready++;
        if (value.role === "ADMINISTRATOR") counts.administrators++;
        return {
          rowNumber: row.rowNumber,
          status: "READY",
          fields,
          ready: { value: { ...value, group: group.name }, groupId: group.id },
          issues,
        };
      });
    },
    counts: () => ({ ...counts }),
  };
}

/** Normalized values where the field passed, else the trimmed text of the cell. */
function shownFields(row: CsvRow, value: ValidUserFields, group: Group | undefined, issues: FieldIssue[]): Record<UserField, string> {
  const failed = new Set(issues.map((i) => i.field));
  const normalized: Record<UserField, string> = {
    email: value.email,
    name: value.name,
    group: group?.name ?? value.group,
    role: ROLE_LABELS[value.role],
    exchangeDomain: value.exchangeDomain ?? "",
    exchangeUsername: value.exchangeUsername ?? "",
  };
  const fields = {} as Record<UserField, string>;
  for (const field of FIELD_ORDER) fields[field] = failed.has(field) ? row.fields[field].trim() : normalized[field];
  return fields;
}
