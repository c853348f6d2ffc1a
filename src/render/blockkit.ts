/**
 * The Block Kit renderer: the neutral model → Slack's JSON (messages, modals, modal errors,
 * external select options). Pure: no I/O, no Slack SDK; the output types below are the parts of
 * Block Kit it emits. Slack's length limits are applied here, so views need not know them.
 */
import type { Block, Button, Field, Form, FormErrors, Inline, Input, Message, Option, OptionList, RichText } from "./model.ts";

export interface PlainText {
  type: "plain_text";
  text: string;
}
export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
}
export type TextObject = PlainText | Mrkdwn;

export interface BkOption {
  text: PlainText;
  value: string;
  description?: PlainText;
}

export interface BkButton {
  type: "button";
  action_id: string;
  text: PlainText;
  value?: string;
  style?: "primary" | "danger";
  confirm?: { title: PlainText; text: PlainText; confirm: PlainText; deny: PlainText; style?: "primary" | "danger" };
}

export type BkElement =
  | {
      type: "plain_text_input";
      action_id: string;
      placeholder?: PlainText;
      initial_value?: string;
      max_length?: number;
      multiline?: boolean;
    }
  | { type: "file_input"; action_id: string; filetypes?: string[]; max_files?: number }
  | { type: "external_select"; action_id: string; placeholder?: PlainText; min_query_length?: number; initial_option?: BkOption }
  | { type: "radio_buttons"; action_id: string; options: BkOption[]; initial_option?: BkOption }
  | { type: "static_select"; action_id: string; options: BkOption[]; placeholder?: PlainText; initial_option?: BkOption };

export type BkBlock =
  | { type: "section"; text: TextObject; fields?: TextObject[] }
  | { type: "context"; elements: TextObject[] }
  | { type: "actions"; elements: BkButton[] }
  | { type: "divider" }
  | { type: "input"; block_id: string; label: PlainText; element: BkElement; optional?: true; hint?: PlainText };

export interface BkMessage {
  text: string;
  blocks: BkBlock[];
}

export interface BkModal {
  type: "modal";
  callback_id: string;
  title: PlainText;
  submit?: PlainText;
  close: PlainText;
  private_metadata?: string;
  blocks: BkBlock[];
}

/** Slack's limits (characters, or items) for what this renderer emits. */
export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  sectionText: 3000,
  field: 2000,
  sectionFields: 10,
  contextText: 2000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  label: 2000,
  hint: 2000,
  placeholder: 150,
  textInput: 3000,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  options: 100,
  summary: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

/** Cuts `text` to `max` characters (code points), ending with "…" when cut. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** Escapes the three characters mrkdwn reserves. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function runs(text: RichText): readonly Inline[] {
  return typeof text === "string" ? [text] : text;
}

function isPlain(text: RichText): boolean {
  return runs(text).every((r) => typeof r === "string");
}

function plainString(text: RichText): string {
  return runs(text)
    .map((r) => (typeof r === "string" ? r : "bold" in r ? r.bold : "code" in r ? r.code : "link" in r ? r.text : r.mention))
    .join("");
}

/** Rich text as mrkdwn: runs escaped, bold as *…*, code as `…`. */
export function mrkdwn(text: RichText): string {
  return runs(text)
    .map((r) => {
      if (typeof r === "string") return escapeMrkdwn(r);
      if ("bold" in r) return r.bold ? `*${escapeMrkdwn(r.bold)}*` : "";
      if ("mention" in r) return r.platformId ? `<@${r.platformId}>` : escapeMrkdwn(r.mention);
      // Slack's link syntax: the URL and the text both escaped, the text never containing the separator.
      if ("link" in r)
        return /^https:\/\//.test(r.link) ? `<${escapeMrkdwn(r.link)}|${escapeMrkdwn(r.text.replace(/\|/g, "/"))}>` : escapeMrkdwn(r.text);
      return r.code ? `\`${escapeMrkdwn(r.code)}\`` : "";
    })
    .join("");
}

export function plain(text: string, max: number = LIMITS.label): PlainText {
  return { type: "plain_text", text: clip(text, max) };
}

/** plain_text when the text has no formatting (so names are shown exactly as typed), else mrkdwn. */
export function textObject(text: RichText, max: number): TextObject {
  return isPlain(text) ? plain(plainString(text), max) : { type: "mrkdwn", text: clip(mrkdwn(text), max) };
}

function fieldObject(field: Field): TextObject {
  return { type: "mrkdwn", text: clip(`*${escapeMrkdwn(field.label)}*\n${mrkdwn(field.value)}`, LIMITS.field) };
}

