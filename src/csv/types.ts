/**
 * The CSV side of the import file format (the contract itself is the core's port,
 * src/core/import/files.ts): the template's columns, the limits, and how a file was read.
 */
import type { UserField } from "../core/errors.ts";
import type { FileInfo, FileRow, OpenedFile } from "../core/import/files.ts";
import type { TextEncoding } from "./encoding.ts";

export type { DirectoryView, RowStatus, RowValidator, RowVerdict, ValidationCounts } from "../core/import/files.ts";

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
export interface CsvRow extends FileRow {
  /** Fields whose cells hold bytes that are not valid UTF-8 (read as U+FFFD); UTF-8 files only. */
  invalidUtf8?: UserField[];
  /** Fields whose cells hold bytes the file's 8-bit code page does not define (read as U+FFFD). */
  undefinedBytes?: UserField[];
}

/** How the file was read; stored on the batch (as JSON) for its summary. */
export interface CsvFileInfo extends FileInfo {
  encoding: TextEncoding;
  bom: boolean;
  delimiter: "," | ";" | "\t";
  /** The header cells as written in the file. */
  header: string[];
  /** False when the encoding could not be told for sure: the summary asks to check the names. */
  encodingConfident: boolean;
  /** UTF-8 files: bytes that are not valid UTF-8 (the rows holding them need attention). */
  invalidUtf8Bytes: number;
  /** Two or three names as read, picked to show the non-ASCII letters: a wrong encoding shows in them. */
  sampleNames: string[];
}

/** An opened file: its detected format, and its rows in chunks (trailing blank rows dropped). */
export type CsvReader = OpenedFile<CsvFileInfo>;
