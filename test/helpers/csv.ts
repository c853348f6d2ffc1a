/** Builds CSV files for tests, and reads back the ones the bot sends. */
import { parse } from "csv-parse/sync";

export const HEADER = "Email ID,Name,Group,Role,Exchange Domain,Exchange Username";

/** A UTF-8 CSV of the template's columns with these rows (cells joined as given, with `delimiter`). */
export function csvFile(rows: string[][], header = HEADER, delimiter = ","): Uint8Array {
  const lines = [header.split(",").join(delimiter), ...rows.map((r) => r.join(delimiter))];
  return new TextEncoder().encode(`${lines.join("\r\n")}\r\n`);
}

/** `count` valid rows user0@…, user1@… in the given group. */
export function validRows(count: number, options: { prefix?: string; group?: string; role?: string } = {}): string[][] {
  const { prefix = "user", group = "Finance", role = "User" } = options;
  return Array.from({ length: count }, (_, i) => [`${prefix}${i}@corp.example.org`, `Person ${i}`, group, role, "", ""]);
}

/**
 * A CSV the bot sent (an error report, a results file), parsed with `delimiter` as a spreadsheet
 * of that list separator reads it: one record per row, keyed by the header's cells.
 */
export function readBack(content: Uint8Array | string, delimiter = ","): Record<string, string>[] {
  return parse(typeof content === "string" ? content : Buffer.from(content), { delimiter, bom: true, columns: true });
}

/** The header row of a CSV the bot sent, split with `delimiter`. */
export function headerOf(content: Uint8Array | string, delimiter = ","): string[] {
  const [header] = parse(typeof content === "string" ? content : Buffer.from(content), { delimiter, bom: true, to: 1 }) as string[][];
  return header ?? [];
}