function button(b: Button): BkButton {
  const out: BkButton = { type: "button", action_id: b.id, text: plain(b.label, LIMITS.buttonText) };
  if (b.value !== undefined) out.value = clip(b.value, LIMITS.buttonValue);
  if (b.style) out.style = b.style;
  if (b.confirm) {
    out.confirm = {
      title: plain(b.confirm.title, LIMITS.confirmTitle),
      text: plain(b.confirm.text, LIMITS.confirmText),
      confirm: plain(b.confirm.confirm, LIMITS.confirmButton),
      deny: plain(b.confirm.deny, LIMITS.confirmButton),
      ...(b.style === "danger" ? { style: "danger" as const } : {}),
    };
  }
  return out;
}

/** Lines packed into sections of at most the text limit; stops before `maxSections` would be passed. */
function packLines(lines: readonly string[], maxSections: number): { texts: string[]; shown: number } {
  const texts: string[] = [];
  let current = "";
  let shown = 0;
  for (const line of lines) {
    const clipped = clip(line, LIMITS.sectionText);
    if (current && current.length + 1 + clipped.length > LIMITS.sectionText) {
      if (texts.length + 1 >= maxSections) break;
      texts.push(current);
      current = "";
    }
    current = current ? `${current}\n${clipped}` : clipped;
    shown++;
  }
  if (current) texts.push(current);
  return { texts, shown };
}

export const formatCount = (n: number) => n.toLocaleString("en-US");

/**
 * A list as one or more sections of "• item" lines, each section within the text limit, in at
 * most `maxBlocks` blocks. When not every item fits, or the list is the start of a longer one
 * (`total`), a last line says how many more there are.
 */
function listSections(items: readonly RichText[], total = items.length, maxBlocks: number = LIMITS.messageBlocks): BkBlock[] {
  const plainList = items.every(isPlain);
  const type = plainList ? "plain_text" : "mrkdwn";
  const lines = items.map((item) => `• ${plainList ? plainString(item) : mrkdwn(item)}`);
  let packed = packLines(lines, Math.max(1, maxBlocks));
  if (packed.shown === items.length && total <= items.length)
    return packed.texts.map((text) => ({ type: "section", text: { type, text } }));
  packed = packLines(lines, Math.max(1, maxBlocks - 1));
  const sections: BkBlock[] = packed.texts.map((text) => ({ type: "section", text: { type, text } }));
  const more = Math.max(total, items.length) - packed.shown;
  return [...sections, { type: "context", elements: [plain(`…and ${formatCount(more)} more.`, LIMITS.contextText)] }];
}

/** "▓▓▓▓░░░░░░ 40%" (Adaptive Cards show the same bar). */
export function progressBar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * 20);
  return `${"▓".repeat(filled)}${"░".repeat(20 - filled)} ${Math.floor(ratio * 100)}%`;
}

function blocks(block: Block, budget: number = LIMITS.messageBlocks): BkBlock[] {
  switch (block.type) {
    case "section": {
      const out: BkBlock = { type: "section", text: textObject(block.text, LIMITS.sectionText) };
      if (block.fields?.length) out.fields = block.fields.slice(0, LIMITS.sectionFields).map(fieldObject);
      return [out];
    }
    case "list":
      return listSections(block.items, block.total, budget);
    case "progress":
      return [
        { type: "section", text: plain(`${block.label} ${formatCount(block.done)} / ${formatCount(block.total)}`, LIMITS.sectionText) },
        { type: "context", elements: [plain(progressBar(block.done, block.total), LIMITS.contextText)] },
      ];
    case "context":
      return [{ type: "context", elements: [textObject(block.text, LIMITS.contextText)] }];
    case "actions":
      return [{ type: "actions", elements: block.buttons.slice(0, LIMITS.actionsElements).map(button) }];
    case "divider":
      return [{ type: "divider" }];
  }
}

function renderBlocks(list: readonly Block[], max: number): BkBlock[] {
  // Lists that say how long they are share what the other blocks leave, so that the blocks after them (buttons) stay.
  const fixed = list.filter((b) => !(b.type === "list" && b.total !== undefined)).flatMap((b) => blocks(b)).length;
  let left = max - fixed;
  const out = list.flatMap((b) => {
    if (!(b.type === "list" && b.total !== undefined)) return blocks(b);
    const rendered = blocks(b, Math.max(1, left));
    left -= rendered.length;
    return rendered;
  });
  if (out.length <= max) return out;
  return [...out.slice(0, max - 1), { type: "context", elements: [plain("(Shortened: Slack shows at most this much in one message.)")] }];
}

/** A message for chat.postMessage, chat.postEphemeral or a response_url (add response_type there). */
export function renderMessage(message: Message): BkMessage {
  return { text: clip(message.summary, LIMITS.summary), blocks: renderBlocks(message.blocks, LIMITS.messageBlocks) };
}

export function option(o: Option): BkOption {
  const out: BkOption = { text: plain(o.label, LIMITS.optionText), value: clip(o.value, LIMITS.optionValue) };
  if (o.description) out.description = plain(o.description, LIMITS.optionDescription);
  return out;
}

