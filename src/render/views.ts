/**
 * Views: use-case results → the neutral model. Platform-free: the renderers decide markup,
 * escaping and limits. `spell` says how a command is typed on the person's platform.
 */
import {
  type FieldIssue,
  type Group,
  type GroupSummary,
  ROLE_LABELS,
  USER_FIELD_LABELS,
  type User,
  type UserField,
  type UserWithGroup,
} from "../core/index.ts";
import type { Block, Form, FormErrors, Inline, Message, OptionList, RichText, Spell } from "./model.ts";

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function message(summary: string, ...blocks: Block[]): Message {
  return { summary, blocks };
}

/** A one-paragraph answer: a refusal, an error, a short confirmation. */
export function noticeMessage(text: string): Message {
  return message(text, { type: "section", text });
}

/** The help: one line per command, as `commands` lists them (already spelled for the platform). */
export function helpMessage({
  commands,
  unknown,
}: {
  commands: readonly { usage: string; name: string; does: string }[];
  unknown?: string;
}): Message {
  const blocks: Block[] = [];
  if (unknown !== undefined) blocks.push({ type: "section", text: ["There is no ", { code: unknown }, " command."] });
  blocks.push(
    { type: "section", text: [{ bold: "HMS userbot" }, " manages the users and groups of Hosted Mobile Security."] },
    { type: "list", items: commands.map(({ usage, does }): RichText => [{ code: usage }, ` — ${does}`]) },
    { type: "context", text: "Only HMS Administrators can use these commands." },
  );
  return message(`HMS userbot commands: ${commands.map((c) => c.name).join(", ")}`, ...blocks);
}

function groupLine(group: GroupSummary): RichText {
  return [{ bold: group.name }, ` — policy ${group.policy} · ${plural(group.userCount, "user")}`];
}

export function groupsMessage({ groups, total, spell }: { groups: readonly GroupSummary[]; total: number; spell: Spell }): Message {
  if (groups.length === 0) {
    return message("There are no groups yet.", {
      type: "section",
      text: ["There are no groups yet. Create one with ", { code: spell("add-group", "<name>") }, "."],
    });
  }
  const blocks: Block[] = [
    { type: "section", text: [{ bold: "Groups" }, ` (${total})`] },
    { type: "list", items: groups.map(groupLine) },
  ];
  if (total > groups.length) blocks.push({ type: "context", text: `Showing the first ${groups.length} of ${total} groups.` });
  return message(`${plural(total, "group")}`, ...blocks);
}

export function usersMessage({ users, total, query }: { users: readonly UserWithGroup[]; total: number; query: string }): Message {
  if (users.length === 0) {
    const text = `No user's email or name contains “${query}”.`;
    return message(text, { type: "section", text });
  }
  const blocks: Block[] = [
    { type: "section", text: [{ bold: `Users matching “${query}”` }, ` (${total})`] },
    {
      type: "list",
      items: users.map((u): RichText => [{ bold: u.name }, ` ${u.email} · ${u.group.name} · ${ROLE_LABELS[u.role]}`]),
    },
  ];
  const rest = total - users.length;
  if (rest > 0) blocks.push({ type: "context", text: `…and ${rest} more. Narrow the search to see them.` });
  return message(`${plural(total, "user")} matching “${query}”`, ...blocks);
}

export function groupAddedMessage(group: Group): Message {
  return message(`Created group ${group.name} with policy ${group.policy}.`, {
    type: "section",
    text: ["Created group ", { bold: group.name }, " with policy ", { bold: group.policy }, "."],
  });
}

/** Button ids of a user's card (stable: cards already posted carry them); the value is the user's email. */
export const USER_ACTIONS = {
  edit: "hms_user_edit",
  move: "hms_user_move",
  role: "hms_user_role",
  remove: "hms_user_remove",
  invite: "hms_user_invite",
} as const;

/** The Add user form's confirmation, with Invite to enroll (its answer shows the user's card with the invitation's state). */
export function userAddedMessage({ user, group }: { user: User; group: Group }): Message {
  const role = ROLE_LABELS[user.role];
  const text: Inline[] = ["Added ", { bold: user.name }, ` (${user.email}) to `, { bold: group.name }, " as ", { bold: role }, "."];
  const blocks: Block[] = [{ type: "section", text }];
  if (user.exchangeDomain && user.exchangeUsername) {
    blocks.push({ type: "context", text: `Exchange ActiveSync account: ${user.exchangeDomain}\\${user.exchangeUsername}` });
  }
  blocks.push({ type: "actions", buttons: [{ id: USER_ACTIONS.invite, label: "Invite to enroll", value: user.email, style: "primary" }] });
  return message(`Added ${user.name} (${user.email}) to ${group.name} as ${role}.`, ...blocks);
}

