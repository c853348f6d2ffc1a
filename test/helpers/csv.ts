/** Builds CSV files for tests. */
export const HEADER = "Email ID,Name,Group,Role,Exchange Domain,Exchange Username";

/** A UTF-8 CSV of the template's columns with these rows (cells joined as given). */
export function csvFile(rows: string[][], header = HEADER): Uint8Array {
  return new TextEncoder().encode(`${[header, ...rows.map((r) => r.join(","))].join("\r\n")}\r\n`);
}

/** `count` valid rows user0@…, user1@… in the given group. */
export function validRows(count: number, options: { prefix?: string; group?: string; role?: string } = {}): string[][] {
  const { prefix = "user", group = "Finance", role = "User" } = options;
  return Array.from({ length: count }, (_, i) => [`${prefix}${i}@corp.example.org`, `Person ${i}`, group, role, "", ""]);
}
