/**
 * The chat layer's surface in Microsoft Teams: messages are Adaptive Cards posted and replaced
 * (PUT) through the Bot Connector; in a channel or group chat they go in the thread of the
 * message that asked. Teams has no private messages: the person is told where they acted.
 * Files go through a FileConsentCard in personal chat (bots have no file API in channels and
 * group chats: there the bot opens its personal chat with the person). Approval requests go to
 * TEAMS_APPROVAL_CONVERSATION when set; where every approver's Teams id is known, only they get
 * Approve / Reject (a user-specific view through `refresh.userIds`).
 */
import type { Logger } from "pino";
import {
  type Answer,
  type ChatSurface,
  logFailure,
  type MessageRef,
  type OutgoingFile,
  type PlaceRef,
  type Recipient,
  speller,
  type Who,
} from "../../chat/index.ts";
import { type AdaptiveCard, renderCard } from "../../render/adaptive-cards.ts";
import { IMPORT_ACTIONS, type Person } from "../../render/import-views.ts";
import type { Block, Message, RichText } from "../../render/model.ts";
import { noticeMessage } from "../../render/views.ts";
import { explainTeamsError } from "./answers.ts";
import { type BotConnector, baseConversationId, type OutgoingActivity, TeamsApiError } from "./connector.ts";
import { FILE_CONSENT_CARD } from "./files.ts";
import { type MemberLookup, TeamsPeople } from "./people.ts";

/** The refresh verb of an approval request: an approver's own view, with Approve and Reject. */
export const APPROVAL_VIEW_VERB = "hms_import_approval_view";
/** Teams shows user-specific views to at most this many people. */
export const MAX_REFRESH_USERS = 60;

export type ConversationKind = "personal" | "channel" | "groupChat";

/** Where something is in Teams: a conversation and, in a channel or group chat, the message whose thread it is. */
export interface TeamsPlace {
  serviceUrl: string;
  conversationId: string;
  kind: ConversationKind;
  tenantId?: string;
  /** Channels and group chats: the activity replies go to (its thread). */
  replyToId?: string;
  /** The bot's id in this conversation (28:…), to open a personal chat from here. */
  botId?: string;
}

/** A message the bot posted. `approvers`: the Teams ids its user-specific view is for (approval requests). */
export interface TeamsMessageRef {
  serviceUrl: string;
  conversationId: string;
  activityId: string;
  approvers?: string[];
}

/** What a file consent card carries back on Allow or Decline: enough to make the file again. */
export interface ConsentContext {
  name: string;
  source: NonNullable<OutgoingFile["source"]>;
}

const asPlace = (place: PlaceRef) => place as unknown as TeamsPlace;
const asMessage = (message: MessageRef) => message as unknown as TeamsMessageRef;

export const ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive";

/** A message carrying one Adaptive Card. */
export function cardActivity(card: AdaptiveCard, summary: string): OutgoingActivity {
  return { type: "message", summary, attachments: [{ contentType: ADAPTIVE_CARD, content: card }] };
}

/** The conversation kind Teams gives (conversationType), or guessed from the id for a configured conversation. */
export function conversationKind(type: string | undefined, conversationId: string): ConversationKind {
  if (type === "personal" || type === "channel" || type === "groupChat") return type;
  if (/@thread\.(tacv2|skype)/.test(conversationId)) return "channel";
  if (/@thread\.v2/.test(conversationId)) return "groupChat";
  return "personal";
}

/** The value of an approval request's Approve button: which batch (and file) it decides. */
function approveValue(message: Message): string | undefined {
  for (const block of message.blocks) {
    if (block.type !== "actions") continue;
    const approve = block.buttons.find((b) => b.id === IMPORT_ACTIONS.approve);
    if (approve) return approve.value;
  }
  return undefined;
}

/** The approval request as everyone but the approvers sees it: no buttons, and who may decide. */
function waitingView(message: Message): Message {
  const blocks: Block[] = message.blocks.filter((b) => b.type !== "actions");
  blocks.push({ type: "context", text: "Only the approvers named above see Approve and Reject." });
  return { summary: message.summary, blocks };
}

export class TeamsSurface implements ChatSurface {
  readonly platform = "teams" as const;
  readonly commands = { prefix: "", joiner: " " } as const;
  readonly uploadHint: RichText = [
    "Then attach the CSV to a message to HMS userbot in this personal chat (bots receive files only in personal chats).",
  ];
  /** How a command is typed in Teams. */
  readonly spell = speller(this.commands);
  readonly directory: TeamsPeople;
  /** The serviceUrl of the approvals conversation, once an activity came from there. */
  private approvalServiceUrl?: string;
  /** The serviceUrl the bot last heard from (the tenant's region), for lookups outside any turn. */
  private lastServiceUrl?: string;

