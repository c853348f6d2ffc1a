/**
 * The import flow's Slack listeners: a CSV arrives (the /hms import modal, a file shared in the
 * bot's DM, or a channel message with the file that mentions the bot); the buttons of the summary
 * and of the approval request; the reject reason's modal. Each parses Slack's payload and hands it
 * to the chat layer's import flow; what a click says back goes to the clicker ephemerally.
 */
import type { App } from "@slack/bolt";
import type { ClickAnswer, IncomingFile, Who } from "../../chat/index.ts";
import { renderFormErrors, renderModal } from "../../render/blockkit.ts";
import {
  FIX_ROW_FORM_ID,
  FIX_ROW_INPUT,
  FIX_ROW_PICK_FORM_ID,
  IMPORT_ACTIONS,
  IMPORT_FILE_INPUT,
  IMPORT_FORM_ID,
  REJECT_FORM_ID,
  REJECT_REASON_INPUT,
  rejectReasonForm,
} from "../../render/import-views.ts";
import type { Form } from "../../render/model.ts";
import { noticeForm } from "../../render/views.ts";
import { readFormValues, type StateValue } from "./add-user.ts";
import { type SlackEdgeContext, whoIs } from "./context.ts";
import { withinDeadline } from "./directory.ts";
import { describeFile, downloadFile, type SlackFileRef } from "./files.ts";
import { HMS_COMMAND, isDirectMessage } from "./surface.ts";
import { callSlack } from "./web.ts";

/** Opens a modal for a click; its metadata keeps `extra` and where to answer. */
async function openModal(edge: SlackEdgeContext, who: Who, triggerId: string, form: Form, extra: Record<string, string>): Promise<void> {
  const place = who.place as { channel?: string; responseUrl?: string };
  const metadata = JSON.stringify({ ...extra, channel: place.channel, responseUrl: place.responseUrl });
  try {
    await callSlack("views.open", () => edge.client.views.open({ trigger_id: triggerId, view: renderModal({ ...form, metadata }) }));
  } catch (error) {
    await edge.surface.tellFailure(who, error, { action: form.id, ...edge.surface.logContext(who) });
  }
}

export interface ActionBody {
  user: { id: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string };
  container?: { channel_id?: string; message_ts?: string; thread_ts?: string };
  response_url?: string;
  trigger_id?: string;
}

/** What a click says back: the clicked message replaced (a card), and a private notice. */
export async function deliver(edge: SlackEdgeContext, who: Who, answer: ClickAnswer, actionId: string): Promise<void> {
  const { surface } = edge;
  const where = { actionId, ...surface.logContext(who), while: "answering" };
  if (answer.replace) await surface.replaceClicked(who, answer.replace).catch((error: unknown) => surface.answer(error, where));
  if (answer.notice) await surface.tell(who, answer.notice).catch((error: unknown) => surface.answer(error, where));
}

export function whoClicked(edge: SlackEdgeContext, body: ActionBody): Who {
  return whoIs(edge, {
    team: body.team?.id ?? body.user.team_id,
    user: body.user.id,
    channel: body.channel?.id ?? body.container?.channel_id ?? "",
    threadTs: body.container?.thread_ts,
    responseUrl: body.response_url,
  });
}

function readMetadata(text: string | undefined): Record<string, string | undefined> {
  try {
    const parsed = JSON.parse(text ?? "{}") as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : undefined]));
  } catch {
    return {};
  }
}

/** A Slack file reference as the chat layer takes it: downloaded with the bot token once the sender is known to be an Administrator. */
function incomingFile(edge: SlackEdgeContext, file: SlackFileRef): IncomingFile {
  return {
    id: file.id,
    name: file.name ?? file.id,
    async fetch() {
      const described = await describeFile(edge.client, file);
      return {
        name: described.name,
        bytes: await downloadFile(described.url_private_download, edge.files.botToken, {
          apiUrl: edge.files.apiUrl,
          idleTimeoutMs: edge.files.idleTimeoutMs,
        }),
      };
    },
  };
}

type FileInputState = { files?: SlackFileRef[] | null };

