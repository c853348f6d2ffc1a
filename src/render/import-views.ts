/**
 * Views of the import flow: the template, the upload form, the summary of a batch in each of its
 * states (validated → waiting for approval → creating → created → finished, or closed), the
 * approval request and the reject form. Platform-free: ids of buttons and forms are ours, the
 * renderers decide markup and limits (how many rows needing attention fit, for instance).
 */
import {
  awaitsInviteOrFinish,
  CLOSED_IMPORT_STATUSES as CLOSED,
  describeChanges,
  type ImportBatch,
  type ImportRowRecord,
  type InvitationCounts,
  type ProblemGroup,
} from "../core/index.ts";
import { fileReadBlocks } from "./file-read.ts";
import type { Block, Button, Field, Form, Inline, Message, RichText, Spell } from "./model.ts";
import { addUserForm } from "./views.ts";

/** Button ids of the import flow (stable: messages already posted carry them). */
export const IMPORT_ACTIONS = {
  create: "hms_import_create",
  /** Create N and update M: the accounts and the changes to existing users. */
  createAndUpdate: "hms_import_create_update",
  /** Create group X: the fix in place for an unknown group. */
  createGroup: "hms_import_create_group",
  /** Fix a row: pick a row needing attention and fix it in a form. */
  fixRow: "hms_import_fix_row",
  /** Resend the failed invitations of a finished import. */
  resend: "hms_import_resend_failed",
  cancel: "hms_import_cancel",
  approve: "hms_import_approve",
  reject: "hms_import_reject",
  finish: "hms_import_finish",
  invite: "hms_import_invite",
} as const;

export const IMPORT_FORM_ID = "hms_import_upload";
export const IMPORT_FILE_INPUT = "file";
export const REJECT_FORM_ID = "hms_import_reject";
export const REJECT_REASON_INPUT = "reason";

/** How much of the file's SHA-256 an approval button carries (and the request shows). */
export const SHA256_PREFIX_LENGTH = 12;

/** A person to mention: their platform id when known, else shown by name (an email). */
export interface Person {
  name: string;
  platformId?: string;
}

const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;
const at = (date: Date | null) => (date ? `${date.toISOString().replace("T", " ").slice(0, 16)} UTC` : "");

function mentions(people: readonly Person[]): Inline[] {
  return people.flatMap((p, i): Inline[] => [...(i > 0 ? [", "] : []), { mention: p.name, platformId: p.platformId }]);
}

/** The value of Approve and Reject: the batch and the content they decide on. */
export function approvalValue(batch: Pick<ImportBatch, "id" | "sha256">): string {
  return `${batch.id}:${batch.sha256.slice(0, SHA256_PREFIX_LENGTH)}`;
}

export function parseApprovalValue(value: string): { batchId: string; sha256Prefix?: string } {
  const [batchId = "", sha256Prefix] = value.split(":");
  return { batchId, sha256Prefix: sha256Prefix || undefined };
}

/** The template's comment: what it is, how to fill it in, and `sendHint`, how to send it back on this platform. */
export function importTemplateMessage({ fileName, howTo, sendHint }: { fileName: string; howTo: string; sendHint: RichText }): Message {
  return {
    summary: `The HMS import template: ${fileName}`,
    blocks: [
      { type: "section", text: [{ bold: "The HMS import template" }, " is attached: ", { code: fileName }, "."] },
      { type: "section", text: howTo },
      { type: "context", text: sendHint },
    ],
  };
}

export function importFileForm({ metadata, spell }: { metadata?: string; spell: Spell }): Form {
  return {
    id: IMPORT_FORM_ID,
    title: "Import users",
    submitLabel: "Check file",
    cancelLabel: "Cancel",
    metadata,
    intro: [
      {
        type: "section",
        text: "Choose the CSV file of users. Nothing is created yet: you get a summary first, with the rows that need attention.",
      },
    ],
    inputs: [
      {
        type: "file",
        id: IMPORT_FILE_INPUT,
        label: "CSV file",
        fileTypes: ["csv"],
        maxFiles: 1,
        hint: `Saved from the template (${spell("template")}), one row per user.`,
      },
    ],
  };
}

export function rejectReasonForm({ code, metadata }: { code: string; metadata?: string }): Form {
  return {
    id: REJECT_FORM_ID,
    title: "Reject import",
    submitLabel: "Reject",
    cancelLabel: "Back",
    metadata,
    intro: [{ type: "section", text: ["Reject import ", { bold: code }, "? The requester will see the reason."] }],
    inputs: [
      {
        type: "text",
        id: REJECT_REASON_INPUT,
        label: "Reason",
        multiline: true,
        maxLength: 500,
        placeholder: "Why the accounts should not be created",
      },
    ],
  };
}

