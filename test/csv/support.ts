/** Shared helpers of the src/csv tests. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { AppError, type ErrorCode } from "../../src/core/errors.ts";
import type { ExistingUser } from "../../src/core/import/files.ts";
import type { Group } from "../../src/core/types.ts";
import { type ReadCsvOptions, readCsv } from "../../src/csv/read.ts";
import type { CsvReader, CsvRow, DirectoryView } from "../../src/csv/types.ts";
import { CSV_FIXTURES } from "../helpers/shared.ts";

/** The shared CSV fixtures. */
export const FIXTURES = CSV_FIXTURES;

export const FIXTURE_FILES = [
  "users.libreoffice-comma-utf8.csv",
  "users.libreoffice-semicolon-utf8.csv",
  "users.libreoffice-comma-cp1252.csv",
  "users.libreoffice-tab-utf16le.csv",
  "users.excel-style-utf8-bom-crlf.csv",
] as const;

export interface FixtureExpectations {
  data_rows: number;
  groups_to_create_first: string[];
  row_notes_spreadsheet_numbering: Record<string, string>;
}

export function fixture(name: string): Uint8Array {
  return readFileSync(path.join(FIXTURES, name));
}

/** LibreOffice exports of rosters in other encodings (see test/fixtures/csv/encodings/README.md). */
export const ENCODING_FIXTURES = path.join(FIXTURES, "encodings");

/** An export of test/fixtures/csv/encodings, or with `masters/` its UTF-8 master. */
export function encodingFixture(name: string): Uint8Array {
  return readFileSync(path.join(ENCODING_FIXTURES, name));
}

export function expectations(): FixtureExpectations {
  return JSON.parse(readFileSync(path.join(FIXTURES, "users.expect.json"), "utf8")) as FixtureExpectations;
}

export function makeGroups(names: readonly string[]): Group[] {
  const at = new Date("2025-01-01T00:00:00Z");
  return names.map((name, i) => ({ id: `group-${i + 1}`, name, policy: "Default", createdAt: at, updatedAt: at }));
}

/**
 * A directory with these groups and `existing` users (an email, or a user in full: by default a
 * User of the first group named like the email); calls are recorded.
 */
export function directory(groupNames: readonly string[], existing: readonly (string | (Partial<ExistingUser> & { email: string }))[] = []) {
  const calls: string[][] = [];
  const groups = makeGroups(groupNames);
  const users = existing.map((e, i): ExistingUser => {
    const given = typeof e === "string" ? { email: e } : e;
    const group = groups.find((g) => g.name === given.groupName) ?? groups[0]!;
    return {
      id: `user-${i + 1}`,
      name: given.email.split("@")[0]!,
      groupId: group.id,
      groupName: group.name,
      role: "USER",
      exchangeDomain: null,
      exchangeUsername: null,
      ...given,
    };
  });
  const view: DirectoryView = {
    groups,
    existingUsers: async (emails) => {
      calls.push([...emails]);
      return new Map(users.filter((u) => emails.includes(u.email)).map((u) => [u.email, u]));
    },
  };
  return { view, calls };
}

/** UTF-8 bytes of a text (no BOM unless the text starts with one). */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export async function read(text: string | Uint8Array, options?: ReadCsvOptions): Promise<CsvReader> {
  return readCsv(typeof text === "string" ? utf8(text) : text, options);
}

/** Every row of the reader, chunks flattened. */
export async function allRows(reader: CsvReader, chunkSize?: number): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const chunk of reader.chunks(chunkSize)) rows.push(...chunk);
  return rows;
}

/** The AppError a promise rejects with, checked to carry `code`. */
export async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe(code);
  return error as AppError;
}
