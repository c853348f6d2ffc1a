/**
 * The /hms slash command: Slack's escaping undone, the chat layer's grammar, and the answer
 * ephemerally. The help is the acknowledgement itself; everything else is acknowledged first,
 * its answer following through the response_url.
 */
import type { App } from "@slack/bolt";
import { parseCommand } from "../../chat/index.ts";
import { renderModal } from "../../render/blockkit.ts";
import { importFileForm } from "../../render/import-views.ts";
import { openAddUserForm } from "./add-user.ts";
import { type SlackEdgeContext, whoIs } from "./context.ts";
import { ephemeral } from "./reply.ts";
import { HMS_COMMAND } from "./surface.ts";
import { callSlack } from "./web.ts";

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

export function registerCommands(app: App, edge: SlackEdgeContext): void {
  const { chat, surface } = edge;
  app.command(HMS_COMMAND, async ({ command, ack }) => {
    const parsed = parseCommand(decodeSlackText(command.text ?? ""));
    if (parsed.name === "help" || parsed.name === "unknown") {
      await ack(ephemeral(chat.help(surface, parsed.name === "unknown" ? parsed.word : undefined)));
      return;
    }
    await ack();
    const who = whoIs(edge, {
      team: command.team_id,
      user: command.user_id,
      channel: command.channel_id,
      responseUrl: command.response_url,
    });
    const result = await chat.command(surface, who, parsed);
    switch (result.kind) {
      case "message":
        // An answer that could not be delivered is itself explained (the response_url may work again).
        await surface
          .tell(who, result.message)
          .catch((error: unknown) => surface.tellFailure(who, error, { subcommand: parsed.name, ...surface.logContext(who) }));
        return;
      case "open-add-user":
        await openAddUserForm(edge, { triggerId: command.trigger_id, who, email: result.email });
        return;
      case "open-upload": {
        const metadata = JSON.stringify({ channel: command.channel_id, responseUrl: command.response_url });
        try {
          await callSlack("views.open", () =>
            edge.client.views.open({
              trigger_id: command.trigger_id,
              view: renderModal(importFileForm({ metadata, spell: surface.spell })),
            }),
          );
        } catch (error) {
          await surface.tellFailure(who, error, { subcommand: "import", ...surface.logContext(who) });
        }
        return;
      }
      case "done":
        return;
    }
  });
}
