import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import type { UserField } from "../../src/core/errors.ts";
import { readCsv } from "../../src/csv/read.ts";
import type { CsvRow, DirectoryView, RowVerdict } from "../../src/csv/types.ts";
import { createRowValidator } from "../../src/csv/validate.ts";
import { directory, encodingFixture, expectations, FIXTURE_FILES, fixture, makeGroups } from "./support.ts";

const GROUPS = expectations().groups_to_create_first;

// users.expect.json's notes, as the verdict each noted row must get.
const NOTED: Record<string, { status: RowVerdict["status"]; codes: string[] }> = {
  "4": { status: "NEEDS_ATTENTION", codes: ["EMAIL_INVALID"] },
  "8": { status: "NEEDS_ATTENTION", codes: ["EMAIL_DUPLICATE_IN_FILE"] },
  "13": { status: "NEEDS_ATTENTION", codes: ["GROUP_UNKNOWN"] },
  "18": { status: "NEEDS_ATTENTION", codes: ["NAME_REQUIRED"] },
  "23": { status: "NEEDS_ATTENTION", codes: ["ROLE_INVALID"] },
  "28": { status: "NEEDS_ATTENTION", codes: ["EXCHANGE_DOMAIN_MISSING"] },
  "33": { status: "READY", codes: [] },
  "38": { status: "READY", codes: [] },
  "43": { status: "READY", codes: [] },
};

async function verdictsOf(bytes: Uint8Array, view: DirectoryView, chunkSize?: number) {
  const reader = await readCsv(bytes);
  const validator = createRowValidator(view);
  const verdicts: RowVerdict[] = [];
  for await (const chunk of reader.chunks(chunkSize)) verdicts.push(...(await validator.validate(chunk)));
  return { verdicts, counts: validator.counts() };
}

function row(rowNumber: number, fields: Partial<Record<UserField, string>>, blank = false): CsvRow {
  return {
    rowNumber,
    blank,
    fields: { email: "", name: "", group: "", role: "", exchangeDomain: "", exchangeUsername: "", ...fields },
  };
}

const ann = { email: "ann@corp.example.org", name: "Ann Lee", group: "Finance" };

describe("validating the shared fixtures", () => {
  it("users.expect.json notes exactly the rows this test checks", () => {
    expect(Object.keys(expectations().row_notes_spreadsheet_numbering).sort()).toEqual(Object.keys(NOTED).sort());
  });

  it.each(FIXTURE_FILES)("%s gets the verdicts users.expect.json lists", async (name) => {
    const { view } = directory(GROUPS);
    const { verdicts, counts } = await verdictsOf(fixture(name), view);
    expect(verdicts).toHaveLength(expectations().data_rows);
    for (const v of verdicts) {
      const expected = NOTED[String(v.rowNumber)] ?? { status: "READY", codes: [] };
      expect({ row: v.rowNumber, status: v.status, codes: v.issues.map((i) => i.code) }).toEqual({ row: v.rowNumber, ...expected });
    }
    expect(counts).toEqual({
      dataRows: 120,
      ready: 114,
      updates: 0,
      unchanged: 0,
      needsAttention: 6,
      blank: 0,
      administrators: 13,
      adminUpdates: 0,
    });

    const at = (n: number) => verdicts.find((v) => v.rowNumber === n)!;
    expect(at(8).issues[0]?.message).toBe("Same Email ID as row 3, which is imported.");
    expect(at(13).issues[0]?.message).toBe(
      "There is no group named “Legal”. Groups: Engineering, Finance, Help Desk, Leadership, Warehouse.",
    );
    expect(at(33).fields.email).toBe("jiri.dangelo32@corp.example.org");
    expect(at(33).ready?.value.email).toBe("jiri.dangelo32@corp.example.org");
    expect(at(38).ready?.value.name).toBe("+SUM(1,2)");
    const finance = view.groups.find((g) => g.name === "Finance")!;
    expect(at(43).fields.group).toBe("Finance");
    expect(at(43).ready).toMatchObject({ groupId: finance.id, value: { group: "Finance" } });
  });

  it("a row whose email the directory has is an update of that user, asking the directory once per chunk", async () => {
    const { view, calls } = directory(GROUPS, [{ email: "francois1@corp.example.org", name: "François Old", groupName: "Warehouse" }]);
    const { verdicts, counts } = await verdictsOf(fixture("users.libreoffice-comma-utf8.csv"), view, 50);
    const first = verdicts.find((v) => v.rowNumber === 2)!;
    expect(first.status).toBe("UPDATE");
    expect(first.issues).toEqual([]);
    expect(first.update?.changes).toMatchObject({ name: { from: "François Old" }, group: { from: "Warehouse" } });
    expect(first.fields.email).toBe("francois1@corp.example.org");
    expect(counts).toMatchObject({ ready: 113, updates: 1, needsAttention: 6 });
    // 120 rows in chunks of 50: three calls, each with that chunk's valid emails, once each.
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.length)).toEqual([48, 50, 20]); // rows 4 (invalid) and 8 (same as 3) are not asked twice
    expect(calls.flat()).toContain("jiri.dangelo32@corp.example.org");
    expect(calls.flat()).not.toContain("jane.doe@@corp.example.org");
  });
});

