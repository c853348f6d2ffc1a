/**
 * The CSV side of the import file format (the contract itself is the core's port,
 * src/core/import/files.ts): the template's columns, the limits, and how a file was read.
 */
import type { UserField } from "../core/errors.ts";
import type { FileInfo, FileRow, OpenedFile } from "../core/import/files.ts";

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
export type CsvRow = FileRow;

export interface CsvFileInfo extends FileInfo {
  encoding: "utf-8" | "utf-16le" | "utf-16be" | "windows-1252";
  bom: boolean;
  delimiter: "," | ";" | "\t";
  /** The header cells as written in the file. */
  header: string[];
}

/** An opened file: its detected format, and its rows in chunks (trailing blank rows dropped). */
export type CsvReader = OpenedFile<CsvFileInfo>;
