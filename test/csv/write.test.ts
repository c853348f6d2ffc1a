import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { ErrorCode, type UserField } from "../../src/core/errors.ts";
import { readCsv } from "../../src/csv/read.ts";
import { importTemplate } from "../../src/csv/template.ts";
import type { CsvRow } from "../../src/csv/types.ts";
import { TEMPLATE_COLUMNS } from "../../src/csv/types.ts";
import { createRowValidator } from "../../src/csv/validate.ts";
import { csvCell, csvLine, type ErrorReportRow, errorReportCsv } from "../../src/csv/write.ts";
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

  it("writes the template's columns plus Problems, BOM and CRLF, formula-safe", () => {
    const bytes = errorReportCsv(rows);
    expect([...bytes.slice(0, 3)]).toEqual(BOM);
    expect(text(bytes)).toBe(
      "\uFEFFEmail ID,Name,Group,Role,Exchange Domain,Exchange Username,Problems\r\n" +
        `jane@@corp,"'+SUM(1,2)",Finance,,,,Email ID is bad. Second.\r\n` +
        `b@corp.example.org,'=1+1,'-2,'@x,,,"Problem, with comma."\r\n` +
        `c@corp.example.org,"'\tTabbed",,,"a ""b""","x\ny",\r\n`,
    );
  });

  it("re-parses: Problems is ignored without a warning, and the values come back unguarded", async () => {
    const reader = await readCsv(errorReportCsv(rows));
    expect(reader.info.unknownColumns).toEqual([]);
    const back = await allRows(reader);
    expect(back.map((r) => r.rowNumber)).toEqual([2, 3, 4]);
    expect(back.map((r) => r.fields)).toEqual(rows.map((r) => r.fields));
  });

  it("reports the fixture's problem rows so they can be fixed and uploaded again", async () => {
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
    const report = errorReportCsv(problems);
    expect(text(report)).toContain(`"'+SUM(1,2)"`);
    const again = await allRows(await readCsv(report));
    expect(again.map((r) => r.fields.email)).toEqual(problems.map((p) => p.fields.email));
    expect(again.find((r) => r.fields.email === "nuria.martinez37@corp.example.org")?.fields.name).toBe("+SUM(1,2)");
  });

  describe("read by a spreadsheet whose list separator is , ; or tab", () => {
    // `;` is the list separator of most of Europe: there, a spreadsheet splits on it.
    const HOSTILE = "x;=cmd|' /C calc'!A0;@probe";
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
    ];

    /** The error report of these rows, with the validator's Problems (which echo the values). */
    async function report(): Promise<{ bytes: Uint8Array; rows: ErrorReportRow[] }> {
      const validator = createRowValidator(directory(["Finance"]).view);
      const verdicts = await validator.validate(uploaded.map((f, i): CsvRow => ({ rowNumber: i + 2, fields: f, blank: false })));
      expect(verdicts.every((v) => v.status === "NEEDS_ATTENTION")).toBe(true);
      const rows = verdicts.map((v) => ({ rowNumber: v.rowNumber, fields: v.fields, problems: v.issues.map((i) => i.message) }));
      return { bytes: errorReportCsv(rows), rows };
    }

    it.each([",", ";", "\t"])("no cell starts a formula, and the hostile cell stays whole, with %j", async (delimiter) => {
      // As a spreadsheet reads: quotes count only around a cell that starts one of its cells,
      // and any line break ends a row.
      const cells: string[][] = parse(Buffer.from((await report()).bytes), {
        delimiter,
        bom: true,
        relax_quotes: true,
        relax_column_count: true,
        record_delimiter: ["\r\n", "\n", "\r"],
      });
      const formulas = cells.flat().filter((cell) => /^[=+\-@\t\r]/.test(cell));
      expect(formulas).toEqual([]);
      const row = cells.findIndex((r) => r.some((cell) => cell.includes("x;'=cmd|' /C calc'!A0;'@probe")));
      expect(row).toBe(1);
      if (delimiter === ",") expect(cells[1]?.[0]).toBe("x;'=cmd|' /C calc'!A0;'@probe");
    });

    it("reads back, with the bot's reader, to the values uploaded", async () => {
      const { bytes, rows } = await report();
      expect(rows.map((r) => r.fields.email)).toEqual(uploaded.map((f) => f.email));
      const back = await allRows(await readCsv(bytes));
      expect(back.map((r) => r.fields)).toEqual(rows.map((r) => r.fields));
    });
  });

  it("writes 150,000 rows", () => {
    const many = Array.from({ length: 150_000 }, (_, i) => ({
      rowNumber: i + 2,
      fields: fields({ email: `u${i}@corp.example.org`, name: `User ${i}`, group: "Finance" }),
      problems: ["There is no group named “Finance”."],
    }));
    const bytes = errorReportCsv(many);
    expect(text(bytes.subarray(bytes.length - 120))).toMatch(
      /u149999@corp\.example\.org,User 149999,Finance,,,,There is no group named “Finance”\.\r\n$/,
    );
  });
});