function element(input: Input): BkElement {
  switch (input.type) {
    case "text": {
      const el: BkElement = { type: "plain_text_input", action_id: input.id };
      if (input.placeholder) el.placeholder = plain(input.placeholder, LIMITS.placeholder);
      if (input.initialValue) el.initial_value = clip(input.initialValue, input.maxLength ?? LIMITS.textInput);
      if (input.maxLength !== undefined) el.max_length = Math.min(input.maxLength, LIMITS.textInput);
      if (input.multiline) el.multiline = true;
      return el;
    }
    case "file": {
      const el: BkElement = { type: "file_input", action_id: input.id };
      if (input.fileTypes) el.filetypes = [...input.fileTypes];
      if (input.maxFiles !== undefined) el.max_files = input.maxFiles;
      return el;
    }
    case "externalSelect": {
      const el: BkElement = { type: "external_select", action_id: input.id };
      if (input.placeholder) el.placeholder = plain(input.placeholder, LIMITS.placeholder);
      if (input.minQueryLength !== undefined) el.min_query_length = input.minQueryLength;
      if (input.initialOption) el.initial_option = option(input.initialOption);
      return el;
    }
    case "radio": {
      const options = input.options.map(option);
      const el: BkElement = { type: "radio_buttons", action_id: input.id, options };
      const initial = options.find((o) => o.value === input.initialValue);
      if (initial) el.initial_option = initial;
      return el;
    }
    case "select": {
      const options = input.options.slice(0, LIMITS.options).map(option);
      const el: BkElement = { type: "static_select", action_id: input.id, options };
      if (input.placeholder) el.placeholder = plain(input.placeholder, LIMITS.placeholder);
      const initial = options.find((o) => o.value === input.initialValue);
      if (initial) el.initial_option = initial;
      return el;
    }
  }
}

function inputBlock(input: Input): BkBlock {
  const out: BkBlock = { type: "input", block_id: input.id, label: plain(input.label, LIMITS.label), element: element(input) };
  if (input.optional) out.optional = true;
  // A modal shows a problem next to its input only after a submission: until then, in the hint.
  const hint = input.problem ? `⚠ ${input.problem}${input.hint ? ` ${input.hint}` : ""}` : input.hint;
  if (hint) out.hint = plain(hint, LIMITS.hint);
  return out;
}

/** A modal view for views.open / views.update. Block and action ids are the input ids. */
export function renderModal(form: Form): BkModal {
  if (form.metadata !== undefined && form.metadata.length > LIMITS.privateMetadata) {
    throw new Error(`form metadata is ${form.metadata.length} characters; Slack keeps at most ${LIMITS.privateMetadata}`);
  }
  const modal: BkModal = {
    type: "modal",
    callback_id: form.id,
    title: plain(form.title, LIMITS.modalTitle),
    close: plain(form.cancelLabel, LIMITS.modalButton),
    blocks: [...(form.intro ?? []).flatMap(blocks), ...form.inputs.map(inputBlock)].slice(0, LIMITS.modalBlocks),
  };
  if (form.submitLabel !== undefined && form.inputs.length > 0) modal.submit = plain(form.submitLabel, LIMITS.modalButton);
  if (form.metadata !== undefined) modal.private_metadata = form.metadata;
  return modal;
}

/** The view_submission answer that keeps the modal open with errors next to the inputs. */
export function renderFormErrors(errors: FormErrors): { response_action: "errors"; errors: Record<string, string> } {
  return {
    response_action: "errors",
    errors: Object.fromEntries(Object.entries(errors).map(([id, text]) => [id, clip(text, LIMITS.label)])),
  };
}

/** The block_suggestion answer of an external select. */
export function renderOptions(list: OptionList): { options: BkOption[] } | { option_groups: { label: PlainText; options: BkOption[] }[] } {
  const options = list.options.slice(0, LIMITS.options).map(option);
  return list.note ? { option_groups: [{ label: plain(list.note, LIMITS.optionText), options }] } : { options };
}

/** A message as one mrkdwn text, for where Slack takes text only (a file's initial comment). */
export function renderText(message: Message): string {
  const lines = message.blocks.flatMap((b): string[] => {
    switch (b.type) {
      case "section":
        return [mrkdwn(b.text), ...(b.fields ?? []).map((f) => `*${escapeMrkdwn(f.label)}*: ${mrkdwn(f.value)}`)];
      case "list":
        return b.items.map((item) => `• ${mrkdwn(item)}`);
      case "context":
        return [mrkdwn(b.text)];
      case "progress":
        return [`${escapeMrkdwn(b.label)} ${formatCount(b.done)} / ${formatCount(b.total)}`];
      default:
        return []; // actions and dividers have no text
    }
  });
  return clip(lines.join("\n"), 4000);
}