/** A file that could not be read as an import (not a CSV, empty, too large, missing columns). */
export function importFileRefusedMessage({ fileName, problem }: { fileName: string; problem: string }): Message {
  return {
    summary: `${fileName} was not imported: ${problem}`,
    blocks: [{ type: "section", text: [{ code: fileName }, " was not imported. ", problem] }],
  };
}

/** What an older summary of a batch becomes when the same file is shared again (it keeps no buttons). */
export function importSupersededMessage({ batch }: { batch: Pick<ImportBatch, "code" | "fileName"> }): Message {
  const text = `Import ${batch.code} (${batch.fileName}): the same file was shared again, so this summary moved to a newer message. Use the buttons there.`;
  return { summary: text, blocks: [{ type: "section", text }] };
}

/** The error report's title and comment: what the file holds, and how to send it back. */
export function importReportMessage({ batch, rows }: { batch: Pick<ImportBatch, "code" | "fileName">; rows: number }): {
  title: string;
  comment: Message;
} {
  const which = rows === 1 ? "The row" : `The ${count(rows)} rows`;
  const text = `${which} of import ${batch.code} that need${rows === 1 ? "s" : ""} attention, with the problems in the last column. Row is the row number in ${batch.fileName}, as the summary gives it. Fix them and upload the file again: the Row and Problems columns are ignored then.`;
  return { title: `Rows needing attention in import ${batch.code}`, comment: { summary: text, blocks: [{ type: "section", text }] } };
}

/** The results file's title and comment: what happened to every row, counted. */
export function importResultsMessage({
  batch,
  rows,
  counts,
}: {
  batch: Pick<ImportBatch, "code" | "fileName">;
  rows: number;
  counts: Readonly<Record<"created" | "updated" | "unchanged" | "skipped" | "failed", number>>;
}): { title: string; comment: Message } {
  const tally = [
    `${count(counts.created)} created`,
    ...(counts.updated > 0 ? [`${count(counts.updated)} updated`] : []),
    ...(counts.unchanged > 0 ? [`${count(counts.unchanged)} unchanged`] : []),
    `${count(counts.skipped)} skipped`,
    `${count(counts.failed)} failed`,
  ].join(", ");
  const summary = `Results of import ${batch.code}: ${tally}.`;
  return {
    title: `Results of import ${batch.code}`,
    comment: {
      summary,
      blocks: [
        {
          type: "section",
          text: [
            { bold: `Results of import ${batch.code}` },
            `: what happened to each of the ${plural(rows, "row")} of `,
            { code: batch.fileName },
            ` — ${tally}.`,
          ],
        },
        {
          type: "context",
          text: "Row is the row number in the uploaded file; Result says created, updated, unchanged, skipped or failed, and Details why.",
        },
      ],
    },
  };
}

export interface ImportView {
  batch: ImportBatch;
  /** The same file uploaded again while its batch was open: this is the earlier check. */
  reused?: boolean;
  /** The first rows needing attention (or skipped, or failed), in row order. */
  attention: readonly ImportRowRecord[];
  /** Their problems by kind, with how many rows have each. */
  problems?: readonly ProblemGroup[];
  /** The first rows that change existing users. */
  changes?: readonly ImportRowRecord[];
  invitations?: InvitationCounts;
  /** Accounts decided so far while creating. */
  progress?: { done: number; total: number };
  /** Who may approve, while the batch waits for them. */
  approvers?: readonly Person[];
  /** False: no mail server, invitations stay pending. */
  mailConfigured?: boolean;
  /** Columns of the file that were ignored. */
  unknownColumns?: readonly string[];
}

function rowLine(row: ImportRowRecord): RichText {
  const reasons = row.issues.map((i) => i.message).join(" ");
  return [{ bold: `Row ${row.rowNumber}` }, `${row.email ? ` (${row.email})` : ""}: ${reasons || row.status.toLowerCase()}`];
}

/** A kind of problem as the summary names it. */
const PROBLEM_LABELS: Readonly<Record<string, (value?: string) => string>> = {
  EMAIL_REQUIRED: () => "Email ID missing",
  EMAIL_INVALID: () => "Email ID not a valid address",
  EMAIL_DUPLICATE_IN_FILE: () => "Email ID repeated in the file",
  EMAIL_TAKEN: () => "Email ID already in the directory",
  USER_CHANGED: () => "User changed since the file was checked",
  NAME_REQUIRED: () => "Name missing",
  NAME_TOO_LONG: () => "Name too long",
  NAME_CONTROL_CHARS: () => "Control character in the name",
  GROUP_REQUIRED: () => "Group missing",
  GROUP_UNKNOWN: (value) => (value ? `Unknown group “${value}”` : "Unknown group"),
  ROLE_INVALID: () => "Role neither Administrator nor User",
  EXCHANGE_DOMAIN_MISSING: () => "Exchange username without a domain",
  EXCHANGE_USERNAME_MISSING: () => "Exchange domain without a username",
  EXCHANGE_DOMAIN_INVALID: () => "Exchange domain not valid",
  EXCHANGE_USERNAME_INVALID: () => "Exchange username not valid",
  INVALID_UTF8_BYTES: () => "Bytes that are not valid UTF-8",
  UNDEFINED_BYTES: () => "Bytes the file's code page does not define",
};

