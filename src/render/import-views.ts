/**
 * Views of the import flow: the template, the upload form, the summary of a batch in each of its
 * states (validated → waiting for approval → creating → created → finished, or closed), the
 * approval request and the reject form. Platform-free: ids of buttons and forms are ours, the
 * renderers decide markup and limits (how many rows needing attention fit, for instance).
 */
import {
  awaitsInviteOrFinish,
  CLOSED_IMPORT_STATUSES as CLOSED,
  type ImportBatch,
  type ImportRowRecord,
  type InvitationCounts,
} from "../core/index.ts";
import { fileReadBlocks } from "./file-read.ts";
import type { Block, Button, Field, Form, Inline, Message, RichText, Spell } from "./model.ts";

/** Button ids of the import flow (stable: messages already posted carry them). */
export const IMPORT_ACTIONS = {
  create: "hms_import_create",
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

export interface ImportView {
  batch: ImportBatch;
  /** The same file uploaded again while its batch was open: this is the earlier check. */
  reused?: boolean;
  /** The first rows needing attention (or skipped, or failed), in row order. */
  attention: readonly ImportRowRecord[];
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

const CREATION_STATES: readonly string[] = ["APPROVED", "CREATING", "CREATED", "INVITING", "FINISHED"];

/** The batch's summary in its current state: what the admin sees in the thread of the upload. */
export function importMessage(view: ImportView): Message {
  const { batch } = view;
  const created =
    (CREATION_STATES.includes(batch.status) && batch.status !== "APPROVED") ||
    (batch.status === "FAILED" && batch.createdRows + batch.skippedRows + batch.failedRows > 0);
  const fields: Field[] = [
    { label: "Data rows", value: count(batch.dataRows) },
    { label: "Ready", value: count(batch.readyRows) },
    { label: "Need attention", value: count(batch.attentionRows) },
    { label: "Blank", value: count(batch.blankRows) },
  ];
  if (created) {
    fields.push(
      { label: "Created", value: count(batch.createdRows) },
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
      if (batch.readyRows === 0) {
        blocks.push({
          type: "section",
          text: "No row is ready to create. Fix the rows below (the report in this thread lists them) and upload the file again.",
        });
      } else if (batch.attentionRows > 0) {
        blocks.push({
          type: "section",
          text: `Fix the rows below (the report in this thread lists them all) and upload the corrected file for a new summary, or create the ${plural(batch.readyRows, "ready account")} now.`,
        });
      } else {
        blocks.push({ type: "section", text: `Every row is ready. Create the ${plural(batch.readyRows, "account")}?` });
      }
      if (batch.adminRows > 0) blocks.push({ type: "context", text: `${plural(batch.adminRows, "row")} grant the Administrator role.` });
      if (batch.readyRows > 0)
        buttons.push({
          id: IMPORT_ACTIONS.create,
          label: `Create ${plural(batch.readyRows, "account")}`,
          value: batch.id,
          style: "primary",
        });
      buttons.push({ id: IMPORT_ACTIONS.cancel, label: "Cancel", value: batch.id });
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
      const done = view.progress?.done ?? batch.createdRows + batch.skippedRows + batch.failedRows;
      const total = view.progress?.total ?? batch.readyRows;
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

  const listed = created
    ? view.attention.filter((r) => r.status === "SKIPPED" || r.status === "FAILED")
    : view.attention.filter((r) => r.status === "NEEDS_ATTENTION");
  const listedTotal = created ? batch.skippedRows + batch.failedRows : batch.attentionRows;
  if (listedTotal > 0 && batch.status !== "APPROVED" && batch.status !== "CREATING") {
    blocks.push({ type: "section", text: [{ bold: created ? "Rows skipped or failed" : "Rows needing attention" }] });
    blocks.push({ type: "list", items: listed.map(rowLine), total: listedTotal });
  }
  if (view.unknownColumns?.length) blocks.push({ type: "context", text: `Ignored columns: ${view.unknownColumns.join(", ")}.` });
  if (view.reused && batch.status === "VALIDATED") {
    blocks.push({
      type: "context",
      text: `The same file was checked at ${at(batch.createdAt)}: this is that check. To check it against the directory as it is now, Cancel and upload it again.`,
    });
  }
  if (buttons.length > 0) blocks.push({ type: "actions", buttons });
  return { summary, blocks };
}

/** The approval request; once decided (or expired), the outcome without buttons. */
export function approvalRequestMessage({
  batch,
  requester,
  submitter,
  approvers,
}: {
  batch: ImportBatch;
  /** Who uploaded the file. */
  requester: Person;
  /** Who clicked Create, named when not the uploader (a requester too). */
  submitter?: Person;
  approvers: readonly Person[];
}): Message {
  const clicker = submitter && submitter.name !== requester.name ? submitter : undefined;
  const what: Inline[] = [
    { bold: `Import ${batch.code}` },
    " · ",
    { code: batch.fileName },
    ` · ${plural(batch.readyRows, "account")} to create${batch.adminRows > 0 ? `, ${count(batch.adminRows)} of them Administrators` : ""}`,
  ];
  const blocks: Block[] = [{ type: "section", text: what }];
  let summary: string;
  switch (batch.status) {
    case "AWAITING_APPROVAL":
      summary = `Approval needed: import ${batch.code} (${plural(batch.readyRows, "account")}) requested by ${requester.name}${clicker ? ` (uploaded the file) and ${clicker.name} (clicked Create)` : ""}.`;
      blocks.push(
        {
          type: "section",
          text: clicker
            ? [
                ...mentions(approvers),
                ": ",
                { mention: requester.name, platformId: requester.platformId },
                " uploaded the file and ",
                { mention: clicker.name, platformId: clicker.platformId },
                " clicked Create; they ask for approval to create these accounts.",
              ]
            : [
                ...mentions(approvers),
                ": ",
                { mention: requester.name, platformId: requester.platformId },
                " asks for approval to create these accounts.",
              ],
        },
        { type: "context", text: `File SHA-256 ${batch.sha256.slice(0, SHA256_PREFIX_LENGTH)}… · expires ${at(batch.approvalExpiresAt)}` },
        {
          type: "actions",
          buttons: [
            { id: IMPORT_ACTIONS.approve, label: "Approve", value: approvalValue(batch), style: "primary" },
            { id: IMPORT_ACTIONS.reject, label: "Reject", value: approvalValue(batch), style: "danger" },
          ],
        },
      );
      break;
    case "EXPIRED":
      summary = `The approval request for import ${batch.code} expired.`;
      blocks.push({
        type: "context",
        text: `Expired${batch.approvalExpiresAt ? ` at ${at(batch.approvalExpiresAt)}` : ""}: nobody approved it in time.`,
      });
      break;
    case "REJECTED":
      summary = `Import ${batch.code} was rejected by ${batch.decidedBy ?? "an approver"}.`;
      blocks.push({
        type: "context",
        text: `Rejected by ${batch.decidedBy ?? "an approver"} at ${at(batch.decidedAt)}${batch.reason ? `: “${batch.reason}”` : "."}`,
      });
      break;
    case "CANCELLED":
      summary = `Import ${batch.code} was cancelled.`;
      blocks.push({ type: "context", text: `Cancelled by ${batch.decidedBy ?? "the requester"} at ${at(batch.decidedAt)}.` });
      break;
    default:
      summary = `Import ${batch.code} was approved${batch.decidedBy ? ` by ${batch.decidedBy}` : ""}.`;
      blocks.push({ type: "context", text: `Approved by ${batch.decidedBy ?? "an approver"} at ${at(batch.decidedAt)}.` });
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
