/**
 * The import flow's Teams listeners: CSVs attached in personal chat; the buttons of the summary
 * and of the approval request (Action.Execute, verb = the button's id); Reject's reason on a small
 * card; an approver's own view of the request (refresh); the consent card of a file the bot sends.
 * Each answer is the card the person should see now (the chat layer's view of the batch after the
 * click), or a short message when they are refused; everything slow runs detached, and the cards
 * are updated for everyone by the chat layer.
 */
import type { Activity, Attachment, FileConsentCardResponse } from "botbuilder";
import type { ClickAnswer, IncomingFile, Who } from "../../chat/index.ts";
import { renderFormCard } from "../../render/adaptive-cards.ts";
import {
  IMPORT_ACTIONS,
  parseApprovalValue,
  parseGroupFixValue,
  REJECT_REASON_INPUT,
  rejectReasonForm,
} from "../../render/import-views.ts";
import type { Message } from "../../render/model.ts";
import { ADD_USER_FORM_ID, noticeMessage } from "../../render/views.ts";
import { submitAddUser } from "./add-user.ts";
import { TeamsApiError } from "./connector.ts";
import { placeOf, type TeamsEdgeContext, whoSent } from "./context.ts";
import { handleDirectoryAction } from "./directory.ts";
import { downloadFile, FILE_INFO_CARD, uploadFile } from "./files.ts";
import { type InvokeAnswer, STILL_WORKING, withinDeadline } from "./invoke.ts";
import { APPROVAL_VIEW_VERB, type ConsentContext, cardActivity } from "./surface.ts";

interface DownloadInfo {
  downloadUrl?: string;
  uniqueId?: string;
  fileType?: string;
}

/** A file attached in personal chat, as the chat layer takes it: fetched once the sender is known to be an Administrator. */
function incomingFile(edge: TeamsEdgeContext, attachment: Attachment): IncomingFile {
  const content = (attachment.content ?? {}) as DownloadInfo;
  const name = attachment.name ?? "file.csv";
  return {
    id: content.uniqueId,
    name,
    async fetch() {
      if (!content.downloadUrl) throw new TeamsApiError("file download", "refused", { reason: "Teams sent no download link" });
      return { name, bytes: await downloadFile(content.downloadUrl, { hosts: edge.fileHosts, idleTimeoutMs: edge.downloadIdleTimeoutMs }) };
    },
  };
}

/** The files of a personal-chat message, each staged on its own. */
export async function receiveFiles(edge: TeamsEdgeContext, who: Who, attachments: readonly Attachment[]): Promise<void> {
  for (const attachment of attachments) await edge.chat.imports.receiveFile(edge.surface, who, incomingFile(edge, attachment));
}

const text = (message: Message): InvokeAnswer => ({ text: message.summary });

/**
 * A click of the import flow: its use case answers at once; then the clicked card as it reads now.
 * Work that outlasts the deadline carries on: the click is told so, and a refusal follows as a message.
 */
async function click(
  edge: TeamsEdgeContext,
  who: Who,
  run: () => Promise<ClickAnswer>,
  view: { batchId: string; which: "summary" | "approval" },
): Promise<InvokeAnswer> {
  const { chat, surface } = edge;
  const work = (async (): Promise<InvokeAnswer & { notice?: Message }> => {
    const answer = await run();
    if (answer.notice) return { ...text(answer.notice), notice: answer.notice };
    return { card: surface.card(await chat.imports.viewNow(surface, view.batchId, view.which)) };
  })();
  const first = await withinDeadline(edge.answerDeadlineMs, work);
  if (first !== "late") return "card" in first ? { card: first.card } : { text: first.text };
  chat.later("a late click's answer", async () => {
    const late = await work.catch((error: unknown) => ({
      notice: noticeMessage(surface.answer(error, { ...surface.logContext(who) }).text),
    }));
    if (late.notice) await surface.tell(who, late.notice).catch((error: unknown) => surface.answer(error, { while: "answering" }));
  });
  return { text: STILL_WORKING };
}