/** "Unknown group “Marketing” — 113 rows (4, 9, 12, …)" */
function problemLine(group: ProblemGroup): RichText {
  const label = PROBLEM_LABELS[group.code]?.(group.value) ?? group.code;
  const more = group.rows > group.firstRows.length ? ", …" : "";
  return [{ bold: label }, ` — ${plural(group.rows, "row")} (${group.firstRows.join(", ")}${more})`];
}

/** "Row 5 (jane@…): Group: Sales → Field Ops; Role: User → Administrator" */
function changeLine(row: ImportRowRecord): RichText {
  const grant = row.changes?.role?.to === "Administrator" ? " (grants the Administrator role)" : "";
  return [{ bold: `Row ${row.rowNumber}` }, ` (${row.email}): ${describeChanges(row.changes)}${grant}`];
}

/** Example rows with their problems, after the groups: about this many in all. */
export const EXAMPLE_ROWS = 10;
/** Unknown groups a summary offers to create in place, at most. */
const GROUP_FIXES = 3;
/** Create asks "Are you sure?" from this many accounts on. */
export const CONFIRM_FROM = 100;

/** The value of "Create group X": the batch and the group. */
export function groupFixValue(batchId: string, group: string): string {
  return JSON.stringify({ b: batchId, g: group });
}

export function parseGroupFixValue(value: string): { batchId: string; group: string } {
  try {
    const parsed = JSON.parse(value) as { b?: unknown; g?: unknown };
    return { batchId: typeof parsed.b === "string" ? parsed.b : "", group: typeof parsed.g === "string" ? parsed.g : "" };
  } catch {
    return { batchId: "", group: "" };
  }
}

const CREATION_STATES: readonly string[] = ["APPROVED", "CREATING", "CREATED", "INVITING", "FINISHED"];

/** The Create buttons: accounts only, and with the updates when there are some ("Are you sure?" when many). */
function createButtons(batch: ImportBatch): Button[] {
  const buttons: Button[] = [];
  const confirm = (n: number, what: string): Button["confirm"] =>
    n >= CONFIRM_FROM
      ? {
          title: `${what}?`,
          text: `${what} in HMS${batch.adminRows + batch.adminUpdateRows > 0 ? ", some of them Administrators" : ""}. This cannot be undone from the summary.`,
          confirm: "Go ahead",
          deny: "Not yet",
        }
      : undefined;
  if (batch.readyRows > 0) {
    const what = `Create ${plural(batch.readyRows, "account")}`;
    buttons.push({ id: IMPORT_ACTIONS.create, label: what, value: batch.id, style: "primary", confirm: confirm(batch.readyRows, what) });
  }
  if (batch.updateRows > 0) {
    const what =
      batch.readyRows > 0
        ? `Create ${count(batch.readyRows)} and update ${count(batch.updateRows)}`
        : `Update ${plural(batch.updateRows, "user")}`;
    buttons.push({
      id: IMPORT_ACTIONS.createAndUpdate,
      label: what,
      value: batch.id,
      style: batch.readyRows > 0 ? undefined : "primary",
      confirm: confirm(batch.readyRows + batch.updateRows, what),
    });
  }
  return buttons;
}

