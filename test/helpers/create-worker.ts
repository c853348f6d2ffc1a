/**
 * A separate process that creates an import's accounts and prints its progress, so a test
 * can kill it with SIGKILL mid-way. Usage: node --import tsx create-worker.ts <pglite-dir | postgresql-url> <batchId>
 */
import { createCore } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { openDatabase } from "../../src/db/database.ts";
import { createStore } from "../../src/db/store.ts";

const [target, batchId] = process.argv.slice(2) as [string, string];
const db = await openDatabase(target.startsWith("postgres") ? { kind: "postgresql", url: target } : { kind: "pglite", dataDir: target });
const core = createCore({ files: csvImportFormat, store: createStore(db), now: () => new Date() });
await core.createAccounts({
  batchId,
  chunkSize: 50,
  onProgress: (p) => {
    process.stdout.write(`progress ${p.done}\n`);
  },
});
process.stdout.write("done\n");
await db.close();
