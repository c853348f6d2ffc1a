/**
 * Events API: each delivery processed once (Slack retries when an ack is slow or lost, with
 * X-Slack-Retry-Num; replicas share the claim through the database), files sent to the bot
 * imported, and any other direct message answered with the help.
 */
import type { AnyMiddlewareArgs, App, Middleware } from "@slack/bolt";
import { renderMessage } from "../../render/blockkit.ts";
import { noticeMessage } from "../../render/views.ts";
import type { SlackEdgeContext } from "./context.ts";
import { type FileMessage, receiveFiles } from "./imports.ts";
import { slackBlocks } from "./reply.ts";
import { HMS_COMMAND } from "./surface.ts";
import { callSlack } from "./web.ts";

/** Events the manifest subscribes to that need no action: a DM share or a mention brings the file too. */
const UNUSED_EVENTS: ReadonlySet<string> = new Set(["file_shared"]);

/** Global middleware: an event whose event_id was already claimed goes no further (nor does one the bot has no use for). */
export function oncePerDelivery(edge: SlackEdgeContext): Middleware<AnyMiddlewareArgs> {
  return async ({ body, context, next }) => {
    const callback = body as { type?: string; event_id?: unknown; event?: { type?: unknown } };
    const eventId = callback.type === "event_callback" ? callback.event_id : undefined;
    if (typeof eventId !== "string" || eventId === "") {
      await next();
      return;
    }
    // Nothing to do, so nothing to remember (every file shared where the bot is would otherwise add a row).
    if (UNUSED_EVENTS.has(String(callback.event?.type))) return;
    let first: boolean;
    try {
      first = await edge.core.claimDelivery(`slack:event:${eventId}`);
    } catch (error) {
      // Without the claim we cannot tell a retry from a first delivery: drop it rather than risk doing it twice.
      edge.surface.answer(error, { eventId, while: "claiming the event" });
      return;
    }
    if (!first) {
      edge.logger.info(
        { eventId, retryNum: context.retryNum, retryReason: context.retryReason },
        "slack event already processed: delivery ignored",
      );
      return;
    }
    await next();
  };
}

export function registerEvents(app: App, edge: SlackEdgeContext): void {
  app.use(oncePerDelivery(edge));

  // A direct message to the bot: a file shared there is an import; any other message (not one of
  // the bot's own, not an edit) gets the help.
  app.event("message", async ({ event, context }) => {
    const message = event as { channel_type?: string; subtype?: string; bot_id?: string; channel?: string; user?: string };
    if (message.channel_type !== "im" || message.bot_id || !message.channel) return;
    if (message.user && message.user === context.botUserId) return;
    if (message.subtype === "file_share") {
      await receiveFiles(edge, event as FileMessage);
      return;
    }
    if (message.subtype !== undefined) return;
    const { text, blocks } = renderMessage(edge.chat.help(edge.surface));
    await callSlack("chat.postMessage", () =>
      edge.client.chat.postMessage({ channel: message.channel!, text, blocks: slackBlocks(blocks) }),
    ).catch((error: unknown) => edge.surface.answer(error, { event: "message.im", slackUser: message.user }));
  });

  // The bot mentioned in a channel: on a message with files, they are imports; otherwise, how to send one.
  app.event("app_mention", async ({ event }) => {
    const mention = event as FileMessage & { bot_id?: string };
    if (mention.bot_id || !mention.channel || !mention.user) return;
    if (mention.files?.length) {
      await receiveFiles(edge, mention);
      return;
    }
    const { text, blocks } = renderMessage(
      noticeMessage(
        `To import users, attach the CSV to the message that mentions me, share it in a direct message to me, or run ${HMS_COMMAND} import.`,
      ),
    );
    await callSlack("chat.postEphemeral", () =>
      edge.client.chat.postEphemeral({
        channel: mention.channel!,
        user: mention.user!,
        text,
        blocks: slackBlocks(blocks),
        thread_ts: mention.thread_ts,
      }),
    ).catch((error: unknown) => edge.surface.answer(error, { event: "app_mention", slackUser: mention.user }));
  });
}
