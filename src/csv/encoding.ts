/**
 * Telling the encoding of an import file. In order: a byte order mark; UTF-16 without one; UTF-8
 * (also when a few bytes are not valid UTF-8: those cells are read as U+FFFD and their rows
 * flagged); else an 8-bit code page, ranked by chardet's language statistics and checked by how
 * plausible the names it gives are. Everything but one pass over the bytes works on a bounded
 * sample, so a 35 MB file costs little more than a small one.
 */
import { Buffer, isUtf8 } from "node:buffer";
import { analyse } from "chardet";
import iconv from "iconv-lite";

/** The 8-bit code pages an import file may be in, in order of preference when they read alike. */
const SINGLE_BYTE_ENCODINGS = [
  "windows-1252",
  "windows-1250",
  "windows-1251",
  "windows-1253",
  "windows-1254",
  "windows-1257",
  "iso-8859-2",
  "iso-8859-5",
  "iso-8859-7",
] as const;
export type SingleByteEncoding = (typeof SINGLE_BYTE_ENCODINGS)[number];
export type TextEncoding = "utf-8" | "utf-16le" | "utf-16be" | SingleByteEncoding;

export interface EncodingGuess {
  encoding: TextEncoding;
  /** Length of the byte order mark (0 when there is none). */
  bomLength: number;
  /**
   * False when the file could be in more than one encoding and the guess may be wrong: see
   * `detectEncoding` for what counts as unsure.
   */
  confident: boolean;
  /** UTF-8 only: bytes that are not part of a valid UTF-8 sequence (each cell holding one reads U+FFFD). */
  invalidUtf8Bytes: number;
}

// The start of the file that the 8-bit detection reads (plus the line of each byte value first
// seen further down, so that a rare letter deep in the file still counts).
const SAMPLE_BYTES = 64 * 1024;
const LINE_CONTEXT = 256;
// chardet's statistics (trigrams of each language) tell code pages apart only on this many
// words with non-ASCII letters, and at a confidence (0-100) of at least this much: names hit
// them far less than prose does, so real exports of 20-40 rows score 12-40.
const MIN_WORDS = 20;
const MIN_CONFIDENCE = 10;
// A rival that reads the names differently and scores at least this share of the best: unsure.
const CLOSE_RIVAL = 0.8;
// Share of the non-ASCII characters that may read as symbols, controls or mixed scripts in the
// chosen code page before the guess is unsure (a stray "¶" or "°" in a name happens).
const MAX_ODD = 0.05;
// Where two code pages read the file differently, the share of those cells that the rival
// misreads more than the best one does, for the best to win however close their scores.
const DECISIVE_MARGIN = 0.5;
// A file not valid UTF-8 is still read as UTF-8 when its valid multi-byte sequences are at least
// as many as its invalid bytes (8-bit text forms valid sequences only by accident: a Cyrillic
// capital before "і", say); sure when they are this many times as many.
const UTF8_SURE_RATIO = 10;

/**
 * The encoding of `bytes` and the length of its byte order mark.
 *
 * - A BOM (UTF-8, UTF-16 LE/BE) decides; so does UTF-16 without one (every other byte zero).
 * - Valid UTF-8 (pure ASCII included) is UTF-8. A file that is mostly valid UTF-8 (at least as
 *   many valid multi-byte sequences as invalid bytes) is UTF-8 too, with `invalidUtf8Bytes`
 *   counted; it is unsure when invalid bytes are more than a tenth of the valid sequences.
 * - Otherwise an 8-bit code page, judged on the cells of a sample that hold non-ASCII bytes:
 *   chardet's confidence (trigram statistics of each language), marked down by the share of
 *   non-ASCII characters that read oddly in that code page (a symbol or control character in a
 *   word, two scripts in a word, a capital after a lower-case letter, letters that no one
 *   language has together). The best is sure when at most 5% of its characters read oddly and
 *   every code page that reads this file differently is beaten either decisively where they
 *   differ (it misreads at least half of those cells more than the best does) or, on a sample
 *   of at least 20 words in which chardet recognised the language, by scoring under 80% of the
 *   best. Otherwise the guess is unsure, and the summary says so.
 */
