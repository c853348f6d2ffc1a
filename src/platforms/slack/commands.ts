/**
 * The /hms slash command: parse the text into a subcommand, call the core, answer ephemerally.
 * Every request is acknowledged first (help is the acknowledgement itself); the answer follows
 * through the response_url.
 */
import type { App } from "@slack/bolt";
import type { Actor } from "../../core/index.ts";
import type { Message } from "../../render/model.ts";
import { groupAddedMessage, groupsMessage, helpMessage, usersMessage } from "../../render/views.ts";
import { openAddUserForm } from "./add-user.ts";
import { HMS_COMMAND, type SlackEdgeContext } from "./context.ts";
import { ephemeral, type ReplyTarget, replyEphemeral, replyFailure } from "./reply.ts";

/** Groups shown by `/hms groups` at most. */
export const GROUPS_SHOWN = 50;

export type HmsCommand =
  | { name: "help" }
  | { name: "unknown"; word: string }
  | { name: "add-user"; email?: string }
  | { name: "add-group"; group: string; policy?: string }
  | { name: "groups"; filter?: string }
  | { name: "users"; query: string }
  | { name: "template" }
  | { name: "import" };

/**
 * Slack's command text escaping undone: links and emails it wrapped (<mailto:a@b.c|a@b.c>,
 * <https://…|label>) become their label, and &amp; &lt; &gt; their characters.
 */
export function decodeSlackText(text: string): string {
  return text
    .replace(/<(?:mailto:|https?:\/\/)[^|>]*\|([^>]*)>/g, "$1")
    .replace(/<mailto:([^>]*)>/g, "$1")
    .replace(/<(https?:\/\/[^>]*)>/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** `add-group Field Sales policy=Strict BYOD` → name "Field Sales", policy "Strict BYOD". */
function parseAddGroup(rest: string): { group: string; policy?: string } {
  const match = /(?:^|\s)policy=/i.exec(rest);
  if (!match) return { group: rest.trim() };
  const policy = rest.slice(match.index + match[0].length).trim();
  return { group: rest.slice(0, match.index).trim(), policy: policy || undefined };
}

export function parseHmsCommand(text: string): HmsCommand {
  const decoded = decodeSlackText(text).trim();
  const [, word = "", rest = ""] = /^(\S*)\s*([\s\S]*)$/.exec(decoded) ?? [];
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
    case "template":
      return { name: "template" };
    case "import":
      return { name: "import" };
    default:
      return { name: "unknown", word };
  }
}

async function run(
  edge: SlackEdgeContext,
  command: Exclude<HmsCommand, { name: "help" | "unknown" | "add-user" | "template" | "import" }>,
  actor: Actor,
): Promise<Message> {
  switch (command.name) {
    case "add-group":
      return groupAddedMessage(await edge.core.addGroup({ actor, input: { name: command.group, policy: command.policy } }));
    case "groups":
      return groupsMessage({
        ...(await edge.core.listGroups({ actor, fragment: command.filter, limit: GROUPS_SHOWN })),
        invoke: HMS_COMMAND,
      });
    case "users":
      return usersMessage(await edge.core.findUsers({ actor, query: command.query }));
  }
}

export function registerCommands(app: App, edge: SlackEdgeContext): void {
  app.command(HMS_COMMAND, async ({ command, ack, client }) => {
    const parsed = parseHmsCommand(command.text ?? "");
    if (parsed.name === "help" || parsed.name === "unknown") {
      await ack(ephemeral(helpMessage({ invoke: HMS_COMMAND, unknown: parsed.name === "unknown" ? parsed.word : undefined })));
      return;
    }
    await ack();
    const where = { subcommand: parsed.name, slackUser: command.user_id, team: command.team_id };
    const target: ReplyTarget = { responseUrl: command.response_url, channel: command.channel_id, user: command.user_id };
    if (parsed.name === "add-user") {
      await openAddUserForm(edge, client, { triggerId: command.trigger_id, teamId: command.team_id, email: parsed.email, target });
      return;
    }
    if (parsed.name === "template" || parsed.name === "import") {
      const place = { team: command.team_id, user: command.user_id, channel: command.channel_id, responseUrl: command.response_url };
      if (!edge.imports) return;
      if (parsed.name === "template") await edge.imports.postTemplate(place);
      else await edge.imports.openUploadForm({ ...place, triggerId: command.trigger_id });
      return;
    }
    try {
      const actor = await edge.identities.resolve(client, command.team_id, command.user_id);
      await replyEphemeral(client, target, await run(edge, parsed, actor));
    } catch (error) {
      await replyFailure(client, target, error, edge.logger, where);
    }
  });
}