  constructor(
    private readonly connector: BotConnector,
    private readonly logger: Logger,
    /** TEAMS_APPROVAL_CONVERSATION: where approval requests go; unset: the import's conversation. */
    private readonly approvalConversation?: string,
  ) {
    this.directory = new TeamsPeople((error, where) => this.answer(error, where));
  }

  /** Every activity's serviceUrl is noted: the approvals conversation is reached through its own. */
  heard(serviceUrl: string, conversationId: string): void {
    this.lastServiceUrl = serviceUrl;
    if (this.approvalConversation && baseConversationId(conversationId) === baseConversationId(this.approvalConversation))
      this.approvalServiceUrl = serviceUrl;
  }

  /** A message as the card Teams shows; an approval request with a user-specific view for its approvers. */
  card(message: Message, approvers?: readonly string[]): AdaptiveCard {
    const value = approveValue(message);
    if (!approvers?.length || value === undefined) return renderCard(message);
    return renderCard(waitingView(message), {
      refresh: { verb: APPROVAL_VIEW_VERB, userIds: approvers, data: { value, for: approvers } },
    });
  }

  /** An approver's own view of an approval request: the buttons, and refreshed again on their next look. */
  approverCard(message: Message, approvers: readonly string[]): AdaptiveCard {
    const value = approveValue(message);
    if (value === undefined) return renderCard(message);
    return renderCard(message, { refresh: { verb: APPROVAL_VIEW_VERB, userIds: approvers, data: { value, for: approvers } } });
  }

  /** Posts an activity where `place` says: a reply in the thread, or a new message in the conversation. */
  async send(place: TeamsPlace, activity: OutgoingActivity): Promise<string> {
    const posted =
      place.kind !== "personal" && place.replyToId
        ? await this.connector.reply(place.serviceUrl, place.conversationId, place.replyToId, activity)
        : await this.connector.send(place.serviceUrl, place.conversationId, activity);
    if (!posted.id) throw new TeamsApiError("post", "platform", { reason: "no activity id in the answer" });
    return posted.id;
  }

  async post(place: PlaceRef, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    const target = asPlace(place);
    const id = await this.send(target, cardActivity(this.card(message), message.summary));
    // What follows (the report, the approval request) goes in the same thread.
    const where: TeamsPlace = target.kind === "personal" ? target : { ...target, replyToId: target.replyToId ?? id };
    const ref: TeamsMessageRef = { serviceUrl: target.serviceUrl, conversationId: target.conversationId, activityId: id };
    return { place: { ...where }, message: { ...ref } };
  }

  async edit(message: MessageRef, content: Message): Promise<void> {
    const ref = asMessage(message);
    await this.connector.update(
      ref.serviceUrl,
      ref.conversationId,
      ref.activityId,
      cardActivity(this.card(content, ref.approvers), content.summary),
    );
  }

  /** Teams has no ephemeral messages: the person is answered where they acted (in the thread, in a channel). */
  async tell(who: Who, message: Message): Promise<void> {
    await this.send(asPlace(who.place), cardActivity(this.card(message), message.summary));
  }

  /** Later, outside their request: in the person's personal chat with the bot (opened from where they acted). */
  async notify(person: Recipient, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    const personal = await this.personalChat(person);
    const id = await this.send(personal, cardActivity(this.card(message), message.summary));
    const ref: TeamsMessageRef = { serviceUrl: personal.serviceUrl, conversationId: personal.conversationId, activityId: id };
    return { place: { ...personal }, message: { ...ref } };
  }

  async privatePlace(who: Who): Promise<PlaceRef> {
    return { ...(await this.personalChat(who)) };
  }

  isPrivate(place: PlaceRef): boolean {
    return asPlace(place).kind === "personal";
  }

  /** The bot's personal chat with the person who acted (Teams creates it, or finds the one there is). */
  async personalChat(who: Recipient): Promise<TeamsPlace> {
    const place = asPlace(who.place);
    if (place.kind === "personal" && who.actedThere !== false) return place;
    const created = await this.connector.createPersonalConversation(place.serviceUrl, {
      botId: place.botId,
      userId: who.userId,
      tenantId: place.tenantId,
    });
    if (!created.id) throw new TeamsApiError("personal chat", "platform", { reason: "no conversation id in the answer" });
    return { serviceUrl: place.serviceUrl, conversationId: created.id, kind: "personal", tenantId: place.tenantId, botId: place.botId };
  }

  async sendFile(place: PlaceRef, file: OutgoingFile, who?: Who): Promise<PlaceRef> {
    const target = asPlace(place);
    if (target.kind === "personal") {
      await this.offerFile(target, file);
      return place;
    }
    // No bot file API here: the file goes to the person's personal chat with the bot, and the thread says so.
    const what = file.source?.kind === "template" ? "the import template" : file.title;
    let personal: TeamsPlace | undefined;
    if (who) {
      try {
        personal = await this.personalChat(who);
        await this.offerFile(personal, file);
      } catch (error) {
        this.answer(error, { while: "sending a file in the personal chat instead of a channel", ...this.logContext(who) });
        personal = undefined;
      }
    }
    const text = personal
      ? `Microsoft Teams does not let bots send files in channels or group chats, so I sent ${what} to you in our personal chat.`
      : `Microsoft Teams does not let bots send files in channels or group chats. Open a personal chat with HMS userbot and type ${file.source?.kind === "template" ? "template" : "help"} there.`;
    await this.send(target, cardActivity(this.card(noticeMessage(text)), text));
    return personal ? { ...personal } : place;
  }

