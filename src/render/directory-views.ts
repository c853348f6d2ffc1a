/**
 * Views of the directory from chat: one user's card with what can be done to them, the audit
 * trail, invitation status, and the comment of an export. Platform-free, like every view.
 */
import {
  type AuditEvent,
  type AuditListing,
  type DirectoryExport,
  type InvitationStatus,
  ROLE_LABELS,
  type UserChanges,
  type UserDetails,
  type UserField,
  type UserWithGroup,
} from "../core/index.ts";
import type { Block, Button, Field, Form, Message, RichText, Spell } from "./model.ts";
import { addUserForm, USER_ACTIONS } from "./views.ts";

export { USER_ACTIONS } from "./views.ts";

/** Resend the failed invitations of an import (the value is the batch id). */
export const RESEND_ACTION = "hms_import_resend";

const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;
const at = (date: Date | null | undefined) => (date ? `${date.toISOString().replace("T", " ").slice(0, 16)} UTC` : "");

function invitationLine(user: UserDetails): string {
  const inv = user.invitation;
  if (user.status === "ENROLLED") return "Enrolled";
  if (!inv) return "Not invited yet";
  switch (inv.status) {
    case "SENT":
      return `Invited (email sent ${at(inv.sentAt)})`;
    case "PENDING":
      return inv.attempts > 0 ? `Pending: sending again after ${plural(inv.attempts, "failed attempt")}` : "Pending: being sent";
    case "FAILED":
      return `Not delivered after ${plural(inv.attempts, "attempt")}${inv.lastError ? `: ${inv.lastError}` : ""}`;
  }
}

/** One user: group, role, Exchange account, where they came from, their invitation; the buttons to change them. */
export function userCardMessage(user: UserDetails): Message {
  const role = ROLE_LABELS[user.role];
  const exchange = user.exchangeDomain && user.exchangeUsername ? `${user.exchangeDomain}\\${user.exchangeUsername}` : "None";
  const created = user.importBatch
    ? `${at(user.createdAt)} by import ${user.importBatch.code}`
    : `${at(user.createdAt)} by ${user.createdBy}`;
  const fields: Field[] = [
    { label: "Group", value: user.group.name },
    { label: "Role", value: role },
    { label: "Exchange account", value: exchange },
    { label: "Created", value: created },
    { label: "Enrollment", value: invitationLine(user) },
  ];
  const invited = Boolean(user.invitation);
  const buttons: Button[] = [
    { id: USER_ACTIONS.edit, label: "Edit", value: user.email },
    { id: USER_ACTIONS.move, label: "Move to group", value: user.email },
    {
      id: USER_ACTIONS.role,
      label: user.role === "ADMINISTRATOR" ? "Make User" : "Make Administrator",
      value: user.email,
    },
    {
      id: USER_ACTIONS.invite,
      label: invited ? "Resend invitation" : "Invite to enroll",
      value: user.email,
      style: invited ? undefined : "primary",
    },
    {
      id: USER_ACTIONS.remove,
      label: "Remove",
      value: user.email,
      style: "danger",
      confirm: {
        title: "Remove user?",
        text: `Remove ${user.name} (${user.email}) from HMS? Their devices lose the ${user.group.name} policies.`,
        confirm: "Remove",
        deny: "Keep",
      },
    },
  ];
  return {
    summary: `${user.name} (${user.email}): ${user.group.name}, ${role}.`,
    blocks: [
      { type: "section", text: [{ bold: user.name }, ` ${user.email}`], fields },
      { type: "actions", buttons },
    ],
  };
}

const ACTIONS: Readonly<Record<string, string>> = {
  "user.add": "added the user",
  "user.update": "changed the user",
  "user.remove": "removed the user",
  "user.promote": "made the user an Administrator",
  "user.invite": "invited the user to enroll",
  "user.reinvite": "sent the invitation again",
  "group.add": "created the group",
  "directory.export": "exported",
  "import.upload": "uploaded the file",
  "import.submit": "clicked Create",
  "import.fix_row": "fixed a row",
  "import.recheck": "created a missing group and checked its rows again",
  "import.approval_requested": "asked for approval",
  "import.approve": "approved",
  "import.reject": "rejected",
  "import.cancel": "cancelled",
  "import.expire": "expired",
  "import.create": "created the accounts",
  "import.fail": "stopped with an error",
  "import.invite": "invited the imported users",
  "import.reinvite": "sent failed invitations again",
  "import.finish": "finished",
};

