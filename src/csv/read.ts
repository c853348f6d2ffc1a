/**
 * Reading an import file: bytes → encoding → delimiter → header mapping → rows in chunks.
 * The rows are streamed through csv-parse a slice of the file at a time, so a 150,000-row
 * file never exists as one array of rows.
 */
import { Buffer } from "node:buffer";
import { CsvError, parse } from "csv-parse";
import { AppError, ErrorCode, type UserField } from "../core/errors.ts";
import { codePageDecoder, detectEncoding, type EncodingGuess } from "./encoding.ts";
import { COLUMN_FIELDS, type CsvFileInfo, type CsvReader, type CsvRow, MAX_DATA_ROWS, MAX_FILE_BYTES, TEMPLATE_COLUMNS } from "./types.ts";
import { REPORT_COLUMNS, unguardCell } from "./write.ts";

export interface ReadCsvOptions {
  /** Rows per chunk when `chunks()` is called without a size (default 5,000). */
  chunkSize?: number;
}

type Encoding = CsvFileInfo["encoding"];
type Delimiter = CsvFileInfo["delimiter"];

const DEFAULT_CHUNK_SIZE = 5_000;
// Bytes handed to the parser per write: large enough to amortise the stream machinery.
const SLICE_BYTES = 64 * 1024;
// No real row comes near this; an unclosed quote swallowing the file does.
const MAX_RECORD_CHARS = 1_000_000;
const MB = 1024 * 1024;
// The data rows the sample names are picked from, at the start of the file.
const SAMPLE_ROWS = 500;
const SAMPLE_NAMES = 3;
const MAX_SAMPLE_NAME = 60;
const REPLACEMENT_CHARACTER = "\ufffd";
const EXPECTED_HEADER = TEMPLATE_COLUMNS.join(",");
const FIELD_ORDER = TEMPLATE_COLUMNS.map((column) => COLUMN_FIELDS[column]);
const REQUIRED: readonly UserField[] = ["email", "name", "group"];

/** Header cell → field, on the normalized header (letters and digits only, lower case). */
const HEADER_ALIASES: ReadonlyMap<string, UserField> = new Map(
  Object.entries({
    email: ["Email ID", "Email", "E-mail", "Email address", "Logon ID", "Login", "Login ID", "Logon"],
    name: ["Name", "Full name", "Display name"],
    group: ["Group", "Group name"],
    role: ["Role"],
    exchangeDomain: ["Exchange Domain", "Exchange domain name", "Domain"],
    exchangeUsername: ["Exchange Username", "Exchange user name", "Exchange user", "Exchange login"],
  } satisfies Record<UserField, string[]>).flatMap(([field, names]) => names.map((name) => [headerKey(name), field as UserField] as const)),
);

