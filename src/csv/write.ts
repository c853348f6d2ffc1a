/**
 * Writing CSV: the one cell writer every CSV the product produces goes through, and the
 * import error report. Output is UTF-8 with a BOM (so Excel shows accents right) and CRLF.
 */
import type { DirectoryRow, ErrorReportRow } from "../core/import/files.ts";
import { COLUMN_FIELDS, TEMPLATE_COLUMNS } from "./types.ts";

/** The UTF-8 byte order mark, as text: Excel needs it to read a CSV as UTF-8. */
export const UTF8_BOM = "\uFEFF";

// A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR,
// strips them and then may read a formula), so such cells get a leading apostrophe; so does one
// that already starts with apostrophes before them, so that reading it back removes exactly one.
const FORMULA_START = /^'*[=+\-@\t\r]/;
// What a guarded cell looks like when it comes back in an uploaded file.
const GUARDED = /^'(?='*[=+\-@\t\r])/;
// A spreadsheet whose list separator is `;` (most of Europe) or tab honours our quotes only
// around a cell that starts one of its own cells: it splits any other of our cells at `;`, tab
// and line breaks. So inside a cell, a formula character after one of those gets an apostrophe
// too (`x;=cmd` → `x;'=cmd`); a `,` needs none, being the separator our quotes are read with.
const FORMULA_AFTER_SPLIT = /([;\t\r\n])(?='*[=+\-@\t\r])/g;
const GUARDED_AFTER_SPLIT = /([;\t\r\n])'(?='*[=+\-@\t\r])/g;
const SPLITS = /[;\t\r\n]/;
// Quoted whatever the file's delimiter: a reader may split on any list separator.
const NEEDS_QUOTES = /[,;\t"\r\n]/;

/**
 * One CSV cell: neutralised against formula injection (a leading `'` on a cell starting with
 * `=`, `+`, `-`, `@`, tab or CR, and after a `;`, tab, CR or LF inside it followed by one),
 * then quoted when it holds `,`, `;`, tab, a quote, CR, LF or the delimiter (quotes doubled).
 */
export function csvCell(value: string, delimiter = ","): string {
  let text = SPLITS.test(value) ? value.replace(FORMULA_AFTER_SPLIT, "$1'") : value;
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (NEEDS_QUOTES.test(text) || text.includes(delimiter)) return `"${text.replaceAll('"', '""')}"`;
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
 * admin fixed and re-uploaded carries the original values (`'+SUM(1,2)` → `+SUM(1,2)`,
 * `x;'=cmd` → `x;=cmd`).
 */
export function unguardCell(value: string): string {
  const text = GUARDED.test(value) ? value.slice(1) : value;
  return SPLITS.test(text) ? text.replace(GUARDED_AFTER_SPLIT, "$1") : text;
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