/** Reject's card: the reason, submitted with the button's value (which batch, which file) and the import's code. */
function rejectCard(code: string, value: string, error?: string) {
  const metadata = JSON.stringify({ value, code });
  return renderFormCard(rejectReasonForm({ code, metadata }), error ? { errors: { [REJECT_REASON_INPUT]: error } } : {});
}

function readRejectMetadata(text: unknown): { value: string; code: string } {
  try {
    const parsed = JSON.parse(typeof text === "string" ? text : "{}") as Record<string, unknown>;
    return { value: typeof parsed.value === "string" ? parsed.value : "", code: typeof parsed.code === "string" ? parsed.code : "" };
  } catch {
    return { value: "", code: "" };
  }
}

/** Reject clicked: only someone who may reject now gets the reason card (nobody types one in vain). */
async function askReason(edge: TeamsEdgeContext, who: Who, value: string): Promise<InvokeAnswer> {
  const checked = await withinDeadline(edge.answerDeadlineMs, edge.chat.imports.checkReject(edge.surface, who, value));
  if (checked === "late") return { text: STILL_WORKING };
  if (!("batch" in checked)) return checked.notice ? text(checked.notice) : { text: STILL_WORKING };
  return { card: rejectCard(checked.batch.code, value) };
}

/** The reason card submitted: a missing reason keeps the card with the problem shown; otherwise the request as it reads now. */
async function rejectWithReason(edge: TeamsEdgeContext, who: Who, data: Record<string, unknown>): Promise<InvokeAnswer> {
  const { chat, surface } = edge;
  const { value, code } = readRejectMetadata(data.metadata);
  const reason = typeof data[REJECT_REASON_INPUT] === "string" ? (data[REJECT_REASON_INPUT] as string) : "";
  const work = (async (): Promise<InvokeAnswer> => {
    const outcome = await chat.imports.reject(surface, who, value, reason);
    if ("reasonError" in outcome) return { card: rejectCard(code, value, outcome.reasonError) };
    if ("notice" in outcome) return text(outcome.notice);
    return { card: surface.card(await chat.imports.viewNow(surface, outcome.done.id, "approval")) };
  })();
  const first = await withinDeadline(edge.answerDeadlineMs, work);
  return first === "late" ? { text: STILL_WORKING } : first;
}

/** An Action.Execute of any of the bot's cards; unknown verbs (cards of an older version) are told so. */
export async function handleAction(
  edge: TeamsEdgeContext,
  activity: Partial<Activity>,
  verb: string,
  data: Record<string, unknown>,
): Promise<InvokeAnswer> {
  const { chat, surface } = edge;
  const { imports } = chat;
  const who = whoSent(edge, activity);
  const value = typeof data.value === "string" ? data.value : "";
  const summaryOf = (batchId: string) => ({ batchId, which: "summary" as const });
  const approvalOf = (v: string) => ({ batchId: parseApprovalValue(v).batchId, which: "approval" as const });
  switch (verb) {
    case IMPORT_ACTIONS.create:
      return click(edge, who, () => imports.create(surface, who, value), summaryOf(value));
    case IMPORT_ACTIONS.createAndUpdate:
      return click(edge, who, () => imports.create(surface, who, value, true), summaryOf(value));
    case IMPORT_ACTIONS.createGroup:
      return click(edge, who, () => imports.createGroup(surface, who, value), summaryOf(parseGroupFixValue(value).batchId));
    case IMPORT_ACTIONS.resend:
      return click(edge, who, () => imports.resend(surface, who, value), summaryOf(value));
    case IMPORT_ACTIONS.cancel:
      return click(edge, who, () => imports.cancel(surface, who, value), summaryOf(value));
    case IMPORT_ACTIONS.finish:
      return click(edge, who, () => imports.finish(surface, who, value), summaryOf(value));
    case IMPORT_ACTIONS.invite:
      return click(edge, who, () => imports.invite(surface, who, value), summaryOf(value));
    case IMPORT_ACTIONS.approve:
      return click(edge, who, () => imports.approve(surface, who, value), approvalOf(value));
    case IMPORT_ACTIONS.reject:
      // The button and the reason card's submit share the verb (Slack's action and modal ids are one string): the card's carries metadata.
      return "metadata" in data ? rejectWithReason(edge, who, data) : askReason(edge, who, value);
    case APPROVAL_VIEW_VERB: {
      // An approver opening the request: their own view, with the buttons (others keep the one without).
      const approvers = Array.isArray(data.for) ? data.for.filter((id): id is string => typeof id === "string") : [];
      const view = await withinDeadline(edge.answerDeadlineMs, imports.viewNow(surface, parseApprovalValue(value).batchId, "approval"));
      if (view === "late") return { text: STILL_WORKING };
      return { card: approvers.includes(who.userId) ? surface.approverCard(view, approvers) : surface.card(view, approvers) };
    }
    case ADD_USER_FORM_ID:
      return submitAddUser(edge, activity, data);
    default: {
      const answered = await handleDirectoryAction(edge, activity, verb, data);
      if (answered) return answered;
      edge.logger.info({ verb, ...surface.logContext(who) }, "teams: a card action the bot does not know (an old card?)");
      return { text: "This card is out of date: ask HMS userbot again (type help)." };
    }
  }
}

