/** The import flow in Teams, seen from the tests: attaching CSVs, finding the summary and its buttons, waiting for edits. */
import { expect } from "vitest";
import type { ConnectorCall } from "./fake-bot-connector.ts";
import { fileConsent, fileMessage, personal } from "./teams-activities.ts";
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

  /** The consent card that follows a comment in `user`'s personal chat after call `before`. */
  async function consentAfter(before: number, user: HarnessUser = TEAMS_USERS.admin) {
    const post = await nextMessage(
      before,
      (c) =>
        (c.body?.attachments as { contentType: string }[] | undefined)?.[0]?.contentType ===
        "application/vnd.microsoft.teams.card.file.consent",
      user,
      "the file consent card",
    );
    const attachment = (post.body!.attachments as { name: string; content: Record<string, unknown> }[])[0]!;
    return { post, id: idOf(post), name: attachment.name, content: attachment.content };
  }

  /** Allow on a consent card: the invoke's answer, then the upload and the file card. */
  async function allow(consent: Awaited<ReturnType<typeof consentAfter>>, user: HarnessUser = TEAMS_USERS.admin) {
    const uploadUrl = h().fake.uploadUrl();
    const before = h().fake.calls.length;
    const answer = await h().post(
      fileConsent({
        serviceUrl: h().fake.serviceUrl,
        from: user,
        accept: true,
        context: consent.content.acceptContext,
        replyToId: consent.id,
        uploadUrl,
        name: consent.name,
      }),
    );
    const [upload] = await h().fake.waitFor((c) => c.kind === "upload" && uploadUrl.endsWith(c.path), 1, 15_000, "the upload");
    const info = await nextMessage(
      before,
      (c) =>
        (c.body?.attachments as { contentType: string }[] | undefined)?.[0]?.contentType ===
        "application/vnd.microsoft.teams.card.file.info",
      user,
      "the file card",
    );
    return { answer, upload: upload!, info, bytes: h().fake.uploads.get(uploadUrl.split("/upload/")[1]!)!.toString("utf8") };
  }

  return { attach, nextMessage, summaryOf, updatesOf, waitForUpdate, waitForStatus, consentAfter, allow };
}