export function detectEncoding(bytes: Uint8Array): EncodingGuess {
  const sure = (encoding: TextEncoding, bomLength: number): EncodingGuess => ({
    encoding,
    bomLength,
    confident: true,
    invalidUtf8Bytes: 0,
  });
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) {
    // The BOM says UTF-8: any invalid bytes are only counted.
    const body = bytes.subarray(3);
    const invalid = isUtf8(body) ? 0 : scanBytes(body).invalid;
    return { encoding: "utf-8", bomLength: 3, confident: true, invalidUtf8Bytes: invalid };
  }
  if (startsWith(bytes, [0xff, 0xfe])) return sure("utf-16le", 2);
  if (startsWith(bytes, [0xfe, 0xff])) return sure("utf-16be", 2);
  const utf16 = sniffUtf16(bytes);
  if (utf16) return sure(utf16, 0);
  if (isUtf8(bytes)) return sure("utf-8", 0);

  const scan = scanBytes(bytes);
  if (scan.valid >= scan.invalid) {
    return { encoding: "utf-8", bomLength: 0, confident: scan.valid >= UTF8_SURE_RATIO * scan.invalid, invalidUtf8Bytes: scan.invalid };
  }
  const { encoding, confident } = guessCodePage(sampleCells(bytes, scan.firstAt), scan.firstAt);
  return { encoding, bomLength: 0, confident, invalidUtf8Bytes: 0 };
}

/** A streaming decoder for an 8-bit code page (stateless: any slice boundary is fine). */
export function codePageDecoder(encoding: SingleByteEncoding): { write(bytes: Buffer): string } {
  return iconv.getDecoder(encoding);
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** UTF-16 without a byte order mark: the header is ASCII, so every other byte is zero. */
function sniffUtf16(bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  const n = Math.min(bytes.length, 512) & ~1;
  if (n < 8) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  // Mostly ASCII: high bytes zero, low bytes not (a few characters like U+0100 aside).
  if (oddZeros >= pairs * 0.8 && evenZeros <= pairs * 0.05) return "utf-16le";
  if (evenZeros >= pairs * 0.8 && oddZeros <= pairs * 0.05) return "utf-16be";
  return undefined;
}

// ---------------------------------------------------------------------------------------
// The one pass over the whole file

interface ByteScan {
  /** Valid UTF-8 multi-byte sequences. */
  valid: number;
  /** Bytes that are not part of a valid UTF-8 sequence. */
  invalid: number;
  /** For each byte value 0x80-0xFF (index 0-127): where it first occurs, or -1. */
  firstAt: Int32Array;
}

function scanBytes(bytes: Uint8Array): ByteScan {
  const firstAt = new Int32Array(128).fill(-1);
  let valid = 0;
  let invalid = 0;
  const n = bytes.length;
  // A hot loop over up to 35 MB: no closures or allocations in it, and ASCII skipped four
  // bytes at a time (from the first 4-aligned offset on).
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + Math.min(head, n), Math.max(0, n - head) >> 2);
  for (let i = 0; i < n; ) {
    if (i >= head && ((i - head) & 3) === 0) {
      let w = (i - head) >> 2;
      while (w < words.length && (words[w]! & 0x80808080) === 0) w++;
      i = head + w * 4;
      if (i >= n) break;
    }
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const length = utf8SequenceLength(bytes, i, b);
    const end = length > 0 ? i + length : i + 1;
    for (let j = i; j < end; j++) {
      const k = bytes[j]! - 0x80;
      if (firstAt[k]! < 0) firstAt[k] = j;
    }
    if (length > 0) valid++;
    else invalid++;
    i = end;
  }
  return { valid, invalid, firstAt };
}

/** The length of the valid UTF-8 sequence starting at `i` with the non-ASCII byte `b`, or 0. */
function utf8SequenceLength(bytes: Uint8Array, i: number, b: number): number {
  const n = bytes.length;
  if (b >= 0xc2 && b <= 0xdf) return i + 1 < n && (bytes[i + 1]! & 0xc0) === 0x80 ? 2 : 0;
  if (b < 0xe0 || b > 0xf4 || i + 2 >= n) return 0;
  // The second byte's range excludes overlong forms, surrogates and code points past U+10FFFF.
  const b1 = bytes[i + 1]!;
  const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
  const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
  if (b1 < low || b1 > high || (bytes[i + 2]! & 0xc0) !== 0x80) return 0;
  if (b <= 0xef) return 3;
  return i + 3 < n && (bytes[i + 3]! & 0xc0) === 0x80 ? 4 : 0;
}

// ---------------------------------------------------------------------------------------
// 8-bit code pages

/**
 * The cells of the file that hold non-ASCII bytes: from its first 64 KB, and from the line where
 * each other byte value first occurs. The e-mail addresses, roles and English headers around
 * them would only drown the statistics. (A cell here is the text between delimiters, quotes and
 * line breaks: close enough to judge how names read.)
 */
