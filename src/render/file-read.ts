/**
 * How an import file was read, for its summary: the encoding and delimiter, a few names as
 * read (a wrong guess shows in them before anything is created), and when the encoding could
 * not be told for sure, how to save the file as CSV UTF-8.
 */
import type { ImportBatch } from "../core/index.ts";
import type { Block, Inline } from "./model.ts";

const ENCODINGS: Readonly<Record<string, string>> = {
  "utf-8": "UTF-8",
  "utf-16le": "UTF-16 (little-endian)",
  "utf-16be": "UTF-16 (big-endian)",
  "windows-1250": "Windows-1250 (Central European)",
  "windows-1251": "Windows-1251 (Cyrillic)",
  "windows-1252": "Windows-1252 (Western European)",
  "windows-1253": "Windows-1253 (Greek)",
  "windows-1254": "Windows-1254 (Turkish)",
  "windows-1257": "Windows-1257 (Baltic)",
  "iso-8859-2": "ISO-8859-2 (Central European)",
  "iso-8859-5": "ISO-8859-5 (Cyrillic)",
  "iso-8859-7": "ISO-8859-7 (Greek)",
};
const DELIMITERS: Readonly<Record<string, string>> = { ",": "comma", ";": "semicolon", "\t": "tab" };

/** The human name of an encoding the reader reports ("windows-1250" → "Windows-1250 (Central European)"). */
export function encodingLabel(encoding: string): string {
  return ENCODINGS[encoding] ?? encoding;
}

/** What the stored `fileInfo` of a batch may hold (batches staged before a field existed lack it). */
interface FileInfo {
  encoding?: string;
  delimiter?: string;
  encodingConfident?: boolean;
  invalidUtf8Bytes?: number;
  sampleNames?: string[];
}

/**
 * The "read as" line and, when the encoding was a guess, the hint; shown while nothing is
 * created yet (VALIDATED, AWAITING_APPROVAL). Nothing for batches stored without the encoding.
 */
export function fileReadBlocks(batch: Pick<ImportBatch, "status" | "fileInfo">): Block[] {
  if (batch.status !== "VALIDATED" && batch.status !== "AWAITING_APPROVAL") return [];
  const info = (batch.fileInfo ?? {}) as FileInfo;
  if (typeof info.encoding !== "string") return [];
  const encoding = encodingLabel(info.encoding);
  const delimiter = DELIMITERS[info.delimiter ?? ""];
  const names = (info.sampleNames ?? []).filter((n) => typeof n === "string" && n !== "");
  const line: Inline[] = ["Read as ", { bold: encoding }, delimiter ? `, ${delimiter}-separated` : ""];
  if (names.length > 0) line.push(`. Names as read: ${names.join(" · ")}`);
  line.push(".");
  const invalid = info.invalidUtf8Bytes ?? 0;
  if (invalid > 0)
    line.push(
      ` ${invalid === 1 ? "1 byte is" : `${invalid.toLocaleString("en-US")} bytes are`} not valid UTF-8: the rows holding them need attention.`,
    );
  const blocks: Block[] = [{ type: "context", text: line }];
  if (info.encodingConfident === false) {
    blocks.push({
      type: "section",
      text: [
        { bold: "Check the names above." },
        ` The file's encoding could not be told for sure: it was read as ${encoding}. If the names look wrong, save the file as CSV UTF-8 and upload it again: in Excel, File › Save As › CSV UTF-8 (Comma delimited); in LibreOffice, File › Save As › Text CSV with Edit filter settings, Character set Unicode (UTF-8).`,
      ],
    });
  }
  return blocks;
}
