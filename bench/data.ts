/**
 * The benchmarks' data, shared by bench/import.ts (the engine) and bench/e2e.ts (the product):
 * the groups, the import file (accents and CJK names, ~5% bad rows, in-file duplicates, rows for
 * users already in the directory), the users the directory holds before it, and an export-like
 * file of those users with a share of the rows changed (an update run).
 */
import { directoryCsv } from "../src/csv/write.ts";
import type { Database } from "../src/db/database.ts";

export const GROUPS = ["Finance", "Engineering", "Warehouse", "Leadership", "Help Desk", "Field Sales", "Legal Ops", "Support"];
export const FIRST = [
  "François",
  "Zsófia",
  "Bjørn",
  "Øystein",
  "Ümit",
  "Jiří",
  "Eun-ji",
  "Rūta",
  "Nuria",
  "小林",
  "王",
  "Amélie",
  "Kwame",
  "Saoirse",
  "Grzegorz",
  "Lucía",
];
export const LAST = [
  "Castañeda",
  "Ivanović",
  "Grünewald",
  "Hernández, Jr.",
  "Lefèvre",
  "D'Angelo",
  "Østergaard",
  "Åberg",
  "佐藤",
  "Nowak",
  "Jäger",
  "Bergström",
];

const cell = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** A generated import file and how many rows of each kind it has. */
export interface GeneratedFile {
  text: string;
  bad: number;
  duplicates: number;
  /** Rows naming a user already in the directory (updates since issue 12). */
  taken: number;
}

/**
 * The CSV: `rows` rows of `<prefix><i>@corp.example.org`; of every 100, one bad email, one
 * unknown group, one bad role, one half Exchange account, one duplicate of the row before, and
 * (for i < `existing`) one naming a user of the directory (`existing<i>@…`).
 */
export function generateFile(
  rows: number,
  { existing = 100_000, prefix = "user" }: { existing?: number; prefix?: string } = {},
): GeneratedFile {
  const lines = ["Email ID,Name,Group,Role,Exchange Domain,Exchange Username"];
  let bad = 0;
  let duplicates = 0;
  let taken = 0;
  for (let i = 0; i < rows; i++) {
    const name = `${FIRST[i % FIRST.length]} ${LAST[(i * 7) % LAST.length]}`;
    let email = `${prefix}${i}@corp.example.org`;
    let group = GROUPS[i % GROUPS.length]!;
    let role = i % 50 === 0 ? "Administrator" : "User";
    let exchange = i % 3 === 0 ? ["CORPNET", `${prefix}${i}`] : ["", ""];
    const r = i % 100;
    if (r === 7) {
      email = `${prefix}${i}@@corp.example.org`;
      bad++;
    } else if (r === 17) {
      group = "Nonexistent";
      bad++;
    } else if (r === 27) {
      role = "Superuser";
      bad++;
    } else if (r === 37) {
      exchange = ["CORPNET", ""];
      bad++;
    } else if (r === 47) {
      email = `${prefix.toUpperCase()}${i - 1}@corp.example.org`;
      duplicates++;
    } else if (r === 57 && i < existing) {
      email = `existing${i}@corp.example.org`;
      taken++;
    }
    lines.push([email, name, group, role, ...exchange].map(cell).join(","));
  }
  return { text: `${lines.join("\r\n")}\r\n`, bad, duplicates, taken };
}

/** User n of the directory as seeded (and as an export shows them). */
export function existingUser(n: number): {
  email: string;
  name: string;
  group: string;
  role: string;
  exchangeDomain: string;
  exchangeUsername: string;
} {
  const exchange = n % 3 === 0;
  return {
    email: `existing${n}@corp.example.org`,
    name: `${FIRST[n % FIRST.length]} ${LAST[(n * 7) % LAST.length]}`,
    group: GROUPS[n % GROUPS.length]!,
    role: "User",
    exchangeDomain: exchange ? "CORPNET" : "",
    exchangeUsername: exchange ? `existing${n}` : "",
  };
}

const sqlText = (v: string) => `'${v.replace(/'/g, "''")}'`;
const sqlArray = (values: readonly string[]) => `ARRAY[${values.map(sqlText).join(", ")}]`;

/** Adds users existing0 … existing<count-1> (the values of existingUser) to a directory that has the GROUPS. */
export async function seedExistingUsers(db: Database, count: number): Promise<void> {
  if (count === 0) return;
  await db.sql.exec(`
    INSERT INTO "User" ("email", "name", "role", "groupId", "exchangeDomain", "exchangeUsername", "createdBy")
    SELECT 'existing' || n || '@corp.example.org',
      (${sqlArray(FIRST)})[n % ${FIRST.length} + 1] || ' ' || (${sqlArray(LAST)})[(n * 7) % ${LAST.length} + 1],
      'USER', g."id",
      CASE WHEN n % 3 = 0 THEN 'CORPNET' END, CASE WHEN n % 3 = 0 THEN 'existing' || n END, 'bench'
    FROM generate_series(0, ${count - 1}) AS n
      JOIN "Group" g ON g."name" = (${sqlArray(GROUPS)})[n % ${GROUPS.length} + 1]`);
}

/**
 * An export of users existing0 … existing<rows-1> (the bot's export format: UTF-8 with a BOM,
 * CRLF) edited in a spreadsheet: every other row changed (alternately the group, the name, the
 * Exchange account). `changed` rows become updates, the others are unchanged.
 */
export async function updateFile(rows: number): Promise<{ bytes: Uint8Array; changed: number }> {
  let changed = 0;
  async function* pages() {
    for (let from = 0; from < rows; from += 5_000) {
      const page = [];
      for (let n = from; n < Math.min(rows, from + 5_000); n++) {
        const user = existingUser(n);
        if (n % 2 === 0) {
          changed++;
          const kind = (n / 2) % 3;
          if (kind === 0) user.group = GROUPS[(n + 1) % GROUPS.length]!;
          else if (kind === 1) user.name = `${user.name} Jr`;
          else {
            user.exchangeDomain = "CORPNET2";
            user.exchangeUsername = `e${n}`;
          }
        }
        page.push(user);
      }
      yield page;
    }
  }
  const bytes = await directoryCsv(pages());
  return { bytes, changed };
}