function sampleCells(bytes: Uint8Array, firstAt: Int32Array): Uint8Array[] {
  const regions: Array<[number, number]> = [[0, Math.min(bytes.length, SAMPLE_BYTES)]];
  const lines = new Set<number>();
  for (const at of firstAt) {
    if (at < SAMPLE_BYTES) continue;
    let start = at;
    while (start > 0 && at - start < LINE_CONTEXT && bytes[start - 1] !== 0x0a) start--;
    if (lines.has(start)) continue;
    lines.add(start);
    let end = at;
    while (end < bytes.length && end - at < LINE_CONTEXT && bytes[end] !== 0x0a) end++;
    regions.push([start, end]);
  }
  const cells: Uint8Array[] = [];
  for (const [start, end] of regions) {
    let cellStart = start;
    let high = false;
    for (let i = start; i <= end; i++) {
      const b = i < end ? bytes[i]! : 0x0a;
      if (b === 0x2c || b === 0x3b || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x22) {
        if (high) cells.push(bytes.subarray(cellStart, i));
        cellStart = i + 1;
        high = false;
      } else if (b >= 0x80) high = true;
    }
  }
  return cells;
}

/** The words of the cells that hold non-ASCII bytes, space-separated: what chardet reads. */
function wordsOf(cells: readonly Uint8Array[]): { text: Buffer; count: number } {
  const words: Uint8Array[] = [];
  const space = Uint8Array.of(0x20);
  for (const cell of cells) {
    let wordStart = -1;
    let high = false;
    for (let i = 0; i <= cell.length; i++) {
      const b = i < cell.length ? cell[i]! : 0x20;
      if (b >= 0x80 || isAsciiLetter(b)) {
        if (wordStart < 0) {
          wordStart = i;
          high = false;
        }
        if (b >= 0x80) high = true;
      } else if (wordStart >= 0) {
        if (high) words.push(cell.subarray(wordStart, i), space);
        wordStart = -1;
      }
    }
  }
  return { text: Buffer.concat(words), count: words.length / 2 };
}