/** The batch's summary in its current state: what the admin sees where the file was sent. */
export function importMessage(view: ImportView): Message {
  const { batch } = view;
  const created =
    (CREATION_STATES.includes(batch.status) && batch.status !== "APPROVED") ||
    (batch.status === "FAILED" && batch.createdRows + batch.updatedRows + batch.skippedRows + batch.failedRows > 0);
  const fields: Field[] = [
    { label: "Data rows", value: count(batch.dataRows) },
    { label: "Ready", value: count(batch.readyRows) },
    ...(batch.updateRows > 0 ? [{ label: "To update", value: count(batch.updateRows) }] : []),
    ...(batch.unchangedRows > 0 ? [{ label: "Unchanged", value: count(batch.unchangedRows) }] : []),
    { label: "Need attention", value: count(batch.attentionRows) },
    { label: "Blank", value: count(batch.blankRows) },
  ];
  if (created) {
    fields.push(
      { label: "Created", value: count(batch.createdRows) },
      ...(batch.includeUpdates ? [{ label: "Updated", value: count(batch.updatedRows) }] : []),
      { label: "Skipped", value: count(batch.skippedRows) },
      { label: "Failed", value: count(batch.failedRows) },
    );
  }
  const blocks: Block[] = [{ type: "section", text: [{ bold: `Import ${batch.code}` }, " · ", { code: batch.fileName }], fields }];
  blocks.push(...fileReadBlocks(batch));

  let summary: string;
  const buttons: Button[] = [];
  switch (batch.status) {
    case "VALIDATED": {
      summary = `Import ${batch.code}: ${plural(batch.readyRows, "account")} ready, ${plural(batch.attentionRows, "row")} need attention.`;
      const work = batch.readyRows + batch.updateRows;
      if (work === 0 && batch.attentionRows === 0) {
        summary = `Import ${batch.code}: nothing to change.`;
        blocks.push({ type: "section", text: "Nothing to change: every user in the file is already as it says." });
      } else if (work === 0) {
        blocks.push({
          type: "section",
          text: "No row is ready. Fix the rows below (the report lists them all) and upload the file again.",
        });
      } else if (batch.attentionRows > 0) {
        blocks.push({
          type: "section",
          text: `Fix the rows below (the report lists them all) and upload the corrected file for a new summary, or go ahead with the ${plural(work, "ready row")} now.`,
        });
      } else {
        blocks.push({
          type: "section",
          text: batch.updateRows > 0 ? "Every row is ready." : `Every row is ready. Create the ${plural(batch.readyRows, "account")}?`,
        });
      }
      if (batch.adminRows + batch.adminUpdateRows > 0) {
        const grants = batch.adminRows + batch.adminUpdateRows;
        blocks.push({ type: "context", text: `${plural(grants, "row")} ${grants === 1 ? "grants" : "grant"} the Administrator role.` });
      }
      buttons.push(...createButtons(batch));
      // A fix in place: an unknown group can be created here, and the rows checked again.
      for (const problem of view.problems?.filter((p) => p.code === "GROUP_UNKNOWN" && p.value).slice(0, GROUP_FIXES) ?? []) {
        buttons.push({
          id: IMPORT_ACTIONS.createGroup,
          label: `Create group ${problem.value}`,
          value: groupFixValue(batch.id, problem.value!),
        });
      }
      if (batch.attentionRows > 0) buttons.push({ id: IMPORT_ACTIONS.fixRow, label: "Fix a row", value: batch.id });
      buttons.push({ id: IMPORT_ACTIONS.cancel, label: work === 0 && batch.attentionRows === 0 ? "Close" : "Cancel", value: batch.id });
      break;
    }
    case "AWAITING_APPROVAL": {
      summary = `Import ${batch.code} is waiting for approval.`;
      const who = view.approvers?.length ? [" by ", ...mentions(view.approvers)] : [];
      blocks.push({
        type: "section",
        text: ["Waiting for approval", ...who, batch.approvalExpiresAt ? ` (until ${at(batch.approvalExpiresAt)})` : "", "."],
      });
      buttons.push({ id: IMPORT_ACTIONS.cancel, label: "Cancel", value: batch.id });
      break;
    }
    case "APPROVED":
    case "CREATING": {
      const done = view.progress?.done ?? batch.createdRows + batch.updatedRows + batch.skippedRows + batch.failedRows;
      const total = view.progress?.total ?? batch.readyRows + (batch.includeUpdates ? batch.updateRows : 0);
      summary = `Import ${batch.code}: creating accounts… ${count(done)} / ${count(total)}`;
      if (batch.decidedBy)
        blocks.push({ type: "context", text: `Approved by ${batch.decidedBy}${batch.decidedAt ? ` at ${at(batch.decidedAt)}` : ""}.` });
      blocks.push({ type: "progress", label: "Creating accounts…", done, total });
      break;
    }
    case "CREATED":
      summary = `Import ${batch.code}: ${plural(batch.createdRows, "account")} created, ${count(batch.skippedRows)} skipped, ${count(batch.failedRows)} failed.`;
      blocks.push({
        type: "section",
        text: [
          "Accounts created: ",
          { bold: `${count(batch.createdRows)} created` },
          `, ${count(batch.skippedRows)} skipped, ${count(batch.failedRows)} failed. Invite the new users to enroll their devices, or finish without inviting.`,
        ],
      });
      buttons.push(
        { id: IMPORT_ACTIONS.invite, label: "Invite the imported users to enroll", value: batch.id, style: "primary" },
        { id: IMPORT_ACTIONS.finish, label: "Finish", value: batch.id },
      );
      break;
    case "INVITING":
      summary = `Import ${batch.code}: inviting the imported users…`;
      blocks.push({ type: "section", text: "Inviting the imported users to enroll…" });
      break;
    case "FINISHED": {
      const inv = view.invitations;
      const invited = inv && inv.sent + inv.pending + inv.failed > 0;
      if (invited) {
        summary = `Import ${batch.code} finished: ${plural(inv.sent, "invitation")} sent, ${count(inv.pending)} pending, ${count(inv.failed)} failed.`;
        blocks.push({
          type: "section",
          text: [
            "Finished. Invitations: ",
            { bold: `${count(inv.sent)} sent` },
            `, ${count(inv.pending)} pending, ${count(inv.failed)} failed.`,
          ],
        });
        if (view.mailConfigured === false)
          blocks.push({ type: "context", text: "No mail server is configured (SMTP_URL): invitations stay pending until one is." });
        else if (inv.pending + inv.failed > 0)
          blocks.push({ type: "context", text: "Pending and failed invitations are retried automatically." });
        if (inv.failed > 0 && view.mailConfigured !== false) {
          buttons.push({ id: IMPORT_ACTIONS.resend, label: `Resend ${plural(inv.failed, "failed invitation")}`, value: batch.id });
        }
      } else {
        summary = `Import ${batch.code} finished: ${plural(batch.createdRows, "account")} created, no invitations sent.`;
        blocks.push({ type: "section", text: `Finished: ${plural(batch.createdRows, "account")} created, no invitations sent.` });
      }
      break;
    }
    case "CANCELLED":
      summary = `Import ${batch.code} was cancelled.`;
      blocks.push({ type: "section", text: `Cancelled${batch.decidedBy ? ` by ${batch.decidedBy}` : ""}. Nothing was created.` });
      break;
    case "REJECTED":
      summary = `Import ${batch.code} was rejected.`;
      blocks.push({
        type: "section",
        text: [`Rejected by ${batch.decidedBy ?? "an approver"}`, batch.reason ? `: “${batch.reason}”` : "", ". Nothing was created."],
      });
      break;
    case "EXPIRED":
      if (batch.approvalRequestedAt) {
        summary = `The approval request for import ${batch.code} expired.`;
        blocks.push({ type: "section", text: "The approval request expired. Nothing was created; upload the file again to start over." });
      } else {
        summary = `Import ${batch.code} expired before anyone clicked Create.`;
        blocks.push({
          type: "section",
          text: `${batch.reason ?? "Not confirmed in time."} Nothing was created; upload the file again to check it against the directory as it is now.`,
        });
      }
      break;
    case "FAILED": {
      summary = `Import ${batch.code} failed.`;
      blocks.push({ type: "section", text: `Failed${batch.reason ? `: ${batch.reason}` : "."}` });
      const notCreated = batch.readyRows - batch.createdRows - batch.skippedRows - batch.failedRows;
      const again =
        notCreated > 0
          ? ` Not reached: ${plural(notCreated, "ready row")}; upload the file again to create them (the accounts made already will show as existing).`
          : "";
      if (awaitsInviteOrFinish(batch)) {
        blocks.push({
          type: "section",
          text: `Created before it stopped: ${plural(batch.createdRows, "account")}.${again} Invite the new users to enroll, or finish.`,
        });
        buttons.push(
          { id: IMPORT_ACTIONS.invite, label: "Invite the imported users to enroll", value: batch.id, style: "primary" },
          { id: IMPORT_ACTIONS.finish, label: "Finish", value: batch.id },
        );
      } else if (again) {
        blocks.push({ type: "section", text: `Nothing was created.${again}` });
      }
      break;
    }
  }

  // The buttons come before the long lists, so they are seen without scrolling.
  if (buttons.length > 0) blocks.push({ type: "actions", buttons });
  const listed = created
    ? view.attention.filter((r) => r.status === "SKIPPED" || r.status === "FAILED")
    : view.attention.filter((r) => r.status === "NEEDS_ATTENTION");
  const listedTotal = created ? batch.skippedRows + batch.failedRows : batch.attentionRows;
  if (listedTotal > 0 && batch.status !== "APPROVED" && batch.status !== "CREATING") {
    blocks.push({
      type: "section",
      text: [{ bold: created ? "Rows skipped or failed" : "Rows needing attention" }, ` (${count(listedTotal)})`],
    });
    const problems = view.problems ?? [];
    if (problems.length > 0) blocks.push({ type: "list", items: problems.map(problemLine) });
    // A few rows in full; the report (or the results file) has every one.
    const examples = listed.slice(0, EXAMPLE_ROWS);
    blocks.push({ type: "context", text: problems.length > 0 ? "For example:" : "Rows:" });
    blocks.push({ type: "list", items: examples.map(rowLine), total: listedTotal });
  }
  const changed = (view.changes ?? []).filter((r) => r.changes);
  if (changed.length > 0 && ["VALIDATED", "AWAITING_APPROVAL"].includes(batch.status)) {
    blocks.push({ type: "section", text: [{ bold: "Changes to existing users" }, ` (${count(batch.updateRows)})`] });
    blocks.push({ type: "list", items: changed.map(changeLine), total: batch.updateRows });
  }
  if (batch.unchangedRows > 0 && ["VALIDATED", "AWAITING_APPROVAL"].includes(batch.status)) {
    blocks.push({
      type: "context",
      text: `${plural(batch.unchangedRows, "row")} ${batch.unchangedRows === 1 ? "matches" : "match"} the directory already: nothing to change for them.`,
    });
  }
  if (view.unknownColumns?.length) blocks.push({ type: "context", text: `Ignored columns: ${view.unknownColumns.join(", ")}.` });
  if (view.reused && batch.status === "VALIDATED") {
    blocks.push({
      type: "context",
      text: `The same file was checked at ${at(batch.createdAt)}: this is that check. To check it against the directory as it is now, Cancel and upload it again.`,
    });
  }
  return { summary, blocks };
}