  /** The file's comment, then a FileConsentCard whose context lets the file be made again on Allow. */
  private async offerFile(place: TeamsPlace, file: OutgoingFile): Promise<void> {
    if (!file.source) throw new Error(`${file.name} has no source, so it cannot be offered with a consent card`);
    await this.send(place, cardActivity(this.card(file.comment), file.comment.summary));
    const context: ConsentContext = { name: file.name, source: file.source };
    await this.send(place, {
      type: "message",
      summary: file.title,
      attachments: [
        {
          contentType: FILE_CONSENT_CARD,
          name: file.name,
          content: { description: file.title, sizeInBytes: file.bytes.byteLength, acceptContext: context, declineContext: context },
        },
      ],
    });
  }

  async postApprovalRequest(
    place: PlaceRef,
    message: Message,
    approvers?: readonly Person[],
  ): Promise<{ place: PlaceRef; message: MessageRef }> {
    const thread = asPlace(place);
    const ids = approvers?.map((p) => p.platformId);
    const userIds =
      ids && ids.length > 0 && ids.length <= MAX_REFRESH_USERS && ids.every((id): id is string => Boolean(id)) ? ids : undefined;
    const activity = cardActivity(this.card(message, userIds), message.summary);
    if (this.approvalConversation) {
      const target: TeamsPlace = {
        serviceUrl: this.approvalServiceUrl ?? thread.serviceUrl,
        conversationId: this.approvalConversation,
        kind: conversationKind(undefined, this.approvalConversation),
        tenantId: thread.tenantId,
      };
      try {
        const id = await this.send(target, activity);
        const ref: TeamsMessageRef = {
          serviceUrl: target.serviceUrl,
          conversationId: target.conversationId,
          activityId: id,
          ...(userIds ? { approvers: userIds } : {}),
        };
        return { place: { ...target, replyToId: id }, message: { ...ref } };
      } catch (error) {
        // A TEAMS_APPROVAL_CONVERSATION the bot cannot post in: the request goes to the import's conversation rather than nowhere.
        if (!(error instanceof TeamsApiError) || (error.failure !== "forbidden" && error.failure !== "not_found")) throw error;
        this.answer(error, {
          conversation: this.approvalConversation,
          while: "posting the approval request in TEAMS_APPROVAL_CONVERSATION; posted in the import's conversation instead",
        });
      }
    }
    const id = await this.send(thread, activity);
    const ref: TeamsMessageRef = {
      serviceUrl: thread.serviceUrl,
      conversationId: thread.conversationId,
      activityId: id,
      ...(userIds ? { approvers: userIds } : {}),
    };
    return { place: { ...thread }, message: { ...ref } };
  }

  /** Approvers by email: those the bot knows, and those the approvals conversation's members API finds by UPN. */
  people(emails: readonly string[]): Promise<Person[]> {
    const serviceUrl = this.approvalServiceUrl ?? this.lastServiceUrl;
    const conversation = this.approvalConversation;
    const lookup: MemberLookup | undefined =
      conversation && serviceUrl
        ? async (email) => {
            try {
              return (await this.connector.member(serviceUrl, conversation, email)).id || undefined;
            } catch (error) {
              if (error instanceof TeamsApiError && error.failure === "not_found") return undefined;
              throw error;
            }
          }
        : undefined;
    return this.directory.people(emails, lookup);
  }

  retryAfterMs(error: unknown): number | undefined {
    if (!(error instanceof TeamsApiError) || error.failure !== "ratelimited") return undefined;
    return Math.min(error.detail.retryAfter ?? 1, 30) * 1000;
  }

  explain(error: unknown): Answer | undefined {
    return explainTeamsError(error);
  }

  logContext(who: Who): Record<string, unknown> {
    const place = asPlace(who.place);
    return { teamsUser: who.userId, tenant: place.tenantId, conversation: place.kind };
  }

  /** Logs a failure with the one answer table; returns what the person should be told. */
  answer(error: unknown, where: Record<string, unknown>): Answer {
    return logFailure(this.logger, error, where, { explain: explainTeamsError, spell: this.spell });
  }

  /** Logs a failure and tells the person; returns what they were told. */
  async tellFailure(who: Who, error: unknown, where: Record<string, unknown>): Promise<string> {
    const { text } = this.answer(error, where);
    await this.tell(who, noticeMessage(text)).catch((e: unknown) => this.answer(e, { ...where, while: "answering" }));
    return text;
  }
}
