/**
 * The contract of src/csv: what reading an import file yields, and what validating its rows
 * needs and returns. The import engine (src/core/import) builds on these types only.
 */
import type { FieldIssue, UserField } from "../core/errors.ts";
import type { ValidUserFields } from "../core/schemas.ts";
import type { Group } from "../core/types.ts";
import type { TextEncoding } from "./encoding.ts";

/** The template's header, in order: what the admin downloads and what the error report uses. */
export const TEMPLATE_COLUMNS = ["Email ID", "Name", "Group", "Role", "Exchange Domain", "Exchange Username"] as const;

/** Template column → field, in template order. */
export const COLUMN_FIELDS: Record<(typeof TEMPLATE_COLUMNS)[number], UserField> = {
  "Email ID": "email",
  Name: "name",
  Group: "group",
  Role: "role",
  "Exchange Domain": "exchangeDomain",
  "Exchange Username": "exchangeUsername",
};

/** Limits of one upload (Google Workspace's cap on rows). */
export const MAX_FILE_BYTES = 35 * 1024 * 1024;
export const MAX_DATA_ROWS = 150_000;

/** One data row of the file. */
export interface CsvRow {
  /** The row number the spreadsheet shows (header = 1; multi-line quoted cells count once). */
  rowNumber: number;
  /** Cell text by field, as in the file ("" for a missing cell or column). */
  fields: Record<UserField, string>;
  /** Every mapped cell is blank: counted, never flagged. */
  blank: boolean;
  /** Fields whose cells hold bytes that are not valid UTF-8 (read as U+FFFD); UTF-8 files only. */
  invalidUtf8?: UserField[];
  /** Fields whose cells hold bytes the file's 8-bit code page does not define (read as U+FFFD). */
  undefinedBytes?: UserField[];
}

/** How the file was read; stored on the batch (as JSON) for its summary. */
export interface CsvFileInfo {
  encoding: TextEncoding;
  bom: boolean;
  delimiter: "," | ";" | "\t";
  /** The header cells as written in the file. */
  header: string[];
  /** Header cells that matched no column: ignored, reported as a warning. */
  unknownColumns: string[];
  /** False when the encoding could not be told for sure: the summary asks to check the names. */
  encodingConfident: boolean;
  /** UTF-8 files: bytes that are not valid UTF-8 (the rows holding them need attention). */
  invalidUtf8Bytes: number;
  /** Two or three names as read, picked to show the non-ASCII letters: a wrong encoding shows in them. */
  sampleNames: string[];
}

/** An opened file: its detected format, and its rows in chunks (trailing blank rows dropped). */
export interface CsvReader {
  info: CsvFileInfo;
  /**
   * Yields the data rows in order, `chunkSize` at a time. Throws AppError FILE_TOO_MANY_ROWS
   * (or FILE_MALFORMED) while iterating when the file turns out to break a limit.
   */
  chunks(chunkSize?: number): AsyncIterable<CsvRow[]>;
}

/** What validating rows needs to know of the directory. */
export interface DirectoryView {
  /** Every group (resolved case-insensitively, trimmed). */
  groups: readonly Group[];
  /** Of these normalized emails, the ones that already exist in the directory. */
  existingEmails(emails: readonly string[]): Promise<Set<string>>;
}

export type RowStatus = "READY" | "NEEDS_ATTENTION";

/** The verdict on one non-blank row. */
export interface RowVerdict {
  rowNumber: number;
  status: RowStatus;
  /** Normalized values where a field passed its rules; otherwise the trimmed text of the cell. */
  fields: Record<UserField, string>;
  /** For READY rows: the validated value and the resolved group. */
  ready?: { value: ValidUserFields; groupId: string };
  /** Every problem of the row (all of them, not the first only). */
  issues: FieldIssue[];
}

/** Running counts of a validation. */
export interface ValidationCounts {
  /** Non-blank data rows. */
  dataRows: number;
  ready: number;
  needsAttention: number;
  blank: number;
  /** READY rows granting the Administrator role. */
  administrators: number;
}