describe("updates of existing users", () => {
  const existing = {
    email: "kim@corp.example.org",
    name: "Kim Park",
    groupName: "Finance",
    role: "USER" as const,
    exchangeDomain: "CORP",
    exchangeUsername: "kpark",
  };
  const validate = async (cells: Partial<Record<"name" | "group" | "role" | "exchangeDomain" | "exchangeUsername", string>>) => {
    const { view } = directory(["Finance", "Sales"], [existing]);
    const [verdict] = await createRowValidator(view).validate([
      row(2, { email: "KIM@corp.example.org", name: "Kim Park", group: "Finance", ...cells }),
    ]);
    return verdict!;
  };

  it("the same values: unchanged; blank Role and Exchange cells keep what the user has", async () => {
    const same = await validate({ role: "", exchangeDomain: "", exchangeUsername: "" });
    expect(same).toMatchObject({ status: "UNCHANGED", update: { changes: {} } });
  });

  it("each changed field with its old and new value; a grant of the Administrator role counted", async () => {
    const { view } = directory(["Finance", "Sales"], [existing]);
    const validator = createRowValidator(view);
    const [verdict] = await validator.validate([
      row(2, { email: "kim@corp.example.org", name: "Kim Park-Lee", group: "sales", role: "Administrator" }),
    ]);
    expect(verdict).toMatchObject({
      status: "UPDATE",
      update: {
        userId: "user-1",
        before: { name: "Kim Park", role: "USER", exchangeDomain: "CORP", exchangeUsername: "kpark" },
        changes: {
          name: { from: "Kim Park", to: "Kim Park-Lee" },
          group: { from: "Finance", to: "Sales" },
          role: { from: "User", to: "Administrator" },
        },
      },
    });
    expect(validator.counts()).toMatchObject({ updates: 1, adminUpdates: 1, ready: 0 });
  });

  it("“-” in an Exchange cell clears the account; new values must pass the rules", async () => {
    expect((await validate({ exchangeDomain: "-", exchangeUsername: "" })).update?.changes).toEqual({
      exchange: { from: "CORP\\kpark", to: "none" },
    });
    expect((await validate({ exchangeDomain: "EU", exchangeUsername: "kim" })).update?.changes).toEqual({
      exchange: { from: "CORP\\kpark", to: "EU\\kim" },
    });
    const bad = await validate({ group: "Nowhere", exchangeDomain: "EU", exchangeUsername: "" });
    expect(bad.status).toBe("NEEDS_ATTENTION");
    expect(bad.issues.map((i) => i.code)).toEqual(["GROUP_UNKNOWN", "EXCHANGE_USERNAME_MISSING"]);
  });

  it("for a new user, “-” in the Exchange cells means no Exchange account", async () => {
    const { view } = directory(["Finance"]);
    const [verdict] = await createRowValidator(view).validate([
      row(2, { email: "new@corp.example.org", name: "New", group: "Finance", exchangeDomain: "-", exchangeUsername: "-" }),
    ]);
    expect(verdict).toMatchObject({ status: "READY", ready: { value: { exchangeDomain: null, exchangeUsername: null } } });
  });
});

