/**
 * Fixes in place, without uploading the file again: rows needing attention checked again against
 * the directory as it is now (after "Create group X" made their group), or one row saved with new
 * values from the Add user form ("Fix a row"). The summary's counts follow.
 */

import { addGroup } from "../add-group.ts";
import { actorDetails } from "../authorize.ts";
import type { CoreDeps } from "../deps.ts";
import { AppError, ErrorCode } from "../errors.ts";
import type { Repositories } from "../ports.ts";
import { groupInputSchema, type UserInput, userInputSchema } from "../schemas.ts";
import type { Actor, Group } from "../types.ts";
import { administratorAndBatch, loadBatch, stateError } from "./common.ts";
import type { FileRow, RowVerdict, ValidationCounts } from "./files.ts";
import type { ImportBatch, ImportCounts, ImportRowRecord } from "./types.ts";

/** A stored row as the file format reads it again (its cells as stored). */
function asFileRow(row: ImportRowRecord): FileRow {
  return {
    rowNumber: row.rowNumber,
    blank: false,
    fields: {
      email: row.email,
      name: row.name,
      group: row.groupName,
      role: row.role,
      exchangeDomain: row.exchangeDomain,
      exchangeUsername: row.exchangeUsername,
    },
  };
}

const deltasOf = (c: ValidationCounts, rechecked: number): Partial<ImportCounts> => ({
  readyRows: c.ready,
  updateRows: c.updates,
  unchangedRows: c.unchanged,
  attentionRows: c.needsAttention - rechecked,
  adminRows: c.administrators,
  adminUpdateRows: c.adminUpdates,
});

/** Checks `rows` again (as given) against the directory and the rest of the batch, and stores the verdicts. */
async function recheck(
  deps: CoreDeps,
  tx: Repositories,
  batch: ImportBatch,
  rows: readonly FileRow[],
): Promise<{ batch: ImportBatch; verdicts: RowVerdict[] }> {
  const numbers = rows.map((r) => r.rowNumber);
  const emails = rows.map((r) => r.fields.email.trim().toLowerCase()).filter(Boolean);
  const firstRows = await tx.imports.firstRowsOf(batch.id, emails, numbers);
  const validator = deps.files.validator(
    { groups: await tx.imports.allGroups(), existingUsers: (e) => tx.imports.existingUsers(e) },
    { firstRows },
  );
  const verdicts = await validator.validate(rows);
  const updated = await tx.imports.replaceAttentionRows(batch.id, verdicts, deltasOf(validator.counts(), rows.length));
  if (!updated) throw stateError(await loadBatch(tx, batch.id));
  return { batch: updated, verdicts };
}

/** Create group X from a summary: the group (as add-group makes it), then the rows naming it checked again. */
export async function createGroupForImport(
  deps: CoreDeps,
  { actor, batchId, group }: { actor: Actor; batchId: string; group: string },
): Promise<{ group: Group; batch: ImportBatch; fixed: number }> {
  const { batch } = await administratorAndBatch(deps.store, actor, batchId);
  if (batch.status !== "VALIDATED") throw stateError(batch);
  const name = groupInputSchema.parse({ name: group, policy: "" }).name;
  const created = (await deps.store.groups.findByName(name)) ?? (await addGroup(deps, { actor, input: { name } }));
  const result = await deps.store.transaction(
    async (tx) => {
      const rows = await tx.imports.attentionRows(batch.id, { groupName: name });
      if (rows.length === 0) return { batch, fixed: 0 };
      const { batch: updated, verdicts } = await recheck(deps, tx, batch, rows.map(asFileRow));
      const fixed = verdicts.filter((v) => v.status !== "NEEDS_ATTENTION").length;
      await tx.audit.record({
        actor: actor.email,
        action: "import.recheck",
        subject: `import:${batch.code}`,
        details: { ...actorDetails(actor), batchId: batch.id, group: created.name, rows: rows.length, fixed },
      });
      return { batch: updated, fixed };
    },
    { timeoutMs: 300_000 },
  );
  return { group: created, ...result };
}

/** The row of a batch a Fix a row form shows: its cells and its problems. */
export async function importRow(
  deps: CoreDeps,
  { actor, batchId, rowNumber }: { actor: Actor; batchId: string; rowNumber: number },
): Promise<ImportRowRecord> {
  const { batch } = await administratorAndBatch(deps.store, actor, batchId);
  const [row] = await deps.store.imports.attentionRows(batch.id, { rowNumbers: [rowNumber] });
  if (!row) throw new AppError(ErrorCode.NOT_FOUND, `Row ${rowNumber} of import ${batch.code} does not need attention (any more).`);
  return row;
}

/**
 * Fix a row: the row saved with the form's values, checked again. When it passes it joins the
 * batch (ready, or an update) and the counts follow; otherwise nothing is stored and the problems
 * come back next to the fields (VALIDATION_FAILED).
 */
export async function fixImportRow(
  deps: CoreDeps,
  { actor, batchId, rowNumber, input }: { actor: Actor; batchId: string; rowNumber: number; input: UserInput },
): Promise<{ batch: ImportBatch; verdict: RowVerdict }> {
  const { batch } = await administratorAndBatch(deps.store, actor, batchId);
  if (batch.status !== "VALIDATED") throw stateError(batch);
  const values = userInputSchema.parse(input);
  return deps.store.transaction(async (tx) => {
    const [row] = await tx.imports.attentionRows(batch.id, { rowNumbers: [rowNumber] });
    if (!row) throw new AppError(ErrorCode.NOT_FOUND, `Row ${rowNumber} of import ${batch.code} does not need attention (any more).`);
    const fileRow: FileRow = { rowNumber, blank: false, fields: { ...values } };
    // Checked first without storing: a row that still fails leaves the batch as it was.
    const emails = [values.email.toLowerCase()].filter(Boolean);
    const firstRows = await tx.imports.firstRowsOf(batch.id, emails, [rowNumber]);
    const probe = deps.files.validator(
      { groups: await tx.imports.allGroups(), existingUsers: (e) => tx.imports.existingUsers(e) },
      { firstRows },
    );
    const [verdict] = await probe.validate([fileRow]);
    if (!verdict || verdict.status === "NEEDS_ATTENTION") throw AppError.validation(verdict?.issues ?? []);
    const { batch: updated } = await recheck(deps, tx, batch, [fileRow]);
    await tx.audit.record({
      actor: actor.email,
      action: "import.fix_row",
      subject: `import:${batch.code}`,
      details: { ...actorDetails(actor), batchId: batch.id, rowNumber, email: verdict.fields.email, status: verdict.status },
    });
    return { batch: updated, verdict };
  });
}
