/**
 * Messages to the bot: in personal chat every message (a CSV attached to it is an import), in a
 * channel or group chat those that @mention it (Teams delivers no others). The text, with the
 * mention removed and Teams' markup undone, is a command of the chat layer's grammar; anything
 * else gets the help. Files cannot reach a bot outside personal chat: it says so and continues
 * in its personal chat with the person.
 */
import type { Activity, Attachment } from "botbuilder";
import { parseCommand, type Who } from "../../chat/index.ts";
import type { Message } from "../../render/model.ts";
import { noticeMessage } from "../../render/views.ts";
import { openAddUserForm } from "./add-user.ts";
import { placeOf, type TeamsEdgeContext, whoSent } from "./context.ts";
import { FILE_DOWNLOAD_INFO } from "./files.ts";
import { receiveFiles } from "./imports.ts";

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", "#39": "'" };

/**
 * Teams' message text as typed: tags dropped (a mention of someone keeps its name, a mailto link
 * its text), entities decoded, non-breaking spaces as spaces.
 */
export function decodeTeamsText(text: string): string {
  return text
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (all, name: string) => {
      const lower = name.toLowerCase();
      if (ENTITIES[lower] !== undefined) return ENTITIES[lower];
      if (lower.startsWith("#x")) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
      if (lower.startsWith("#")) return String.fromCodePoint(Number(lower.slice(1)));
      return all;
    })
    .replace(/\u00a0/g, " ")
    .trim();
}

/** Whether the message @mentions the bot (the recipient). */
export function mentionsBot(activity: Partial<Activity>): boolean {
  const bot = activity.recipient?.id;
  return (activity.entities ?? []).some(
    (e) => e.type === "mention" && (e as { mentioned?: { id?: string } }).mentioned?.id === bot && Boolean(bot),
  );
}

/** Attachments that stand for a file (outside personal chat Teams sends references, never the file). */
function fileLike(attachment: Attachment): boolean {
  return (
    attachment.contentType === FILE_DOWNLOAD_INFO ||
    attachment.contentType === "reference" ||
    Boolean(attachment.contentUrl && !attachment.contentType?.startsWith("image/"))
  );
}

const UPLOAD_HERE =
  "Attach the CSV file of users to a message to me here (one row per user; type template for the template). You get a summary first: nothing is created until you click Create.";

async function answer(edge: TeamsEdgeContext, who: Who, message: Message, where: Record<string, unknown>): Promise<void> {
  await edge.surface
    .tell(who, message)
    .catch((error: unknown) => edge.surface.answer(error, { ...where, ...edge.surface.logContext(who), while: "answering" }));
}

/**
 * In a channel or group chat, where no file reaches a bot: says so in the thread and continues in
 * the person's personal chat with the bot.
 */
export async function continueInPersonalChat(edge: TeamsEdgeContext, who: Who, why: string): Promise<void> {
  const where = { action: "import upload", ...edge.surface.logContext(who) };
  let opened = false;
  try {
    const personal = await edge.surface.personalChat(who);
    await edge.surface.tell({ ...who, place: { ...personal } }, noticeMessage(UPLOAD_HERE));
    opened = true;
  } catch (error) {
    edge.surface.answer(error, { ...where, while: "opening the personal chat" });
  }
  const text = opened
    ? `${why} I sent you a message in our personal chat: attach the CSV there.`
    : `${why} Open a personal chat with HMS userbot and attach the CSV there.`;
  await answer(edge, who, noticeMessage(text), where);
}

const NO_FILES_HERE = "Microsoft Teams does not give bots the files attached in channels or group chats.";

/** One message activity (copied out of its turn: this runs after the turn answered). */
export async function handleMessage(edge: TeamsEdgeContext, activity: Partial<Activity>): Promise<void> {
  const place = placeOf(activity);
  const who = whoSent(edge, activity, place);
  const attachments = activity.attachments ?? [];
  if (place.kind === "personal") {
    const files = attachments.filter((a) => a.contentType === FILE_DOWNLOAD_INFO);
    if (files.length > 0) {
      await receiveFiles(edge, who, files);
      return;
    }
  } else {
    if (!mentionsBot(activity)) return;
    if (attachments.some(fileLike)) {
      await continueInPersonalChat(edge, who, NO_FILES_HERE);
      return;
    }
  }

  const { chat, surface } = edge;
  const parsed = parseCommand(decodeTeamsText(activity.text ?? ""));
  const where = { subcommand: parsed.name, ...surface.logContext(who) };
  if (parsed.name === "help" || parsed.name === "unknown") {
    await answer(edge, who, chat.help(surface, parsed.name === "unknown" ? parsed.word : undefined), where);
    return;
  }
  const result = await chat.command(surface, who, parsed);
  switch (result.kind) {
    case "message":
      await answer(edge, who, result.message, where);
      return;
    case "open-add-user":
      await openAddUserForm(edge, who, result.email);
      return;
    case "open-upload":
      if (place.kind === "personal") await answer(edge, who, noticeMessage(UPLOAD_HERE), where);
      else await continueInPersonalChat(edge, who, NO_FILES_HERE);
      return;
    case "done":
      return;
  }
}
