import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors.ts";
import { readCsv } from "../../src/csv/read.ts";
import { MAX_DATA_ROWS, MAX_FILE_BYTES, TEMPLATE_COLUMNS } from "../../src/csv/types.ts";
import { allRows, encodingFixture, expectations, FIXTURE_FILES, fixture, read, rejection, utf8 } from "./support.ts";

const HEADER = TEMPLATE_COLUMNS.join(",");
const ROW = "ann.lee@corp.example.org,Ann Lee,Finance,User,,";

// What the Windows-1252 fixture can hold: the rest was saved as "?" by LibreOffice.
const CP1252 = new Set(new TextDecoder("windows-1252").decode(Uint8Array.from({ length: 256 }, (_, i) => i)));
const asCp1252 = (text: string) => [...text].map((c) => (CP1252.has(c) ? c : "?")).join("");

function utf16(text: string, order: "le" | "be", bom = true): Uint8Array {
  const units = [...(bom ? "\uFEFF" : ""), ...text].join("");
  const bytes = new Uint8Array(units.length * 2);
  for (let i = 0; i < units.length; i++) {
    const unit = units.charCodeAt(i);
    bytes[i * 2 + (order === "le" ? 0 : 1)] = unit & 0xff;
    bytes[i * 2 + (order === "le" ? 1 : 0)] = unit >> 8;
  }
  return bytes;
}

describe("readCsv on the shared fixtures", () => {
  it("reads the LibreOffice comma UTF-8 file: 120 rows numbered as the spreadsheet shows them", async () => {
    const reader = await readCsv(fixture("users.libreoffice-comma-utf8.csv"));
    expect(reader.info).toEqual({
      encoding: "utf-8",
      bom: false,
      delimiter: ",",
      header: [...TEMPLATE_COLUMNS],
      unknownColumns: [],
      encodingConfident: true,
      invalidUtf8Bytes: 0,
      // The names of the first rows that show the most different non-ASCII letters.
      sampleNames: ["Jiří 小林", "Zsófia Castañeda", "Ümit Ivanović"],
    });
    const rows = await allRows(reader);
    expect(rows).toHaveLength(expectations().data_rows);
    expect(rows.map((r) => r.rowNumber)).toEqual(Array.from({ length: 120 }, (_, i) => i + 2));
    expect(rows.every((r) => !r.blank)).toBe(true);
    expect(rows[0]).toEqual({
      rowNumber: 2,
      blank: false,
      fields: {
        email: "francois1@corp.example.org",
        name: "François 小林",
        group: "Finance",
        role: "User",
        exchangeDomain: "",
        exchangeUsername: "",
      },
    });
    const byRow = new Map(rows.map((r) => [r.rowNumber, r.fields]));
    expect(byRow.get(33)?.email).toBe("  JIRI.DANGELO32@CORP.EXAMPLE.ORG "); // cells come untrimmed
    expect(byRow.get(38)?.name).toBe("+SUM(1,2)");
    expect(byRow.get(43)?.group).toBe("  finance");
    expect(byRow.get(7)).toMatchObject({ exchangeDomain: "CORPNET", exchangeUsername: "zsofia.ivanovic6" });
  });

  const formats = {
    "users.libreoffice-comma-utf8.csv": { encoding: "utf-8", bom: false, delimiter: "," },
    "users.libreoffice-semicolon-utf8.csv": { encoding: "utf-8", bom: false, delimiter: ";" },
    "users.libreoffice-comma-cp1252.csv": { encoding: "windows-1252", bom: false, delimiter: "," },
    "users.libreoffice-tab-utf16le.csv": { encoding: "utf-16le", bom: true, delimiter: "\t" },
    "users.excel-style-utf8-bom-crlf.csv": { encoding: "utf-8", bom: true, delimiter: "," },
  } as const;

  it.each(FIXTURE_FILES)("%s parses to the same rows as the comma UTF-8 file", async (name) => {
    const reference = await allRows(await readCsv(fixture("users.libreoffice-comma-utf8.csv")));
    const reader = await readCsv(fixture(name));
    expect(reader.info).toMatchObject({ ...formats[name], header: [...TEMPLATE_COLUMNS], unknownColumns: [] });
    const rows = await allRows(reader);
    const expected =
      name === "users.libreoffice-comma-cp1252.csv"
        ? reference.map((r) => ({ ...r, fields: { ...r.fields, name: asCp1252(r.fields.name) } }))
        : reference;
    expect(rows).toEqual(expected);
  });

  it("decodes Windows-1252 characters the file really holds", async () => {
    const rows = await allRows(await readCsv(fixture("users.libreoffice-comma-cp1252.csv")));
    expect(rows.find((r) => r.rowNumber === 3)?.fields.name).toBe("Zsófia Castañeda");
    const euro = await allRows(await readCsv(Uint8Array.from([...utf8(`${HEADER}\na@b.org,Caf`), 0xe9, 0x20, 0x80, ...utf8(",Finance")])));
    expect(euro[0]?.fields.name).toBe("Café €");
  });
});