export function registerImports(app: App, edge: SlackEdgeContext): void {
  const { chat, surface } = edge;
  const { imports } = chat;
  const onClick = (actionId: string, run: (who: Who, value: string, body: ActionBody) => Promise<ClickAnswer>) =>
    app.action({ type: "block_actions", action_id: actionId }, async ({ ack, body, action }) => {
      await ack();
      const who = whoClicked(edge, body as unknown as ActionBody);
      const answer = await run(who, (action as { value?: string }).value ?? "", body as unknown as ActionBody);
      await deliver(edge, who, answer, actionId);
    });

  onClick(IMPORT_ACTIONS.create, (who, value) => imports.create(surface, who, value));
  onClick(IMPORT_ACTIONS.cancel, (who, value) => imports.cancel(surface, who, value));
  onClick(IMPORT_ACTIONS.approve, (who, value) => imports.approve(surface, who, value));
  onClick(IMPORT_ACTIONS.finish, (who, value) => imports.finish(surface, who, value));
  onClick(IMPORT_ACTIONS.invite, (who, value) => imports.invite(surface, who, value));
  onClick(IMPORT_ACTIONS.createAndUpdate, (who, value) => imports.create(surface, who, value, true));
  onClick(IMPORT_ACTIONS.createGroup, (who, value) => imports.createGroup(surface, who, value));
  onClick(IMPORT_ACTIONS.resend, (who, value) => imports.resend(surface, who, value));

  // Fix a row: a modal to pick the row, then the Add user form holding it.
  onClick(IMPORT_ACTIONS.fixRow, async (who, value, body) => {
    const started = await imports.fixRowStart(surface, who, value);
    if (!("form" in started)) return started;
    await openModal(edge, who, body.trigger_id ?? "", started.form, { batchId: value });
    return {};
  });
  app.view(FIX_ROW_PICK_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const values = view.state.values as Record<string, Record<string, { selected_option?: { value?: string } | null }>>;
    const rowNumber = Number(values[FIX_ROW_INPUT]?.[FIX_ROW_INPUT]?.selected_option?.value);
    if (!Number.isInteger(rowNumber)) {
      await ack(renderFormErrors({ [FIX_ROW_INPUT]: "Choose a row." }));
      return;
    }
    const who = whoIs(edge, {
      team: body.team?.id ?? body.user.team_id,
      user: body.user.id,
      channel: metadata.channel ?? "",
      responseUrl: metadata.responseUrl,
    });
    const picked = await imports.fixRowPicked(surface, who, metadata.batchId ?? "", rowNumber);
    if (!("form" in picked)) {
      await ack();
      if (picked.notice) await surface.tell(who, picked.notice).catch((e: unknown) => surface.answer(e, { while: "answering" }));
      return;
    }
    // As a string: readMetadata keeps string values only.
    const form = { ...picked.form, metadata: JSON.stringify({ ...metadata, rowNumber: String(rowNumber) }) };
    await ack({ response_action: "update", view: renderModal(form) });
  });
  app.view(FIX_ROW_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const who = whoIs(edge, {
      team: body.team?.id ?? body.user.team_id,
      user: body.user.id,
      channel: metadata.channel ?? "",
      responseUrl: metadata.responseUrl,
    });
    const values = readFormValues(view.state.values as Record<string, Record<string, StateValue>>);
    const work = imports.saveFixedRow(surface, who, metadata.batchId ?? "", Number(metadata.rowNumber), values);
    const outcome = await withinDeadline(work, edge.submitDeadlineMs);
    if (outcome !== "late" && outcome.kind === "errors") {
      await ack(renderFormErrors(outcome.errors));
      return;
    }
    await ack();
    const done = outcome === "late" ? await work : outcome;
    const message =
      done.kind === "done"
        ? done.message
        : { summary: "Not saved.", blocks: [{ type: "section" as const, text: `Row not saved: ${Object.values(done.errors).join(" ")}` }] };
    await surface.tell(who, message).catch((e: unknown) => surface.answer(e, { while: "answering" }));
  });
  // Reject opens a small form for the reason, only for someone who may reject now.
  onClick(IMPORT_ACTIONS.reject, async (who, value, body) => {
    const checked = await imports.checkReject(surface, who, value);
    if (!("batch" in checked)) return checked;
    const place = who.place as { channel?: string; responseUrl?: string };
    const metadata = JSON.stringify({ value, channel: place.channel, responseUrl: place.responseUrl });
    try {
      await callSlack("views.open", () =>
        edge.client.views.open({
          trigger_id: body.trigger_id ?? "",
          view: renderModal(rejectReasonForm({ code: checked.batch.code, metadata })),
        }),
      );
    } catch (error) {
      await surface.tellFailure(who, error, { action: "import reject", ...surface.logContext(who), batchId: checked.batch.id });
    }
    return {};
  });

  // The upload modal: acknowledged with a notice at once; the file is fetched and checked after.
  app.view(IMPORT_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const values = view.state.values as Record<string, Record<string, FileInputState>>;
    const file = (values[IMPORT_FILE_INPUT]?.[IMPORT_FILE_INPUT]?.files ?? [])[0];
    if (!file) {
      await ack(renderFormErrors({ [IMPORT_FILE_INPUT]: "Choose a CSV file." }));
      return;
    }
    const text = `Checking ${file.name ?? "the file"}… the summary will be posted in the conversation where you ran ${HMS_COMMAND} import.`;
    await ack({ response_action: "update", view: renderModal(noticeForm({ id: "hms_import_checking", title: "Import users", text })) });
    let channel = metadata.channel ?? "";
    if (!channel) {
      // Without a channel (opened elsewhere), the DM with the bot.
      const opened = await callSlack("conversations.open", () => edge.client.conversations.open({ users: body.user.id })).catch(
        () => undefined,
      );
      channel = opened?.channel?.id ?? "";
    }
    const who = whoIs(edge, { team: body.team?.id ?? body.user.team_id, user: body.user.id, channel, responseUrl: metadata.responseUrl });
    await imports.receiveFile(surface, who, incomingFile(edge, file));
  });

  // Reject's reason: an empty one keeps the form open; anything else closes it and the outcome shows in the messages.
  app.view(REJECT_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const values = view.state.values as Record<string, Record<string, { value?: string | null }>>;
    const reason = values[REJECT_REASON_INPUT]?.[REJECT_REASON_INPUT]?.value ?? "";
    const who = whoIs(edge, {
      team: body.team?.id ?? body.user.team_id,
      user: body.user.id,
      channel: metadata.channel ?? "",
      responseUrl: metadata.responseUrl,
    });
    // Modals opened before an upgrade carry batchId and sha256Prefix instead of the button's value.
    const value = metadata.value ?? `${metadata.batchId ?? ""}:${metadata.sha256Prefix ?? ""}`;
    const work = imports.reject(surface, who, value, reason);
    // The form stays open only for a missing reason, which needs the answer within Slack's 3 seconds.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), edge.submitDeadlineMs);
    });
    const first = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (first !== "late" && "reasonError" in first) {
      await ack(renderFormErrors({ [REJECT_REASON_INPUT]: first.reasonError }));
      return;
    }
    await ack();
    const outcome = first === "late" ? await work : first;
    const told =
      "reasonError" in outcome
        ? { summary: outcome.reasonError, blocks: [{ type: "section" as const, text: outcome.reasonError }] }
        : "notice" in outcome
          ? outcome.notice
          : undefined;
    if (told)
      await surface.tell(who, told).catch((error: unknown) => surface.answer(error, { action: "import reject", while: "answering" }));
  });
}

/** A message event carrying files (a DM file share, or a mention of the bot on a file message). */
export interface FileMessage {
  team?: string;
  user?: string;
  channel?: string;
  ts?: string;
  thread_ts?: string;
  files?: SlackFileRef[];
}

/** The files of a message, each staged on its own and answered in the message's thread (in a DM, in the conversation). */
export async function receiveFiles(edge: SlackEdgeContext, message: FileMessage): Promise<void> {
  if (!message.user || !message.channel) return;
  const threadTs = message.thread_ts ?? (isDirectMessage(message.channel) ? undefined : message.ts);
  const who = whoIs(edge, { team: message.team, user: message.user, channel: message.channel, ...(threadTs ? { threadTs } : {}) });
  for (const file of message.files ?? []) await edge.chat.imports.receiveFile(edge.surface, who, incomingFile(edge, file));
}