/** What an approver should know of a request: who gets the Administrator role, and who goes into which group. */
export interface RequestFacts {
  /** Emails of the rows granting the Administrator role (the first ones), and how many there are. */
  grants: readonly string[];
  grantTotal: number;
  /** Groups and how many users the request puts into each (created, or moved there). */
  groups: readonly { name: string; users: number }[];
  /** Where the summary is, to open it. */
  summaryLink?: string;
}

/** Grants listed by email at most in a request. */
export const GRANTS_SHOWN = 20;

const sizeText = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

/** The approval request; once decided (or expired), the outcome without buttons. */
export function approvalRequestMessage({
  batch,
  requester,
  submitter,
  approvers,
  facts,
}: {
  batch: ImportBatch;
  /** Who uploaded the file (or asked for the one-user change). */
  requester: Person;
  /** Who clicked Create, named when not the uploader (a requester too). */
  submitter?: Person;
  approvers: readonly Person[];
  facts?: RequestFacts;
}): Message {
  const clicker = submitter && submitter.name !== requester.name ? submitter : undefined;
  const single = batch.kind !== "import";
  const updates = batch.includeUpdates ? batch.updateRows : 0;
  const grants = batch.adminRows + (batch.includeUpdates ? batch.adminUpdateRows : 0);
  const work = [
    batch.readyRows > 0 ? `${plural(batch.readyRows, "account")} to create` : "",
    updates > 0 ? `${plural(updates, "user")} to update` : "",
  ]
    .filter(Boolean)
    .join(" and ");
  const what: Inline[] = single
    ? [{ bold: `Request ${batch.code}` }, ` · ${batch.fileName}`]
    : [
        { bold: `Import ${batch.code}` },
        " · ",
        { code: batch.fileName },
        ` · ${work}${grants > 0 ? `, ${count(grants)} of them Administrators` : ""}`,
      ];
  const blocks: Block[] = [{ type: "section", text: what }];
  const asking = single
    ? "asks for approval of this change."
    : `ask${clicker ? "" : "s"} for approval to ${updates > 0 ? "make these changes" : "create these accounts"}.`;
  let summary: string;
  switch (batch.status) {
    case "AWAITING_APPROVAL": {
      summary = single
        ? `Approval needed: “${batch.fileName}” (${batch.code}) requested by ${requester.name}.`
        : `Approval needed: import ${batch.code} (${plural(batch.readyRows, "account")}${updates > 0 ? ` and ${plural(updates, "update")}` : ""}) requested by ${requester.name}${clicker ? ` (uploaded the file) and ${clicker.name} (clicked Create)` : ""}.`;
      blocks.push({
        type: "section",
        text: clicker
          ? [
              ...mentions(approvers),
              ": ",
              { mention: requester.name, platformId: requester.platformId },
              " uploaded the file and ",
              { mention: clicker.name, platformId: clicker.platformId },
              ` clicked Create; they ${asking.replace(/^ask /, "ask ")}`,
            ]
          : [...mentions(approvers), ": ", { mention: requester.name, platformId: requester.platformId }, ` ${asking}`],
      });
      if (facts && !single) {
        if (facts.grantTotal > 0) {
          blocks.push({ type: "section", text: [{ bold: "Granted the Administrator role" }, ` (${count(facts.grantTotal)})`] });
          blocks.push({ type: "list", items: facts.grants, total: facts.grantTotal });
        }
        if (facts.groups.length > 0) {
          blocks.push({
            type: "context",
            text: `Into groups: ${facts.groups.map((g) => `${g.name} ${count(g.users)}`).join(" · ")}`,
          });
        }
      }
      const details: Inline[] = single
        ? [`Expires ${at(batch.approvalExpiresAt)}`]
        : [
            `${sizeText(batch.sizeBytes)} · SHA-256 ${batch.sha256.slice(0, SHA256_PREFIX_LENGTH)}… · expires ${at(batch.approvalExpiresAt)}`,
          ];
      if (facts?.summaryLink) details.push(" · ", { link: facts.summaryLink, text: "the summary" });
      blocks.push({ type: "context", text: details });
      const confirm = {
        title: single ? "Approve this change?" : `Approve import ${batch.code}?`,
        text: single
          ? `${batch.fileName}.`
          : `${work}${grants > 0 ? `, ${count(grants)} of them Administrators` : ""}, from ${batch.fileName}.`,
        confirm: "Approve",
        deny: "Not yet",
      };
      blocks.push({
        type: "actions",
        buttons: [
          { id: IMPORT_ACTIONS.approve, label: "Approve", value: approvalValue(batch), style: "primary", confirm },
          { id: IMPORT_ACTIONS.reject, label: "Reject", value: approvalValue(batch), style: "danger" },
        ],
      });
      break;
    }
    case "EXPIRED":
      summary = single
        ? `The request “${batch.fileName}” (${batch.code}) expired.`
        : `The approval request for import ${batch.code} expired.`;
      blocks.push({
        type: "context",
        text: `Expired${batch.approvalExpiresAt ? ` at ${at(batch.approvalExpiresAt)}` : ""}: nobody approved it in time.`,
      });
      break;
    case "REJECTED":
      summary = `${single ? `Request ${batch.code}` : `Import ${batch.code}`} was rejected by ${batch.decidedBy ?? "an approver"}.`;
      blocks.push({
        type: "context",
        text: `Rejected by ${batch.decidedBy ?? "an approver"} at ${at(batch.decidedAt)}${batch.reason ? `: “${batch.reason}”` : "."}`,
      });
      break;
    case "CANCELLED":
      summary = `Import ${batch.code} was cancelled.`;
      blocks.push({ type: "context", text: `Cancelled by ${batch.decidedBy ?? "the requester"} at ${at(batch.decidedAt)}.` });
      break;
    default: {
      summary = `${single ? `Request ${batch.code}` : `Import ${batch.code}`} was approved${batch.decidedBy ? ` by ${batch.decidedBy}` : ""}.`;
      const done = single && ["CREATED", "FINISHED"].includes(batch.status) ? " Done." : "";
      blocks.push({ type: "context", text: `Approved by ${batch.decidedBy ?? "an approver"} at ${at(batch.decidedAt)}.${done}` });
    }
  }
  return { summary, blocks };
}

