/**
 * Ephemeral answers to the person who acted, in the conversation where they acted: through the
 * slash command's response_url (works even where the bot is not a member), else with
 * chat.postEphemeral.
 */
import type { types, webApi } from "@slack/bolt";
import type { BkBlock } from "../../render/blockkit.ts";
import { renderMessage } from "../../render/blockkit.ts";
import type { Message } from "../../render/model.ts";
import { callSlack, postToResponseUrl } from "./web.ts";

export interface ReplyTarget {
  /** The slash command's response_url (valid 30 minutes, 5 uses). */
  responseUrl?: string;
  channel?: string;
  user: string;
}

/** The body of an ephemeral slash command answer (ack() or response_url). */
export function ephemeral(message: Message): Record<string, unknown> {
  return { response_type: "ephemeral", ...renderMessage(message) };
}

/** The renderer's blocks as the SDK's type (the renderer is pure and has its own types). */
export function slackBlocks(blocks: BkBlock[]): types.KnownBlock[] {
  return blocks;
}

/** Sends an ephemeral message; throws SlackApiError when neither way works. */
export async function replyEphemeral(client: webApi.WebClient, target: ReplyTarget, message: Message): Promise<void> {
  if (target.responseUrl) {
    try {
      await postToResponseUrl(target.responseUrl, ephemeral(message));
      return;
    } catch (error) {
      // Expired or used up (30 minutes, 5 uses): fall back to posting, when we know where.
      if (!target.channel) throw error;
    }
  }
  if (!target.channel) throw new Error("nowhere to answer: neither a response_url nor a channel");
  const { text, blocks } = renderMessage(message);
  await callSlack("chat.postEphemeral", () =>
    client.chat.postEphemeral({ channel: target.channel!, user: target.user, text, blocks: slackBlocks(blocks) }),
  );
}