const PLATFORMS: Readonly<Record<string, string>> = { slack: "Slack", teams: "Teams", system: "the bot" };

function detailText(event: AuditEvent): string {
  const d = event.details;
  const parts: string[] = [];
  if (typeof d.rowNumber === "number") parts.push(`row ${d.rowNumber}${typeof d.email === "string" ? ` (${d.email})` : ""}`);
  const changes = d.changes as Record<string, { from?: unknown; to?: unknown }> | undefined;
  if (changes)
    for (const [field, { from, to }] of Object.entries(changes)) parts.push(`${field}: ${String(from ?? "—")} → ${String(to ?? "—")}`);
  for (const key of ["group", "role", "policy", "reason", "fileName", "created", "skipped", "failed", "users", "invitations"]) {
    if (d[key] === undefined || d[key] === null || (changes && key in changes)) continue;
    // Roles are stored as USER / ADMINISTRATOR by some events: shown as everywhere else.
    const value = key === "role" ? (ROLE_LABELS[d[key] as keyof typeof ROLE_LABELS] ?? String(d[key])) : String(d[key]);
    parts.push(`${key} ${value}`);
  }
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}

function eventLine(event: AuditEvent): RichText {
  const platform = typeof event.details.platform === "string" ? ` via ${PLATFORMS[event.details.platform] ?? event.details.platform}` : "";
  const what = ACTIONS[event.action] ?? event.action;
  const subject = event.subject.startsWith("import:") ? event.subject.slice(7) : event.subject;
  return [`${at(event.at)} · `, { bold: event.actor }, `${platform} ${what} · ${subject}${detailText(event)}`];
}

/** The latest events of the audit trail, newest first. */
export function auditMessage(listing: AuditListing): Message {
  const title =
    listing.about.kind === "user"
      ? `Audit trail of ${listing.about.email}`
      : listing.about.kind === "import"
        ? `Audit trail of import ${listing.about.code}`
        : "Audit trail";
  if (listing.events.length === 0) {
    const text = `${title}: no events.`;
    return { summary: text, blocks: [{ type: "section", text }] };
  }
  return {
    summary: `${title}: the latest ${plural(listing.events.length, "event")}.`,
    blocks: [
      { type: "section", text: [{ bold: title }, ` — the latest ${plural(listing.events.length, "event")}, newest first`] },
      { type: "list", items: listing.events.map(eventLine) },
    ],
  };
}

/** Invitation counts per import, the failed invitations with their last error, and Resend for an import's failed ones. */
export function invitationsMessage(status: InvitationStatus): Message {
  if (status.imports.length === 0) {
    const text = "No import has invited anyone yet.";
    return { summary: text, blocks: [{ type: "section", text }] };
  }
  const blocks: Block[] = [
    {
      type: "section",
      text: [{ bold: status.batchId ? `Invitations of import ${status.imports[0]!.code}` : "Invitations of the latest imports" }],
    },
    {
      type: "list",
      items: status.imports.map(
        (i): RichText => [
          { bold: i.code },
          ` · ${i.fileName}: ${count(i.counts.sent)} sent, ${count(i.counts.pending)} pending, ${count(i.counts.failed)} failed`,
        ],
      ),
    },
  ];
  if (status.failed.length > 0) {
    blocks.push(
      { type: "section", text: [{ bold: "Not delivered" }, ` (${count(status.failedTotal)})`] },
      {
        type: "list",
        items: status.failed.map(
          (f): RichText => [
            { bold: f.email },
            `${f.batchCode ? ` (${f.batchCode})` : ""}: ${f.lastError ?? "unknown error"} · ${plural(f.attempts, "attempt")}${f.exhausted ? ", no more retries" : ", retried automatically"}`,
          ],
        ),
        total: status.failedTotal,
      },
    );
  }
  if (!status.mailConfigured)
    blocks.push({ type: "context", text: "No mail server is configured (SMTP_URL): invitations stay pending until one is." });
  const resend = status.imports.filter((i) => i.counts.failed > 0).slice(0, 5);
  if (resend.length > 0) {
    blocks.push({
      type: "actions",
      buttons: resend.map((i) => ({
        id: RESEND_ACTION,
        label: `Resend ${plural(i.counts.failed, "failed invitation")} of ${i.code}`,
        value: i.batchId,
      })),
    });
  }
  const totals = status.imports.reduce((t, i) => ({ sent: t.sent + i.counts.sent, failed: t.failed + i.counts.failed }), {
    sent: 0,
    failed: 0,
  });
  return { summary: `Invitations: ${count(totals.sent)} sent, ${count(totals.failed)} failed.`, blocks };
}