const STATE_LABELS: Readonly<Record<ImportBatch["status"], string>> = {
  VALIDATED: "checked, waiting for Create",
  AWAITING_APPROVAL: "waiting for approval",
  APPROVED: "approved",
  CREATING: "creating accounts",
  CREATED: "created, waiting for Invite or Finish",
  INVITING: "inviting",
  FINISHED: "finished",
  CANCELLED: "cancelled",
  REJECTED: "rejected",
  EXPIRED: "expired",
  FAILED: "failed",
};

/** How far an import got, in a few words. */
export function importStateLabel(batch: Pick<ImportBatch, "status">): string {
  return STATE_LABELS[batch.status];
}

/** The open and recent imports: code, file, requester, state, counts, when, and a link to the summary where there is one. */
export function importsMessage({ batches, links }: { batches: readonly ImportBatch[]; links: ReadonlyMap<string, string> }): Message {
  if (batches.length === 0) {
    const text = "No import is open, and none was closed in the last 7 days.";
    return { summary: text, blocks: [{ type: "section", text }] };
  }
  const line = (b: ImportBatch): RichText => {
    const counts = ["CREATED", "INVITING", "FINISHED"].includes(b.status)
      ? `${count(b.createdRows)} created`
      : `${count(b.readyRows)} ready, ${count(b.attentionRows)} need attention`;
    const link = links.get(b.id);
    return [
      { bold: b.code },
      ` · ${b.fileName} · ${b.requesterEmail} · ${importStateLabel(b)} · ${counts} · ${at(b.createdAt)}`,
      ...(link ? [" · ", { link, text: "summary" }] : []),
    ];
  };
  const open = batches.filter((b) => !CLOSED.includes(b.status)).length;
  return {
    summary: `${plural(open, "open import")}, ${count(batches.length - open)} closed in the last 7 days.`,
    blocks: [
      {
        type: "section",
        text: [{ bold: "Imports" }, ` — ${plural(open, "open import")}, ${count(batches.length - open)} closed in the last 7 days`],
      },
      { type: "list", items: batches.map(line) },
    ],
  };
}

