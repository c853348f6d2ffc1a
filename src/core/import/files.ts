/**
 * The import engine's port to the file format: how an uploaded file becomes rows, how rows are
 * judged, and the files the bot hands back (template, error report, results, export). src/csv
 * implements it; the core sees only these types.
 */
import type { FieldIssue, UserField } from "../errors.ts";
import type { ValidUserFields } from "../schemas.ts";
import type { Group, UserChanges, UserSnapshot } from "../types.ts";

/** One data row of an uploaded file. */
export interface FileRow {
  /** The row number the spreadsheet shows (header = 1; multi-line quoted cells count once). */
  rowNumber: number;
  /** Cell text by field, as in the file ("" for a missing cell or column). */
  fields: Record<UserField, string>;
  /** Every mapped cell is blank: counted, never flagged. */
  blank: boolean;
}

/** How a file was read (stored on the batch as `fileInfo`); the format adds what it knows. */
export interface FileInfo {
  /** Header cells that matched no column: ignored, reported as a warning. */
  unknownColumns: string[];
}

/** An opened file: how it was read, and its rows in chunks (trailing blank rows dropped). */
export interface OpenedFile<Info extends FileInfo = FileInfo> {
  info: Info;
  /**
   * Yields the data rows in order, `chunkSize` at a time (each call reads the file again).
   * Throws AppError FILE_TOO_MANY_ROWS or FILE_MALFORMED while iterating when the file turns
   * out to break a limit.
   */
  chunks(chunkSize?: number): AsyncIterable<FileRow[]>;
}

/** What validating rows needs to know of the directory. */
export interface DirectoryView {
  /** Every group (resolved case-insensitively, trimmed). */
  groups: readonly Group[];
  /** Of these normalized emails, the users who already exist in the directory. */
  existingUsers(emails: readonly string[]): Promise<Map<string, ExistingUser>>;
}

export type RowStatus = "READY" | "UPDATE" | "UNCHANGED" | "NEEDS_ATTENTION";

/** A user of the directory as validation compares a row with them. */
export interface ExistingUser extends UserSnapshot {
  id: string;
  email: string;
  groupName: string;
}

/** The verdict on one non-blank row. */
export interface RowVerdict {
  rowNumber: number;
  status: RowStatus;
  /** Normalized values where a field passed its rules; otherwise the trimmed text of the cell. */
  fields: Record<UserField, string>;
  /** For READY and UPDATE rows: the validated value and the resolved group. */
  ready?: { value: ValidUserFields; groupId: string };
  /** For UPDATE and UNCHANGED rows: the user, as they were when checked, and what the row changes. */
  update?: { userId: string; before: UserSnapshot; changes: UserChanges };
  /** Every problem of the row (all of them, not the first only). */
  issues: FieldIssue[];
}

/** Running counts of a validation. */
export interface ValidationCounts {
  /** Non-blank data rows. */
  dataRows: number;
  /** New accounts ready to create. */
  ready: number;
  /** Existing users the file changes, and those it leaves as they are. */
  updates: number;
  unchanged: number;
  needsAttention: number;
  blank: number;
  /** READY rows granting the Administrator role. */
  administrators: number;
  /** UPDATE rows granting the Administrator role. */
  adminUpdates: number;
}

/** Validates the rows of one file, chunk by chunk, remembering what earlier chunks held. */
export interface RowValidator {
  /**
   * Verdicts on the non-blank rows of a chunk, in order (blank rows are only counted). Call
   * with the chunks in file order: duplicates are judged against earlier rows.
   */
  validate(rows: readonly FileRow[]): Promise<RowVerdict[]>;
  /** The counts so far. */
  counts(): ValidationCounts;
}

/** One row of the error report: a row of the uploaded file and what is wrong with it. */
export interface ErrorReportRow {
  /** Its row number in the uploaded file, as the summary shows it. */
  rowNumber: number;
  fields: Record<UserField, string>;
  problems: readonly string[];
}

/** What creation did with a row of the batch. */
export type RowResult = "created" | "updated" | "unchanged" | "skipped" | "failed";

/** One row of the results file: a row of the uploaded file and what happened to it. */
export interface ResultRow {
  /** Its row number in the uploaded file, as the summary shows it. */
  rowNumber: number;
  fields: Record<UserField, string>;
  result: RowResult;
  /** Why it was skipped or failed, or what an update changed; "" when there is nothing to add. */
  details: string;
}

/** The template the admin downloads, and how to fill it in. */
export interface ImportTemplate {
  fileName: string;
  bytes: Uint8Array;
  /** One paragraph on how to fill the template in. */
  howTo: string;
}

/** One user of an export, in the template's fields (role as people read it). */
export type DirectoryRow = Record<UserField, string>;

/** The file format of imports: reading, judging and writing. */
export interface ImportFileFormat {
  /** Opens an upload; throws AppError FILE_* when the file as a whole cannot be imported. */
  open(bytes: Uint8Array): Promise<OpenedFile>;
  /**
   * A validator over the directory as it is now. `firstRows` (email → row number) are rows
   * outside those it will see, for duplicates when rows of a batch are checked again.
   */
  validator(directory: DirectoryView, options?: { firstRows?: ReadonlyMap<string, number> }): RowValidator;
  /**
   * The error report of these rows (given a page at a time, in row order), in the format of the
   * file read as `info` describes (its delimiter, for a CSV): each row's number in that file
   * first, the template's fields, then the problems. Read back as an upload, the added columns
   * are ignored.
   */
  errorReport(pages: AsyncIterable<readonly ErrorReportRow[]>, info?: FileInfo): Promise<Uint8Array>;
  /**
   * The results of creation, every row of the batch (a page at a time, in row order), laid out
   * like the error report with the result and its details last.
   */
  resultsFile(pages: AsyncIterable<readonly ResultRow[]>, info?: FileInfo): Promise<Uint8Array>;
  template(): ImportTemplate;
  /**
   * The directory (or part of it) as a file in the template's columns, built a page of users at
   * a time, so that it can be sent back as an import.
   */
  directoryFile(pages: AsyncIterable<readonly DirectoryRow[]>): Promise<Uint8Array>;
}
