import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { ErrorCode, type UserField } from "../../src/core/errors.ts";
import { readCsv } from "../../src/csv/read.ts";
import { importTemplate } from "../../src/csv/template.ts";
import type { CsvRow } from "../../src/csv/types.ts";
import { TEMPLATE_COLUMNS } from "../../src/csv/types.ts";
import { createRowValidator } from "../../src/csv/validate.ts";
import { csvCell, csvLine, type ErrorReportRow, errorReportCsv, type ResultRow, resultsCsv, unguardCell } from "../../src/csv/write.ts";
import { allRows, directory, expectations, fixture, rejection } from "./support.ts";

const BOM = [0xef, 0xbb, 0xbf];
const text = (bytes: Uint8Array) => new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);

function fields(values: Partial<Record<UserField, string>>): Record<UserField, string> {
  return { email: "", name: "", group: "", role: "", exchangeDomain: "", exchangeUsername: "", ...values };
}

describe("csvCell", () => {
  it.each([
    ["plain", "plain"],
    ["", ""],
    ["Hernández, Jr.", '"Hernández, Jr."'],
    ['Tomasz "Tom"', '"Tomasz ""Tom"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    ["semi;colon", '"semi;colon"'],
    ["tab\there", '"tab\there"'],
    ["D'Angelo", "D'Angelo"],
  ])("writes %j as %j", (value, written) => {
    expect(csvCell(value)).toBe(written);
  });

  it("quotes a cell holding any list separator, whatever the delimiter, and the delimiter it is given", () => {
    expect(csvCell("semi;colon", ";")).toBe('"semi;colon"');
    expect(csvCell("a,b", ";")).toBe('"a,b"');
    expect(csvCell("a|b", "|")).toBe('"a|b"');
  });

  it.each([
    ["=1+1", "'=1+1"],
    ["+SUM(1,2)", `"'+SUM(1,2)"`],
    ["-2", "'-2"],
    ["@x", "'@x"],
    ["\tTab", `"'\tTab"`],
    ["\rCR", `"'\rCR"`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ["a=1", "a=1"],
    ["Ann-Marie", "Ann-Marie"],
    ["'=x", "''=x"], // so that reading it back removes exactly the apostrophe added
    ["x;=cmd|' /C calc'!A0;@probe", `"x;'=cmd|' /C calc'!A0;'@probe"`],
    ["a\n-b\r+c\t@d", `"a\n'-b\r'+c\t'@d"`],
    ["a;b,=c; -d", '"a;b,=c; -d"'],
  ])("neutralises a formula: %j → %j", (value, written) => {
    expect(csvCell(value)).toBe(written);
  });

  it.each([
    [";", "a,=b", `"a,'=b"`],
    [";", "a;=b", `"a;=b"`],
    [";", "a\t@b", `"a\t'@b"`],
    ["\t", "a;=b\t=c,+d", `"a;'=b\t=c,'+d"`],
    [",", "a,=b;=c", `"a,=b;'=c"`],
  ])("with the delimiter %j, guards a formula after the other separators only: %j → %j", (delimiter, value, written) => {
    expect(csvCell(value, delimiter)).toBe(written);
    // What a file of that delimiter gives back, unquoted, is the value again.
    expect(unguardCell(written.slice(1, -1), delimiter)).toBe(value);
  });

  it("csvLine joins cells and ends with CRLF", () => {
    expect(csvLine(["a", "b,c", "=x"])).toBe('a,"b,c",\'=x\r\n');
    expect(csvLine(["a", "b"], ";")).toBe("a;b\r\n");
  });
});

describe("importTemplate", () => {
  const template = importTemplate();

  it("is the header only, UTF-8 with a BOM, CRLF", () => {
    expect(template.fileName).toBe("hms-users-template.csv");
    expect([...template.bytes.slice(0, 3)]).toEqual(BOM);
    expect(text(template.bytes)).toBe("\uFEFFEmail ID,Name,Group,Role,Exchange Domain,Exchange Username\r\n");
  });

  it("explains how to fill it in, in one paragraph", () => {
    expect(template.howTo).not.toContain("\n");
    for (const part of [
      "one row per user",
      "logon ID",
      "Administrator or User (blank means User)",
      "already exists in HMS",
      "Exchange Domain and Exchange Username are optional and go together",
      "ActiveSync",
      "CSV",
      "semicolon",
      "UTF-8 or Windows",
      "150,000",
    ]) {
      expect(template.howTo).toContain(part);
    }
  });

  it("reads back with every column mapped; alone it is a file without users", async () => {
    await rejection(readCsv(template.bytes), ErrorCode.FILE_EMPTY);
    const filled = new Uint8Array([...template.bytes, ...new TextEncoder().encode("ann@corp.example.org,Ann,Finance,,,\r\n")]);
    const reader = await readCsv(filled);
    expect(reader.info).toEqual({
      encoding: "utf-8",
      bom: true,
      delimiter: ",",
      header: [...TEMPLATE_COLUMNS],
      unknownColumns: [],
      encodingConfident: true,
      invalidUtf8Bytes: 0,
      sampleNames: ["Ann"],
    });
    expect(await allRows(reader)).toEqual([
      { rowNumber: 2, blank: false, fields: fields({ email: "ann@corp.example.org", name: "Ann", group: "Finance" }) },
    ]);
  });
});

describe("errorReportCsv", () => {
  const rows: ErrorReportRow[] = [
    {
      rowNumber: 4,
      fields: fields({ email: "jane@@corp", name: "+SUM(1,2)", group: "Finance" }),
      problems: ["Email ID is bad.", "Second."],
    },
    {
      rowNumber: 7,
      fields: fields({ email: "b@corp.example.org", name: "=1+1", group: "-2", role: "@x" }),
      problems: ["Problem, with comma."],
    },
    {
      rowNumber: 9,
      fields: fields({ email: "c@corp.example.org", name: "\tTabbed", exchangeDomain: 'a "b"', exchangeUsername: "x\ny" }),
      problems: [],
    },
  ];

  it("writes Row, the template's columns, then Problems; BOM and CRLF, formula-safe", async () => {
    const bytes = await errorReportCsv([rows]);
    expect([...bytes.slice(0, 3)]).toEqual(BOM);
    expect(text(bytes)).toBe(
      "\uFEFFRow,Email ID,Name,Group,Role,Exchange Domain,Exchange Username,Problems\r\n" +
        `4,jane@@corp,"'+SUM(1,2)",Finance,,,,Email ID is bad. Second.\r\n` +
        `7,b@corp.example.org,'=1+1,'-2,'@x,,,"Problem, with comma."\r\n` +
        `9,c@corp.example.org,"'\tTabbed",,,"a ""b""","x\ny",\r\n`,
    );
  });

  it("writes pages as they come, in order", async () => {
    async function* pages() {
      yield rows.slice(0, 1);
      yield [];
      yield rows.slice(1);
    }
    expect(text(await errorReportCsv(pages()))).toBe(text(await errorReportCsv([rows])));
  });

  it.each([
    [";", "semicolon"],
    ["\t", "tab"],
  ])("with the upload's delimiter %j (%s): the same cells, split by it", async (delimiter) => {
    const bytes = await errorReportCsv([rows], delimiter);
    const lines = text(bytes)
      .replace(/^\uFEFF/, "")
      .split("\r\n");
    expect(lines[0]).toBe(["Row", ...TEMPLATE_COLUMNS, "Problems"].join(delimiter));
    const cells: string[][] = parse(Buffer.from(bytes), { delimiter, bom: true });
    expect(cells.slice(1).map((r) => r[0])).toEqual(["4", "7", "9"]);
    expect(cells[1]).toEqual(["4", "jane@@corp", "'+SUM(1,2)", "Finance", "", "", "", "Email ID is bad. Second."]);
    expect(cells[2]?.[7]).toBe("Problem, with comma.");
  });

  it.each([",", ";", "\t"])(
    "re-parses (written with %j): Row and Problems are ignored without a warning, and the values come back unguarded",
    async (delimiter) => {
      const reader = await readCsv(await errorReportCsv([rows], delimiter));
      expect(reader.info.delimiter).toBe(delimiter);
      expect(reader.info.unknownColumns).toEqual([]);
      expect(reader.info.header).toEqual(["Row", ...TEMPLATE_COLUMNS, "Problems"]);
      const back = await allRows(reader);
      // Numbered as the new file's own rows: the old numbers in Row are only for the admin.
      expect(back.map((r) => r.rowNumber)).toEqual([2, 3, 4]);
      expect(back.map((r) => r.fields)).toEqual(rows.map((r) => r.fields));
    },
  );

  it("reports the fixture's problem rows at their spreadsheet rows, so they can be fixed and uploaded again", async () => {
    const { view } = directory(expectations().groups_to_create_first);
    const validator = createRowValidator(view);
    const problems: ErrorReportRow[] = [];
    const reader = await readCsv(fixture("users.libreoffice-comma-utf8.csv"));
    for await (const chunk of reader.chunks()) {
      for (const v of await validator.validate(chunk)) {
        // The formula-like name of row 38 rides along to show it is neutralised.
        if (v.status === "NEEDS_ATTENTION" || v.rowNumber === 38)
          problems.push({ rowNumber: v.rowNumber, fields: v.fields, problems: v.issues.map((i) => i.message) });
      }
    }
    const report = await errorReportCsv([problems]);
    expect(text(report)).toContain(`"'+SUM(1,2)"`);
    const cells: string[][] = parse(Buffer.from(report), { bom: true });
    // The Row column is the row the summary names: the duplicate of row 3 is row 8.
    const flagged = Object.entries(expectations().row_notes_spreadsheet_numbering)
      .filter(([, note]) => !note.startsWith("valid"))
      .map(([row]) => row);
    expect(cells.slice(1).map((r) => r[0])).toEqual([...flagged, "38"].sort((a, b) => Number(a) - Number(b)));
    expect(cells.find((r) => r[0] === "8")?.at(-1)).toBe("Same Email ID as row 3, which is imported.");
    const again = await allRows(await readCsv(report));
    expect(again.map((r) => r.fields.email)).toEqual(problems.map((p) => p.fields.email));
    expect(again.find((r) => r.fields.email === "nuria.martinez37@corp.example.org")?.fields.name).toBe("+SUM(1,2)");
  });

  describe("read by a spreadsheet whose list separator is , ; or tab", () => {
    // `;` is the list separator of most of Europe: there, a spreadsheet splits on it.
    const HOSTILE = "x;=cmd|' /C calc'!A0;@probe";
    const HOSTILE_COMMA = "x,=cmd|' /C calc'!A0,@probe";
    const uploaded: Record<UserField, string>[] = [
      fields({ email: HOSTILE, name: "Ann", group: "Finance" }),
      fields({
        email: "b@corp.example.org",
        name: HOSTILE,
        group: "Fin;+1",
        role: "x\t-1",
        exchangeDomain: "C\n@x",
        exchangeUsername: "u\r=1",
      }),
      fields({
        email: "c@corp.example.org",
        name: "Lee;'=quoted",
        group: "\t=tab",
        role: "'=already",
        exchangeDomain: "a,b;c",
        exchangeUsername: 'q"";-',
      }),
      fields({ email: HOSTILE_COMMA, name: "Lee,'=quoted", group: "Fin,+1", role: "a\t,=b" }),
    ];

    /** The error report of these rows, with the validator's Problems (which echo the values). */
    async function report(delimiter: string): Promise<{ bytes: Uint8Array; rows: ErrorReportRow[] }> {
      const validator = createRowValidator(directory(["Finance"]).view);
      const verdicts = await validator.validate(uploaded.map((f, i): CsvRow => ({ rowNumber: i + 2, fields: f, blank: false })));
      expect(verdicts.every((v) => v.status === "NEEDS_ATTENTION")).toBe(true);
      const rows = verdicts.map((v) => ({ rowNumber: v.rowNumber, fields: v.fields, problems: v.issues.map((i) => i.message) }));
      return { bytes: await errorReportCsv([rows], delimiter), rows };
    }

    const DELIMITERS = [",", ";", "\t"];
    it.each(DELIMITERS.flatMap((written) => DELIMITERS.map((separator) => [written, separator])))(
      "no cell starts a formula, and the hostile cells stay whole: written with %j, read with %j",
      async (written, separator) => {
        // As a spreadsheet reads: quotes count only around a cell that starts one of its cells,
        // and any line break ends a row.
        const cells: string[][] = parse(Buffer.from((await report(written)).bytes), {
          delimiter: separator,
          bom: true,
          relax_quotes: true,
          relax_column_count: true,
          record_delimiter: ["\r\n", "\n", "\r"],
        });
        const formulas = cells.flat().filter((cell) => /^[=+\-@\t\r]/.test(cell));
        expect(formulas).toEqual([]);
        if (written === separator) {
          // Read with the file's own separator, every cell is whole.
          expect(cells[1]?.[1]).toBe(written === ";" ? HOSTILE : "x;'=cmd|' /C calc'!A0;'@probe");
          expect(cells.at(-1)?.[1]).toBe(written === "," ? HOSTILE_COMMA : "x,'=cmd|' /C calc'!A0,'@probe");
        }
      },
    );

    it.each(DELIMITERS)("reads back, with the bot's reader, to the values uploaded (written with %j)", async (delimiter) => {
      const { bytes, rows } = await report(delimiter);
      expect(rows.map((r) => r.fields.email)).toEqual(uploaded.map((f) => f.email));
      const reader = await readCsv(bytes);
      expect(reader.info.delimiter).toBe(delimiter);
      const back = await allRows(reader);
      expect(back.map((r) => r.fields)).toEqual(rows.map((r) => r.fields));
    });
  });

  it("writes 150,000 rows", async () => {
    const many = Array.from({ length: 150_000 }, (_, i) => ({
      rowNumber: i + 2,
      fields: fields({ email: `u${i}@corp.example.org`, name: `User ${i}`, group: "Finance" }),
      problems: ["There is no group named “Finance”."],
    }));
    const bytes = await errorReportCsv([many.slice(0, 75_000), many.slice(75_000)]);
    expect(text(bytes.subarray(bytes.length - 130))).toMatch(
      /\r\n150001,u149999@corp\.example\.org,User 149999,Finance,,,,There is no group named “Finance”\.\r\n$/,
    );
  });
});

describe("resultsCsv", () => {
  const rows: ResultRow[] = [
    {
      rowNumber: 2,
      fields: fields({ email: "a@corp.example.org", name: "Ann", group: "Finance", role: "User" }),
      result: "created",
      details: "",
    },
    {
      rowNumber: 3,
      fields: fields({ email: "b@corp.example.org", name: "=Bob", group: "Sales", role: "Administrator" }),
      result: "updated",
      details: "Group: Finance → Sales; Role: User → Administrator",
    },
    {
      rowNumber: 5,
      fields: fields({ email: "a@corp.example.org", name: "Ann", group: "Finance" }),
      result: "skipped",
      details: "Not imported: Same Email ID as row 2, which is imported.",
    },
  ];

  it("writes Row, the template's columns, Result and Details, formula-safe, with the delimiter given", async () => {
    expect(text(await resultsCsv([rows]))).toBe(
      "\uFEFFRow,Email ID,Name,Group,Role,Exchange Domain,Exchange Username,Result,Details\r\n" +
        "2,a@corp.example.org,Ann,Finance,User,,,created,\r\n" +
        `3,b@corp.example.org,'=Bob,Sales,Administrator,,,updated,"Group: Finance → Sales; Role: User → Administrator"\r\n` +
        '5,a@corp.example.org,Ann,Finance,,,,skipped,"Not imported: Same Email ID as row 2, which is imported."\r\n',
    );
    const semicolon = await resultsCsv([rows], ";");
    const cells: string[][] = parse(Buffer.from(semicolon), { delimiter: ";", bom: true });
    expect(cells[0]).toEqual(["Row", ...TEMPLATE_COLUMNS, "Result", "Details"]);
    expect(cells[2]).toEqual([
      "3",
      "b@corp.example.org",
      "'=Bob",
      "Sales",
      "Administrator",
      "",
      "",
      "updated",
      "Group: Finance → Sales; Role: User → Administrator",
    ]);
  });

  it("uploaded again: Row, Result and Details are ignored without a warning", async () => {
    const reader = await readCsv(await resultsCsv([rows], "\t"));
    expect(reader.info).toMatchObject({ delimiter: "\t", unknownColumns: [] });
    expect((await allRows(reader)).map((r) => r.fields)).toEqual(rows.map((r) => r.fields));
  });
});