/** What is asked, in a few words: an import with its file, or a one-user request. */
function asked(batch: Pick<ImportBatch, "kind" | "code" | "fileName">): string {
  return batch.kind === "import" ? `Import ${batch.code} (${batch.fileName})` : `Your request “${batch.fileName}” (${batch.code})`;
}

/** Told to the requesters when an approver decided, or the request expired. */
export function approvalOutcomeMessage(batch: ImportBatch): Message {
  let text: string;
  switch (batch.status) {
    case "REJECTED":
      text = `${asked(batch)} was rejected by ${batch.decidedBy ?? "an approver"} at ${at(batch.decidedAt)}${batch.reason ? `: “${batch.reason}”` : ""}. Nothing was changed.`;
      break;
    case "EXPIRED":
      text = `${asked(batch)} expired at ${at(batch.approvalExpiresAt)}: nobody approved it in time. Nothing was changed; ${batch.kind === "import" ? "upload the file again" : "ask again"} to start over.`;
      break;
    default:
      text = `${asked(batch)} was approved by ${batch.decidedBy ?? "an approver"} at ${at(batch.decidedAt)}${batch.kind === "import" ? "; the summary shows the progress." : "."}`;
  }
  return { summary: text, blocks: [{ type: "section", text }] };
}

/** Posted where the approval request is, once, at half its time: the approvers who have not answered are mentioned. */
export function approvalReminderMessage({ batch, approvers }: { batch: ImportBatch; approvers: readonly Person[] }): Message {
  const what = batch.kind === "import" ? `import ${batch.code} (${batch.fileName})` : `“${batch.fileName}” (${batch.code})`;
  return {
    summary: `Reminder: ${what} is waiting for approval until ${at(batch.approvalExpiresAt)}.`,
    blocks: [
      {
        type: "section",
        text: [
          "Reminder: ",
          ...mentions(approvers),
          `, ${what} is still waiting for approval; it expires at ${at(batch.approvalExpiresAt)}.`,
        ],
      },
    ],
  };
}