describe("createRowValidator", () => {
  it("flags every later duplicate, across chunk boundaries, case and spaces aside", async () => {
    const { view } = directory(["Finance"]);
    const text = [
      "Email ID,Name,Group",
      "ann@corp.example.org,Ann,Finance",
      "bo@corp.example.org,Bo,Finance",
      "  ANN@corp.example.org ,Ann again,Finance",
      "cy@corp.example.org,Cy,Finance",
      "",
      "Ann@Corp.Example.Org,Ann thrice,Nowhere",
      "bo@corp.example.org,Bo again,Finance",
    ].join("\r\n");
    const { verdicts } = await verdictsOf(new TextEncoder().encode(text), view, 2);
    const summary = verdicts.map((v) => [v.rowNumber, v.issues.map((i) => i.message).join(" ")]);
    expect(summary).toEqual([
      [2, ""],
      [3, ""],
      [4, "Same Email ID as row 2, which is imported."],
      [5, ""],
      [7, "Same Email ID as row 2, which is imported. There is no group named “Nowhere”. Groups: Finance."],
      [8, "Same Email ID as row 3, which is imported."],
    ]);
  });

  it("asks the directory once per chunk with all of its valid emails, and not for a chunk without any", async () => {
    const { view, calls } = directory(["Finance"], ["bo@corp.example.org"]);
    const validator = createRowValidator(view);
    const first = await validator.validate([
      row(2, ann),
      row(3, { ...ann, email: "BO@corp.example.org" }),
      row(4, { ...ann, email: "not-an-email" }),
      row(5, {}, true),
    ]);
    expect(calls).toEqual([["ann@corp.example.org", "bo@corp.example.org"]]);
    expect(first.map((v) => [v.rowNumber, v.status])).toEqual([
      [2, "READY"],
      [3, "UPDATE"],
      [4, "NEEDS_ATTENTION"],
    ]);
    await validator.validate([row(6, { name: "No email" }), row(7, {}, true)]);
    expect(calls).toHaveLength(1);
    expect(validator.counts()).toEqual({
      dataRows: 4,
      ready: 1,
      updates: 1,
      unchanged: 0,
      needsAttention: 2,
      blank: 2,
      administrators: 0,
      adminUpdates: 0,
    });
  });

  it("collects every problem of a row, in column order", async () => {
    const { view } = directory(["Finance"]);
    const [verdict] = await createRowValidator(view).validate([
      row(9, { email: "bad@", group: "Legal", role: "Owner", exchangeUsername: "a b", name: "Ann\tLee" }),
    ]);
    expect(verdict?.issues.map((i) => `${i.field}:${i.code}`)).toEqual([
      "email:EMAIL_INVALID",
      "name:NAME_CONTROL_CHARS",
      "group:GROUP_UNKNOWN",
      "role:ROLE_INVALID",
      "exchangeDomain:EXCHANGE_DOMAIN_MISSING",
      "exchangeUsername:EXCHANGE_USERNAME_INVALID",
    ]);
    expect(verdict?.status).toBe("NEEDS_ATTENTION");
    expect(verdict?.ready).toBeUndefined();
  });

  it("shows normalized values where a field passed, the trimmed cell where it failed", async () => {
    const { view } = directory(["Help Desk"]);
    const [bad, good] = await createRowValidator(view).validate([
      row(2, { email: " Ann@Corp.Example.org ", name: "  Ann Lee ", group: " help desk ", role: " owner ", exchangeDomain: " CORP " }),
      row(3, {
        email: "BO@corp.example.org",
        name: "Bo",
        group: "HELP DESK",
        role: "admin",
        exchangeDomain: "CORP",
        exchangeUsername: " bo ",
      }),
    ]);
    expect(bad?.fields).toEqual({
      email: "ann@corp.example.org",
      name: "Ann Lee",
      group: "Help Desk",
      role: "owner",
      exchangeDomain: "CORP",
      exchangeUsername: "",
    });
    expect(bad?.issues.map((i) => i.code)).toEqual(["ROLE_INVALID", "EXCHANGE_USERNAME_MISSING"]);
    expect(good).toEqual({
      rowNumber: 3,
      status: "READY",
      fields: {
        email: "bo@corp.example.org",
        name: "Bo",
        group: "Help Desk",
        role: "Administrator",
        exchangeDomain: "CORP",
        exchangeUsername: "bo",
      },
      ready: {
        groupId: view.groups[0]!.id,
        value: {
          email: "bo@corp.example.org",
          name: "Bo",
          group: "Help Desk",
          role: "ADMINISTRATOR",
          exchangeDomain: "CORP",
          exchangeUsername: "bo",
        },
      },
      issues: [],
    });
  });

  it("a blank role means User; counts Administrators among READY rows only", async () => {
    const { view } = directory(["Finance"]);
    const validator = createRowValidator(view);
    const verdicts = await validator.validate([
      row(2, ann),
      row(3, { ...ann, email: "a2@corp.example.org", role: "Administrator" }),
      row(4, { ...ann, email: "a3@corp.example.org", role: "administrator", name: "" }),
    ]);
    expect(verdicts[0]?.fields.role).toBe("User");
    expect(verdicts[0]?.ready?.value.role).toBe("USER");
    expect(validator.counts()).toEqual({
      dataRows: 3,
      ready: 2,
      updates: 0,
      unchanged: 0,
      needsAttention: 1,
      blank: 0,
      administrators: 1,
      adminUpdates: 0,
    });
  });

  it("names the groups in GROUP_UNKNOWN only when there are at most 10, or says there are none", async () => {
    const unknown = async (groups: string[]) => {
      const [v] = await createRowValidator(directory(groups).view).validate([row(2, { ...ann, group: "Legal" })]);
      return v?.issues[0]?.message;
    };
    const ten = Array.from({ length: 10 }, (_, i) => `Team ${String.fromCharCode(74 - i)}`);
    expect(await unknown(ten)).toBe(`There is no group named “Legal”. Groups: ${[...ten].sort().join(", ")}.`);
    expect(await unknown([...ten, "Team K"])).toBe("There is no group named “Legal”.");
    expect(await unknown([])).toBe("There is no group named “Legal”. There are no groups yet: add one first.");
  });

  it("resolves groups case-insensitively and trimmed, keeping the directory's spelling", async () => {
    const groups = makeGroups(["Finance", "Help Desk"]);
    const validator = createRowValidator({ groups, existingUsers: async () => new Map() });
    const [v] = await validator.validate([row(2, { ...ann, group: "\u00a0HELP desk  " })]);
    expect(v?.ready?.groupId).toBe(groups[1]!.id);
    expect(v?.fields.group).toBe("Help Desk");
  });
});

