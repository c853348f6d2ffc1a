/**
 * The chat layer's surface in Slack: messages with chat.postMessage / chat.update (Block Kit),
 * private answers through the response_url or chat.postEphemeral, files with files.uploadV2,
 * approvers found by email, and Slack's fallback: where the bot is not a member of a channel,
 * its DM with the person.
 */
import type { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import {
  type Answer,
  type ChatSurface,
  logFailure,
  type MessageRef,
  type OutgoingFile,
  type PlaceRef,
  speller,
  type Who,
} from "../../chat/index.ts";
import { renderMessage, renderText } from "../../render/blockkit.ts";
import type { Person } from "../../render/import-views.ts";
import type { Message, RichText } from "../../render/model.ts";
import { noticeMessage } from "../../render/views.ts";
import { explainSlackError } from "./answers.ts";
import { uploadFile } from "./files.ts";
import { SlackPeople } from "./people.ts";
import { ephemeral, replyEphemeral, slackBlocks } from "./reply.ts";
import { callSlack, postToResponseUrl, SlackApiError } from "./web.ts";

/** The slash command. */
export const HMS_COMMAND = "/hms";

/** Where something is in Slack: a channel and, optionally, a thread; where a person acted, their response_url. */
export interface SlackPlace {
  team?: string;
  channel: string;
  threadTs?: string;
  /** The slash command's or the click's response_url (private answers). */
  responseUrl?: string;
}

/** A message the bot posted. */
export interface SlackMessageRef {
  channel: string;
  ts: string;
}

const asPlace = (place: PlaceRef) => place as unknown as SlackPlace;

/** A direct message with the bot (Slack's DM channel ids start with D): no threads there, the conversation reads flat. */
export const isDirectMessage = (channel: string): boolean => channel.startsWith("D");
const asMessage = (message: MessageRef) => message as unknown as SlackMessageRef;

/** Permalinks kept at most (the oldest is forgotten first). */
const PERMALINKS_KEPT = 1000;

/** Slack errors meaning the bot cannot post in that channel (not a member, gone). */
const UNREACHABLE_CHANNEL = new Set(["not_in_channel", "channel_not_found"]);

export class SlackSurface implements ChatSurface {
  readonly platform = "slack" as const;
  readonly commands = { prefix: `${HMS_COMMAND} `, joiner: "-" } as const;
  readonly uploadHint: RichText = [
    "Then run ",
    { code: `${HMS_COMMAND} import` },
    ", or share the file in a direct message to the bot (or mention the bot on it in a channel).",
  ];
  private readonly peopleByEmail: SlackPeople;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
    /** SLACK_APPROVAL_CHANNEL: where approval requests go; unset: the import's thread. */
    private readonly approvalChannel?: string,
  ) {
    this.peopleByEmail = new SlackPeople((error, where) => this.answer(error, where));
  }

  /** How a command is typed in Slack. */
  readonly spell = speller(this.commands);

  private async postMessage(channel: string, threadTs: string | undefined, message: Message): Promise<string> {
    const { text, blocks } = renderMessage(message);
    const result = await callSlack("chat.postMessage", () =>
      this.client.chat.postMessage({ channel, text, blocks: slackBlocks(blocks), ...(threadTs ? { thread_ts: threadTs } : {}) }),
    );
    if (!result.ts) throw new SlackApiError("chat.postMessage", "platform", { slackError: "no ts in the answer" });
    return result.ts;
  }

  /**
   * Runs `work` in the place's channel (and thread); where the bot is not a member (a channel it
   * was not invited to), in its DM with the person instead, outside any thread.
   */
  private async reachable<T>(
    place: SlackPlace,
    who: Who | undefined,
    work: (channel: string, threadTs?: string) => Promise<T>,
  ): Promise<{ channel: string; threadTs?: string; result: T }> {
    try {
      return { channel: place.channel, threadTs: place.threadTs, result: await work(place.channel, place.threadTs) };
    } catch (error) {
      const code = error instanceof SlackApiError ? error.detail.slackError : undefined;
      if (!who || !UNREACHABLE_CHANNEL.has(code ?? "")) throw error;
      const opened = await callSlack("conversations.open", () => this.client.conversations.open({ users: who.userId }));
      const dm = opened.channel?.id;
      if (!dm) throw error;
      return { channel: dm, result: await work(dm) };
    }
  }

  async post(place: PlaceRef, message: Message, who?: Who): Promise<{ place: PlaceRef; message: MessageRef }> {
    const target = asPlace(place);
    const posted = await this.reachable(target, who, (channel, threadTs) => this.postMessage(channel, threadTs, message));
    // What follows (the report, the approval request) goes in the thread: the upload's, or the one this message
    // starts; in a direct message, in the conversation itself.
    const threadTs = posted.threadTs ?? (isDirectMessage(posted.channel) ? undefined : posted.result);
    const where: SlackPlace = { team: target.team, channel: posted.channel, ...(threadTs ? { threadTs } : {}) };
    return { place: { ...where }, message: { channel: posted.channel, ts: posted.result } satisfies SlackMessageRef };
  }

  async edit(message: MessageRef, content: Message): Promise<void> {
    const { channel, ts } = asMessage(message);
    const { text, blocks } = renderMessage(content);
    await callSlack("chat.update", () => this.client.chat.update({ channel, ts, text, blocks: slackBlocks(blocks) }));
  }

  /**
   * Replaces the message a click came from (its response_url, replace_original): the card of an
   * ephemeral answer, which chat.update cannot reach. Without a response_url, tells instead.
   */
  async replaceClicked(who: Who, message: Message): Promise<void> {
    const place = asPlace(who.place);
    if (!place.responseUrl) return this.tell(who, message);
    await postToResponseUrl(place.responseUrl, { ...ephemeral(message), replace_original: true });
  }

  /** Permalinks asked of Slack, by channel and ts (a message's permalink does not change). */
  private readonly permalinks = new Map<string, string>();

  /**
   * A message's permalink from chat.getPermalink: a reply in a thread (a summary in the thread of
   * the channel message it answers) opens in its thread only with the thread_ts and cid Slack
   * adds. Undefined when Slack does not give one (logged).
   */
  async link(message: MessageRef): Promise<string | undefined> {
    const { channel, ts } = asMessage(message);
    if (!channel || !ts) return undefined;
    const key = `${channel}:${ts}`;
    const known = this.permalinks.get(key);
    if (known) return known;
    try {
      const { permalink } = await callSlack("chat.getPermalink", () => this.client.chat.getPermalink({ channel, message_ts: ts }));
      if (!permalink) return undefined;
      if (this.permalinks.size >= PERMALINKS_KEPT) this.permalinks.delete(this.permalinks.keys().next().value!);
      this.permalinks.set(key, permalink);
      return permalink;
    } catch (error) {
      this.answer(error, { while: "asking for a message's permalink", method: "chat.getPermalink", channel });
      return undefined;
    }
  }

  async notify(person: { userId: string; place: PlaceRef }, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    // The person's DM with the bot: a private message that does not depend on a response_url still being valid.
    const opened = await callSlack("conversations.open", () => this.client.conversations.open({ users: person.userId }));
    const dm = opened.channel?.id;
    if (!dm) throw new SlackApiError("conversations.open", "platform", { slackError: "no channel in the answer" });
    const ts = await this.postMessage(dm, undefined, message);
    const place: SlackPlace = { team: asPlace(person.place).team, channel: dm };
    return { place: { ...place }, message: { channel: dm, ts } satisfies SlackMessageRef };
  }

  async privatePlace(who: Who): Promise<PlaceRef> {
    const opened = await callSlack("conversations.open", () => this.client.conversations.open({ users: who.userId }));
    const dm = opened.channel?.id;
    if (!dm) throw new SlackApiError("conversations.open", "platform", { slackError: "no channel in the answer" });
    const place: SlackPlace = { team: asPlace(who.place).team, channel: dm };
    return { ...place };
  }

  isPrivate(place: PlaceRef): boolean {
    return isDirectMessage(asPlace(place).channel ?? "");
  }

  async tell(who: Who, message: Message): Promise<void> {
    const place = asPlace(who.place);
    await replyEphemeral(this.client, { responseUrl: place.responseUrl, channel: place.channel || undefined, user: who.userId }, message);
  }

  async sendFile(place: PlaceRef, file: OutgoingFile, who?: Who): Promise<PlaceRef> {
    const comment = renderText(file.comment);
    const sent = await this.reachable(asPlace(place), who, (channel, threadTs) =>
      uploadFile(this.client, { channel, threadTs, fileName: file.name, bytes: file.bytes, comment, title: file.title }),
    );
    return { channel: sent.channel, ...(sent.threadTs ? { threadTs: sent.threadTs } : {}) };
  }

  async postApprovalRequest(place: PlaceRef, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    const thread = asPlace(place);
    if (this.approvalChannel) {
      try {
        const ts = await this.postMessage(this.approvalChannel, undefined, message);
        return { place: { channel: this.approvalChannel }, message: { channel: this.approvalChannel, ts } };
      } catch (error) {
        // A SLACK_APPROVAL_CHANNEL the bot cannot post in: the request goes to the thread rather than nowhere.
        const code = error instanceof SlackApiError ? error.detail.slackError : undefined;
        if (!UNREACHABLE_CHANNEL.has(code ?? "") && code !== "is_archived") throw error;
        this.answer(error, {
          channel: this.approvalChannel,
          while: "posting the approval request in SLACK_APPROVAL_CHANNEL; posted in the import's thread instead",
        });
      }
    }
    const ts = await this.postMessage(thread.channel, thread.threadTs, message);
    return { place: { channel: thread.channel, threadTs: thread.threadTs }, message: { channel: thread.channel, ts } };
  }

  people(emails: readonly string[]): Promise<Person[]> {
    return this.peopleByEmail.people(this.client, emails);
  }

  retryAfterMs(error: unknown): number | undefined {
    if (!(error instanceof SlackApiError) || error.failure !== "ratelimited") return undefined;
    return Math.min(error.detail.retryAfter ?? 1, 30) * 1000;
  }

  explain(error: unknown): Answer | undefined {
    return explainSlackError(error);
  }

  logContext(who: Who): Record<string, unknown> {
    return { slackUser: who.userId, team: asPlace(who.place).team };
  }

  /** Logs a failure with the one answer table; returns what the person should be told. */
  answer(error: unknown, where: Record<string, unknown>): Answer {
    return logFailure(this.logger, error, where, { explain: explainSlackError, spell: this.spell });
  }

  /** Logs a failure and tells the person; returns what they were told. */
  async tellFailure(who: Who, error: unknown, where: Record<string, unknown>): Promise<string> {
    const { text } = this.answer(error, where);
    await this.tell(who, noticeMessage(text)).catch((e: unknown) => this.answer(e, { ...where, while: "answering" }));
    return text;
  }
}