/** Fix a row: the form picking the row, and the Add user form holding it (their metadata names the batch and row). */
export const FIX_ROW_PICK_FORM_ID = "hms_import_fix_pick";
export const FIX_ROW_FORM_ID = "hms_import_fix_row_form";
export const FIX_ROW_INPUT = "row";

/** Rows needing attention offered to pick, at most (a select holds a hundred). */
export const FIX_ROWS_OFFERED = 100;

export function fixRowPickForm({
  batch,
  rows,
  metadata,
}: {
  batch: ImportBatch;
  rows: readonly ImportRowRecord[];
  metadata?: string;
}): Form {
  return {
    id: FIX_ROW_PICK_FORM_ID,
    title: "Fix a row",
    submitLabel: "Next",
    cancelLabel: "Cancel",
    metadata: metadata ?? batch.id,
    intro: [
      {
        type: "section",
        text: [
          `Import ${batch.code}: pick a row to fix. `,
          batch.attentionRows > rows.length
            ? `The first ${rows.length} of ${count(batch.attentionRows)} are offered; fix the others in the report.`
            : "",
        ],
      },
    ],
    inputs: [
      {
        type: "select",
        id: FIX_ROW_INPUT,
        label: "Row",
        placeholder: "Choose a row",
        options: rows.map((r) => ({
          value: String(r.rowNumber),
          label: `Row ${r.rowNumber}${r.email ? `: ${r.email}` : ""}`,
          description: r.issues[0]?.message.slice(0, 70),
        })),
      },
    ],
  };
}

/** The row as the Add user form, its problems next to the fields; saving checks it again. */
export function fixRowForm({
  batch,
  row,
  problems,
  metadata,
}: {
  batch: ImportBatch;
  row: Pick<ImportRowRecord, "rowNumber" | "email" | "name" | "groupName" | "role" | "exchangeDomain" | "exchangeUsername">;
  /** By field: what is wrong (the row's issues, or those of the last save). */
  problems: Readonly<Record<string, string>>;
  metadata?: string;
}): Form {
  const form = addUserForm({
    values: {
      email: row.email,
      name: row.name,
      group: row.groupName,
      role: row.role === "ADMINISTRATOR" ? "Administrator" : row.role === "USER" ? "User" : row.role,
      exchangeDomain: row.exchangeDomain,
      exchangeUsername: row.exchangeUsername,
    },
    metadata: metadata ?? JSON.stringify({ batchId: batch.id, rowNumber: row.rowNumber }),
  });
  return {
    ...form,
    id: FIX_ROW_FORM_ID,
    title: `Fix row ${row.rowNumber}`,
    submitLabel: "Save row",
    intro: [
      {
        type: "section",
        text: [
          `Import ${batch.code}, row ${row.rowNumber}: fix what is marked. Saved, the row is checked again and joins the import when it passes.`,
        ],
      },
    ],
    inputs: form.inputs.map((input) => (problems[input.id] ? { ...input, problem: problems[input.id] } : input)),
  };
}

/** A row's issues by field, as a form shows them. */
export function problemsByField(issues: readonly { field: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) {
    const field = issue.field === "row" ? "email" : issue.field;
    out[field] = out[field] ? `${out[field]} ${issue.message}` : issue.message;
  }
  return out;
}
