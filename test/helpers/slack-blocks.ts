/**
 * Reading what the bot sent Slack, by content: the Block Kit of a recorded message (chat.postMessage,
 * chat.update, a response_url post) or a modal (views.open, a view_submission answer), and the
 * bytes of a file it uploaded (files.uploadV2's multipart POST to the fake's upload URL).
 */
import type { RecordedCall } from "./fake-slack.ts";

type Text = { type: string; text: string };
/** The parts of a block these helpers read. */
export interface SlackBlock {
  type: string;
  block_id?: string;
  text?: Text;
  fields?: Text[];
  label?: Text;
  hint?: Text;
  element?: Record<string, unknown>;
  elements?: (Text & Record<string, unknown>)[];
}

export interface SlackButton {
  id: string;
  label: string;
  value?: string;
  style?: string;
  confirm?: { title: Text; text: Text; confirm: Text; deny: Text; style?: string };
}

type WithBlocks = RecordedCall | { blocks?: unknown } | undefined;

/** The blocks of a recorded message (its args) or of a view / message object. */
export function blocksOf(source: WithBlocks): SlackBlock[] {
  const holder = source && "args" in source ? (source.args as { blocks?: unknown }) : (source as { blocks?: unknown } | undefined);
  return (holder?.blocks ?? []) as SlackBlock[];
}

/** Every text of the blocks (sections, their fields, contexts, labels and hints), one per line, as Slack shows it (mrkdwn kept). */
export function textOf(source: WithBlocks): string {
  const out: string[] = [];
  for (const b of blocksOf(source)) {
    if (b.text) out.push(b.text.text);
    for (const f of b.fields ?? []) out.push(f.text);
    if (b.type === "context") for (const e of b.elements ?? []) out.push(e.text);
    if (b.label) out.push(b.label.text);
    if (b.hint) out.push(b.hint.text);
  }
  return out.join("\n");
}

/** A section's fields ("*Label*\nvalue") by label. */
export function fieldsOf(source: WithBlocks): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of blocksOf(source).flatMap((b) => b.fields ?? [])) {
    const match = /^\*(.+?)\*\n([\s\S]*)$/.exec(f.text);
    if (match) out[match[1]!] = match[2]!;
  }
  return out;
}

/** The buttons of the actions blocks, in order. */
export function buttonsOf(source: WithBlocks): SlackButton[] {
  return blocksOf(source)
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({
      id: String(e.action_id),
      label: (e.text as unknown as Text).text,
      value: e.value as string | undefined,
      ...(e.style ? { style: String(e.style) } : {}),
      ...(e.confirm ? { confirm: e.confirm as SlackButton["confirm"] } : {}),
    }));
}

/** A modal's input blocks by block id. */
export function inputsOf(view: WithBlocks): Record<string, SlackBlock> {
  return Object.fromEntries(blocksOf(view).flatMap((b) => (b.type === "input" && b.block_id ? [[b.block_id, b]] : [])));
}

/** What an input of a modal holds at first: a text's initial_value, a select's or radio's initial option value. */
export function initialOf(input: SlackBlock | undefined): string | undefined {
  const el = input?.element as { initial_value?: string; initial_option?: { value: string } } | undefined;
  return el?.initial_value ?? el?.initial_option?.value;
}

/** The file bytes of a multipart upload to the fake's upload URL (one file part), as text. */
export function uploadedText(raw: Buffer): string {
  const text = raw.toString("utf8");
  const boundary = text.slice(0, text.indexOf("\r\n"));
  const start = text.indexOf("\r\n\r\n") + 4;
  return text.slice(start, text.indexOf(`\r\n${boundary}`, start));
}

/** The ts the fake gave a posted message (its reply is recorded just after the call). */
export async function tsOf(call: RecordedCall): Promise<string> {
  for (let i = 0; i < 200 && !call.reply; i++) await new Promise((r) => setTimeout(r, 10));
  return (call.reply as { ts: string }).ts;
}
