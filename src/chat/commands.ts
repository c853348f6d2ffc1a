/**
 * The command grammar, the same on every platform: `add-user [email]` (or `add user`),
 * `add-group <name> [policy=<policy name>]`, `groups [text]`, `users <text>`, `template`,
 * `import`, `help`. Edges undo their own escaping first and say how commands are typed there.
 */
import type { Spell } from "../render/model.ts";

export type Command =
  | { name: "help" }
  | { name: "unknown"; word: string }
  | { name: "add-user"; email?: string }
  | { name: "add-group"; group: string; policy?: string }
  | { name: "groups"; filter?: string }
  | { name: "users"; query: string }
  | { name: "user"; email: string }
  | { name: "export"; group?: string }
  | { name: "template" }
  | { name: "import" }
  | { name: "imports" }
  | { name: "invites"; batch?: string }
  | { name: "audit"; about?: string };

export type CommandName = Exclude<Command["name"], "unknown">;

/** The commands in help order: their words, what follows them, and what they do. */
export const COMMANDS: readonly { name: CommandName; args?: string; does: string }[] = [
  { name: "add-user", args: "[email]", does: "Open the Add user form (the email filled in when given)." },
  { name: "add-group", args: "<name> [policy=<policy name>]", does: "Create a group; its policy is Default unless given." },
  {
    name: "groups",
    args: "[text]",
    does: "List the groups (those whose name contains the text, when given) with their policy and user count.",
  },
  { name: "users", args: "<text>", does: "Find users whose email or name contains the text." },
  { name: "user", args: "<email>", does: "Show one user, with buttons to edit, move, change the role, remove or invite them." },
  { name: "export", args: "[group]", does: "Send the directory (or one group) as a CSV: edit it and import it back to update the users." },
  { name: "template", does: "Post the CSV template for importing users, with how to fill it in." },
  {
    name: "import",
    does: "Upload a CSV of users: see a summary first, then create the accounts (after an approver's click when policy asks) and invite the users.",
  },
  { name: "imports", does: "List the open imports and those of the last 7 days, with where each summary is." },
  {
    name: "invites",
    args: "[IMP-code]",
    does: "Show the invitations of an import (or of the latest ones), with Resend for those not delivered.",
  },
  { name: "audit", args: "[email | IMP-code]", does: "Show the latest 20 changes: of one user, of one import, or of everything." },
  { name: "help", does: "Show this help." },
];

/** How a platform's people type commands: Slack `/hms add-user`, Teams `add user`. */
export interface CommandSpelling {
  /** What comes before the command words ("/hms " in Slack, "" in Teams). */
  prefix: string;
  /** Between the words of a command: "-" (add-user) or " " (add user). */
  joiner: "-" | " ";
}

/** The spelling as the views take it: a command's name (and arguments) as people type it. */
export function speller(spelling: CommandSpelling): Spell {
  return (name, args) => `${spelling.prefix}${name.split("-").join(spelling.joiner)}${args ? ` ${args}` : ""}`;
}

/** The commands for the help, as people type them on a platform. */
export function spelledCommands(spelling: CommandSpelling): { name: string; usage: string; does: string }[] {
  const spell = speller(spelling);
  return COMMANDS.map(({ name, args, does }) => ({ name: spell(name).slice(spelling.prefix.length), usage: spell(name, args), does }));
}

/** `Field Sales policy=Strict BYOD` → name "Field Sales", policy "Strict BYOD". */
function parseAddGroup(rest: string): { group: string; policy?: string } {
  const match = /(?:^|\s)policy=/i.exec(rest);
  if (!match) return { group: rest.trim() };
  const policy = rest.slice(match.index + match[0].length).trim();
  return { group: rest.slice(0, match.index).trim(), policy: policy || undefined };
}

/** Parses what the person typed after the bot's name; words are case-insensitive, `add-user` and `add user` alike. */
export function parseCommand(text: string): Command {
  const trimmed = text.trim();
  // "add user …" and "add group …" are the two-word forms of add-user and add-group.
  const twoWords = /^add[\s-]+(user|group)\b\s*([\s\S]*)$/i.exec(trimmed);
  const [word = "", rest = ""] = twoWords ? [`add-${twoWords[1]}`, twoWords[2]] : (/^(\S*)\s*([\s\S]*)$/.exec(trimmed) ?? []).slice(1);
  switch (word.toLowerCase()) {
    case "":
    case "help":
      return { name: "help" };
    case "add-user":
      return { name: "add-user", email: rest.trim() || undefined };
    case "add-group":
      return { name: "add-group", ...parseAddGroup(rest) };
    case "groups":
      return { name: "groups", filter: rest.trim() || undefined };
    case "users":
      return { name: "users", query: rest.trim() };
    case "user":
      return { name: "user", email: rest.trim() };
    case "export":
      return { name: "export", group: rest.trim() || undefined };
    case "template":
      return { name: "template" };
    case "import":
      return { name: "import" };
    case "imports":
      return { name: "imports" };
    case "invites":
      return { name: "invites", batch: rest.trim() || undefined };
    case "audit":
      return { name: "audit", about: rest.trim() || undefined };
    default:
      return { name: "unknown", word };
  }
}