function isAsciiLetter(b: number): boolean {
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

// What chardet reports → the code page we read it as. ISO-8859-1 and -9 are read as their
// Windows supersets: identical for letters, and Excel writes the Windows ones.
const FROM_CHARDET: Readonly<Record<string, SingleByteEncoding>> = {
  "windows-1250": "windows-1250",
  "windows-1251": "windows-1251",
  "windows-1252": "windows-1252",
  "windows-1253": "windows-1253",
  "windows-1254": "windows-1254",
  "windows-1257": "windows-1257",
  "ISO-8859-1": "windows-1252",
  "ISO-8859-2": "iso-8859-2",
  "ISO-8859-5": "iso-8859-5",
  "ISO-8859-7": "iso-8859-7",
  "ISO-8859-9": "windows-1254",
};
// chardet names these pairs by whether bytes 0x80-0x9F occur, from one set of statistics; the
// letters they place differently (Czech š ž, Greek Ά) are left to the plausibility check.
const SIBLINGS: Partial<Record<SingleByteEncoding, SingleByteEncoding>> = {
  "windows-1250": "iso-8859-2",
  "iso-8859-2": "windows-1250",
  "windows-1253": "iso-8859-7",
  "iso-8859-7": "windows-1253",
};

/**
 * The non-ASCII letters of the languages these code pages serve (lower case). A name whose
 * letters no single language has together ("Kuèera Dvoøák" is Czech read as Windows-1252) is
 * a misreading.
 */
const LANGUAGE_LETTERS = [
  "àâæçéèêëîïôœùûüÿ", // French
  "äöüß", // German
  "áéíñóúü", // Spanish
  "áâãàçéêíóôõú", // Portuguese
  "àèéìíîòóùú", // Italian
  "áéíóúàèëïöü", // Dutch
  "àçèéíïòóúü", // Catalan
  "æøåé", // Danish, Norwegian
  "åäöé", // Swedish
  "äöåšž", // Finnish
  "áðéíóúýþæö", // Icelandic
  "ąćęłńóśźż", // Polish
  "áčďéěíňóřšťúůýž", // Czech
  "áäčďéíĺľňóôŕšťúýž", // Slovak
  "áéíóöőúüű", // Hungarian
  "ăâîșțşţ", // Romanian
  "čšžćđ", // Slovene, Croatian, Bosnian, Serbian (Latin)
  "çğıöşüâîû", // Turkish
  "ąčęėįšųūž", // Lithuanian
  "āčēģīķļņšūž", // Latvian
  "äöõüšž", // Estonian
  "çë", // Albanian
  "абвгдеёжзийклмнопрстуфхцчшщъыьэюя", // Russian
  "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя", // Ukrainian
  "абвгдеёжзійклмнопрстуўфхцчшыьэюя", // Belarusian
  "абвгдежзийклмнопрстуфхцчшщъьюя", // Bulgarian
  "абвгдђежзијклљмнњопрстћуфхцчџш", // Serbian
  "абвгдѓежзѕијклљмнњопрстќуфхцчџш", // Macedonian
  "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ", // Greek
];
const ALL_LANGUAGES = (1 << LANGUAGE_LETTERS.length) - 1;
const LANGUAGES_OF = new Map<string, number>();
LANGUAGE_LETTERS.forEach((letters, i) => {
  for (const letter of letters) LANGUAGES_OF.set(letter, (LANGUAGES_OF.get(letter) ?? 0) | (1 << i));
});
// Turkish İ lower-cases to "i" and a combining dot: the languages that have ı have it.
LANGUAGES_OF.set("i\u0307", LANGUAGES_OF.get("ı")!);
// Punctuation a name may hold: apostrophes and the Catalan middle dot between letters
// (O’Connor, Gal·la), dashes, quotes and no-break spaces between words. Other symbols next to
// letters (£ukasz, ¯ó³æ) are misreadings.
const APOSTROPHES = new Set(["\u2019", "\u2018", "\u02bc", "\u00b4", "\u00b7"]);
const SEPARATORS = new Set(["\u2013", "\u2014", "\u2010", "\u00a0", "\u00ab", "\u00bb", "\u201c", "\u201d", "\u201e"]);

type Script = "Latin" | "Cyrillic" | "Greek" | "other";
/** How a code page reads one byte. */
interface Reading {
  char: string;
  kind: "letter" | "apostrophe" | "separator" | "symbol" | "control";
  script: Script;
  upper: boolean;
  lower: boolean;
  /** The languages that have this letter (a bit per LANGUAGE_LETTERS entry). */
  languages: number;
}

// Built on the first 8-bit file, not at start-up.
const READINGS = new Map<SingleByteEncoding, Reading[]>();

/** How a code page reads each byte 0x80-0xFF (index 0-127). */
function readingsOf(encoding: SingleByteEncoding): Reading[] {
  let readings = READINGS.get(encoding);
  if (!readings) {
    const chars = iconv.decode(Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i)), encoding);
    readings = [...chars].map(reading);
    READINGS.set(encoding, readings);
  }
  return readings;
}

function reading(char: string): Reading {
  const kind = /[\p{L}\p{M}]/u.test(char)
    ? "letter"
    : APOSTROPHES.has(char)
      ? "apostrophe"
      : SEPARATORS.has(char)
        ? "separator"
        : /[\p{Cc}\p{Cn}\p{Co}\uFFFD]/u.test(char)
          ? "control"
          : "symbol";
  const script: Script = /\p{Script=Latin}/u.test(char)
    ? "Latin"
    : /\p{Script=Cyrillic}/u.test(char)
      ? "Cyrillic"
      : /\p{Script=Greek}/u.test(char)
        ? "Greek"
        : "other";
  const languages = kind === "letter" ? (LANGUAGES_OF.get(char.toLowerCase()) ?? 0) : ALL_LANGUAGES;
  return { char, kind, script, upper: char !== char.toLowerCase(), lower: char !== char.toUpperCase(), languages };
}

/** How one cell reads in a code page: its non-ASCII characters, and how many of them are odd. */
interface CellReading {
  chars: number;
  odd: number;
}

/**
 * A cell reads oddly when it holds a control character, or a word with a symbol in it, two
 * scripts, a capital right after a lower-case letter (one of them not ASCII), or letters that
 * no one language has together; then all its non-ASCII characters count as odd.
 */