/** Said with an export: what it holds, and how to send it back. */
export function exportMessage(exported: DirectoryExport, spell: Spell): Message {
  const what = exported.group ? `the ${exported.group} group` : "the directory";
  return {
    summary: `${plural(exported.users, "user")} of ${what}: ${exported.fileName}`,
    blocks: [
      {
        type: "section",
        text: [{ bold: `Export of ${what}` }, `: ${plural(exported.users, "user")} in `, { code: exported.fileName }, "."],
      },
      {
        type: "context",
        text: [
          "Edit it in a spreadsheet and send it back (",
          { code: spell("import") },
          ") to update the users: the summary shows every change before anything is saved.",
        ],
      },
    ],
  };
}

/** The Edit form: the Add user form filled with the user as they are (or as typed), saving changes. */
export function editUserForm(
  user: UserDetails,
  { values, notice, metadata }: { values?: Partial<Record<UserField, string>>; notice?: string; metadata?: string } = {},
): Form {
  return addUserForm({
    edit: true,
    metadata: metadata ?? user.email,
    notice,
    values: values ?? {
      email: user.email,
      name: user.name,
      group: user.group.name,
      role: ROLE_LABELS[user.role],
      exchangeDomain: user.exchangeDomain ?? "",
      exchangeUsername: user.exchangeUsername ?? "",
    },
  });
}

/** Move to group: the Group select only (its metadata names the user). */
export const MOVE_USER_FORM_ID = "hms_move_user";

export function moveUserForm(user: UserDetails, { metadata }: { metadata?: string } = {}): Form {
  return {
    id: MOVE_USER_FORM_ID,
    title: "Move to group",
    submitLabel: "Move",
    cancelLabel: "Cancel",
    metadata: metadata ?? user.email,
    intro: [{ type: "section", text: ["Move ", { bold: user.name }, ` (${user.email}) from `, { bold: user.group.name }, " to:"] }],
    inputs: [
      {
        type: "externalSelect",
        id: "group",
        label: "Group",
        hint: "Type to search the groups.",
        placeholder: "Choose a group",
        minQueryLength: 0,
      },
    ],
  };
}

/** What a change to a user did, e.g. "Group: Sales → Field Ops; Role: User → Administrator". */
export function changesText(changes: UserChanges): string {
  const labels: Record<keyof UserChanges, string> = { name: "Name", group: "Group", role: "Role", exchange: "Exchange account" };
  return (Object.entries(changes) as [keyof UserChanges, { from: string; to: string }][])
    .map(([field, c]) => `${labels[field]}: ${c.from} → ${c.to}`)
    .join("; ");
}

export function userChangedMessage({ user, changes }: { user: UserDetails | UserWithGroup; changes: UserChanges }): Message {
  const text = Object.keys(changes).length === 0 ? `Nothing to change for ${user.email}.` : `Saved ${user.email}: ${changesText(changes)}.`;
  return { summary: text, blocks: [{ type: "section", text }] };
}

export function userRemovedMessage(user: UserWithGroup): Message {
  const text = `Removed ${user.name} (${user.email}) from ${user.group.name}.`;
  return { summary: text, blocks: [{ type: "section", text }] };
}