/** Case, spaces, `_`, `-` and punctuation do not count when matching a header cell. */
function headerKey(cell: string): string {
  return cell.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

/** The columns the bot's error report and results file add (Row, Problems, Result, Details): expected in a file sent back. */
const REPORT_KEYS: ReadonlySet<string> = new Set(REPORT_COLUMNS.map(headerKey));

/**
 * Opens an import file: checks its size and that it is text, detects the encoding and the
 * delimiter, maps the header, and makes sure there is at least one data row. Throws AppError
 * FILE_TOO_LARGE, FILE_EMPTY, FILE_NOT_TEXT, FILE_MISSING_COLUMNS or FILE_MALFORMED.
 * The returned reader's `chunks()` may be iterated more than once (each pass re-reads).
 */
export async function readCsv(bytes: Uint8Array, options: ReadCsvOptions = {}): Promise<CsvReader> {
  if (bytes.length > MAX_FILE_BYTES) {
    throw new AppError(
      ErrorCode.FILE_TOO_LARGE,
      `The file is ${(Math.ceil((bytes.length / MB) * 10) / 10).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / MB} MB. Split it into smaller files.`,
      { details: { bytes: bytes.length, limit: MAX_FILE_BYTES } },
    );
  }
  if (bytes.length === 0) throw new AppError(ErrorCode.FILE_EMPTY, "The file is empty.");
  rejectKnownBinary(bytes);
  const guess = detectText(bytes);
  const { encoding, bomLength } = guess;
  const body = Buffer.from(bytes.buffer, bytes.byteOffset + bomLength, bytes.length - bomLength);
  const delimiter = detectDelimiter(decodePrefix(body, encoding));
  const source: Source = { body, encoding, delimiter, mark: undecodableMark(guess) };

  // Find the header (the first non-blank row) and make sure a data row follows it; the names
  // of the first rows give the samples.
  let rowNumber = 0;
  let header: { row: number; cells: string[]; columns: ColumnMap } | undefined;
  let dataRows = 0;
  const names: string[] = [];
  try {
    scan: for await (const batch of recordBatches(source)) {
      for (const record of batch) {
        rowNumber++;
        if (!header) {
          if (record.some((cell) => cell.trim() !== "")) header = { row: rowNumber, cells: record, columns: mapHeader(record) };
          continue;
        }
        const row = toRow(record, rowNumber, header.columns, source);
        if (row.blank) continue;
        if (!row.invalidUtf8 && !row.undefinedBytes) names.push(row.fields.name.trim());
        if (++dataRows >= SAMPLE_ROWS) break scan;
      }
    }
  } catch (error) {
    // Past the first data row the file opens; reading its chunks reports the error at its row.
    if (dataRows === 0) throw error;
  }
  if (!header) {
    throw new AppError(ErrorCode.FILE_EMPTY, body.length === 0 ? "The file is empty." : "The file is empty: it has only blank lines.");
  }
  if (dataRows === 0) throw new AppError(ErrorCode.FILE_EMPTY, "The file has a header row but no users below it.");

  const { columns } = header;
  const headerRow = header.row;
  const defaultChunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  return {
    info: {
      encoding,
      bom: bomLength > 0,
      delimiter,
      header: withoutTrailingBlanks(header.cells),
      unknownColumns: columns.unknown,
      encodingConfident: guess.confident,
      invalidUtf8Bytes: guess.invalidUtf8Bytes,
      sampleNames: sampleNames(names),
    },
    chunks: (chunkSize = defaultChunkSize) => dataChunks(source, headerRow, columns, chunkSize),
  };
}

// ---------------------------------------------------------------------------------------
// Whole-file checks: size, binary formats, encoding, delimiter

const SIGNATURES: ReadonlyArray<{ magic: number[]; what: string }> = [
  { magic: [0x89, 0x50, 0x4e, 0x47], what: "a PNG image" },
  { magic: [0xff, 0xd8, 0xff], what: "a JPEG image" },
  { magic: [0x47, 0x49, 0x46, 0x38], what: "a GIF image" },
  { magic: [0x25, 0x50, 0x44, 0x46, 0x2d], what: "a PDF document" },
  { magic: [0x1f, 0x8b], what: "a gzip archive" },
  { magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], what: "an Excel 97-2003 workbook (.xls)" },
];
const SAVE_AS_CSV = "In Excel choose File › Save As › CSV UTF-8 (Comma delimited), then upload that file.";

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** Rejects the binary files admins upload by mistake, naming what they are. */
function rejectKnownBinary(bytes: Uint8Array): void {
  const notText = (message: string) => new AppError(ErrorCode.FILE_NOT_TEXT, message);
  // ZIP: a local file header, or the end record of an empty archive.
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    // Member names are stored uncompressed, so the workbook's parts are visible as text.
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (buffer.includes("xl/workbook") || buffer.includes("xl/worksheets"))
      throw notText(`This looks like an Excel workbook (.xlsx), not a CSV file; save it as CSV. ${SAVE_AS_CSV}`);
    if (buffer.includes("application/vnd.oasis.opendocument.spreadsheet"))
      throw notText(
        "This looks like an OpenDocument spreadsheet (.ods), not a CSV file; save it as CSV (File › Save As, file type Text CSV).",
      );
    throw notText("This is a ZIP archive, not a CSV file. Upload the CSV file itself, not compressed.");
  }
  for (const { magic, what } of SIGNATURES) {
    if (startsWith(bytes, magic)) {
      const hint = what.includes("Excel") ? `save it as CSV. ${SAVE_AS_CSV}` : "upload the users as a CSV file.";
      throw notText(`This looks like ${what}, not a CSV file; ${hint}`);
    }
  }
}

/**
 * Where a cell read as U+FFFD is marked: in a UTF-8 file with invalid bytes it is where they
 * were; an 8-bit code page gives it only for a byte it does not define.
 */
