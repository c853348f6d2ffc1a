/**
 * Writing CSV: the one cell writer every CSV the product produces goes through, the import
 * error report, the results of creation and the directory export. Output is UTF-8 with a BOM
 * (so Excel shows accents right) and CRLF.
 */
import type { DirectoryRow, ErrorReportRow, ResultRow } from "../core/import/files.ts";
import { COLUMN_FIELDS, TEMPLATE_COLUMNS } from "./types.ts";

/** The UTF-8 byte order mark, as text: Excel needs it to read a CSV as UTF-8. */
export const UTF8_BOM = "\uFEFF";

// A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR,
// strips them and then may read a formula), so such cells get a leading apostrophe; so does one
// that already starts with apostrophes before them, so that reading it back removes exactly one.
const FORMULA_START = /^'*[=+\-@\t\r]/;
// What a guarded cell looks like when it comes back in an uploaded file.
const GUARDED = /^'(?='*[=+\-@\t\r])/;
// Quoted whatever the file's delimiter: a reader may split on any list separator.
const NEEDS_QUOTES = /[,;\t"\r\n]/;
const LIST_SEPARATORS = [",", ";", "\t"] as const;
// Followed by what starts a formula (after any apostrophes a guard already added).
const FORMULA_AHEAD = /(?='*[=+\-@\t\r])/.source;

/** Where a cell of a file written with one delimiter may be split by a spreadsheet that ignores its quotes. */
interface Splits {
  any: RegExp;
  guard: RegExp;
  unguard: RegExp;
}

const splitsByDelimiter = new Map<string, Splits>();

// A spreadsheet whose list separator is the file's delimiter honours our quotes. One whose
// separator is another (`;` in most of Europe, tab, or `,` for a `;` file) honours them only
// around a cell that starts one of its own cells: it splits any other of our cells at its
// separator and at line breaks. So inside a cell, a formula character after one of those gets
// an apostrophe too (`x;=cmd` → `x;'=cmd` in a `,` file); the delimiter itself needs none.
function splitsFor(delimiter: string): Splits {
  let splits = splitsByDelimiter.get(delimiter);
  if (!splits) {
    // Literal characters: a tab, CR or LF stands for itself in a character class.
    const chars = `${LIST_SEPARATORS.filter((s) => s !== delimiter).join("")}\r\n`;
    splits = {
      any: new RegExp(`[${chars}]`),
      guard: new RegExp(`([${chars}])${FORMULA_AHEAD}`, "g"),
      unguard: new RegExp(`([${chars}])'${FORMULA_AHEAD}`, "g"),
    };
    splitsByDelimiter.set(delimiter, splits);
  }
  return splits;
}

/**
 * One CSV cell: neutralised against formula injection (a leading `'` on a cell starting with
 * `=`, `+`, `-`, `@`, tab or CR, and after a list separator other than `delimiter`, CR or LF
 * inside it followed by one), then quoted when it holds `,`, `;`, tab, a quote, CR, LF or the
 * delimiter (quotes doubled).
 */
export function csvCell(value: string, delimiter = ","): string {
  const splits = splitsFor(delimiter);
  let text = splits.any.test(value) ? value.replace(splits.guard, "$1'") : value;
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
 * Undoes csvCell's formula guard on a cell read back from an uploaded file of this delimiter,
 * so a report the admin fixed and re-uploaded carries the original values (`'+SUM(1,2)` →
 * `+SUM(1,2)`, `x;'=cmd` → `x;=cmd` in a `,` file).
 */
export function unguardCell(value: string, delimiter = ","): string {
  // Both guards are an apostrophe: a cell without one has none to remove.
  if (!value.includes("'")) return value;
  const text = GUARDED.test(value) ? value.slice(1) : value;
  const splits = splitsFor(delimiter);
  return splits.any.test(text) ? text.replace(splits.unguard, "$1") : text;
}

export type { ErrorReportRow, ResultRow } from "../core/import/files.ts";

/**
 * The columns the bot's own files add around the template's: the row number in the uploaded
 * file first, the problems (error report) or the result and its details (results file) last.
 * Reading a file ignores them without a warning, so a fixed report can be uploaded again.
 */
export const ROW_COLUMN = "Row";
export const PROBLEMS_COLUMN = "Problems";
export const RESULT_COLUMN = "Result";
export const DETAILS_COLUMN = "Details";
export const REPORT_COLUMNS: readonly string[] = [ROW_COLUMN, PROBLEMS_COLUMN, RESULT_COLUMN, DETAILS_COLUMN];
export const ERROR_REPORT_COLUMNS = [ROW_COLUMN, ...TEMPLATE_COLUMNS, PROBLEMS_COLUMN] as const;
export const RESULTS_COLUMNS = [ROW_COLUMN, ...TEMPLATE_COLUMNS, RESULT_COLUMN, DETAILS_COLUMN] as const;

const FIELDS = TEMPLATE_COLUMNS.map((column) => COLUMN_FIELDS[column]);
const encoder = new TextEncoder();

type Pages<T> = AsyncIterable<readonly T[]> | Iterable<readonly T[]>;

/** A CSV of `header` and one line per row, encoded a page at a time (never the whole file as one string). */
async function pagedCsv<T>(
  header: readonly string[],
  pages: Pages<T>,
  cells: (row: T) => string[],
  delimiter: string,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [encoder.encode(UTF8_BOM + csvLine(header, delimiter))];
  for await (const page of pages) {
    let text = "";
    for (const row of page) text += csvLine(cells(row), delimiter);
    parts.push(encoder.encode(text));
  }
  return Buffer.concat(parts);
}

/**
 * The error report: Row (the row number in the uploaded file), the template's columns, then
 * Problems; rows in file order, written with the upload's `delimiter`, so the admin can fix it
 * and upload it again (Row and Problems are then ignored).
 */
export function errorReportCsv(pages: Pages<ErrorReportRow>, delimiter = ","): Promise<Uint8Array> {
  return pagedCsv(
    ERROR_REPORT_COLUMNS,
    pages,
    (row) => [String(row.rowNumber), ...FIELDS.map((field) => row.fields[field] ?? ""), row.problems.join(" ")],
    delimiter,
  );
}

/**
 * The results of creation: Row, the template's columns, then Result (created, updated,
 * unchanged, skipped, failed) and Details; every row of the batch in file order, written with
 * the upload's `delimiter`.
 */
export function resultsCsv(pages: Pages<ResultRow>, delimiter = ","): Promise<Uint8Array> {
  return pagedCsv(
    RESULTS_COLUMNS,
    pages,
    (row) => [String(row.rowNumber), ...FIELDS.map((field) => row.fields[field] ?? ""), row.result, row.details],
    delimiter,
  );
}

/**
 * The directory as a CSV in the template's columns (UTF-8 with a BOM, CRLF, formula-safe),
 * encoded a page at a time: a 150,000-user export never exists as one string.
 */
export function directoryCsv(pages: AsyncIterable<readonly DirectoryRow[]>): Promise<Uint8Array> {
  return pagedCsv(TEMPLATE_COLUMNS, pages, (row) => FIELDS.map((field) => row[field] ?? ""), ",");
}
