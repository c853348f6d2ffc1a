/**
 * The neutral message and form model. Views build it from use-case results; each platform has
 * a pure renderer (Block Kit for Slack, Adaptive Cards for Teams) that turns it into its own
 * JSON. Nothing here knows a platform: no ids of Slack blocks, no markup syntax, no limits.
 */

/**
 * A run of inline text: plain, bold, code, or a person. Renderers escape and mark it up
 * themselves; a person is mentioned by their platform id when known, else shown by `name`.
 */
export type Inline =
  | string
  | { bold: string }
  | { code: string }
  | { mention: string; platformId?: string }
  /** A link (an https URL the platform gave, e.g. to a message); its text is shown. */
  | { link: string; text: string };

/** Text made of inline runs; a plain string is one plain run. */
export type RichText = string | readonly Inline[];

/** A label and its value, shown side by side or stacked as the platform prefers. */
export interface Field {
  label: string;
  value: RichText;
}

export interface Button {
  /** What the platform reports back when the button is clicked. */
  id: string;
  label: string;
  value?: string;
  style?: "primary" | "danger";
  /** Asked before the click counts ("Are you sure?"), where the platform has a native way to. */
  confirm?: Confirmation;
}

/** A question the person answers before a click counts. */
export interface Confirmation {
  title: string;
  text: string;
  /** The answer that goes ahead, and the one that does not. */
  confirm: string;
  deny: string;
}

export type Block =
  /** A paragraph, with optional fields under it. */
  | { type: "section"; text: RichText; fields?: readonly Field[] }
  /**
   * A bulleted list. With `total`, the items are the first of a longer list: the renderer shows
   * as many as the platform allows and ends with how many more there are.
   */
  | { type: "list"; items: readonly RichText[]; total?: number }
  /** How far a long task has got: "label done / total". */
  | { type: "progress"; label: string; done: number; total: number }
  /** Small print: counts, hints, who did what. */
  | { type: "context"; text: RichText }
  | { type: "actions"; buttons: readonly Button[] }
  | { type: "divider" };

export interface Message {
  /** Plain one-line summary: notifications, screen readers, clients that show no blocks. */
  summary: string;
  blocks: readonly Block[];
}

/** A choice in a select or a radio group. */
export interface Option {
  value: string;
  label: string;
  description?: string;
}

/** Options loaded on demand for an external select. */
export interface OptionList {
  options: readonly Option[];
  /** Shown above the options when there are more than fit (e.g. "First 100 of 250: type to narrow"). */
  note?: string;
}

interface InputBase {
  /** Identifies the input in the submitted values and in errors. */
  id: string;
  label: string;
  hint?: string;
  optional?: boolean;
  /** A problem with what the input holds, shown next to it when the form opens. */
  problem?: string;
}

export type Input =
  | (InputBase & { type: "text"; placeholder?: string; initialValue?: string; maxLength?: number; multiline?: boolean })
  /** A file picker; `fileTypes` are extensions ("csv") the picker offers. */
  | (InputBase & { type: "file"; fileTypes?: readonly string[]; maxFiles?: number })
  /** A select whose options the platform asks the bot for as the person types. */
  | (InputBase & { type: "externalSelect"; placeholder?: string; initialOption?: Option; minQueryLength?: number })
  | (InputBase & { type: "radio"; options: readonly Option[]; initialValue?: string })
  /** A choice among options given here (a hundred at most). */
  | (InputBase & { type: "select"; options: readonly Option[]; placeholder?: string; initialValue?: string });

export interface Form {
  /** Identifies the form when it is submitted. */
  id: string;
  title: string;
  /** Absent: the form only informs (no submit button). */
  submitLabel?: string;
  cancelLabel: string;
  /** Shown above the inputs. */
  intro?: readonly Block[];
  inputs: readonly Input[];
  /** Opaque state handed back with the submission (where to answer, for instance). */
  metadata?: string;
}

/** Problems to show next to inputs, by input id; the form stays open with its values. */
export type FormErrors = Readonly<Record<string, string>>;

/**
 * How people type a command of the bot on their platform: `spell("add-group", "<name>")` is
 * "/hms add-group <name>" in Slack and "add group <name>" in Teams. Views take it so that no
 * view knows a platform's syntax.
 */
export type Spell = (command: string, args?: string) => string;
