/**
 * STAND-IN until h/cards lands (the Adaptive Card 1.5 renderer of the neutral model is written
 * there; this file is replaced by theirs at the merge). Same API: renderCard, renderFormCard,
 * renderSearchResults, CARD_BUDGET_BYTES. Buttons are Action.Execute with verb = button id and
 * data = { value, ...options.data }; a form's submit has verb = form.id and data { metadata }.
 */
import type { Block, Form, FormErrors, Inline, Message, Option, OptionList, RichText } from "./model.ts";

/** A card's budget, counted as UTF-16 (JSON length × 2). */
export const CARD_BUDGET_BYTES = 40 * 1024;

export type AdaptiveCard = Record<string, unknown>;
type Element = Record<string, unknown>;

export interface CardOptions {
  /** User-specific views: who gets the card refreshed with `verb` (at most 60 people). */
  refresh?: { verb: string; userIds: readonly string[]; data?: Record<string, unknown> };
  /** Merged into every button's data. */
  data?: Record<string, unknown>;
}

interface Mention {
  type: "mention";
  text: string;
  mentioned: { id: string; name: string };
}

const esc = (text: string) => text.replace(/([\\*_`[\]<>])/g, "\\$1");

function inline(run: Inline, mentions: Mention[]): string {
  if (typeof run === "string") return esc(run);
  if ("bold" in run) return `**${esc(run.bold)}**`;
  if ("code" in run) return esc(run.code);
  if (!run.platformId) return esc(run.mention);
  const text = `<at>${run.mention}</at>`;
  if (!mentions.some((m) => m.mentioned.id === run.platformId))
    mentions.push({ type: "mention", text, mentioned: { id: run.platformId, name: run.mention } });
  return text;
}

function text(rich: RichText, mentions: Mention[]): string {
  return typeof rich === "string" ? esc(rich) : rich.map((r) => inline(r, mentions)).join("");
}

function block(b: Block, mentions: Mention[], options: CardOptions, listLimit: number): Element[] {
  switch (b.type) {
    case "section": {
      const out: Element[] = [{ type: "TextBlock", text: text(b.text, mentions), wrap: true }];
      if (b.fields?.length) out.push({ type: "FactSet", facts: b.fields.map((f) => ({ title: f.label, value: text(f.value, mentions) })) });
      return out;
    }
    case "list": {
      const shown = b.items.slice(0, listLimit);
      const more = (b.total ?? b.items.length) - shown.length;
      const lines = shown.map((i) => `- ${text(i, mentions)}`);
      if (more > 0) lines.push(`…and ${more.toLocaleString("en-US")} more`);
      return lines.length ? [{ type: "TextBlock", text: lines.join("\r"), wrap: true }] : [];
    }
    case "progress":
      return [
        {
          type: "TextBlock",
          text: `${esc(b.label)} ${b.done.toLocaleString("en-US")} / ${b.total.toLocaleString("en-US")}`,
          wrap: true,
        },
      ];
    case "context":
      return [{ type: "TextBlock", text: text(b.text, mentions), wrap: true, isSubtle: true, size: "Small" }];
    case "divider":
      return [{ type: "Container", separator: true, items: [] }];
    case "actions":
      return [
        {
          type: "ActionSet",
          actions: b.buttons.map((button) => ({
            type: "Action.Execute",
            title: button.label,
            verb: button.id,
            data: { value: button.value, ...options.data },
            ...(button.style === "primary" ? { style: "positive" } : button.style === "danger" ? { style: "destructive" } : {}),
          })),
        },
      ];
  }
}

function card(body: Element[], mentions: Mention[], extra: Record<string, unknown> = {}): AdaptiveCard {
  return {
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.5",
    ...extra,
    body,
    msteams: { width: "Full", ...(mentions.length ? { entities: mentions } : {}) },
  };
}

const size = (c: AdaptiveCard) => JSON.stringify(c).length * 2;

/** A message as an Adaptive Card 1.5, within CARD_BUDGET_BYTES (list rows dropped first). */
export function renderCard(message: Message, options: CardOptions = {}): AdaptiveCard {
  const refresh = options.refresh
    ? {
        refresh: {
          action: { type: "Action.Execute", verb: options.refresh.verb, data: { ...options.refresh.data } },
          userIds: options.refresh.userIds.slice(0, 60),
        },
      }
    : {};
  let limit = Math.max(0, ...message.blocks.map((b) => (b.type === "list" ? b.items.length : 0)));
  for (;;) {
    const mentions: Mention[] = [];
    const body = message.blocks.flatMap((b) => block(b, mentions, options, limit));
    const rendered = card(body, mentions, { fallbackText: message.summary, ...refresh });
    if (size(rendered) <= CARD_BUDGET_BYTES || limit === 0) return rendered;
    limit = Math.floor(limit / 2);
  }
}

export interface FormCardOptions {
  /** What was typed, by input id. */
  values?: Readonly<Record<string, string | null | undefined>>;
  errors?: FormErrors;
  /** A select's choices: listed, or Teams' typeahead over a dataset (invoke application/search). */
  choices?: Readonly<Record<string, readonly Option[] | { dataset: string }>>;
}

/** A form as an Adaptive Card: inputs with their labels, problems next to them, submitted with Action.Execute (verb = form.id). */
export function renderFormCard(form: Form, options: FormCardOptions = {}): AdaptiveCard {
  const mentions: Mention[] = [];
  const body: Element[] = [{ type: "TextBlock", text: esc(form.title), weight: "Bolder", size: "Medium", wrap: true }];
  for (const b of form.intro ?? []) body.push(...block(b, mentions, {}, 50));
  if (options.errors?.form) body.push({ type: "TextBlock", text: esc(options.errors.form), color: "Attention", wrap: true });
  for (const input of form.inputs) {
    const typed = options.values?.[input.id] ?? undefined;
    const common = { id: input.id, label: input.label, isRequired: !input.optional };
    switch (input.type) {
      case "text":
        body.push({
          type: "Input.Text",
          ...common,
          ...(input.placeholder ? { placeholder: input.placeholder } : {}),
          ...((typed ?? input.initialValue) ? { value: typed ?? input.initialValue } : {}),
          ...(input.maxLength ? { maxLength: input.maxLength } : {}),
          ...(input.multiline ? { isMultiline: true } : {}),
        });
        break;
      case "radio":
        body.push({
          type: "Input.ChoiceSet",
          ...common,
          style: "expanded",
          choices: input.options.map((o) => ({ title: o.label, value: o.value })),
          ...((typed ?? input.initialValue) ? { value: typed ?? input.initialValue } : {}),
        });
        break;
      case "externalSelect": {
        const given = options.choices?.[input.id];
        const value = typed ?? input.initialOption?.value;
        if (given && "dataset" in given) {
          body.push({
            type: "Input.ChoiceSet",
            ...common,
            style: "filtered",
            choices: value ? [{ title: value, value }] : [],
            "choices.data": { type: "Data.Query", dataset: given.dataset },
            ...(input.placeholder ? { placeholder: input.placeholder } : {}),
            ...(value ? { value } : {}),
          });
        } else {
          body.push({
            type: "Input.ChoiceSet",
            ...common,
            style: "compact",
            choices: (given ?? []).map((o) => ({ title: o.label, value: o.value })),
            ...(input.placeholder ? { placeholder: input.placeholder } : {}),
            ...(value ? { value } : {}),
          });
        }
        break;
      }
      case "file":
        body.push({ type: "TextBlock", text: esc(input.label), wrap: true });
        break;
    }
    if (input.hint) body.push({ type: "TextBlock", text: esc(input.hint), isSubtle: true, size: "Small", wrap: true, spacing: "None" });
    const error = options.errors?.[input.id];
    if (error) body.push({ type: "TextBlock", text: esc(error), color: "Attention", wrap: true, spacing: "None" });
  }
  const actions = form.submitLabel
    ? [{ type: "Action.Execute", title: form.submitLabel, verb: form.id, data: { metadata: form.metadata }, style: "positive" }]
    : [];
  return card(body, mentions, { fallbackText: form.title, ...(actions.length ? { actions } : {}) });
}

/** Typeahead results (invoke application/search): at most `max`. */
export function renderSearchResults(list: OptionList, max = 15): { title: string; value: string }[] {
  return list.options.slice(0, max).map((o) => ({ title: o.label, value: o.value }));
}