describe("readCsv: not a CSV file", () => {
  it("rejects an Excel workbook renamed .csv, saying to save it as CSV", async () => {
    const error = await rejection(readCsv(fixture("users.xlsx")), ErrorCode.FILE_NOT_TEXT);
    expect(error.message).toMatch(/Excel workbook \(\.xlsx\)/);
    expect(error.message).toMatch(/save it as CSV/i);
  });

  it("rejects a PNG image", async () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    expect((await rejection(readCsv(png), ErrorCode.FILE_NOT_TEXT)).message).toMatch(/PNG image/);
  });

  it("rejects a ZIP archive that is not a workbook", async () => {
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 0, 0, ...utf8("users.csv")]);
    expect((await rejection(readCsv(zip), ErrorCode.FILE_NOT_TEXT)).message).toMatch(/ZIP archive/);
  });

  it("rejects a PDF and an Excel 97-2003 workbook", async () => {
    expect((await rejection(read("%PDF-1.7\n..."), ErrorCode.FILE_NOT_TEXT)).message).toMatch(/PDF/);
    const xls = Uint8Array.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
    expect((await rejection(readCsv(xls), ErrorCode.FILE_NOT_TEXT)).message).toMatch(/\.xls\b.*save it as CSV/);
  });

  it("rejects text with NUL bytes (binary), but not UTF-16 text", async () => {
    const bytes = utf8(`${HEADER}\r\n${ROW}\r\n`);
    bytes[60] = 0;
    await rejection(readCsv(bytes), ErrorCode.FILE_NOT_TEXT);
    await expect(readCsv(utf16(`${HEADER}\r\n${ROW}\r\n`, "le"))).resolves.toBeDefined();
    await rejection(readCsv(utf16(`${HEADER}\r\n${ROW}\u0000\r\n`, "le")), ErrorCode.FILE_NOT_TEXT);
  });
});

describe("readCsv: empty files", () => {
  it("rejects a file of 0 bytes", async () => {
    expect((await rejection(readCsv(new Uint8Array()), ErrorCode.FILE_EMPTY)).message).toBe("The file is empty.");
  });

  it("rejects a file holding only a BOM, or only blank lines and spaces", async () => {
    await rejection(readCsv(Uint8Array.from([0xef, 0xbb, 0xbf])), ErrorCode.FILE_EMPTY);
    await rejection(readCsv(Uint8Array.from([0xff, 0xfe])), ErrorCode.FILE_EMPTY);
    await rejection(read("\r\n  \r\n\t\r\n,,,\r\n"), ErrorCode.FILE_EMPTY);
  });

  it("rejects a header without data rows, blank rows below it included", async () => {
    for (const text of [HEADER, `${HEADER}\r\n`, `\uFEFF${HEADER}\r\n\r\n,,,,,\r\n  \r\n`]) {
      expect((await rejection(read(text), ErrorCode.FILE_EMPTY)).message).toMatch(/header row but no users/);
    }
  });
});

