/**
 * Writing CSV: the one cell writer every CSV the product produces goes through, and the
 * import error report. Output is UTF-8 with a BOM (so Excel shows accents right) and CRLF.
 */
import type { DirectoryRow, ErrorReportRow } from "../core/import/files.ts";
import { COLUMN_FIELDS, TEMPLATE_COLUMNS } from "./types.ts";

/** The UTF-8 byte order mark, as text: Excel needs it to read a CSV as UTF-8. */
export const UTF8_BOM = "\uFEFF";

// A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR,
// strips them and then may read a formula), so such cells get a leading apostrophe.
const FORMULA_START = /^[=+\-@\t\r]/;
// What a guarded cell looks like when it comes back in an uploaded file.
const GUARDED = /^'[=+\-@\t\r]/;

/**
 * One CSV cell: neutralised against formula injection (a cell starting with `=`, `+`, `-`,
 * `@`, tab or CR gets a leading `'`), then quoted when it holds the delimiter, a quote, CR
 * or LF (quotes doubled).
 */
export function csvCell(value: string, delimiter = ","): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  if (text.includes('"')) return `"${text.replaceAll('"', '""')}"`;
  if (text.includes(delimiter) || text.includes("\n") || text.includes("\r")) return `"${text}"`;
  return text;
}

/** One CSV line of cells, CRLF-terminated. */
export function csvLine(cells: readonly string[], delimiter = ","): string {
  let line = "";
  for (let i = 0; i < cells.length; i++) line += (i === 0 ? "" : delimiter) + csvCell(cells[i] ?? "", delimiter);
  return `${line}\r\n`;
}

/**
 * Undoes csvCell's formula guard on a cell read back from an uploaded file, so a report the
 * admin fixed and re-uploaded carries the original values (`'+SUM(1,2)` → `+SUM(1,2)`).
 */
export function unguardCell(value: string): string {
  return GUARDED.test(value) ? value.slice(1) : value;
}

export type { ErrorReportRow } from "../core/import/files.ts";

/** The column the error report adds; reading a file ignores it without a warning. */
export const PROBLEMS_COLUMN = "Problems";
export const ERROR_REPORT_COLUMNS = [...TEMPLATE_COLUMNS, PROBLEMS_COLUMN] as const;

const FIELDS = TEMPLATE_COLUMNS.map((column) => COLUMN_FIELDS[column]);
const encoder = new TextEncoder();

function reportLine(row: ErrorReportRow): string {
  const cells = FIELDS.map((field) => row.fields[field] ?? "");
  cells.push(row.problems.join(" "));
  return csvLine(cells);
}

/**
 * The error report as one file: the template's columns plus a final Problems column, rows in
 * file order, so the admin can fix it and upload it again (Problems is then ignored).
 */
export function errorReportCsv(rows: Iterable<ErrorReportRow>): Uint8Array {
  // Lines are joined once and encoded once: cheaper than growing a byte buffer per row.
  const lines = [UTF8_BOM + csvLine(ERROR_REPORT_COLUMNS)];
  for (const row of rows) lines.push(reportLine(row));
  return encoder.encode(lines.join(""));
}

/**
 * The directory as a CSV in the template's columns (UTF-8 with a BOM, CRLF, formula-safe),
 * encoded a page at a time: a 150,000-user export never exists as one string.
 */
export async function directoryCsv(pages: AsyncIterable<readonly DirectoryRow[]>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [encoder.encode(UTF8_BOM + csvLine(TEMPLATE_COLUMNS))];
  for await (const page of pages) {
    let text = "";
    for (const row of page) text += csvLine(FIELDS.map((field) => row[field] ?? ""));
    parts.push(encoder.encode(text));
  }
  return Buffer.concat(parts);
}
