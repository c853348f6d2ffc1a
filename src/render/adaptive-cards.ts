/**
 * The Adaptive Card renderer: the neutral model → Adaptive Card 1.5 JSON for Microsoft Teams
 * (messages, forms, typeahead search answers). Pure: no I/O, no Bot Framework types; the output
 * types below are the parts of Adaptive Cards (and Teams' `msteams` extensions) it emits.
 *
 * Text goes into TextBlocks as Teams' Markdown subset: bold is `**…**`; code runs show as plain
 * text (Teams renders no inline code); every plain character Markdown reads is escaped so that
 * names such as `*Finance*` or `_x_` show as typed. A card keeps within CARD_BUDGET_BYTES.
 */
import { formatCount, progressBar } from "./blockkit.ts";
import type { Block, Button, Form, FormErrors, Inline, Input, Message, Option, OptionList, RichText } from "./model.ts";

export const CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json";

/**
 * The most a card may weigh, counted as Teams counts: UTF-16, i.e. `JSON.stringify(card).length * 2`
 * bytes. Teams takes about 100 KB per activity; this leaves room for the activity around the card.
 */
export const CARD_BUDGET_BYTES = 40_000;

/** How many people Teams shows a user-specific view (`refresh.userIds`) to. */
export const REFRESH_MAX_USER_IDS = 60;

/** How many results Teams shows for a typeahead search. */
export const SEARCH_MAX_RESULTS = 15;

interface ElementBase {
  /** A line above the element: what a divider block becomes. */
  separator?: true;
  spacing?: "none" | "small";
}

export interface TextBlock extends ElementBase {
  type: "TextBlock";
  /** Teams' Markdown subset. */
  text: string;
  wrap: true;
  weight?: "bolder";
  size?: "small" | "medium";
  isSubtle?: true;
  color?: "attention";
}

export interface Fact {
  title: string;
  value: string;
}

export interface FactSet extends ElementBase {
  type: "FactSet";
  facts: Fact[];
}

export interface ExecuteAction {
  type: "Action.Execute";
  verb: string;
  title: string;
  data?: Record<string, unknown>;
  style?: "positive" | "destructive";
  associatedInputs?: "auto" | "none";
}

/** A button that unfolds a small card under it: how a click asks "Are you sure?" in Teams (Action.Execute has no confirm). */
export interface ShowCardAction {
  type: "Action.ShowCard";
  title: string;
  style?: "positive" | "destructive";
  card: { type: "AdaptiveCard"; body: CardElement[]; actions: ExecuteAction[] };
}

export type CardAction = ExecuteAction | ShowCardAction;

export interface ActionSet extends ElementBase {
  type: "ActionSet";
  actions: CardAction[];
}

export interface Choice {
  title: string;
  value: string;
}

/** Teams' dynamic typeahead: the client asks the bot (invoke `application/search`) as the person types. */
export interface DataQuery {
  type: "Data.Query";
  dataset: string;
}

interface InputBase extends ElementBase {
  id: string;
  label: string;
  isRequired?: true;
  errorMessage?: string;
}

export interface TextInput extends InputBase {
  type: "Input.Text";
  placeholder?: string;
  value?: string;
  maxLength?: number;
  isMultiline?: true;
}

export interface ChoiceSetInput extends InputBase {
  type: "Input.ChoiceSet";
  /** expanded: radio buttons; compact: a dropdown; filtered: Teams' typeahead. */
  style: "expanded" | "compact" | "filtered";
  choices: Choice[];
  "choices.data"?: DataQuery;
  placeholder?: string;
  value?: string;
  wrap?: true;
}

export type CardElement = TextBlock | FactSet | ActionSet | TextInput | ChoiceSetInput;

export interface MentionEntity {
  type: "mention";
  /** Exactly as it appears in the card's text: `<at>Name</at>`. */
  text: string;
  mentioned: { id: string; name: string };
}

export interface CardRefresh {
  action: { type: "Action.Execute"; verb: string; data?: Record<string, unknown> };
  userIds: string[];
}

export interface AdaptiveCard {
  type: "AdaptiveCard";
  $schema: typeof CARD_SCHEMA;
  version: "1.5";
  body: CardElement[];
  actions?: CardAction[];
  refresh?: CardRefresh;
  msteams?: { width?: "Full"; entities?: MentionEntity[] };
}

