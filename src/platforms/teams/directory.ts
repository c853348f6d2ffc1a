/**
 * The directory's Teams listeners, and the forms Teams shows in place of a card: the buttons of a
 * user's card (Edit and Move turn the card into their form, the others answer with the card as it
 * reads now), Resend of failed invitations, and the Edit, Move and Fix a row forms submitted with
 * Action.Execute. A form has Cancel, which brings the card back. Parsing only: the chat layer's
 * flows decide.
 */
import type { Activity } from "botbuilder";
import type { ClickAnswer, Who } from "../../chat/index.ts";
import type { UserInput } from "../../core/index.ts";
import { type FormCardState, renderFormCard } from "../../render/adaptive-cards.ts";
import { MOVE_USER_FORM_ID, RESEND_ACTION, USER_ACTIONS } from "../../render/directory-views.ts";
import { FIX_ROW_FORM_ID, FIX_ROW_INPUT, FIX_ROW_PICK_FORM_ID, IMPORT_ACTIONS } from "../../render/import-views.ts";
import type { Form, Message } from "../../render/model.ts";
import { ADD_USER_INPUTS, EDIT_USER_FORM_ID, noticeMessage } from "../../render/views.ts";
import { groupChoices } from "./add-user.ts";
import { type TeamsEdgeContext, whoSent } from "./context.ts";
import { type InvokeAnswer, STILL_WORKING, withinDeadline } from "./invoke.ts";

/** Cancel on a form shown in place of a user's card: the card again (the value is their email). */
export const USER_CARD_VERB = "hms_user_card";
/** Cancel on the Fix a row forms: the import's summary again (the value is the batch id). */
export const SUMMARY_VERB = "hms_import_summary";

const USER_ACTION_VERBS: readonly string[] = Object.values(USER_ACTIONS);

/** A notice above the card it is about, as one card (Teams answers a click with one card). */
export function withNotice(notice: Message | undefined, card: Message): Message {
  return notice ? { summary: notice.summary, blocks: [...notice.blocks, { type: "divider" }, ...card.blocks] } : card;
}

/** What a click says back in Teams: the card as it reads now (with the notice above it), or the notice alone. */
export function clickAnswer(edge: TeamsEdgeContext, answer: ClickAnswer): InvokeAnswer | undefined {
  if (answer.replace) return { card: edge.surface.card(withNotice(answer.notice, answer.replace)) };
  if (answer.notice) return { text: answer.notice.summary };
  return undefined;
}

/** The submitted values of a form's inputs (Teams merges them into the action's data). */
function valuesOf(form: Pick<Form, "inputs"> | readonly string[], data: Record<string, unknown>): Record<string, string> {
  const ids = Array.isArray(form) ? (form as readonly string[]) : (form as Form).inputs.map((i) => i.id);
  const out: Record<string, string> = {};
  for (const id of ids) out[id] = typeof data[id] === "string" ? (data[id] as string) : "";
  return out;
}

function readJson(text: unknown): Record<string, unknown> {
  try {
    const parsed = JSON.parse(typeof text === "string" ? text : "{}") as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A form as the card shown in place of the clicked one; its Group a list or the typeahead, its Cancel bringing `back`. */
async function formCard(
  edge: TeamsEdgeContext,
  who: Who,
  form: Form,
  back: { verb: string; value: string },
  state: Omit<FormCardState, "choices" | "cancel"> = {},
): Promise<InvokeAnswer> {
  const needsGroups = form.inputs.some((i) => i.type === "externalSelect" && i.id === "group");
  const choices = needsGroups ? { group: await groupChoices(edge, who) } : undefined;
  return { card: renderFormCard(form, { ...state, choices, cancel: { verb: back.verb, data: { value: back.value } } }) };
}

/** `work`'s answer within the deadline; if later, "still working" now and the answer told when known. */
async function answerInTime(edge: TeamsEdgeContext, who: Who, work: Promise<InvokeAnswer>, what: string): Promise<InvokeAnswer> {
  const first = await withinDeadline(edge.answerDeadlineMs, work);
  if (first !== "late") return first;
  edge.chat.later(what, async () => {
    const late = await work.catch((error: unknown) => ({ text: edge.surface.answer(error, { ...edge.surface.logContext(who) }).text }));
    const message = "card" in late ? undefined : noticeMessage(late.text);
    if (message) await edge.surface.tell(who, message).catch((error: unknown) => edge.surface.answer(error, { while: "answering" }));
  });
  return { text: STILL_WORKING };
}

/** The import's summary as it reads now, with a notice above it. */
async function summaryNow(edge: TeamsEdgeContext, batchId: string, notice?: Message): Promise<InvokeAnswer> {
  const view = await edge.chat.imports.viewNow(edge.surface, batchId, "summary");
  return { card: edge.surface.card(withNotice(notice, view)) };
}

/**
 * A verb of the directory or of Fix a row, answered; undefined for a verb that is neither (the
 * import flow's own verbs, unknown ones).
 */
export async function handleDirectoryAction(
  edge: TeamsEdgeContext,
  activity: Partial<Activity>,
  verb: string,
  data: Record<string, unknown>,
): Promise<InvokeAnswer | undefined> {
  const { chat, surface } = edge;
  const who = whoSent(edge, activity);
  const value = typeof data.value === "string" ? data.value : "";
  const metadata = typeof data.metadata === "string" ? data.metadata : "";

  if (USER_ACTION_VERBS.includes(verb)) {
    const work = (async (): Promise<InvokeAnswer> => {
      const outcome = await chat.directory.cardClick(surface, who, verb, value);
      if (outcome.kind === "form") return formCard(edge, who, outcome.form, { verb: USER_CARD_VERB, value });
      return clickAnswer(edge, outcome) ?? { card: surface.card(await chat.directory.userCard(surface, who, value)) };
    })();
    return answerInTime(edge, who, work, "a user card click's answer");
  }

  switch (verb) {
    case USER_CARD_VERB:
      return { card: surface.card(await chat.directory.userCard(surface, who, value)) };
    case RESEND_ACTION: {
      const work = chat.directory.resend(surface, who, value).then((answer) => clickAnswer(edge, answer) ?? { text: STILL_WORKING });
      return answerInTime(edge, who, work, "resend's answer");
    }
    case EDIT_USER_FORM_ID:
    case MOVE_USER_FORM_ID: {
      // The form's metadata is the user's email: the form names whom it changes.
      const email = metadata;
      const values = valuesOf(ADD_USER_INPUTS, data);
      const work = (async (): Promise<InvokeAnswer> => {
        const outcome =
          verb === EDIT_USER_FORM_ID
            ? await chat.directory.saveEdit(surface, who, email, values as unknown as UserInput)
            : await chat.directory.saveMove(surface, who, email, values.group ?? "");
        if (outcome.kind === "errors") {
          const card = await chat.directory.cardClick(
            surface,
            who,
            verb === EDIT_USER_FORM_ID ? USER_ACTIONS.edit : USER_ACTIONS.move,
            email,
          );
          if (card.kind !== "form") return clickAnswer(edge, card) ?? { text: STILL_WORKING };
          const typed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ""));
          return formCard(edge, who, card.form, { verb: USER_CARD_VERB, value: email }, { values: typed, errors: outcome.errors });
        }
        // Saved: the card as it reads now, the change above it (or, when it could not be saved, why).
        const now = await chat.directory.userCard(surface, who, email);
        return { card: surface.card(withNotice(outcome.message, now)) };
      })();
      return answerInTime(edge, who, work, "a user form's answer");
    }
    case SUMMARY_VERB:
      return summaryNow(edge, value);
    case IMPORT_ACTIONS.fixRow:
    case FIX_ROW_FORM_ID:
      // The button (its value the batch) and the row's form (its metadata the batch and row).
      return "metadata" in data && verb === FIX_ROW_FORM_ID ? saveFixedRow(edge, who, metadata, data) : startFix(edge, who, value);
    case FIX_ROW_PICK_FORM_ID:
      return pickRow(edge, who, metadata, data);
    default:
      return undefined;
  }
}

