/** The import flow in Teams, seen from the tests: attaching CSVs, finding the summary and its buttons, waiting for edits. */
import { expect } from "vitest";
import type { ConnectorCall } from "./fake-bot-connector.ts";
import { fileMessage, personal } from "./teams-activities.ts";
import { actionsOf, cardIn, type HarnessUser, TEAMS_USERS, type TeamsHarness, textOf } from "./teams-app.ts";

type Card = Record<string, unknown>;

/** The label → value pairs of a card's fact sets (the summary's counts). */
export function fieldsOf(card: Card | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (value: unknown) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v);
      return;
    }
    if (!value || typeof value !== "object") return;
    const o = value as Record<string, unknown>;
    if (o.type === "FactSet") for (const f of o.facts as { title: string; value: string }[]) out[f.title] = f.value;
    for (const v of Object.values(o)) walk(v);
  };
  walk(card?.body);
  return out;
}

/** The spreadsheet row numbers a summary lists. */
export const rowsListed = (card: Card | undefined) => [...textOf(card).matchAll(/Row (\d+)/g)].map((m) => Number(m[1]));

/** The Action.Execute buttons of a card: verb, title and value. */
export const buttonsOf = (card: Card | undefined) => actionsOf(card).map((a) => ({ verb: a.verb, title: a.title, value: a.data.value }));

export const codeOf = (text: string) => /IMP-[0-9A-Z]{4}/.exec(text)![0];

/** The id the fake gave a posted message. */
export const idOf = (call: ConnectorCall) => (call.reply!.body as { id: string }).id;

let files = 0;

export function importHelpers(h: () => TeamsHarness) {
  /** Serves `bytes` at a download URL of the fake and attaches it in `user`'s personal chat; the activity posted. */
  async function attach(name: string, bytes: Uint8Array | Buffer | string, { user = TEAMS_USERS.admin as HarnessUser, serve = true } = {}) {
    const path = `/files/${++files}/${encodeURIComponent(name)}`;
    const downloadUrl = serve
      ? h().fake.serve(path, { headers: { "content-type": "application/octet-stream" }, body: Buffer.from(bytes as Uint8Array) })
      : `${h().fake.url}${path}`;
    const activity = fileMessage({ serviceUrl: h().fake.serviceUrl, from: user, name, downloadUrl });
    const before = h().fake.calls.length;
    const answer = await h().post(activity);
    expect(answer.status).toBe(200);
    return { activity, before, downloadUrl, path };
  }

  /** The next message in `user`'s personal chat after call `before` that matches. */
  async function nextMessage(
    before: number,
    match: (c: ConnectorCall) => boolean,
    user: HarnessUser = TEAMS_USERS.admin,
    what = "a message",
  ) {
    const [post] = await h().waitForMessages(
      (c) => h().fake.calls.indexOf(c) >= before && c.conversationId === personal(user).id && match(c),
      1,
      what,
    );
    return post!;
  }

  /** Attaches a CSV and returns its summary, once the batch knows where it is. */
  async function summaryOf(name: string, bytes: Uint8Array | Buffer | string, user: HarnessUser = TEAMS_USERS.admin) {
    const { before } = await attach(name, bytes, { user });
    const post = await nextMessage(before, (c) => String(c.body?.summary).startsWith("Import IMP-"), user, `the summary of ${name}`);
    const code = codeOf(String(post.body?.summary));
    for (let i = 0; i < 500; i++) {
      const { batch } = await h().core.getImport({ batchId: code });
      if ((batch.conversation as { teams?: { summary?: unknown } }).teams?.summary) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const { batch } = await h().core.getImport({ batchId: code });
    return { post, id: idOf(post), card: cardIn(post.body)!, code, batch };
  }

  /** The updates (PUT) of one message. */
  const updatesOf = (id: string) => h().fake.calls.filter((c) => c.kind === "update" && c.activityId === id);

  /** Waits for an update of message `id` whose card matches; the latest such. */
  async function waitForUpdate(id: string, match: (card: Card) => boolean, what: string) {
    const calls = await h().fake.waitFor((c) => c.kind === "update" && c.activityId === id && match(cardIn(c.body) ?? {}), 1, 20_000, what);
    return cardIn(calls.at(-1)!.body)!;
  }

  async function waitForStatus(code: string, status: string) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { batch } = await h().core.getImport({ batchId: code });
      if (batch.status === status) return batch;
      if (Date.now() > deadline) throw new Error(`import ${code} is ${batch.status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  return { attach, nextMessage, summaryOf, updatesOf, waitForUpdate, waitForStatus };
}