/** Allow on a file consent card: answered at once; the file is made again, uploaded and shown, detached. */
export function acceptFile(edge: TeamsEdgeContext, activity: Partial<Activity>, response: FileConsentCardResponse): void {
  const { chat, surface } = edge;
  const who = whoSent(edge, activity);
  const context = response.context as ConsentContext | undefined;
  const upload = response.uploadInfo;
  const where = { action: "file consent", file: context?.name, ...surface.logContext(who) };
  chat.later("upload a file", async () => {
    try {
      if (!context?.source || !upload?.uploadUrl)
        throw new TeamsApiError("file upload", "refused", { reason: "the consent carried no file or upload location" });
      const file = await chat.imports.fileFor(who, context.source);
      await uploadFile(upload.uploadUrl, file.bytes, { hosts: edge.fileHosts });
      await surface.send(placeOf(activity), {
        type: "message",
        summary: upload.name ?? file.name,
        attachments: [
          {
            contentType: FILE_INFO_CARD,
            contentUrl: upload.contentUrl,
            name: upload.name ?? file.name,
            content: { uniqueId: upload.uniqueId, fileType: upload.fileType },
          },
        ],
      });
      edge.logger.info({ ...where, source: context.source.kind }, "file uploaded to the personal chat");
      // The consent card has done its work: it goes, so that nobody allows the same file twice.
      if (activity.replyToId && activity.serviceUrl && activity.conversation?.id)
        await edge.connector
          .delete(activity.serviceUrl, activity.conversation.id, activity.replyToId)
          .catch((error: unknown) => surface.answer(error, { ...where, while: "removing the consent card" }));
    } catch (error) {
      await surface.tellFailure(who, error, { ...where, while: "uploading the file" });
    }
  });
}

/** Decline on a file consent card: the card says so (answered at once; the edit is detached). */
export function declineFile(edge: TeamsEdgeContext, activity: Partial<Activity>, response: FileConsentCardResponse): void {
  const context = response.context as ConsentContext | undefined;
  const name = context?.name ?? "the file";
  const again = context?.source?.kind === "template" ? " Type template to get it after all." : "";
  const notice = noticeMessage(`You declined ${name}.${again}`);
  const { serviceUrl, replyToId } = activity;
  const conversationId = activity.conversation?.id;
  if (!serviceUrl || !replyToId || !conversationId) return;
  edge.chat.later("decline a file", async () => {
    await edge.connector
      .update(serviceUrl, conversationId, replyToId, cardActivity(edge.surface.card(notice), notice.summary))
      .catch((error: unknown) => edge.surface.answer(error, { action: "file consent", while: "showing the decline" }));
  });
}