export interface RenderCardOptions {
  /** Makes Teams fetch a user-specific view (Action.Execute `verb`) for these people (at most 60). */
  refresh?: { verb: string; userIds: readonly string[]; data?: Record<string, unknown> };
  /** Added to every button's data (beside `value`), e.g. where the message lives. */
  data?: Record<string, unknown>;
}

export interface FormCardState {
  /** What the person typed, by input id: shown instead of the inputs' initial values. */
  values?: Readonly<Record<string, string | undefined>>;
  /** Problems to show under the inputs, by input id. */
  errors?: FormErrors;
  /** Each external select's choices: a static list, or the dataset Teams' typeahead asks for. */
  choices?: Readonly<Record<string, readonly Option[] | { dataset: string }>>;
  /**
   * A form shown in place of a card (Edit on a user's card): its cancel button, labelled with the
   * form's cancelLabel, asks for the card back (`verb`, `data`) without checking the inputs.
   */
  cancel?: { verb: string; data?: Record<string, unknown> };
}

/** The card's weight as Teams counts it (UTF-16). */
export function cardBytes(card: AdaptiveCard): number {
  return JSON.stringify(card).length * 2;
}

// ---------------------------------------------------------------- Markdown

/**
 * Escapes what Teams would read in plain text: backslash, `*`, `_`, backtick, `[` and `]`
 * anywhere, a mention tag (`<at>`, `</at>`), and a list marker ("- ", "+ ", "1. ") at the start
 * of a line (`lineStart`: whether `text` starts one). Teams shows `<`, `&` and `#` as they are.
 */