/** Fix a row clicked: the summary becomes the form picking the row. */
async function startFix(edge: TeamsEdgeContext, who: Who, batchId: string): Promise<InvokeAnswer> {
  const work = (async (): Promise<InvokeAnswer> => {
    const started = await edge.chat.imports.fixRowStart(edge.surface, who, batchId);
    if ("form" in started) return formCard(edge, who, started.form, { verb: SUMMARY_VERB, value: batchId });
    return clickAnswer(edge, started) ?? summaryNow(edge, batchId);
  })();
  return answerInTime(edge, who, work, "fix a row's answer");
}

/** The row picked: the Add user form holding it, its problems next to the fields. */
async function pickRow(edge: TeamsEdgeContext, who: Who, batchId: string, data: Record<string, unknown>): Promise<InvokeAnswer> {
  const rowNumber = Number(data[FIX_ROW_INPUT]);
  const work = (async (): Promise<InvokeAnswer> => {
    if (!Number.isInteger(rowNumber) || rowNumber <= 0) {
      const started = await edge.chat.imports.fixRowStart(edge.surface, who, batchId);
      if (!("form" in started)) return clickAnswer(edge, started) ?? summaryNow(edge, batchId);
      return formCard(edge, who, started.form, { verb: SUMMARY_VERB, value: batchId }, { errors: { [FIX_ROW_INPUT]: "Choose a row." } });
    }
    const picked = await edge.chat.imports.fixRowPicked(edge.surface, who, batchId, rowNumber);
    if (!("form" in picked)) return clickAnswer(edge, picked) ?? summaryNow(edge, batchId);
    return formCard(edge, who, picked.form, { verb: SUMMARY_VERB, value: batchId });
  })();
  return answerInTime(edge, who, work, "fix a row's answer");
}

/** The row's form saved: the form again with the problems, or the summary with its new counts. */
async function saveFixedRow(edge: TeamsEdgeContext, who: Who, metadata: string, data: Record<string, unknown>): Promise<InvokeAnswer> {
  const meta = readJson(metadata);
  const batchId = typeof meta.batchId === "string" ? meta.batchId : "";
  const rowNumber = Number(meta.rowNumber);
  const values = valuesOf(ADD_USER_INPUTS, data);
  const work = (async (): Promise<InvokeAnswer> => {
    const outcome = await edge.chat.imports.saveFixedRow(edge.surface, who, batchId, rowNumber, values as unknown as UserInput);
    if (outcome.kind === "errors") {
      const picked = await edge.chat.imports.fixRowPicked(edge.surface, who, batchId, rowNumber);
      if (!("form" in picked)) return clickAnswer(edge, picked) ?? summaryNow(edge, batchId);
      const typed = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ""));
      // The problems of this save, not the row's stored ones.
      const form = { ...picked.form, inputs: picked.form.inputs.map((i) => ({ ...i, problem: undefined })) };
      return formCard(edge, who, form, { verb: SUMMARY_VERB, value: batchId }, { values: typed, errors: outcome.errors });
    }
    return summaryNow(edge, batchId, outcome.message);
  })();
  return answerInTime(edge, who, work, "fix a row's answer");
}