function undecodableMark({ encoding, invalidUtf8Bytes }: EncodingGuess): UndecodableMark | undefined {
  if (encoding === "utf-8") return invalidUtf8Bytes > 0 ? "invalidUtf8" : undefined;
  return encoding === "utf-16le" || encoding === "utf-16be" ? undefined : "undefinedBytes";
}

/** The encoding (see detectEncoding); rejects binary content. */
function detectText(bytes: Uint8Array): EncodingGuess {
  const guess = detectEncoding(bytes);
  const utf16 = guess.encoding === "utf-16le" || guess.encoding === "utf-16be";
  // Text never holds a NUL character; binary files nearly always do.
  if (utf16 ? hasUtf16Nul(bytes, guess.bomLength) : bytes.includes(0)) throw binaryContent();
  return guess;
}

function binaryContent(): AppError {
  return new AppError(
    ErrorCode.FILE_NOT_TEXT,
    "This file contains binary data, so it is not a CSV text file. Save the spreadsheet as CSV and upload that file.",
  );
}

/** True when UTF-16 text holds a U+0000 character (a binary file with a lucky start). */
function hasUtf16Nul(bytes: Uint8Array, start: number): boolean {
  for (let i = start; i + 1 < bytes.length; i += 2) if (bytes[i] === 0 && bytes[i + 1] === 0) return true;
  return false;
}

/** A streaming decoder: `write` a slice, get its text (a character split across slices waits). */
function decoderFor(encoding: Encoding): { write(bytes: Buffer): string; end(): string } {
  if (encoding === "utf-8" || encoding === "utf-16le" || encoding === "utf-16be") {
    // The BOM, if any, is already cut off; a second one would be content.
    const decoder = new TextDecoder(encoding, { ignoreBOM: true });
    return { write: (bytes) => decoder.decode(bytes, { stream: true }), end: () => decoder.decode() };
  }
  const decoder = codePageDecoder(encoding);
  return { write: (bytes) => decoder.write(bytes), end: () => "" };
}

/** The start of the text, enough to hold the header line. */
function decodePrefix(body: Buffer, encoding: Encoding): string {
  return decoderFor(encoding).write(body.subarray(0, SLICE_BYTES));
}

/**
 * The delimiter among comma, semicolon and tab that occurs most in the header line (the
 * first line with content), outside quotes. European Excel saves `;`, "Unicode text" a tab.
 */