export function escapeMarkdown(text: string, lineStart = true): string {
  return text
    .replace(/[\\*_`[\]]/g, "\\$&")
    .replace(/<(\/?at>)/gi, "\\<$1")
    .split("\n")
    .map((line, i) =>
      i === 0 && !lineStart
        ? line
        : line.replace(/^(\s*)(?:([-+])|(\d+)([.)]))(?=\s|$)/, (_, space: string, sign?: string, num?: string, dot?: string) =>
            sign ? `${space}\\${sign}` : `${space}${num}\\${dot}`,
          ),
    )
    .join("\n");
}

/** `**text**`, with surrounding spaces kept outside the markers (Markdown would not bold "** x**"). */
function strong(escaped: string): string {
  const m = /^(\s*)([\s\S]*?)(\s*)$/.exec(escaped)!;
  return m[2] ? `${m[1]}**${m[2]}**${m[3]}` : escaped;
}

/** The people mentioned while rendering a card: platform id → name, in order of appearance. */
type Mentions = Map<string, string>;

/** A name as it can stand between `<at>` and `</at>`. */
function mentionName(name: string, id: string): string {
  return name.replace(/[<>]/g, "").trim() || id;
}

const length = (s: string) => [...s].length;

function runs(text: RichText): readonly Inline[] {
  return typeof text === "string" ? [text] : text;
}

function runText(run: Inline): string {
  if (typeof run === "string") return run;
  if ("bold" in run) return run.bold;
  if ("code" in run) return run.code;
  if ("mention" in run) return run.mention;
  return run.text;
}

/** A link's target as Markdown takes it: only http(s), with the characters that would end it encoded. */
function linkTarget(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  return url.replace(/[()\s<>]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
}

/**
 * Rich text as Teams Markdown, at most `cap` characters shown (then cut, ending with "…"). A
 * mention with a platform id becomes `<at>Name</at>` (recorded in `mentions`), and is dropped
 * whole rather than cut.
 */
function markdown(text: RichText, mentions: Mentions, cap = Number.POSITIVE_INFINITY, lineStart = true): string {
  const list = runs(text);
  const cut = list.reduce((n, r) => n + length(runText(r)), 0) > cap;
  let left = cut ? Math.max(0, cap - 1) : Number.POSITIVE_INFINITY;
  let out = "";
  for (const run of list) {
    if (left <= 0) break;
    if (typeof run === "object" && "mention" in run && run.platformId) {
      // One entity per person, so the same person is always named as at their first mention.
      const name = mentions.get(run.platformId) ?? mentionName(run.mention, run.platformId);
      if (length(name) > left) break;
      mentions.set(run.platformId, name);
      out += `<at>${name}</at>`;
      left -= length(name);
      continue;
    }
    const chars = [...runText(run)];
    const shown = chars.slice(0, left).join("");
    left -= Math.min(chars.length, left);
    const target = typeof run === "object" && "link" in run ? linkTarget(run.link) : undefined;
    if (target) out += `[${escapeMarkdown(shown, false)}](${target})`;
    else if (typeof run === "object" && "bold" in run) out += strong(escapeMarkdown(shown, false));
    else out += escapeMarkdown(shown, out === "" ? lineStart : out.endsWith("\n"));
  }
  return cut ? `${out}…` : out;
}

function entities(mentions: Mentions): MentionEntity[] {
  return [...mentions].map(([id, name]) => ({ type: "mention", text: `<at>${name}</at>`, mentioned: { id, name } }));
}

// ---------------------------------------------------------------- messages

/** How much of a message is shown: rows kept per list (by block index), and the most characters per text. */
interface Plan {
  rows: Map<number, number>;
  cap: number;
}

const FULL: Plan = { rows: new Map(), cap: Number.POSITIVE_INFINITY };

const text = (t: string): TextBlock => ({ type: "TextBlock", text: t, wrap: true });
const small = (t: string): TextBlock => ({ type: "TextBlock", text: t, wrap: true, isSubtle: true, size: "small" });

function action(b: Button, data: Record<string, unknown> | undefined): CardAction {
  const execute: ExecuteAction = {
    type: "Action.Execute",
    verb: b.id,
    title: b.label,
    data: { ...(b.value !== undefined ? { value: b.value } : {}), ...data },
  };
  const style = b.style === "primary" ? "positive" : b.style === "danger" ? "destructive" : undefined;
  if (style) execute.style = style;
  if (!b.confirm) return execute;
  // The question unfolds under the button; its answer is the real click (clicking the button again folds it away).
  const out: ShowCardAction = {
    type: "Action.ShowCard",
    title: b.label,
    card: {
      type: "AdaptiveCard",
      body: [
        { type: "TextBlock", text: escapeMarkdown(b.confirm.title), wrap: true, weight: "bolder" },
        text(escapeMarkdown(b.confirm.text)),
      ],
      actions: [{ ...execute, title: b.confirm.confirm }],
    },
  };
  if (style) out.style = style;
  return out;
}

function elements(block: Block, index: number, plan: Plan, mentions: Mentions, data?: Record<string, unknown>): CardElement[] {
  switch (block.type) {
    case "section": {
      const out: CardElement[] = [text(markdown(block.text, mentions, plan.cap))];
      if (block.fields?.length) {
        out.push({
          type: "FactSet",
          facts: block.fields.map((f) => ({
            title: markdown(f.label, mentions, plan.cap),
            value: markdown(f.value, mentions, plan.cap),
          })),
        });
      }
      return out;
    }
    case "list": {
      const kept = Math.min(plan.rows.get(index) ?? block.items.length, block.items.length);
      const more = Math.max(block.total ?? 0, block.items.length) - kept;
      const out: CardElement[] = [];
      if (kept > 0) {
        const lines = block.items.slice(0, kept).map((item) => `- ${markdown(item, mentions, plan.cap, false)}`);
        out.push(text(lines.join("\n")));
      }
      if (more > 0) out.push(small(`…and ${formatCount(more)} more.`));
      return out;
    }
    case "progress":
      return [
        text(markdown(`${block.label} ${formatCount(block.done)} / ${formatCount(block.total)}`, mentions, plan.cap)),
        { ...small(progressBar(block.done, block.total)), spacing: "small" },
      ];
    case "context":
      return [small(markdown(block.text, mentions, plan.cap))];
    case "actions":
      return block.buttons.length ? [{ type: "ActionSet", actions: block.buttons.map((b) => action(b, data)) }] : [];
    case "divider":
      return [];
  }
}

/** The blocks as card elements; a divider becomes a line above whatever follows it. */
function body(blocks: readonly Block[], plan: Plan, mentions: Mentions, data?: Record<string, unknown>): CardElement[] {
  const out: CardElement[] = [];
  let separate = false;
  blocks.forEach((block, i) => {
    if (block.type === "divider") {
      separate = out.length > 0;
      return;
    }
    const els = elements(block, i, plan, mentions, data);
    if (separate && els[0]) {
      els[0] = { ...els[0], separator: true };
      separate = false;
    }
    out.push(...els);
  });
  return out;
}

function card(elements: CardElement[], actions?: CardAction[]): AdaptiveCard {
  const out: AdaptiveCard = { type: "AdaptiveCard", $schema: CARD_SCHEMA, version: "1.5", body: elements };
  if (actions?.length) out.actions = actions;
  return out;
}

function teams(out: AdaptiveCard, mentions: Mentions): AdaptiveCard {
  out.msteams = mentions.size ? { width: "Full", entities: entities(mentions) } : { width: "Full" };
  return out;
}

/** The largest n in [lo, hi] for which `fits(n)`, given that fits(lo) holds and fits is monotonic. */
function largest(lo: number, hi: number, fits: (n: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * A message as a card. Buttons become Action.Execute (`verb` = the button's id, `data` =
 * `{ value, ...options.data }`) in an ActionSet where the actions block is, so they stay next to
 * their text. To keep within CARD_BUDGET_BYTES, lists that say their `total` lose rows first
 * (ending with "…and N more."), then other lists, then long texts are cut; buttons always stay.
 */
export function renderCard(message: Message, options: RenderCardOptions = {}): AdaptiveCard {
  const build = (plan: Plan): AdaptiveCard => {
    const mentions: Mentions = new Map();
    const out = card(body(message.blocks, plan, mentions, options.data));
    if (options.refresh) {
      const { verb, userIds, data } = options.refresh;
      out.refresh = {
        action: { type: "Action.Execute", verb, ...(data !== undefined ? { data } : {}) },
        userIds: userIds.slice(0, REFRESH_MAX_USER_IDS),
      };
    }
    return teams(out, mentions);
  };
  const fits = (plan: Plan) => cardBytes(build(plan)) <= CARD_BUDGET_BYTES;

  const full = build(FULL);
  if (cardBytes(full) <= CARD_BUDGET_BYTES) return full;

  const lists = message.blocks.flatMap((b, i) => (b.type === "list" ? [{ index: i, items: b.items.length, total: b.total }] : []));
  const totalled = lists.filter((l) => l.total !== undefined);
  const others = lists.filter((l) => l.total === undefined);
  const plan: Plan = { rows: new Map(), cap: Number.POSITIVE_INFINITY };
  // Rows first from the lists that say how long they are (their count line tells what was cut), then from the others.
  for (const group of [totalled, others]) {
    for (const l of group) plan.rows.set(l.index, 0);
    if (fits(plan)) {
      for (const l of group) {
        plan.rows.set(
          l.index,
          largest(0, l.items, (n) => fits({ ...plan, rows: new Map(plan.rows).set(l.index, n) })),
        );
      }
      return build(plan);
    }
  }
  // Still too heavy with every list cut: cut every text to the longest length that fits (no text is longer than the card).
  if (!fits({ ...plan, cap: 1 })) {
    throw new Error(
      `the message "${message.summary}" cannot fit in an Adaptive Card of ${CARD_BUDGET_BYTES} bytes even with its texts cut`,
    );
  }
  plan.cap = largest(1, JSON.stringify(full).length, (cap) => fits({ ...plan, cap }));
  return build(plan);
}

// ---------------------------------------------------------------- forms

function choice(o: Option): Choice {
  return { title: o.label, value: o.value };
}

function inputElement(form: Form, input: Input, value: string | undefined, state: FormCardState): TextInput | ChoiceSetInput {
  switch (input.type) {
    case "text": {
      const el: TextInput = { type: "Input.Text", id: input.id, label: input.label };
      if (input.placeholder) el.placeholder = input.placeholder;
      if (value) el.value = input.maxLength !== undefined ? [...value].slice(0, input.maxLength).join("") : value;
      if (input.maxLength !== undefined) el.maxLength = input.maxLength;
      if (input.multiline) el.isMultiline = true;
      return el;
    }
    case "radio": {
      const el: ChoiceSetInput = {
        type: "Input.ChoiceSet",
        id: input.id,
        label: input.label,
        style: "expanded",
        // Radio buttons have room for what each choice means; a dropdown shows the label only.
        choices: input.options.map((o) => ({ title: o.description ? `${o.label} — ${o.description}` : o.label, value: o.value })),
        wrap: true,
      };
      if (value && input.options.some((o) => o.value === value)) el.value = value;
      return el;
    }
    case "select": {
      // A dropdown shows one line per choice: what it means goes on that line.
      const choices = input.options.map((o) => ({ title: o.description ? `${o.label} — ${o.description}` : o.label, value: o.value }));
      const el: ChoiceSetInput = { type: "Input.ChoiceSet", id: input.id, label: input.label, style: "compact", choices, wrap: true };
      if (input.placeholder) el.placeholder = input.placeholder;
      if (value && input.options.some((o) => o.value === value)) el.value = value;
      return el;
    }
    case "externalSelect": {
      const given = state.choices?.[input.id];
      if (!given) {
        throw new Error(
          `form "${form.id}": the select "${input.id}" needs state.choices["${input.id}"] (its options, or { dataset } for typeahead)`,
        );
      }
      // The chosen option stays visible: as its label when known, else as typed.
      const current =
        value === undefined ? undefined : input.initialOption?.value === value ? choice(input.initialOption) : { title: value, value };
      const el: ChoiceSetInput =
        "dataset" in given
          ? {
              type: "Input.ChoiceSet",
              id: input.id,
              label: input.label,
              style: "filtered",
              choices: current ? [current] : [],
              "choices.data": { type: "Data.Query", dataset: given.dataset },
            }
          : { type: "Input.ChoiceSet", id: input.id, label: input.label, style: "compact", choices: given.map(choice) };
      if (current && !el.choices.some((c) => c.value === current.value)) el.choices.unshift(current);
      if (input.placeholder) el.placeholder = input.placeholder;
      if (current) el.value = current.value;
      return el;
    }
    case "file":
      throw new Error(
        `form "${form.id}": the input "${input.id}" is a file picker, which an Adaptive Card cannot hold; ask for the file in the chat instead`,
      );
  }
}

function initialValue(input: Input): string | undefined {
  switch (input.type) {
    case "text":
    case "radio":
    case "select":
      return input.initialValue;
    case "externalSelect":
      return input.initialOption?.value;
    case "file":
      return undefined;
  }
}

/**
 * A form as a card: its title, the intro blocks, then each input (with what the person typed,
 * or its initial value) followed by its problem, if any, in red, and its hint. The submit button
 * is an Action.Execute with `verb` = the form's id and `data` = `{ metadata }`. Adaptive Cards
 * have no file picker: a form with a file input is refused with an Error.
 */
export function renderFormCard(form: Form, state: FormCardState = {}): AdaptiveCard {
  const mentions: Mentions = new Map();
  const errors = state.errors ?? {};
  const out: CardElement[] = [
    { type: "TextBlock", text: escapeMarkdown(form.title), wrap: true, weight: "bolder", size: "medium" },
    ...body(form.intro ?? [], FULL, mentions),
  ];
  const ids = new Set(form.inputs.map((i) => i.id));
  // A problem with no input to stand under goes above the inputs rather than nowhere.
  for (const [id, problem] of Object.entries(errors)) {
    if (!ids.has(id)) out.push({ ...text(escapeMarkdown(problem)), color: "attention" });
  }
  for (const input of form.inputs) {
    const typed = state.values?.[input.id];
    const el = inputElement(form, input, typed ?? initialValue(input), state);
    const problem = errors[input.id] ?? input.problem;
    if (!input.optional) {
      el.isRequired = true;
      el.errorMessage = problem ?? `${input.label} is required.`;
    } else if (problem) {
      el.errorMessage = problem;
    }
    out.push(el);
    if (problem) out.push({ ...text(escapeMarkdown(problem)), color: "attention", spacing: "small" });
    if (input.hint) out.push({ ...small(escapeMarkdown(input.hint)), spacing: "small" });
  }
  const actions: ExecuteAction[] = [];
  if (form.submitLabel !== undefined && form.inputs.length > 0) {
    const submit: ExecuteAction = { type: "Action.Execute", verb: form.id, title: form.submitLabel };
    if (form.metadata !== undefined) submit.data = { metadata: form.metadata };
    submit.associatedInputs = "auto";
    actions.push(submit);
  }
  if (state.cancel) {
    const cancel: ExecuteAction = { type: "Action.Execute", verb: state.cancel.verb, title: form.cancelLabel, associatedInputs: "none" };
    if (state.cancel.data) cancel.data = state.cancel.data;
    actions.push(cancel);
  }
  return teams(card(out, actions), mentions);
}

/** The answer to Teams' typeahead search (invoke `application/search`): at most 15 results. */
export function renderSearchResults(list: OptionList, max = SEARCH_MAX_RESULTS): { title: string; value: string }[] {
  return list.options.slice(0, Math.max(0, Math.min(max, SEARCH_MAX_RESULTS))).map(choice);
}
