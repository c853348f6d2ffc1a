/** The import template the admin downloads: the header only, and how to fill it in. */
import type { ImportTemplate } from "../core/import/files.ts";
import { NAME_MAX } from "../core/schemas.ts";
import { MAX_DATA_ROWS, TEMPLATE_COLUMNS } from "./types.ts";
import { csvLine, UTF8_BOM } from "./write.ts";

const count = (n: number) => n.toLocaleString("en-US");

/** The CSV template (header only: UTF-8 with a BOM, CRLF) and its instructions. */
export function importTemplate(): ImportTemplate {
  return {
    fileName: "hms-users-template.csv",
    bytes: new TextEncoder().encode(UTF8_BOM + csvLine(TEMPLATE_COLUMNS)),
    howTo:
      "Fill in one row per user. Email ID is the user's email address, which is also their logon ID. " +
      `Name is the user's full name (up to ${count(NAME_MAX)} characters). ` +
      "Group must be the name of a group that already exists in HMS. " +
      "Role is Administrator or User (blank means User). " +
      "Exchange Domain and Exchange Username are optional and go together: fill in both only for users " +
      "who sync their mail through Exchange ActiveSync, otherwise leave both blank. " +
      "A row whose Email ID is already in HMS updates that user (the summary shows each change before anything is saved): " +
      "there a blank Role or Exchange cell keeps what the user has, and - in an Exchange cell removes their Exchange account. " +
      "Save the file as CSV (comma- or semicolon-separated, UTF-8 or Windows text are all fine) " +
      `and upload it; one file can hold up to ${count(MAX_DATA_ROWS)} users.`,
  };
}