describe("readCsv: limits", () => {
  it("rejects a file over 35 MB, saying its size in MB", async () => {
    const bytes = new Uint8Array(MAX_FILE_BYTES + 1).fill(0x61);
    const error = await rejection(readCsv(bytes), ErrorCode.FILE_TOO_LARGE);
    expect(error.message).toMatch(/^The file is 35\.1 MB; the limit is 35 MB\./);
  });

  it(`yields ${MAX_DATA_ROWS.toLocaleString("en-US")} data rows, then throws FILE_TOO_MANY_ROWS on the next one`, async () => {
    const line = "user@corp.example.org,A Name,Finance,User,,\n";
    const text = `${HEADER}\n${line.repeat(MAX_DATA_ROWS)}\n\n${line}`;
    const reader = await read(text);
    let seen = 0;
    let largest = 0;
    const error = await (async () => {
      for await (const chunk of reader.chunks()) {
        seen += chunk.filter((r) => !r.blank).length;
        largest = Math.max(largest, chunk.length);
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.FILE_TOO_MANY_ROWS });
    expect((error as Error).message).toMatch(/150,000/);
    expect(seen).toBe(MAX_DATA_ROWS);
    expect(largest).toBe(5_000); // streamed in chunks, never as one array
  });

  it("accepts exactly the limit, blank rows not counting", async () => {
    const line = "user@corp.example.org,A Name,Finance,User,,\n";
    const reader = await read(`${HEADER}\n${line.repeat(MAX_DATA_ROWS - 1)}\n,,,\n${line}`);
    const rows = await allRows(reader, 50_000);
    expect(rows.filter((r) => !r.blank)).toHaveLength(MAX_DATA_ROWS);
    expect(rows.filter((r) => r.blank).map((r) => r.rowNumber)).toEqual([MAX_DATA_ROWS + 1, MAX_DATA_ROWS + 2]);
  });
});

describe("readCsv: header", () => {
  it("rejects a file without a required column, naming it and showing the expected header", async () => {
    const error = await rejection(read("Email ID,Full name,Role\na@b.org,Ann,User\n"), ErrorCode.FILE_MISSING_COLUMNS);
    expect(error.message).toContain("no Group column");
    expect(error.message).not.toMatch(/\bName\b column/);
    expect(error.message).toContain("Email ID,Name,Group,Role,Exchange Domain,Exchange Username");
    expect(error.details).toMatchObject({ missing: ["Group"] });
  });

  it("names every missing column", async () => {
    const error = await rejection(read("Mail,Role\na@b.org,User\n"), ErrorCode.FILE_MISSING_COLUMNS);
    expect(error.message).toContain("no Email ID, Name and Group columns");
    expect(error.message).toContain("Mail, Role");
  });

  it("a data row in place of the header is a missing-columns error, not data", async () => {
    await rejection(read(`${ROW}\n${ROW}\n`), ErrorCode.FILE_MISSING_COLUMNS);
  });

  it("lists unknown extra columns and ignores them; Role and Exchange may be absent", async () => {
    const reader = await read("Department,Email ID,Name,Group,Cost center\nSales,a@b.org,Ann,Finance,42\n");
    expect(reader.info.unknownColumns).toEqual(["Department", "Cost center"]);
    expect(reader.info.header).toEqual(["Department", "Email ID", "Name", "Group", "Cost center"]);
    expect(await allRows(reader)).toEqual([
      {
        rowNumber: 2,
        blank: false,
        fields: { email: "a@b.org", name: "Ann", group: "Finance", role: "", exchangeDomain: "", exchangeUsername: "" },
      },
    ]);
  });

  it("matches headers ignoring case, spaces, _ - and punctuation, with aliases", async () => {
    const header = "e-mail address; FULL_NAME ;Group Name;ROLE:;exchange_domain;Exchange-User";
    const reader = await read(`${header}\na@b.org;Ann;Finance;Administrator;CORP;ann\n`);
    expect(reader.info.delimiter).toBe(";");
    expect(reader.info.unknownColumns).toEqual([]);
    expect((await allRows(reader))[0]?.fields).toEqual({
      email: "a@b.org",
      name: "Ann",
      group: "Finance",
      role: "Administrator",
      exchangeDomain: "CORP",
      exchangeUsername: "ann",
    });
  });

  it.each([
    ["Email,Name,Group", { email: "v0", name: "v1", group: "v2" }],
    ["E-mail,Display name,Group name", { email: "v0", name: "v1", group: "v2" }],
    ["Logon ID,Full name,Group", { email: "v0", name: "v1", group: "v2" }],
    ["Group,LOGIN,Name", { email: "v1", name: "v2", group: "v0" }],
    ["Email ID,Name,Group,Role,Domain,Exchange user name", { role: "v3", exchangeDomain: "v4", exchangeUsername: "v5" }],
    ["Email ID,Name,Group,Exchange domain name,Exchange login", { exchangeDomain: "v3", exchangeUsername: "v4" }],
    ["Email address,Name,Group,Exchange Domain,Exchange user", { email: "v0", exchangeUsername: "v4" }],
  ])("maps the header %s", async (header, expected) => {
    const cells = header.split(",").map((_, i) => `v${i}`);
    const reader = await read(`${header}\n${cells.join(",")}\n`);
    expect(reader.info.unknownColumns).toEqual([]);
    expect((await allRows(reader))[0]?.fields).toMatchObject(expected);
  });

  it("rejects two columns for the same field rather than picking one", async () => {
    const error = await rejection(read("Email,Name,Group,Login\na@b.org,Ann,Finance,ann\n"), ErrorCode.FILE_MALFORMED);
    expect(error.message).toMatch(/“Email” and “Login”/);
  });

  it("ignores trailing empty header cells and extra cells in rows", async () => {
    const reader = await read(`${HEADER},,,\r\n${ROW},,,extra\r\n`);
    expect(reader.info.header).toEqual([...TEMPLATE_COLUMNS]);
    expect(reader.info.unknownColumns).toEqual([]);
    expect((await allRows(reader))[0]?.fields.email).toBe("ann.lee@corp.example.org");
  });

  it("detects the delimiter from the header outside quotes", async () => {
    const reader = await read('"Email;;; ID",Name,"Group;;"\na@b.org,"Lee; Ann",Finance\n');
    expect(reader.info.delimiter).toBe(",");
    expect((await allRows(reader))[0]?.fields).toMatchObject({ email: "a@b.org", name: "Lee; Ann", group: "Finance" });
    expect((await read("Email ID\tName\tGroup\na@b.org\tAnn, Lee\tFinance\n")).info.delimiter).toBe("\t");
  });

  it("takes the first non-blank row as the header and keeps spreadsheet numbering", async () => {
    const rows = await allRows(await read(`\r\n,,\r\n${HEADER}\r\n${ROW}\r\n`));
    expect(rows.map((r) => r.rowNumber)).toEqual([4]);
  });
});

describe("readCsv: rows", () => {
  it("counts a quoted cell spanning several lines as one row", async () => {
    const text = `${HEADER}\r\na@b.org,"Ann\r\nLee ""the"" 2nd, Jr.",Finance,,,\r\nc@d.org,"C\nD\nE",Finance,,,\r\ne@f.org,Eve,Finance,,,\r\n`;
    const rows = await allRows(await read(text));
    expect(rows.map((r) => [r.rowNumber, r.fields.name])).toEqual([
      [2, 'Ann\r\nLee "the" 2nd, Jr.'],
      [3, "C\nD\nE"],
      [4, "Eve"],
    ]);
  });

  it("reads CR-only, LF and CRLF line endings, even mixed", async () => {
    for (const eol of ["\r", "\n", "\r\n"]) {
      const rows = await allRows(await read(`${HEADER}${eol}${ROW}${eol}b@c.org,Bo,Finance${eol}`));
      expect(rows.map((r) => [r.rowNumber, r.fields.email])).toEqual([
        [2, "ann.lee@corp.example.org"],
        [3, "b@c.org"],
      ]);
    }
    const mixed = await allRows(await read(`${HEADER}\r\n${ROW}\nb@c.org,Bo,Finance\rc@d.org,Cy,Finance`));
    expect(mixed.map((r) => r.rowNumber)).toEqual([2, 3, 4]);
  });

  it("reads UTF-16 BE and LE with a BOM, and LE without one", async () => {
    const text = `${HEADER.replaceAll(",", "\t")}\r\nzoë@b.org\tZoë Ł小\tFinance\r\n`;
    for (const [bytes, encoding, bom] of [
      [utf16(text, "be"), "utf-16be", true],
      [utf16(text, "le"), "utf-16le", true],
      [utf16(text, "le", false), "utf-16le", false],
    ] as const) {
      const reader = await readCsv(bytes);
      expect(reader.info).toMatchObject({ encoding, bom, delimiter: "\t" });
      expect((await allRows(reader))[0]?.fields).toMatchObject({ email: "zoë@b.org", name: "Zoë Ł小", group: "Finance" });
    }
  });

  it("yields blank rows between data rows (counted), drops trailing ones", async () => {
    const text = `${HEADER}\r\n${ROW}\r\n\r\n,,, ,\r\n"",""\r\nb@c.org,Bo,Finance\r\n\r\n,,,,,\r\n  \r\n\r\n`;
    const rows = await allRows(await read(text));
    expect(rows.map((r) => [r.rowNumber, r.blank])).toEqual([
      [2, false],
      [3, true],
      [4, true],
      [5, true],
      [6, false],
    ]);
    expect(rows[1]?.fields).toEqual({ email: "", name: "", group: "", role: "", exchangeDomain: "", exchangeUsername: "" });
  });

  it("a row with data only in an ignored column is blank", async () => {
    const rows = await allRows(await read(`${HEADER},Notes\r\n,,,,,,note\r\n${ROW}\r\n`));
    expect(rows.map((r) => [r.rowNumber, r.blank])).toEqual([
      [2, true],
      [3, false],
    ]);
  });

  it("takes a stray quote inside an unquoted cell literally, as a spreadsheet does", async () => {
    const rows = await allRows(await read(`${HEADER}\nt@b.org,Tomasz "Tom" D'Angelo,Finance\n`));
    expect(rows[0]?.fields.name).toBe(`Tomasz "Tom" D'Angelo`);
  });

  it("removes the formula guard the bot's own CSV files add", async () => {
    const rows = await allRows(await read(`${HEADER}\n'-x@b.org,"'+SUM(1,2)",'@Finance,'User,"'\tCORP","'=1+1"\n`));
    expect(rows[0]?.fields).toEqual({
      email: "-x@b.org",
      name: "+SUM(1,2)",
      group: "@Finance",
      role: "'User", // an apostrophe the bot did not add stays
      exchangeDomain: "\tCORP",
      exchangeUsername: "=1+1",
    });
  });

  it("removes the guard the bot adds inside a cell after ; tab or a line break, and exactly one leading apostrophe", async () => {
    const rows = await allRows(await read(`${HEADER}\nx@b.org,"x;'=cmd;'@probe","a\n'-b",''=x\n`));
    expect(rows[0]?.fields).toMatchObject({ name: "x;=cmd;@probe", group: "a\n-b", role: "'=x" });
  });

  it("yields chunks of the requested size, and can be read again", async () => {
    const text = `${HEADER}\n${Array.from({ length: 7 }, (_, i) => `u${i}@b.org,U${i},Finance`).join("\n")}\n`;
    const reader = await read(text, { chunkSize: 3 });
    const sizes: number[] = [];
    for await (const chunk of reader.chunks()) sizes.push(chunk.length);
    expect(sizes).toEqual([3, 3, 1]);
    const again: number[] = [];
    for await (const chunk of reader.chunks(5)) again.push(chunk.length);
    expect(again).toEqual([5, 2]);
    await expect(allRows(reader, 0)).rejects.toThrow(RangeError);
  });
});

describe("readCsv: malformed files", () => {
  it("an unclosed quote on the first data row fails at open, naming the row", async () => {
    const error = await rejection(read(`${HEADER}\r\na@b.org,"Ann Lee,Finance,,,\r\nb@c.org,Bo,Finance,,,\r\n`), ErrorCode.FILE_MALFORMED);
    expect(error.message).toMatch(/^Row 2 has a quote \("\) that is never closed/);
  });

  it("an unclosed quote further down fails while reading the chunks, naming its row", async () => {
    const text = `${HEADER}\r\n${ROW}\r\n\r\n"b@c.org,Bo,Finance\r\nc@d.org,Cy,Finance\r\n`;
    const reader = await read(text);
    const error = await rejection(allRows(reader), ErrorCode.FILE_MALFORMED);
    expect(error.message).toMatch(/^Row 4 /);
    expect(error.details).toEqual({ row: 4 });
  });

  it("a quote that swallows megabytes of the file fails early on its row", async () => {
    const many = `${ROW}\r\n`.repeat(30_000);
    const text = `${HEADER}\r\n${ROW}\r\n${ROW}\r\nx@b.org,"Oops,Finance\r\n${many}`;
    const error = await rejection(allRows(await read(text)), ErrorCode.FILE_MALFORMED);
    expect(error.message).toMatch(/^Row 4 is longer than 1,000,000 characters/);
  });
});

describe("readCsv: encodings of real LibreOffice exports", () => {
  // File, its UTF-8 master, the encoding and delimiter LibreOffice wrote, and a name it must read.
  const exports = [
    ["users.pl.windows-1250.csv", "pl.csv", "windows-1250", ";", "Łukasz Żółć"],
    ["users.cs.windows-1250.csv", "cs.csv", "windows-1250", ",", "Čestmír Šťastný"],
    ["users.cs.iso-8859-2.csv", "cs.csv", "iso-8859-2", ",", "Šárka Procházková"],
    ["users.ru.windows-1251.csv", "ru.csv", "windows-1251", ";", "Елена Фёдорова"],
    ["users.ru.iso-8859-5.csv", "ru.csv", "iso-8859-5", ",", "Ігор Бондаренко"],
    ["users.el.windows-1253.csv", "el.csv", "windows-1253", ";", "Άννα Κωνσταντίνου"],
    ["users.el.iso-8859-7.csv", "el.csv", "iso-8859-7", ",", "Άγγελος Τσιόλκας"],
    ["users.tr.windows-1254.csv", "tr.csv", "windows-1254", ";", "İbrahim Çetin"],
    ["users.baltic.windows-1257.csv", "baltic.csv", "windows-1257", ";", "Ieva Ģērmane"],
    ["users.western.windows-1252.csv", "western.csv", "windows-1252", ",", "Þór Ólafsson"],
    ["users.multi.utf-8.csv", "multi.csv", "utf-8", ",", "王伟"],
    ["users.multi.utf-16le.csv", "multi.csv", "utf-16le", "\t", "김민준"],
  ] as const;

  it.each(exports)("%s reads exactly as its master %s: %s, delimiter %j, sure", async (file, master, encoding, delimiter, name) => {
    const reader = await readCsv(encodingFixture(file));
    expect(reader.info).toMatchObject({ encoding, delimiter, encodingConfident: true, invalidUtf8Bytes: 0 });
    const rows = await allRows(reader);
    const expected = await allRows(await readCsv(encodingFixture(`masters/${master}`)));
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(rows).toEqual(expected);
    expect(rows.map((r) => r.fields.name)).toContain(name);
    // The samples are names of the file, with letters beyond ASCII.
    expect(reader.info.sampleNames).toHaveLength(3);
    for (const sample of reader.info.sampleNames) {
      expect(expected.map((r) => r.fields.name)).toContain(sample);
      expect(sample).toMatch(/[^\x00-\x7f]/);
    }
  });

  it("the Polish file of the issue: read as Windows-1250, not “£ukasz ¯ó³æ”; its groups too", async () => {
    const reader = await readCsv(encodingFixture("users.pl.windows-1250.csv"));
    expect(reader.info.sampleNames).toEqual(["Łukasz Żółć", "Jędrzej Stępień", "Małgorzata Wiśniewska"]);
    const rows = await allRows(reader);
    expect(rows[0]?.fields).toMatchObject({ name: "Łukasz Żółć", group: "Księgowość" });
    expect(rows.find((r) => r.rowNumber === 31)?.fields.name).toBe("Ewelina Ślusarczyk");
  });

  it("UTF-8 with stray bytes stays UTF-8: only the cells holding them are marked, the rest reads right", async () => {
    const reader = await readCsv(encodingFixture("users.multi.utf-8-stray-bytes.csv"));
    expect(reader.info).toMatchObject({ encoding: "utf-8", encodingConfident: true, invalidUtf8Bytes: 4 });
    const rows = await allRows(reader);
    const expected = await allRows(await readCsv(encodingFixture("masters/multi.csv")));
    expect(rows.filter((r) => r.invalidUtf8).map((r) => [r.rowNumber, r.invalidUtf8])).toEqual([
      [9, ["name"]],
      [15, ["name"]],
      [23, ["name"]],
    ]);
    expect(rows.find((r) => r.rowNumber === 15)?.fields.name).toBe("Jos\ufffd Ñúñez");
    expect(rows.find((r) => r.rowNumber === 23)?.fields.name).toBe("Søren Kierkeg\ufffdrd");
    expect(rows.find((r) => r.rowNumber === 9)?.fields.name).toBe("高橋 \ufffd");
    const untouched = (r: { rowNumber: number }) => ![9, 15, 23].includes(r.rowNumber);
    expect(rows.filter(untouched)).toEqual(expected.filter(untouched));
    // The samples skip the spoilt rows.
    expect(reader.info.sampleNames.join()).not.toContain("\ufffd");
    // The same bytes at an odd offset in memory (the scan reads four bytes at a time).
    const bytes = encodingFixture("users.multi.utf-8-stray-bytes.csv");
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect((await readCsv(shifted)).info).toMatchObject({ encoding: "utf-8", invalidUtf8Bytes: 4 });
  });

  it("one stray byte in a UTF-8 file leaves the other rows' names intact (not “JosÃ© Ã‘ÃºÃ±ez”)", async () => {
    const bytes = Uint8Array.from([
      ...utf8(`${HEADER}\njose@b.org,José Ñúñez,Finance,,,\nzoe@b.org,Zo`),
      0xeb, // ë as a single Windows-1252 byte
      ...utf8(" Smith,Finance,,,\n"),
    ]);
    const reader = await readCsv(bytes);
    expect(reader.info).toMatchObject({ encoding: "utf-8", invalidUtf8Bytes: 1, sampleNames: ["José Ñúñez"] });
    const rows = await allRows(reader);
    expect(rows.map((r) => [r.fields.name, r.invalidUtf8])).toEqual([
      ["José Ñúñez", undefined],
      ["Zo\ufffd Smith", ["name"]],
    ]);
  });

  it("a UTF-8 file with a BOM and an invalid byte in the e-mail: that cell is marked", async () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...utf8(`${HEADER}\nann`), 0xe9, ...utf8("@b.org,Ann,Finance,,,\n")]);
    const reader = await readCsv(bytes);
    expect(reader.info).toMatchObject({ encoding: "utf-8", bom: true, invalidUtf8Bytes: 1 });
    expect((await allRows(reader))[0]).toMatchObject({ invalidUtf8: ["email"], fields: { email: "ann\ufffd@b.org" } });
  });

  it("pure ASCII is UTF-8, sure; no cell is marked", async () => {
    const reader = await read(`${HEADER}\n${ROW}\n`);
    expect(reader.info).toMatchObject({ encoding: "utf-8", encodingConfident: true, invalidUtf8Bytes: 0, sampleNames: ["Ann Lee"] });
    expect((await allRows(reader))[0]?.invalidUtf8).toBeUndefined();
  });

  it("Windows-1251 Ukrainian, whose В+і happen to be valid UTF-8 pairs, is still Windows-1251", async () => {
    const names = ["Віталій Вітренко", "Вікторія Бойко", "Віра Шевчук", "Олена Ковальчук", "Іван Мельник"];
    const text = `${HEADER}\n${names.map((n, i) => `u${i}@b.org,${n},Finance,,,`).join("\n")}\n`;
    const rows = await allRows(await readCsv(iconv.encode(text, "windows-1251")));
    expect(rows.map((r) => r.fields.name)).toEqual(names);
  });

  it("a letter first met deep in a long file still decides the code page", async () => {
    // 160 KB of ASCII names, then Polish ones in Windows-1250: the first 64 KB hold no hint.
    const ascii = Array.from({ length: 3000 }, (_, i) => `user${i}@corp.example.org,User Number ${i},Finance,User,,`);
    const polish = ["Paweł Dąbrowski", "Ewelina Ślusarczyk", "Kazimierz Kaźmierczak", "Michał Woźniak"];
    const text = [HEADER, ...ascii, ...polish.map((n, i) => `pl${i}@corp.example.org,${n},Finance,User,,`)].join("\r\n");
    const reader = await readCsv(iconv.encode(text, "windows-1250"));
    expect(reader.info.encoding).toBe("windows-1250");
    const rows = await allRows(reader);
    expect(rows.slice(-4).map((r) => r.fields.name)).toEqual(polish);
  });

  it("unsure when the names read plausibly in two code pages: a Turkish or a French name alone", async () => {
    const one = (name: string, encoding: string) => readCsv(iconv.encode(`${HEADER}\na@b.org,${name},Finance,,,\n`, encoding));
    expect((await one("Ayşe Yılmaz", "windows-1254")).info.encodingConfident).toBe(false);
    const french = await one("Hélène Lefèvre", "windows-1252");
    expect(french.info).toMatchObject({ encoding: "windows-1252", encodingConfident: false, sampleNames: ["Hélène Lefèvre"] });
  });

  it("sure on a single name when every other code page misreads it (symbols or impossible letters)", async () => {
    const one = (name: string, encoding: string) => readCsv(iconv.encode(`${HEADER}\na@b.org,${name},Finance,,,\n`, encoding));
    expect((await one("Łukasz Żółć", "windows-1250")).info).toMatchObject({ encoding: "windows-1250", encodingConfident: true });
    expect((await one("Lukáš Novák", "iso-8859-2")).info).toMatchObject({ encoding: "iso-8859-2", encodingConfident: true });
    expect((await one("Jānis Bērziņš", "windows-1257")).info).toMatchObject({ encoding: "windows-1257", encodingConfident: true });
  });
});