function readCell(cell: Uint8Array, readings: readonly Reading[]): CellReading {
  let chars = 0;
  let odd = false;
  // The current word: its letters, the symbols glued to them, its script and languages.
  let letters = 0;
  let symbols = 0;
  let script: Script | undefined;
  let languages = ALL_LANGUAGES;
  let previousLower = false;
  let previousHigh = false;
  const endWord = () => {
    if (letters > 0 && (symbols > 0 || languages === 0)) odd = true;
    letters = symbols = 0;
    script = undefined;
    languages = ALL_LANGUAGES;
    previousLower = previousHigh = false;
  };
  const letter = (s: Script, upper: boolean, lower: boolean, high: boolean) => {
    letters++;
    if (script !== undefined && script !== s) odd = true;
    script ??= s;
    if (upper && previousLower && (high || previousHigh)) odd = true;
    previousLower = lower;
    previousHigh = high;
  };
  const isLetter = (b: number | undefined) => b !== undefined && (b >= 0x80 ? readings[b - 0x80]!.kind === "letter" : isAsciiLetter(b));
  for (let i = 0; i < cell.length; i++) {
    const b = cell[i]!;
    if (b < 0x80) {
      if (isAsciiLetter(b)) letter("Latin", b < 0x61, b >= 0x61, false);
      else endWord();
      continue;
    }
    chars++;
    const r = readings[b - 0x80]!;
    if (r.kind === "letter") {
      letter(r.script, r.upper, r.lower, true);
      languages &= r.languages;
    } else if (r.kind === "apostrophe" && isLetter(cell[i - 1]) && isLetter(cell[i + 1])) {
      // O’Connor: the word goes on.
    } else if (r.kind === "symbol" || r.kind === "apostrophe") {
      symbols++;
      previousLower = false;
      previousHigh = true;
    } else {
      if (r.kind === "control") odd = true;
      endWord();
    }
  }
  endWord();
  return { chars, odd: odd ? chars : 0 };
}

interface Candidate {
  encoding: SingleByteEncoding;
  /** chardet's confidence, 0-100 (0: not proposed). */
  confidence: number;
  cells: CellReading[];
  /** Share of the sample's non-ASCII characters that read oddly. */
  odd: number;
  score: number;
}

function shareOdd(cells: readonly CellReading[], only?: readonly boolean[]): number {
  let chars = 0;
  let odd = 0;
  cells.forEach((c, i) => {
    if (only && !only[i]) return;
    chars += c.chars;
    odd += c.odd;
  });
  return chars === 0 ? 0 : odd / chars;
}

function guessCodePage(cells: readonly Uint8Array[], firstAt: Int32Array): { encoding: SingleByteEncoding; confident: boolean } {
  const words = wordsOf(cells);
  const confidence = new Map<SingleByteEncoding, number>();
  for (const match of analyse(words.text)) {
    const encoding = FROM_CHARDET[match.name];
    if (encoding && !confidence.has(encoding)) confidence.set(encoding, match.confidence);
  }
  for (const [encoding, value] of [...confidence]) {
    const sibling = SIBLINGS[encoding];
    if (sibling && !confidence.has(sibling)) confidence.set(sibling, value);
  }
  const candidates: Candidate[] = SINGLE_BYTE_ENCODINGS.map((encoding) => {
    const readings = readingsOf(encoding);
    const read = cells.map((cell) => readCell(cell, readings));
    const odd = shareOdd(read);
    const value = confidence.get(encoding) ?? 0;
    return { encoding, confidence: value, cells: read, odd, score: value * (1 - odd) ** 2 };
  });
  // Best score first; then fewer odd readings; then the order of preference (a stable sort).
  candidates.sort((a, b) => b.score - a.score || a.odd - b.odd);
  const best = candidates[0]!;
  const present = [...firstAt.keys()].filter((i) => firstAt[i]! >= 0);
  const bestReadings = readingsOf(best.encoding);
  // Code pages that read every byte of this file alike are the same answer, not rivals.
  const rivals = candidates.slice(1).flatMap((rival) => {
    const readings = readingsOf(rival.encoding);
    const contested = new Set(present.filter((i) => readings[i]!.char !== bestReadings[i]!.char));
    if (contested.size === 0) return [];
    // The cells where the two differ: does the rival misread them, where the best does not?
    const where = cells.map((cell) => cell.some((b) => b >= 0x80 && contested.has(b - 0x80)));
    const margin = shareOdd(rival.cells, where) - shareOdd(best.cells, where);
    return [{ rival, margin }];
  });
  // chardet's ranking counts only on enough words, and when it recognised the language at all.
  const statistics = words.count >= MIN_WORDS && best.confidence >= MIN_CONFIDENCE;
  const confident =
    best.odd <= MAX_ODD &&
    rivals.every(({ rival, margin }) => margin >= DECISIVE_MARGIN || (statistics && rival.score < CLOSE_RIVAL * best.score));
  return { encoding: best.encoding, confident };
}
