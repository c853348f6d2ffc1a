/**
 * Activities as Microsoft Teams sends them to POST /api/messages: built from the captured shapes
 * in test/fixtures/teams (see test/fixtures/SOURCES.md), with the people, conversations and values
 * of a test filled in. `serviceUrl` points at the fake Bot Connector.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { FIXTURES_DIR } from "./shared.ts";

export const TEAMS_FIXTURES = path.join(FIXTURES_DIR, "teams");

/** The tenant of every fixture. */
export const TENANT = "caafef10-9d12-4668-a0d6-268b71695e1a";
export const OTHER_TENANT = "0b7f1e1a-7c8e-4a33-9f0a-2f1f3a6b9c12";
/** The bot as activities name it (the recipient). */
export const BOT = { id: "28:45fc30f1-94c5-48aa-b0df-ef0e41b65c6c", name: "HMS userbot" };

/** A Teams user as activities carry them. */
export interface TeamsUser {
  id: string;
  aadObjectId?: string;
  name: string;
}

export type Conversation = { id: string; conversationType: "personal" | "channel" | "groupChat"; tenantId?: string; isGroup?: boolean };

/** A fixture, parsed afresh (tests may change it). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(TEAMS_FIXTURES, `${name}.json`), "utf8")) as Record<string, unknown>;
}

/** The user's personal chat with the bot. */
export function personal(user: TeamsUser): Conversation {
  return { id: `a:personal-${user.id}`, conversationType: "personal", tenantId: TENANT };
}

/** A channel thread: the root message's conversation id, as Teams gives it. */
export function channel(root: string, channelId = "19:aebd0ad4d6ab42c8b9ed19c251c2fc37@thread.tacv2"): Conversation {
  return { id: `${channelId};messageid=${root}`, conversationType: "channel", tenantId: TENANT, isGroup: true };
}

export function groupChat(id = "19:7c0b3c6f2b1e4a8d9f0a1b2c3d4e5f60@thread.v2"): Conversation {
  return { id, conversationType: "groupChat", tenantId: TENANT, isGroup: true };
}

let ids = 0;
const nextId = () => `${1732449700000 + ++ids}`;

interface Common {
  serviceUrl: string;
  from: TeamsUser;
  conversation?: Conversation;
  tenant?: string;
}

function fill(base: Record<string, unknown>, { serviceUrl, from, conversation, tenant }: Common, id = nextId()): Record<string, unknown> {
  const conv = conversation ?? personal(from);
  const tenantId = tenant ?? conv.tenantId ?? TENANT;
  return {
    ...base,
    id,
    timestamp: new Date().toISOString(),
    serviceUrl,
    from: { id: from.id, name: from.name, ...(from.aadObjectId ? { aadObjectId: from.aadObjectId } : {}) },
    conversation: { ...conv, tenantId },
    recipient: { ...BOT },
    channelData: { ...(base.channelData as object), tenant: { id: tenantId } },
  };
}

/** A message typed to the bot; in a channel or group chat it @mentions the bot unless `mention` is false. */
export function message(common: Common & { text: string; mention?: boolean; attachments?: unknown[] }): Record<string, unknown> {
  const conversation = common.conversation ?? personal(common.from);
  const inChannel = conversation.conversationType !== "personal";
  const base = fixture(inChannel ? "message-channel-mention" : "message-personal");
  const id = inChannel ? (/;messageid=(\d+)/.exec(conversation.id)?.[1] ?? nextId()) : nextId();
  const mention = inChannel && common.mention !== false;
  const activity = fill(base, { ...common, conversation }, id);
  activity.text = mention ? `<at>${BOT.name}</at> ${common.text}` : common.text;
  if (!mention) activity.entities = (activity.entities as { type: string }[]).filter((e) => e.type !== "mention");
  if (common.attachments) activity.attachments = common.attachments;
  return activity;
}

/** A CSV attached in personal chat: the file.download.info attachment with its downloadUrl. */
export function fileMessage(common: Common & { name: string; downloadUrl: string; contentUrl?: string }): Record<string, unknown> {
  const activity = fill(fixture("message-file-attachment"), common);
  const [attachment] = activity.attachments as Record<string, unknown>[];
  activity.attachments = [
    {
      ...attachment,
      name: common.name,
      contentUrl:
        common.contentUrl ??
        `https://contoso-my.sharepoint.com/personal/ada_contoso_com/Documents/Microsoft%20Teams%20Chat%20Files/${encodeURIComponent(common.name)}`,
      content: {
        ...(attachment!.content as object),
        downloadUrl: common.downloadUrl,
        uniqueId: `U${nextId()}`,
        fileType: path.extname(common.name).slice(1),
      },
    },
  ];
  return activity;
}

/** A click on an Action.Execute of a card the bot posted (`replyToId`: that card's message), or its automatic refresh. */
export function action(
  common: Common & { verb: string; data?: Record<string, unknown>; replyToId: string; trigger?: "manual" | "automatic" },
): Record<string, unknown> {
  const activity = fill(fixture("invoke-adaptive-card-action"), common, `f:${nextId()}`);
  activity.replyToId = common.replyToId;
  activity.value = {
    action: { type: "Action.Execute", id: "", verb: common.verb, data: common.data ?? {} },
    trigger: common.trigger ?? "manual",
  };
  return activity;
}

/** The Group typeahead asking for choices (Data.Query). */
export function search(common: Common & { queryText: string; dataset: string; replyToId: string }): Record<string, unknown> {
  const activity = fill(fixture("invoke-application-search"), common, `f:${nextId()}`);
  activity.replyToId = common.replyToId;
  activity.value = { queryText: common.queryText, queryOptions: { skip: 0, top: 15 }, dataset: common.dataset };
  return activity;
}

/** Allow or Decline on a file consent card (`replyToId`: the consent card's message). */
export function fileConsent(
  common: Common & { accept: boolean; context: unknown; replyToId: string; uploadUrl?: string; name?: string },
): Record<string, unknown> {
  const activity = fill(fixture("invoke-file-consent"), common, `f:${nextId()}`);
  activity.replyToId = common.replyToId;
  const value = activity.value as { uploadInfo: Record<string, unknown> };
  activity.value = common.accept
    ? {
        type: "fileUpload",
        action: "accept",
        context: common.context,
        uploadInfo: { ...value.uploadInfo, uploadUrl: common.uploadUrl, ...(common.name ? { name: common.name } : {}) },
      }
    : { type: "fileUpload", action: "decline", context: common.context };
  return activity;
}

/** The bot installed in a personal chat. */
export function installed(common: Common): Record<string, unknown> {
  return fill(fixture("conversation-update-installed"), common, `f:${nextId()}`);
}