describe("validating files in other encodings", () => {
  it("UTF-8 with stray bytes: exactly the rows holding them need attention, saying so; CJK names raise no control-character error", async () => {
    const { view } = directory(["Engineering", "Finance", "Warehouse"]);
    const { verdicts, counts } = await verdictsOf(encodingFixture("users.multi.utf-8-stray-bytes.csv"), view);
    expect(counts).toMatchObject({ dataRows: 28, ready: 25, needsAttention: 3 });
    expect(
      verdicts.filter((v) => v.status === "NEEDS_ATTENTION").map((v) => [v.rowNumber, v.issues.map((i) => [i.field, i.code])]),
    ).toEqual([
      [9, [["name", "INVALID_UTF8_BYTES"]]],
      [15, [["name", "INVALID_UTF8_BYTES"]]],
      [23, [["name", "INVALID_UTF8_BYTES"]]],
    ]);
    expect(verdicts.find((v) => v.rowNumber === 15)?.issues[0]?.message).toBe(
      "Name has bytes that are not valid UTF-8 (shown as �): part of the file was saved in another encoding. Correct the cell, save the file as CSV UTF-8 and upload it again.",
    );
    expect(verdicts.flatMap((v) => v.issues).filter((i) => i.code === "NAME_CONTROL_CHARS")).toEqual([]);
    expect(verdicts.find((v) => v.rowNumber === 2)?.ready?.value.name).toBe("王伟");
  });

  it("an invalid byte in the e-mail: the e-mail cell is named", async () => {
    const text = (t: string) => new TextEncoder().encode(t);
    const bytes = Uint8Array.from([...text("Email ID,Name,Group\nzoe@b.org,Zoë Łoś,Finance\nann"), 0xe9, ...text("@b.org,Ann,Finance\n")]);
    const { verdicts } = await verdictsOf(bytes, directory(["Finance"]).view);
    expect(verdicts.map((v) => v.issues.map((i) => [i.field, i.code]))).toEqual([
      [],
      [
        ["email", "INVALID_UTF8_BYTES"],
        ["email", "EMAIL_INVALID"],
      ],
    ]);
    expect(verdicts[1]?.issues[0]?.message).toMatch(/^Email ID has bytes that are not valid UTF-8/);
  });

  it("a byte the code page does not define (0xD2 in Greek): that row needs attention, saying so", async () => {
    const bytes = Buffer.from(encodingFixture("users.el.windows-1253.csv"));
    const at = bytes.indexOf(iconv.encode("Ζωή", "windows-1253"));
    bytes[at + 1] = 0xd2; // ω → a byte Windows-1253 leaves undefined
    const { verdicts } = await verdictsOf(bytes, directory(["Λογιστήριο", "Πωλήσεις", "Αποθήκη", "IT"]).view);
    const flagged = verdicts.filter((v) => v.status === "NEEDS_ATTENTION");
    expect(flagged.map((v) => [v.rowNumber, v.fields.name, v.issues.map((i) => i.code)])).toEqual([
      [23, "Ζ\ufffdή Κυριακίδου", ["UNDEFINED_BYTES"]],
    ]);
    expect(flagged[0]?.issues[0]?.message).toBe(
      "Name has bytes that the file's encoding does not define (shown as �): the file is probably in another encoding. Save it as CSV UTF-8 and upload it again.",
    );
  });

  it.each([
    ["users.pl.windows-1250.csv", ["Księgowość", "Sprzedaż", "Magazyn", "IT"], 31],
    ["users.ru.windows-1251.csv", ["Бухгалтерия", "Продажи", "Склад", "ИТ"], 34],
    ["users.el.iso-8859-7.csv", ["Λογιστήριο", "Πωλήσεις", "Αποθήκη", "IT"], 28],
    ["users.baltic.windows-1257.csv", ["Buhalterija", "Pardavimai", "Sandėlis", "IT"], 32],
  ])("%s: every row is ready, in groups named in its language", async (file, groups, rows) => {
    const { verdicts, counts } = await verdictsOf(encodingFixture(file), directory(groups).view);
    expect(counts).toMatchObject({ dataRows: rows, ready: rows, needsAttention: 0 });
    expect(verdicts.every((v) => v.issues.length === 0)).toBe(true);
  });
});