// ---------------------------------------------------------------- the Add user form

/** The Add user form's id and its inputs' ids (the core's field names). */
export const ADD_USER_FORM_ID = "hms_add_user";
/** The Edit form of a user's card: the Add user form, filled, saving changes (its metadata names the user). */
export const EDIT_USER_FORM_ID = "hms_edit_user";
export const ADD_USER_INPUTS: readonly UserField[] = ["email", "name", "group", "role", "exchangeDomain", "exchangeUsername"];

const ROLE_OPTIONS = (["USER", "ADMINISTRATOR"] as const).map((role) => ({
  value: ROLE_LABELS[role],
  label: ROLE_LABELS[role],
  description: role === "ADMINISTRATOR" ? "Manages the service, users and devices." : "Uses the end-user portal only.",
}));

/**
 * The Add user form: empty (the email optionally prefilled), or again with what the admin typed
 * and a notice above it, when saving failed for a reason worth another try.
 */
export function addUserForm({
  email,
  metadata,
  values = {},
  notice,
  edit,
}: {
  email?: string;
  metadata?: string;
  values?: Partial<Record<UserField, string | null>>;
  notice?: string;
  /** The same form to change an existing user (the Edit button of their card). */
  edit?: boolean;
} = {}): Form {
  const L = USER_FIELD_LABELS;
  const typed = (field: UserField) => values[field] || undefined;
  const group = typed("group");
  return {
    id: edit ? EDIT_USER_FORM_ID : ADD_USER_FORM_ID,
    title: edit ? "Edit user" : "Add user",
    submitLabel: edit ? "Save" : "Add user",
    cancelLabel: "Cancel",
    metadata,
    intro: notice ? [{ type: "section", text: notice }] : undefined,
    inputs: [
      {
        type: "text",
        id: "email",
        label: L.email,
        hint: "The Email ID is also the user's logon ID.",
        placeholder: "jane.doe@example.com",
        initialValue: typed("email") ?? (email || undefined),
      },
      { type: "text", id: "name", label: L.name, placeholder: "Jane Doe", initialValue: typed("name") },
      {
        type: "externalSelect",
        id: "group",
        label: L.group,
        hint: "Type to search the groups.",
        placeholder: "Choose a group",
        minQueryLength: 0,
        initialOption: group ? { value: group, label: group } : undefined,
      },
      { type: "radio", id: "role", label: L.role, options: ROLE_OPTIONS, initialValue: typed("role") ?? ROLE_LABELS.USER },
      {
        type: "text",
        id: "exchangeDomain",
        label: L.exchangeDomain,
        optional: true,
        hint: "Only for Exchange ActiveSync, with the username: a NetBIOS name (CORP) or a DNS domain (corp.example.com).",
        placeholder: "CORP",
        initialValue: typed("exchangeDomain"),
      },
      {
        type: "text",
        id: "exchangeUsername",
        label: L.exchangeUsername,
        optional: true,
        hint: "Only for Exchange ActiveSync, with the domain.",
        placeholder: "jdoe",
        initialValue: typed("exchangeUsername"),
      },
    ],
  };
}

/**
 * The field issues of a failed Add user, by input; undefined when one of them is about
 * something the form has no input for (the caller then answers with a notice).
 */
export function addUserErrors(issues: readonly FieldIssue[]): FormErrors | undefined {
  if (issues.length === 0 || issues.some((i) => !(ADD_USER_INPUTS as readonly string[]).includes(i.field))) return undefined;
  const errors: Record<string, string> = {};
  for (const issue of issues) errors[issue.field] = errors[issue.field] ? `${errors[issue.field]} ${issue.message}` : issue.message;
  return errors;
}

/** When a form closed before its problems were known: what they were, and how to start again. */
export function formClosedMessage({ errors, command }: { errors: FormErrors; command: string }): Message {
  const problems = Object.values(errors);
  return message(`The form was not saved: ${problems.join(" ")}`, {
    type: "section",
    text: ["The form was not saved. ", ...problems.map((p) => `${p} `), "Run ", { code: command }, " again."],
  });
}

/** A form that only says something (e.g. why the person cannot use it). */
export function noticeForm({ id = "hms_notice", title, text }: { id?: string; title: string; text: string }): Form {
  return { id, title, cancelLabel: "Close", intro: [{ type: "section", text }], inputs: [] };
}

/** The groups offered by the Group select, filtered by what the admin typed. */
export function groupOptions({ groups, total }: { groups: readonly GroupSummary[]; total: number }): OptionList {
  return {
    options: groups.map((g) => ({ value: g.name, label: g.name, description: `Policy ${g.policy} · ${plural(g.userCount, "user")}` })),
    note: total > groups.length ? `First ${groups.length} of ${total}: type to narrow` : undefined,
  };
}