function detectDelimiter(text: string): Delimiter {
  const counts = { ",": 0, ";": 0, "\t": 0 };
  let inQuotes = false;
  let content = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') i++;
        else inQuotes = false;
      }
    } else if (c === '"') {
      inQuotes = true;
      content = true;
    } else if (c === "\n" || c === "\r") {
      if (content) break;
      counts[","] = counts[";"] = counts["\t"] = 0;
    } else if (c === "," || c === ";" || c === "\t") counts[c]++;
    else if (c.trim() !== "") content = true;
  }
  // Ties go to the comma, the format's namesake.
  let best: Delimiter = ",";
  for (const d of [";", "\t"] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

// ---------------------------------------------------------------------------------------
// Header mapping

interface ColumnMap {
  /** Field → index of its column in a record; absent optional columns are missing. */
  index: Partial<Record<UserField, number>>;
  unknown: string[];
}

function withoutTrailingBlanks(cells: string[]): string[] {
  let end = cells.length;
  while (end > 0 && cells[end - 1]!.trim() === "") end--;
  return cells.slice(0, end);
}

function mapHeader(cells: string[]): ColumnMap {
  const index: Partial<Record<UserField, number>> = {};
  const unknown: string[] = [];
  cells.forEach((cell, i) => {
    const key = headerKey(cell);
    if (key === "") return; // an unnamed column (often trailing separators): nothing to map
    const field = HEADER_ALIASES.get(key);
    if (!field) {
      // The bot's own error report (or results), fixed and uploaded again: its added columns are expected.
      if (!REPORT_KEYS.has(key)) unknown.push(cell.trim());
      return;
    }
    const previous = index[field];
    if (previous !== undefined) {
      // Two candidates for one field: picking either could import the wrong data.
      throw new AppError(
        ErrorCode.FILE_MALFORMED,
        `The columns “${cells[previous]!.trim()}” and “${cell.trim()}” both look like the ${labelOf(field)} column; keep only one of them.`,
        { details: { columns: [cells[previous], cell] } },
      );
    }
    index[field] = i;
  });
  const missing = REQUIRED.filter((field) => index[field] === undefined);
  if (missing.length > 0) {
    const names = missing.map(labelOf);
    const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
    const found = withoutTrailingBlanks(cells).map((c) => c.trim());
    const shown = found.length > 8 ? [...found.slice(0, 8), "…"] : found;
    throw new AppError(
      ErrorCode.FILE_MISSING_COLUMNS,
      `The file has no ${list} column${names.length === 1 ? "" : "s"}. ` +
        `Its first row must be the header: ${EXPECTED_HEADER} (Role and the Exchange columns may be left out). ` +
        `The first row found is: ${shown.join(", ")}.`,
      { details: { missing: names, expectedHeader: EXPECTED_HEADER, found } },
    );
  }
  return { index, unknown };
}

function labelOf(field: UserField): string {
  return TEMPLATE_COLUMNS[FIELD_ORDER.indexOf(field)]!;
}

/** The cell of column `i` ("" for a missing column or cell), the bot's formula guard removed. */
function cellAt(record: readonly string[], i: number | undefined, delimiter: Delimiter): string {
  return i === undefined ? "" : unguardCell(record[i] ?? "", delimiter);
}

function toRow(record: readonly string[], rowNumber: number, { index }: ColumnMap, { mark, delimiter }: Source): CsvRow {
  // One literal, in FIELD_ORDER: the object is built with its final shape.
  const fields: Record<UserField, string> = {
    email: cellAt(record, index.email, delimiter),
    name: cellAt(record, index.name, delimiter),
    group: cellAt(record, index.group, delimiter),
    role: cellAt(record, index.role, delimiter),
    exchangeDomain: cellAt(record, index.exchangeDomain, delimiter),
    exchangeUsername: cellAt(record, index.exchangeUsername, delimiter),
  };
  let blank = true;
  let undecodable: UserField[] | undefined;
  for (const field of FIELD_ORDER) {
    const cell = fields[field];
    if (blank && cell.trim() !== "") blank = false;
    if (mark && cell.includes(REPLACEMENT_CHARACTER)) {
      undecodable ??= [];
      undecodable.push(field);
    }
  }
  return mark && undecodable ? { rowNumber, fields, blank, [mark]: undecodable } : { rowNumber, fields, blank };
}

/**
 * Up to three of the names, chosen to show as many different non-ASCII characters as they can
 * (a misread encoding shows in those), earlier rows first among equals.
 */
function sampleNames(names: readonly string[]): string[] {
  const picked: string[] = [];
  const shown = new Set<string>();
  const candidates = [...new Set(names.filter((n) => n !== "" && [...n].length <= MAX_SAMPLE_NAME))];
  while (picked.length < SAMPLE_NAMES && candidates.length > 0) {
    let best = 0;
    let bestGain = -1;
    candidates.forEach((name, i) => {
      const gain = new Set([...name].filter((c) => c > "\u007f" && !shown.has(c))).size;
      if (gain > bestGain) {
        best = i;
        bestGain = gain;
      }
    });
    const [name] = candidates.splice(best, 1);
    picked.push(name!);
    for (const c of name!) shown.add(c);
  }
  return picked;
}

const BLANK_FIELDS: Readonly<Record<UserField, string>> = Object.freeze(
  Object.fromEntries(FIELD_ORDER.map((f) => [f, ""])) as Record<UserField, string>,
);

// ---------------------------------------------------------------------------------------
// Rows

async function* dataChunks(source: Source, headerRow: number, columns: ColumnMap, chunkSize: number): AsyncGenerator<CsvRow[]> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  let rowNumber = 0;
  let dataRows = 0;
  // Blank rows are held back until a data row follows them (trailing ones are dropped).
  // They are consecutive, so a count is enough; their cells are blank by definition.
  let pendingBlanks = 0;
  let chunk: CsvRow[] = [];
  for await (const batch of recordBatches(source)) {
    for (const record of batch) {
      rowNumber++;
      if (rowNumber <= headerRow) continue;
      const row = toRow(record, rowNumber, columns, source);
      if (row.blank) {
        pendingBlanks++;
        continue;
      }
      if (++dataRows > MAX_DATA_ROWS) {
        throw new AppError(
          ErrorCode.FILE_TOO_MANY_ROWS,
          `The file has more than ${MAX_DATA_ROWS.toLocaleString("en-US")} users (rows with data); that is the limit for one file. Split it into several files.`,
          { details: { limit: MAX_DATA_ROWS } },
        );
      }
      for (let r = rowNumber - pendingBlanks; r < rowNumber; r++) {
        chunk.push({ rowNumber: r, fields: { ...BLANK_FIELDS }, blank: true });
        if (chunk.length >= chunkSize) {
          yield chunk;
          chunk = [];
        }
      }
      pendingBlanks = 0;
      chunk.push(row);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

// ---------------------------------------------------------------------------------------
// Parsing

interface Source {
  /** The file's bytes after the byte order mark. */
  body: Buffer;
  encoding: Encoding;
  delimiter: Delimiter;
  /** Where the cells holding U+FFFD are marked (none in clean UTF-8 and UTF-16). */
  mark: UndecodableMark | undefined;
}

type UndecodableMark = "invalidUtf8" | "undefinedBytes";

/** The text of the file as parser input: UTF-8 bytes as they are, other encodings decoded. */
function* slices({ body, encoding }: Source): Generator<Buffer | string> {
  if (encoding === "utf-8") {
    for (let i = 0; i < body.length; i += SLICE_BYTES) yield body.subarray(i, i + SLICE_BYTES);
    return;
  }
  const decoder = decoderFor(encoding);
  for (let i = 0; i < body.length; i += SLICE_BYTES) yield decoder.write(body.subarray(i, i + SLICE_BYTES));
  const rest = decoder.end();
  if (rest) yield rest;
}

/**
 * Every record of the file (header and blank lines included, one per spreadsheet row), in
 * batches as the parser produces them, one batch per slice written. Breaking off the
 * iteration stops the parser.
 */
async function* recordBatches(source: Source): AsyncGenerator<string[][]> {
  const parser = parse({
    delimiter: source.delimiter,
    // All three line endings, even mixed; quoted line breaks stay inside their cell.
    record_delimiter: ["\r\n", "\n", "\r"],
    bom: false,
    relax_column_count: true,
    // Like a spreadsheet: a stray quote inside an unquoted cell is just a character.
    relax_quotes: true,
    skip_empty_lines: false,
    max_record_size: MAX_RECORD_CHARS,
  });
  let batch: string[][] = [];
  parser.on("data", (record: string[]) => batch.push(record));
  let failure: unknown;
  const ended = new Promise<void>((resolve, reject) => {
    parser.on("end", resolve);
    parser.on("error", (error) => {
      failure ??= error;
      reject(error);
    });
  });
  ended.catch(() => {}); // observed through `failure` or the awaits below
  const write = (chunk: Buffer | string) =>
    new Promise<void>((resolve, reject) => parser.write(chunk, (error) => (error ? reject(error) : resolve())));
  try {
    try {
      for (const chunk of slices(source)) {
        await write(chunk);
        if (failure) throw failure;
        if (batch.length > 0) {
          const ready = batch;
          batch = [];
          yield ready;
        }
      }
      parser.end();
      await ended;
    } catch (error) {
      throw malformed(error);
    }
    if (batch.length > 0) yield batch;
  } finally {
    parser.destroy();
  }
}

/** A parser failure as FILE_MALFORMED, at the spreadsheet row where the bad record starts. */
function malformed(error: unknown): unknown {
  if (!(error instanceof CsvError)) return error;
  const records = typeof error.records === "number" ? error.records : undefined;
  const where = records === undefined ? "A row" : `Row ${records + 1}`;
  let message: string;
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      message = `${where} has a quote (") that is never closed, so the rest of the file cannot be read. Check the cells of that row: a cell that starts with a quote must end with one.`;
      break;
    case "CSV_MAX_RECORD_SIZE":
      message = `${where} is longer than ${MAX_RECORD_CHARS.toLocaleString("en-US")} characters: a quote (") in it is probably never closed. Check the cells of that row.`;
      break;
    default:
      message = `${where} cannot be read as CSV (${error.message}).`;
  }
  return new AppError(ErrorCode.FILE_MALFORMED, message, {
    cause: error,
    details: records === undefined ? {} : { row: records + 1 },
  });
}
