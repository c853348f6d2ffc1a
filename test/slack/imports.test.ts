/**
 * The import flow end to end on the real Bolt app against the fake Slack: files shared in the
 * DM, mentioned in a channel or chosen in the /hms import modal are downloaded from their
 * url_private_download with the bot token; the summary, the approval request, the progress and
 * the result are the messages the fake records; users, audit and mail are checked at the source.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/core/errors.ts";
import { IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import { csvFile, headerOf, readBack, validRows } from "../helpers/csv.ts";
import { databaseKinds } from "../helpers/db.ts";
import { DEFAULT_RESPONDERS, FAKE_TEAM, FakeSlack, type RecordedCall } from "../helpers/fake-slack.ts";
import { OTHER_ADMIN } from "../helpers/fixtures.ts";
import { CSV_FIXTURES as FIXTURES } from "../helpers/shared.ts";
import { SLACK_USERS, type SlackHarness, startSlackHarness } from "../helpers/slack-app.ts";
import { type FakeSmtp, startFakeSmtp } from "../helpers/smtp.ts";

const expectations = JSON.parse(readFileSync(path.join(FIXTURES, "users.expect.json"), "utf8")) as {
  data_rows: number;
  row_notes_spreadsheet_numbering: Record<string, string>;
};
const FLAGGED = Object.entries(expectations.row_notes_spreadsheet_numbering)
  .filter(([, note]) => !note.startsWith("valid"))
  .map(([row]) => Number(row));
const CSV_FIXTURES = readdirSync(FIXTURES).filter((f) => f.endsWith(".csv"));

const THIRD = { id: "U0ADMIN3", email: "third.admin@corp.example.org", name: "Third Admin" };

type Bk = {
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { action_id?: string; value?: string; text: { text: string } }[];
};
const blocksOf = (call: RecordedCall) => (call.args.blocks ?? []) as Bk[];
const textOf = (call: RecordedCall) => JSON.stringify(call.args.blocks ?? []);
const fieldsOf = (call: RecordedCall) =>
  Object.fromEntries(
    blocksOf(call)
      .flatMap((b) => b.fields ?? [])
      .map((f) => /^\*(.+)\*\n(.*)$/s.exec(f.text)!.slice(1, 3) as [string, string]),
  );
const buttonsOf = (call: RecordedCall) =>
  blocksOf(call)
    .filter((b) => b.type === "actions")
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({ id: e.action_id!, label: e.text.text, value: e.value }));
const codeOf = (call: RecordedCall) => /IMP-[0-9A-Z]{4}/.exec(String(call.args.text))![0];
const answerText = (call: RecordedCall) => JSON.stringify(call.args);

/**
 * Whether a call answers a share: in a channel, in the upload's thread; in a direct message (D…),
 * in the conversation itself (no thread), made after the share (`before`: the fake's call count then).
 */
const answersShare = (fake: FakeSlack, share: { ts: string; before: number; mention?: boolean }) => (c: RecordedCall) =>
  share.mention ? c.args.thread_ts === share.ts : c.args.thread_ts === undefined && fake.calls.indexOf(c) >= share.before;

/** The ts the fake gave a posted message (its reply is recorded just after the call). */
async function tsOf(call: RecordedCall): Promise<string> {
  for (let i = 0; i < 200 && !call.reply; i++) await new Promise((r) => setTimeout(r, 10));
  return (call.reply as { ts: string }).ts;
}

/** The file bytes of a multipart upload to the fake's upload URL. */
function uploaded(raw: Buffer): string {
  const text = raw.toString("utf8");
  const boundary = text.slice(0, text.indexOf("\r\n"));
  const start = text.indexOf("\r\n\r\n") + 4;
  return text.slice(start, text.indexOf(`\r\n${boundary}`, start));
}

describe.each(databaseKinds)("importing users from Slack (%s)", (kind) => {
  let h: SlackHarness;
  let smtp: FakeSmtp;
  let clockMs = 0;
  let clockStep = 1000;
  let files = 0;
  let people = 0;

  beforeAll(async () => {
    smtp = await startFakeSmtp();
    h = await startSlackHarness(kind, {
      imports: { approvalPolicy: { kind: "atLeast", count: 10 }, approvers: [OTHER_ADMIN.email] },
      smtpUrl: smtp.url,
      flow: { chunkSize: 3, progressIntervalMs: 1000, now: () => (clockMs += clockStep) },
    });
    h.fake.addUser(THIRD);
    await h.core.addUser({
      actor: { email: SLACK_USERS.admin.email, platform: "slack" },
      input: { email: THIRD.email, name: THIRD.name, group: "Finance", role: "Administrator" },
    });
  });
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });
  beforeEach(() => {
    clockStep = 1000;
    h.t.clock.now = new Date("2026-11-24T12:00:00Z");
  });

  /** A file in the fake workspace, as events describe it. */
  const addFile = (name: string, content: Buffer | string | Uint8Array, extra: { mimetype?: string; filetype?: string } = {}) =>
    h.fake.addFile({ id: `F0IMP${String(++files).padStart(4, "0")}`, name, content: Buffer.from(content as Uint8Array), ...extra });

  /** `count` fresh valid rows (emails nobody used yet). */
  const freshRows = (count: number) => validRows(count, { prefix: `p${++people}x` });

  /** Shares files in the DM (or mentions the bot with them) and waits for the bot's answer in the thread. */
  async function share(file: Record<string, unknown>, options: { mention?: boolean; match?: (c: RecordedCall) => boolean } = {}) {
    const ts = `1700${String(++files).padStart(6, "0")}.000100`;
    const before = h.fake.calls.length;
    const answer = await h.shareFiles([file], { mention: options.mention, ts });
    expect(answer.status).toBe(200);
    const answers = answersShare(h.fake, { ts, before, mention: options.mention });
    const [post] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && answers(c) && (options.match?.(c) ?? true),
      1,
      15_000,
      `the answer to the file shared at ${ts}`,
    );
    return { ts, post: post!, answers };
  }

  async function summaryOf(name: string, content: Uint8Array | string | Buffer) {
    const { ts, post, answers } = await share(addFile(name, content));
    expect(String(post.args.text)).toMatch(/^Import IMP-/);
    // Once the summary's ts is stored on the batch, its buttons and progress can find it.
    for (let i = 0; i < 500; i++) {
      const { batch } = await h.core.getImport({ batchId: codeOf(post) });
      if ((batch.conversation as { slack?: { summary?: unknown } }).slack?.summary) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return { ts, post, answers, code: codeOf(post), batch: await h.core.getImport({ batchId: codeOf(post) }).then((s) => s.batch) };
  }

  /** A summary of `rows` fresh rows (enough to need approval), Create clicked: the approval request is out. */
  async function awaitingApproval(name: string, rows: number) {
    const { post, batch, code } = await summaryOf(name, csvFile(freshRows(rows)));
    const summaryTs = await tsOf(post);
    await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
    const [request] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && String(c.args.text).startsWith(`Approval needed: import ${code}`),
      1,
      10_000,
      "the approval request",
    );
    const requestTs = await tsOf(request!);
    await waitForStatus(code, "AWAITING_APPROVAL");
    return { batch, code, summaryTs, request: request!, requestTs };
  }

  /** The chat.update calls of one message. */
  const updatesOf = (ts: string) => h.fake.calls.filter((c) => c.method === "chat.update" && c.args.ts === ts);
  const waitForUpdate = (ts: string, match: (c: RecordedCall) => boolean, what: string) =>
    h.fake
      .waitForCalls((c) => c.method === "chat.update" && c.args.ts === ts && match(c), 1, 15_000, what)
      .then((calls) => calls[calls.length - 1]!);
  const waitForStatus = async (code: string, status: string) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const { batch } = await h.core.getImport({ batchId: code });
      if (batch.status === status) return batch;
      if (Date.now() > deadline) throw new Error(`import ${code} is ${batch.status}, not ${status}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  /** A file the bot uploaded in thread `ts` whose title starts with `title`: the completion call, its file name and content. */
  /** The file titled `title…` uploaded in answer to a share (`answers`: summaryOf's). */
  async function fileIn(answers: (c: RecordedCall) => boolean, title: string) {
    const [complete] = await h.fake.waitForCalls(
      (c) => c.method === "files.completeUploadExternal" && answers(c) && (c.args.files as { title: string }[])[0]!.title.startsWith(title),
      1,
      15_000,
      `${title} where the file was shared`,
    );
    const { id, title: fullTitle } = (complete!.args.files as { id: string; title: string }[])[0]!;
    const getUrl = h.fake.calls.find(
      (c) => c.method === "files.getUploadURLExternal" && (c.reply as { file_id?: string } | undefined)?.file_id === id,
    );
    return { complete: complete!, title: fullTitle, filename: String(getUrl?.args.filename), content: uploaded(h.fake.uploads.get(id)!) };
  }

  describe("uploads and the validation summary", () => {
    it.each(CSV_FIXTURES)(
      "%s shared in the DM: counts, and the rows needing attention with their spreadsheet row numbers",
      async (name) => {
        const { post, batch } = await summaryOf(name, readFileSync(path.join(FIXTURES, name)));
        expect(post.args.channel).toBe("D0ADMIN");
        expect(fieldsOf(post)).toEqual({
          "Data rows": String(expectations.data_rows),
          Ready: String(expectations.data_rows - FLAGGED.length),
          "Need attention": String(FLAGGED.length),
          Blank: "0",
        });
        const listed = [...textOf(post).matchAll(/\*Row (\d+)\*/g)].map((m) => Number(m[1]));
        expect(listed).toEqual(FLAGGED);
        expect(textOf(post)).toContain("Row 13*");
        expect(buttonsOf(post)).toEqual([
          { id: IMPORT_ACTIONS.create, label: `Create ${expectations.data_rows - FLAGGED.length} accounts`, value: batch.id },
          // The unknown group of row 13 can be created in place.
          { id: IMPORT_ACTIONS.createGroup, label: "Create group Legal", value: JSON.stringify({ b: batch.id, g: "Legal" }) },
          { id: IMPORT_ACTIONS.fixRow, label: "Fix a row", value: batch.id },
          { id: IMPORT_ACTIONS.cancel, label: "Cancel", value: batch.id },
        ]);
        // Downloaded from url_private_download with the bot token.
        const download = h.fake.calls.filter((c) => c.method === "GET" && c.path.includes("/download/")).at(-1)!;
        expect(download.headers.authorization).toBe("Bearer xoxb-hms-test");
        // The batch remembers where its messages are: in a DM, the conversation itself (no thread).
        expect(batch.conversation).toEqual({
          slack: {
            place: { channel: "D0ADMIN" },
            summary: { channel: "D0ADMIN", ts: await tsOf(post) },
            requester: { userId: SLACK_USERS.admin.id, place: { channel: "D0ADMIN" } },
          },
        });
        expect(post.args.thread_ts).toBeUndefined();
        // Upload audited by the core.
        const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "import.upload", subject: `import:${batch.code}` } });
        expect(audit?.actor).toBe(SLACK_USERS.admin.email);
      },
    );

    it("a Windows-1250 file shared in the DM: the summary says it was read as Windows-1250, with Polish names read right", async () => {
      const actor = { email: SLACK_USERS.admin.email, platform: "slack" as const };
      for (const name of ["Księgowość", "Sprzedaż", "Magazyn", "IT"]) await h.core.addGroup({ actor, input: { name } });
      const bytes = readFileSync(path.join(FIXTURES, "encodings/users.pl.windows-1250.csv"));
      const { post, batch } = await summaryOf("pracownicy.csv", bytes);
      expect(fieldsOf(post)).toEqual({ "Data rows": "31", Ready: "31", "Need attention": "0", Blank: "0" });
      expect(textOf(post)).toContain(
        "Read as *Windows-1250 (Central European)*, semicolon-separated. Names as read: Łukasz Żółć · Jędrzej Stępień · Małgorzata Wiśniewska.",
      );
      expect(textOf(post)).not.toContain("could not be told");
      // What would be created: the names and groups as the spreadsheet shows them.
      const staged = await h.t.db.prisma.importRow.findFirst({ where: { batchId: batch.id, rowNumber: 2 } });
      expect(staged).toMatchObject({ name: "Łukasz Żółć", groupName: "Księgowość", status: "READY" });
    });

    it("a UTF-8 file with stray bytes: read as UTF-8, and exactly the rows holding them need attention, saying why", async () => {
      const bytes = readFileSync(path.join(FIXTURES, "encodings/users.multi.utf-8-stray-bytes.csv"));
      const { post } = await summaryOf("stray.csv", bytes);
      expect(fieldsOf(post)).toMatchObject({ "Data rows": "28", Ready: "25", "Need attention": "3" });
      expect([...textOf(post).matchAll(/\*Row (\d+)\*/g)].map((m) => Number(m[1]))).toEqual([9, 15, 23]);
      expect(textOf(post)).toContain("*Row 15* (jose.nunez@corp.example.com): Name has bytes that are not valid UTF-8 (shown as �)");
      expect(textOf(post)).toContain("Read as *UTF-8*, comma-separated.");
      expect(textOf(post)).toContain("4 bytes are not valid UTF-8: the rows holding them need attention.");
      expect(textOf(post)).not.toContain("control character");
    });

    it("a file whose encoding cannot be told for sure: the summary says what was assumed and how to save as CSV UTF-8", async () => {
      const bytes = Buffer.from(`Email ID,Name,Group\nayse.yilmaz@corp.example.org,Ay\xfee Y\xfdlmaz,Finance\n`, "latin1");
      const { post } = await summaryOf("tr.csv", bytes);
      expect(textOf(post)).toContain("The file's encoding could not be told for sure: it was read as");
      expect(textOf(post)).toContain("File › Save As › CSV UTF-8 (Comma delimited)");
    });

    it("the error report is uploaded in the thread (files.uploadV2): Row first, as the summary numbers it, formula-safe", async () => {
      const rows = [...freshRows(1), ["bad-email", '=HYPERLINK("http://evil")', "Finance", "User", "", ""], ...freshRows(2)];
      const { answers, code, post } = await summaryOf("formula.csv", csvFile(rows));
      expect(textOf(post)).toContain("*Row 3* (bad-email)");
      const report = await fileIn(answers, "Rows needing attention");
      expect(report.complete.args.channel_id).toBe("D0ADMIN");
      expect(report.title).toBe(`Rows needing attention in import ${code}`);
      expect(report.filename).toBe(`formula-${code}-problems.csv`);
      expect(String(report.complete.args.initial_comment)).toContain("Row is the row number in formula.csv");
      expect(headerOf(report.content)).toEqual([
        "Row",
        "Email ID",
        "Name",
        "Group",
        "Role",
        "Exchange Domain",
        "Exchange Username",
        "Problems",
      ]);
      expect(readBack(report.content)).toEqual([
        {
          Row: "3",
          "Email ID": "bad-email",
          Name: `'=HYPERLINK("http://evil")`,
          Group: "Finance",
          Role: "User",
          "Exchange Domain": "",
          "Exchange Username": "",
          Problems: "Email ID “bad-email” is not a valid email address.",
        },
      ]);
      expect(report.content).not.toMatch(/(^|,)"?=HYPERLINK/m);
    });

    it("a semicolon file shared in the DM: its report is semicolon-separated, and a duplicate says which row is imported", async () => {
      const [first, second] = freshRows(2);
      const rows = [
        first!,
        second!,
        [first![0]!.toUpperCase(), "Twice", "Finance", "User", "", ""],
        ["x@@y", "Lee, Ann", "Finance", "", "", ""],
      ];
      const { answers, post } = await summaryOf("eu.csv", csvFile(rows, undefined, ";"));
      expect(textOf(post)).toContain("semicolon-separated");
      const report = await fileIn(answers, "Rows needing attention");
      expect(report.content.split("\r\n")[0]).toBe("\uFEFFRow;Email ID;Name;Group;Role;Exchange Domain;Exchange Username;Problems");
      expect(readBack(report.content, ";").map((r) => [r.Row, r["Email ID"], r.Name, r.Problems])).toEqual([
        ["4", first![0]!.toUpperCase(), "Twice", "Same Email ID as row 2, which is imported."],
        ["5", "x@@y", "Lee, Ann", "Email ID “x@@y” is not a valid email address."],
      ]);
    });

    it("no report when every row is ready; posting a corrected file again starts a new summary", async () => {
      const before = h.fake.callsTo("files.completeUploadExternal").length;
      const first = await summaryOf("fix.csv", csvFile([["broken", "Broken", "Finance", "User", "", ""], ...freshRows(1)]));
      await h.fake.waitFor("files.completeUploadExternal", before + 1);
      const second = await summaryOf("fix.csv", csvFile(freshRows(2)));
      expect(second.code).not.toBe(first.code);
      expect(fieldsOf(second.post)).toMatchObject({ Ready: "2", "Need attention": "0" });
      await new Promise((r) => setTimeout(r, 100));
      expect(h.fake.callsTo("files.completeUploadExternal").length).toBe(before + 1);
    });

    it("the same file shared again while its import is open: one batch, and the older summary loses its buttons", async () => {
      const bytes = csvFile(freshRows(3));
      const first = await summaryOf("again.csv", bytes);
      const firstTs = await tsOf(first.post);
      const second = await summaryOf("again.csv", bytes);
      expect(second.code).toBe(first.code);
      expect(buttonsOf(second.post).map((b) => b.id)).toEqual([IMPORT_ACTIONS.create, IMPORT_ACTIONS.cancel]);
      expect(textOf(second.post)).toContain(
        "this is that check. To check it against the directory as it is now, Cancel and upload it again.",
      );
      const moved = await waitForUpdate(firstTs, (c) => textOf(c).includes("shared again"), "the older summary");
      expect(buttonsOf(moved)).toEqual([]);
      expect(String(moved.args.text)).toBe(
        `Import ${first.code} (again.csv): the same file was shared again, so this summary moved to a newer message. Use the buttons there.`,
      );
    });

    it.each([
      ["a PNG renamed .csv", "photo.csv", Buffer.from("89504e470d0a1a0a0000000d4948445200000001", "hex"), "not a CSV file"],
      ["a zip renamed .csv", "archive.csv", Buffer.concat([Buffer.from("504b0304", "hex"), Buffer.alloc(40)]), "not a CSV file"],
      ["an Excel workbook", "users.xlsx", readFileSync(path.join(FIXTURES, "users.xlsx")), "CSV"],
      ["an empty file", "empty.csv", Buffer.alloc(0), "The file is empty."],
    ])("%s is refused clearly, in the thread, and nothing is staged", async (_, name, content, says) => {
      const batches = await h.t.db.prisma.importBatch.count();
      const { post } = await share(addFile(name, content), { match: (c) => String(c.args.text).includes("was not imported") });
      expect(String(post.args.text)).toContain(`${name} was not imported`);
      expect(String(post.args.text)).toContain(says);
      expect(await h.t.db.prisma.importBatch.count()).toBe(batches);
    });

    it("a channel message mentioning the bot with the file: the summary goes in its thread", async () => {
      const { post } = await share(addFile("mention.csv", csvFile(freshRows(3))), { mention: true });
      expect(post.args.channel).toBe("C0ITADMINS");
      expect(fieldsOf(post)).toMatchObject({ "Data rows": "3", Ready: "3" });
    });

    it("/hms import opens a modal with a CSV file input; its submission is acknowledged at once and the summary follows", async () => {
      const sent = await h.command("import");
      expect(sent.status).toBe(200);
      const open = (await h.fake.waitFor("views.open")).at(-1)!;
      const view = open.args.view as {
        callback_id: string;
        blocks: { type: string; element?: Record<string, unknown> }[];
        private_metadata: string;
      };
      expect(view.callback_id).toBe("hms_import_upload");
      expect(view.blocks.find((b) => b.type === "input")!.element).toEqual({
        type: "file_input",
        action_id: "file",
        filetypes: ["csv"],
        max_files: 1,
      });

      const file = addFile("modal.csv", csvFile(freshRows(4)));
      const posts = h.fake.callsTo("chat.postMessage").length;
      const answer = await h.submitState({ ...view, id: "V0IMPORT" }, { file: { file: { type: "file_input", files: [file] } } });
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ response_action: "update", view: { type: "modal", title: { text: "Import users" } } });
      const [post] = (await h.fake.waitFor("chat.postMessage", posts + 1)).slice(posts);
      expect(post!.args).toMatchObject({ channel: "C0ITADMINS" });
      expect(post!.args.thread_ts).toBeUndefined();
      expect(fieldsOf(post!)).toMatchObject({ "Data rows": "4", Ready: "4" });
    });

    it("a download Slack refuses (file gone, no files:read): the admin is told briefly, the method is logged", async () => {
      const gone = addFile("gone.csv", "x");
      h.fake.serve(new URL(String(gone.url_private_download)).pathname, { status: 404, body: "not found" });
      const eph = h.fake.callsTo("chat.postEphemeral").length;
      await h.shareFiles([gone]);
      const [told] = (await h.fake.waitFor("chat.postEphemeral", eph + 1)).slice(eph);
      expect(String(told!.args.text)).toContain("file_not_found");
      expect(h.logs.find({ method: "files.download", slackError: "file_not_found" })).toBeDefined();

      const html = addFile("login.csv", "x");
      h.fake.serve(new URL(String(html.url_private_download)).pathname, {
        headers: { "content-type": "text/html" },
        body: "<html>sign in</html>",
      });
      await h.shareFiles([html]);
      const [scope] = (await h.fake.waitFor("chat.postEphemeral", eph + 2)).slice(eph + 1);
      expect(String(scope!.args.text)).toContain("lacks the files:read permission");
    });

    it("a report upload that fails: the summary stays, the admin is told, nothing unhandled", async () => {
      h.fake.once("files.getUploadURLExternal", FakeSlack.error("missing_scope", { needed: "files:write" }));
      const eph = h.fake.callsTo("chat.postEphemeral").length;
      const { code } = await summaryOf("noreport.csv", csvFile([["nope", "N", "Finance", "User", "", ""], ...freshRows(1)]));
      const [told] = (await h.fake.waitFor("chat.postEphemeral", eph + 1)).slice(eph);
      expect(String(told!.args.text)).toContain(`The summary of import ${code} is posted, but its error report could not be attached`);
      expect(String(told!.args.text)).toContain("files:write");
    });

    it("someone who is not an HMS Administrator: told so, nothing staged", async () => {
      const batches = await h.t.db.prisma.importBatch.count();
      const eph = h.fake.callsTo("chat.postEphemeral").length;
      await h.shareFiles([addFile("plain.csv", csvFile(freshRows(1)))], { user: SLACK_USERS.plain.id, channel: "D0PLAIN" });
      const [told] = (await h.fake.waitFor("chat.postEphemeral", eph + 1)).slice(eph);
      expect(String(told!.args.text)).toContain("You need the Administrator role in HMS to do this.");
      expect(await h.t.db.prisma.importBatch.count()).toBe(batches);
    });
  });

  describe("create, approval, progress, finish and invite", () => {
    it("Create without approval (policy): accounts created at once, progress edited in place, then Finish", async () => {
      clockStep = 1000; // every progress report is a second apart: each one is shown
      const { post, batch, code, answers } = await summaryOf("small.csv", csvFile(freshRows(7)));
      const summaryTs = await tsOf(post);
      const click = await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      expect(click).toMatchObject({ status: 200, text: "" });
      const done = await waitForUpdate(summaryTs!, (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.finish), "the result");
      expect(fieldsOf(done)).toMatchObject({ Created: "7", Skipped: "0", Failed: "0" });
      expect(buttonsOf(done).map((b) => b.label)).toEqual(["Invite the imported users to enroll", "Finish"]);
      const progress = updatesOf(summaryTs!)
        .map((c) => /Creating accounts… (\d+) \/ (\d+)/.exec(textOf(c))?.slice(1).join("/"))
        .filter(Boolean);
      expect(progress).toEqual(["0/7", "3/7", "6/7", "7/7"]);
      expect(await h.t.db.prisma.user.count({ where: { email: { startsWith: `p${people}x` } } })).toBe(7);
      // Then the results file in the thread: every row, created.
      const results = await fileIn(answers, "Results of import");
      expect(results.complete.args.channel_id).toBe("D0ADMIN");
      expect(results.title).toBe(`Results of import ${code}`);
      expect(results.filename).toBe(`small-${code}-results.csv`);
      expect(String(results.complete.args.initial_comment)).toContain(`Results of import ${code}`);
      expect(String(results.complete.args.initial_comment)).toContain("7 created, 0 skipped, 0 failed");
      expect(headerOf(results.content)).toEqual([
        "Row",
        "Email ID",
        "Name",
        "Group",
        "Role",
        "Exchange Domain",
        "Exchange Username",
        "Result",
        "Details",
      ]);
      expect(readBack(results.content).map((r) => [r.Row, r["Email ID"], r.Result, r.Details])).toEqual(
        Array.from({ length: 7 }, (_, i) => [String(i + 2), `p${people}x${i}@corp.example.org`, "created", ""]),
      );

      // Someone who may not: told so, and the buttons stay.
      const edits = updatesOf(summaryTs).length;
      const refused = await h.click(IMPORT_ACTIONS.invite, batch.id, { user: SLACK_USERS.plain.id, channel: "D0ADMIN" });
      expect(answerText((await h.waitForResponse(refused.responseUrl))[0]!)).toContain(
        "You need the Administrator role in HMS to do this.",
      );
      await h.fake.waitForCalls((c) => c.method === "chat.update" && c.args.ts === summaryTs, edits + 1, 5000);
      expect(buttonsOf(updatesOf(summaryTs).at(-1)!).map((b) => b.id)).toEqual([IMPORT_ACTIONS.invite, IMPORT_ACTIONS.finish]);
      expect(smtp.received.filter((m) => m.to.some((to) => to.startsWith(`p${people}x`)))).toEqual([]);

      await h.click(IMPORT_ACTIONS.finish, batch.id, { channel: "D0ADMIN" });
      const finished = await waitForUpdate(summaryTs!, (c) => String(c.args.text).includes("finished"), "finished");
      expect(buttonsOf(finished)).toEqual([]);
      expect(String(finished.args.text)).toBe(`Import ${code} finished: 7 accounts created, no invitations sent.`);
      const actions = (await h.t.db.prisma.auditEvent.findMany({ where: { subject: `import:${code}` }, orderBy: { id: "asc" } })).map(
        (a) => a.action,
      );
      expect(actions).toEqual(["import.upload", "import.submit", "import.create", "import.finish"]);

      // An old button clicked after the decision: explained, nothing else.
      const late = await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      const [answer] = await h.waitForResponse(late.responseUrl);
      expect(answer!.args).toMatchObject({ response_type: "ephemeral" });
      expect(answerText(answer!)).toContain(`Import ${code}: it is finished.`);
    });

    it("progress edits are throttled: with no time passing, only the first and the final state go out", async () => {
      clockStep = 0;
      const { post, batch } = await summaryOf("throttled.csv", csvFile(freshRows(9)));
      const summaryTs = await tsOf(post);
      await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      await waitForUpdate(summaryTs, (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.finish), "the result");
      const progress = updatesOf(summaryTs).filter((c) => textOf(c).includes("Creating accounts…"));
      expect(progress.length).toBe(1);
      expect(textOf(progress[0]!)).toContain("0 / 9");
    });

    it("with approval: the request mentions the approvers; requester, non-approver and non-admin are refused; 20 concurrent Approve clicks create once; Invite mails the users", async () => {
      const { post, batch, code } = await summaryOf("big.csv", csvFile(freshRows(12)));
      const summaryTs = await tsOf(post);
      await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      const [request] = await h.fake.waitForCalls(
        (c) => c.method === "chat.postMessage" && String(c.args.text).startsWith(`Approval needed: import ${code}`),
        1,
        10_000,
        "the approval request",
      );
      // No SLACK_APPROVAL_CHANNEL: where the import is, here the DM's conversation itself.
      expect(request!.args).toMatchObject({ channel: "D0ADMIN" });
      expect(request!.args.thread_ts).toBeUndefined();
      expect(textOf(request!)).toContain(`<@${SLACK_USERS.otherAdmin.id}>`);
      expect(textOf(request!)).toContain(`<@${SLACK_USERS.admin.id}> asks for approval`);
      const [approve, reject] = buttonsOf(request!);
      expect(approve).toEqual({ id: IMPORT_ACTIONS.approve, label: "Approve", value: `${batch.id}:${batch.sha256.slice(0, 12)}` });
      expect(reject!.id).toBe(IMPORT_ACTIONS.reject);
      const lookups = h.fake.callsTo("users.lookupByEmail").map((c) => c.args.email);
      expect(lookups).toContain(OTHER_ADMIN.email);
      // A DM is seen by the requester only: the approver gets the same request in their own DM with the bot.
      const [copy] = await h.fake.waitForCalls(
        (c) =>
          c.method === "chat.postMessage" &&
          c.args.channel === "D0ADMIN2" &&
          String(c.args.text).startsWith(`Approval needed: import ${code}`),
        1,
        10_000,
        "the request in the approver's DM",
      );
      expect(copy!.args.blocks).toEqual(request!.args.blocks);
      expect(h.fake.callsTo("conversations.open").map((c) => c.args.users)).toContain(SLACK_USERS.otherAdmin.id);
      const copyTs = await tsOf(copy!);
      // The summary now waits, with Cancel only.
      const waiting = await waitForUpdate(summaryTs, (c) => String(c.args.text).includes("waiting for approval"), "waiting");
      expect(buttonsOf(waiting).map((b) => b.id)).toEqual([IMPORT_ACTIONS.cancel]);
      const requestTs = await tsOf(request!);

      for (const [user, says] of [
        [SLACK_USERS.admin.id, `You requested import ${code}; another Administrator must approve or reject it.`],
        [THIRD.id, `Only ${OTHER_ADMIN.email} may approve imports.`],
        [SLACK_USERS.plain.id, "You need the Administrator role in HMS to do this."],
      ] as const) {
        const refused = await h.click(IMPORT_ACTIONS.approve, approve!.value!, { user, channel: "D0ADMIN", messageTs: requestTs });
        const [answer] = await h.waitForResponse(refused.responseUrl);
        expect(answerText(answer!)).toContain(says);
      }
      expect((await h.core.getImport({ batchId: code })).batch.status).toBe("AWAITING_APPROVAL");
      expect(updatesOf(requestTs)).toEqual([]);

      // Twenty approvers' clicks at once: one approval, one creation.
      const clicks = await Promise.all(
        Array.from({ length: 20 }, () =>
          h.click(IMPORT_ACTIONS.approve, approve!.value!, { user: SLACK_USERS.otherAdmin.id, channel: "D0ADMIN", messageTs: requestTs }),
        ),
      );
      expect(clicks.every((c) => c.status === 200)).toBe(true);
      const created = await waitForStatus(code, "CREATED");
      expect(created).toMatchObject({ createdRows: 12, decidedBy: OTHER_ADMIN.email });
      const losers = await h.fake.waitForCalls(
        (c) => c.method === "response_url" && clicks.some((k) => k.responseUrl.endsWith(c.path)),
        19,
        10_000,
        "19 refusals",
      );
      expect(losers.length).toBe(19);
      for (const l of losers) expect(answerText(l)).toContain(`was already approved by ${OTHER_ADMIN.email}`);
      expect(
        await h.t.db.prisma.auditEvent.count({ where: { subject: `import:${code}`, action: { in: ["import.approve", "import.create"] } } }),
      ).toBe(2);
      expect(await h.t.db.prisma.user.count({ where: { email: { startsWith: `p${people}x` } } })).toBe(12);
      // The request lost its buttons; the summary shows the result.
      const decided = await waitForUpdate(requestTs, (c) => String(c.args.text).includes("was approved"), "approved");
      expect(buttonsOf(decided)).toEqual([]);
      const copyDecided = await waitForUpdate(copyTs, (c) => String(c.args.text).includes("was approved"), "the approver's copy approved");
      expect(copyDecided.args.channel).toBe("D0ADMIN2");
      expect(buttonsOf(copyDecided)).toEqual([]);
      await waitForUpdate(summaryTs, (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.invite), "the result");

      await h.click(IMPORT_ACTIONS.invite, batch.id, { channel: "D0ADMIN" });
      const invited = await waitForUpdate(summaryTs, (c) => String(c.args.text).includes("invitation"), "invited");
      expect(String(invited.args.text)).toBe(`Import ${code} finished: 12 invitations sent, 0 pending, 0 failed.`);
      expect(buttonsOf(invited)).toEqual([]);
      const mailed = smtp.received.filter((m) => m.to.some((to) => to.startsWith(`p${people}x`)));
      expect(mailed.length).toBe(12);
      expect(await h.t.db.prisma.auditEvent.count({ where: { subject: `import:${code}`, action: "import.invite" } })).toBe(1);
    });

    it("Reject opens a form for the reason; an empty reason keeps it open; the reason is shown and nothing is created", async () => {
      const { code, summaryTs, request, requestTs } = await awaitingApproval("reject.csv", 10);
      const opens = h.fake.callsTo("views.open").length;
      // Whoever may not reject is told so at once, without a form to type a reason in vain.
      for (const [user, says] of [
        [SLACK_USERS.admin.id, `You requested import ${code}; another Administrator must approve or reject it.`],
        [THIRD.id, `Only ${OTHER_ADMIN.email} may approve imports.`],
        [SLACK_USERS.plain.id, "You need the Administrator role in HMS to do this."],
      ] as const) {
        const refused = await h.click(IMPORT_ACTIONS.reject, buttonsOf(request!)[1]!.value!, {
          user,
          channel: "D0ADMIN",
          messageTs: requestTs,
        });
        expect(answerText((await h.waitForResponse(refused.responseUrl))[0]!)).toContain(says);
      }
      expect(h.fake.callsTo("views.open").length).toBe(opens);
      await h.click(IMPORT_ACTIONS.reject, buttonsOf(request!)[1]!.value!, {
        user: SLACK_USERS.otherAdmin.id,
        channel: "D0ADMIN",
        messageTs: requestTs,
      });
      const open = (await h.fake.waitFor("views.open", opens + 1))[opens]!;
      const view = open.args.view as Record<string, unknown>;
      expect(view).toMatchObject({ callback_id: "hms_import_reject", title: { text: "Reject import" } });

      const empty = await h.submitState(
        { ...view, id: "V0REJECT" },
        { reason: { reason: { type: "plain_text_input", value: "  " } } },
        SLACK_USERS.otherAdmin.id,
      );
      expect(empty.json).toMatchObject({ response_action: "errors", errors: { reason: expect.stringContaining("Say why") } });
      const ok = await h.submitState(
        { ...view, id: "V0REJECT" },
        { reason: { reason: { type: "plain_text_input", value: "Wrong groups for the contractors" } } },
        SLACK_USERS.otherAdmin.id,
      );
      expect(ok).toMatchObject({ status: 200, text: "" });
      const rejected = await waitForUpdate(requestTs, (c) => String(c.args.text).includes("rejected"), "rejected request");
      expect(buttonsOf(rejected)).toEqual([]);
      expect(textOf(rejected)).toContain("Wrong groups for the contractors");
      const summary = await waitForUpdate(summaryTs, (c) => String(c.args.text).includes("rejected"), "rejected summary");
      expect(buttonsOf(summary)).toEqual([]);
      expect((await h.core.getImport({ batchId: code })).batch).toMatchObject({
        status: "REJECTED",
        reason: "Wrong groups for the contractors",
        createdRows: 0,
      });
      expect(await h.t.db.prisma.auditEvent.count({ where: { subject: `import:${code}`, action: "import.reject" } })).toBe(1);
    });

    it("Cancel closes the batch and removes the buttons", async () => {
      const { post, batch } = await summaryOf("cancel.csv", csvFile(freshRows(2)));
      const summaryTs = await tsOf(post);
      await h.click(IMPORT_ACTIONS.cancel, batch.id, { channel: "D0ADMIN" });
      const cancelled = await waitForUpdate(summaryTs, (c) => String(c.args.text).includes("cancelled"), "cancelled");
      expect(buttonsOf(cancelled)).toEqual([]);
    });

    it("expired approval requests have their buttons replaced by “expired” (background job)", async () => {
      const { code, summaryTs, requestTs } = await awaitingApproval("expire.csv", 11);
      h.t.clock.now = new Date("2026-11-27T13:00:00Z");
      const expired = await h.core.expireImports();
      expect(expired.map((b) => b.code)).toContain(code);
      await h.imports.expired!(expired);
      const edited = updatesOf(requestTs).at(-1)!;
      expect(buttonsOf(edited)).toEqual([]);
      expect(textOf(edited)).toContain("Expired");
      expect(buttonsOf(updatesOf(summaryTs).at(-1)!)).toEqual([]);
      expect(textOf(updatesOf(summaryTs).at(-1)!)).toContain("expired");
    });

    it("Approve or Reject clicked after the request expired: told so, and both messages lose their buttons at once", async () => {
      const { code, summaryTs, request, requestTs } = await awaitingApproval("late.csv", 11);
      h.t.clock.now = new Date("2026-11-27T13:00:00Z"); // past the 72 h; the background job has not run yet
      const [approve, reject] = buttonsOf(request!);
      const late = await h.click(IMPORT_ACTIONS.approve, approve!.value!, {
        user: SLACK_USERS.otherAdmin.id,
        channel: "D0ADMIN",
        messageTs: requestTs,
      });
      expect(answerText((await h.waitForResponse(late.responseUrl))[0]!)).toContain("expired");
      const edited = await waitForUpdate(requestTs, (c) => textOf(c).includes("Expired"), "the expired request");
      expect(buttonsOf(edited)).toEqual([]);
      const summary = await waitForUpdate(summaryTs, (c) => textOf(c).includes("expired"), "the expired summary");
      expect(buttonsOf(summary)).toEqual([]);
      expect((await h.core.getImport({ batchId: code })).batch.status).toBe("EXPIRED");

      const opens = h.fake.callsTo("views.open").length;
      const lateReject = await h.click(IMPORT_ACTIONS.reject, reject!.value!, {
        user: SLACK_USERS.otherAdmin.id,
        channel: "D0ADMIN",
        messageTs: requestTs,
      });
      expect(answerText((await h.waitForResponse(lateReject.responseUrl))[0]!)).toContain("expired");
      expect(h.fake.callsTo("views.open").length).toBe(opens);
    });

    it("a rate-limited final edit is tried again after Retry-After: Finish and Invite appear", async () => {
      const { post, batch } = await summaryOf("final-limited.csv", csvFile(freshRows(4)));
      const summaryTs = await tsOf(post);
      const isResult = (c: RecordedCall) => c.args.ts === summaryTs && buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.finish);
      h.fake.once("chat.update", FakeSlack.ratelimited(1), isResult);
      await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      const [refused, shown] = await h.fake.waitForCalls((c) => c.method === "chat.update" && isResult(c), 2, 10_000, "the result, twice");
      expect(refused!.reply).toMatchObject({ ok: false, error: "ratelimited" });
      expect(shown!.at! - refused!.at!).toBeGreaterThanOrEqual(1000);
      expect(h.logs.find({ msg: "import message edit rate-limited; refreshing again after Retry-After" })).toMatchObject({ waitMs: 1000 });
    });

    it("creation paused by a lasting database conflict: the admin is told it carries on by itself, and the job finishes it", async () => {
      const { post, batch, code, answers } = await summaryOf("paused.csv", csvFile(freshRows(2)));
      const summaryTs = await tsOf(post);
      const store = h.t.store;
      const real = store.transaction;
      let failing = 0;
      store.transaction = ((work, options) =>
        failing-- > 0 ? Promise.reject(new AppError("DATABASE_BUSY", "busy")) : real(work, options)) as typeof real;
      // From the moment creation starts (its first edit), every transaction meets a conflict.
      h.fake.once(
        "chat.update",
        (call, fake) => {
          failing = 4;
          return DEFAULT_RESPONDERS["chat.update"]!(call, fake);
        },
        (c) => c.args.ts === summaryTs && textOf(c).includes("Creating accounts… 0 / 2"),
      );
      try {
        const click = await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
        const [told] = await h.waitForResponse(click.responseUrl);
        expect((told!.args as { text: string }).text).toBe(
          `Creating the accounts of import ${code} paused: the HMS database is busy with other work. It carries on by itself within a few minutes; the summary shows the progress.`,
        );
        expect((await h.core.getImport({ batchId: code })).batch.status).toBe("CREATING");
      } finally {
        store.transaction = real;
      }
      h.t.clock.now = new Date(h.t.clock.now.getTime() + 61_000); // the lease lapsed
      const resultsBefore = h.fake.calls.filter((c) => c.method === "files.completeUploadExternal" && answers(c));
      expect(resultsBefore).toEqual([]); // the paused click sent none
      await h.core.resumeInterruptedImports({ onProgress: h.imports.progress });
      const done = await waitForUpdate(summaryTs, (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.finish), "the result");
      expect(fieldsOf(done)).toMatchObject({ Created: "2" });
      // The job finished it, so the results come from there, in the import's thread.
      const results = await fileIn(answers, "Results of import");
      expect(results.filename).toBe(`paused-${code}-results.csv`);
      expect(readBack(results.content).map((r) => r.Result)).toEqual(["created", "created"]);
    });

    it("an edit still rate-limited after three tries is given up, logged, not retried for ever", async () => {
      const { post, batch } = await summaryOf("limited-4.csv", csvFile(freshRows(2)));
      const summaryTs = await tsOf(post);
      const isResult = (c: RecordedCall) =>
        c.method === "chat.update" && c.args.ts === summaryTs && buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.finish);
      for (let i = 0; i < 4; i++) h.fake.once("chat.update", FakeSlack.ratelimited(1), isResult);
      await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      await h.fake.waitForCalls(isResult, 4, 10_000, "the result, four times");
      await vi.waitFor(() =>
        expect(
          h.logs.find({ msg: "import messages still rate-limited after 3 tries; they may show an old state until the next change" }),
        ).toBeDefined(),
      );
      await new Promise((r) => setTimeout(r, 1_500));
      expect(h.fake.calls.filter(isResult)).toHaveLength(4);
    });

    it("progress of a creation resumed by the background job edits the same summary", async () => {
      const { post, code } = await summaryOf("resumed.csv", csvFile(freshRows(2)));
      const summaryTs = await tsOf(post);
      const { batch } = await h.core.getImport({ batchId: code });
      await h.imports.progress!({ batch: { ...batch, status: "CREATING" }, done: 1, total: 2 });
      expect(textOf(updatesOf(summaryTs).at(-1)!)).toContain("Creating accounts… 1 / 2");
    });

    it("a rate-limited progress edit is logged and skipped; the creation finishes and the final state goes out", async () => {
      const { post, batch } = await summaryOf("ratelimited.csv", csvFile(freshRows(5)));
      const summaryTs = await tsOf(post);
      // Not the first "0 / 5" edit (it removes the Create button, so it is waited for): a later one.
      h.fake.once(
        "chat.update",
        FakeSlack.ratelimited(3),
        // 3 / 5, or 2 / 5 when the second chunk (two rows) was written first, beside the first.
        (c) => c.args.ts === summaryTs && /Creating accounts… [23] \/ 5/.test(textOf(c)),
      );
      await h.click(IMPORT_ACTIONS.create, batch.id, { channel: "D0ADMIN" });
      await waitForUpdate(summaryTs, (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.finish), "the result");
      expect(h.logs.find({ method: "chat.update", slackError: "ratelimited" })).toBeDefined();
    });
  });

  it("/hms template posts the template file with how to fill it in", async () => {
    const before = h.fake.calls.length;
    const sent = await h.command("template");
    expect(sent.status).toBe(200);
    // (Matched by its title: a results file of an earlier test's creation may be uploaded meanwhile.)
    const [complete] = await h.fake.waitForCalls(
      (c) =>
        h.fake.calls.indexOf(c) >= before &&
        c.method === "files.completeUploadExternal" &&
        (c.args.files as { title: string }[])[0]!.title === "HMS import template",
      1,
      10_000,
      "the template upload",
    );
    expect(complete!.args.channel_id).toBe("C0ITADMINS");
    expect(String(complete!.args.initial_comment)).toContain("Fill in one row per user.");
    const id = (complete!.args.files as { id: string }[])[0]!.id;
    expect(uploaded(h.fake.uploads.get(id)!)).toBe("\uFEFFEmail ID,Name,Group,Role,Exchange Domain,Exchange Username\r\n");
    expect(FAKE_TEAM.id).toBe("T0HMSTEST");
  });
});

describe("approval requests with SLACK_APPROVAL_CHANNEL", () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await startSlackHarness("pglite", { slack: { approvalChannel: "C0APPROVALS" }, imports: { approvalPolicy: { kind: "always" } } });
  });
  afterAll(async () => h?.close());

  it("go to that channel (not the thread), mentioning every eligible approver", async () => {
    const file = h.fake.addFile({ id: "F0CHAN1", name: "chan.csv", content: Buffer.from(csvFile(validRows(2, { prefix: "chan" }))) });
    const before = h.fake.calls.length;
    await h.shareFiles([file], { ts: "1700000500.000100" });
    const [summary] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && answersShare(h.fake, { ts: "1700000500.000100", before })(c),
      1,
      10_000,
    );
    const batchId = buttonsOf(summary!)[0]!.value!;
    await h.click(IMPORT_ACTIONS.create, batchId, { channel: "D0ADMIN" });
    const [request] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && String(c.args.text).startsWith("Approval needed"),
      1,
      10_000,
    );
    expect(request!.args.channel).toBe("C0APPROVALS");
    expect(request!.args.thread_ts).toBeUndefined();
    expect(textOf(request!)).toContain(`<@${SLACK_USERS.otherAdmin.id}>`);
  });

  it("a channel the bot cannot post in: the request goes where the import is, and the failure is logged with the method", async () => {
    const file = h.fake.addFile({ id: "F0CHAN2", name: "chan2.csv", content: Buffer.from(csvFile(validRows(2, { prefix: "chantwo" }))) });
    const before = h.fake.calls.length;
    await h.shareFiles([file], { ts: "1700000600.000100" });
    const [summary] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && answersShare(h.fake, { ts: "1700000600.000100", before })(c),
      1,
      10_000,
    );
    const batchId = buttonsOf(summary!)[0]!.value!;
    h.fake.once("chat.postMessage", FakeSlack.error("not_in_channel"), (c) => c.args.channel === "C0APPROVALS");
    await h.click(IMPORT_ACTIONS.create, batchId, { channel: "D0ADMIN" });
    const [request] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && String(c.args.text).startsWith("Approval needed") && c.args.channel === "D0ADMIN",
      1,
      10_000,
    );
    // The import is in a DM: its conversation, not a thread.
    expect(request!.args.thread_ts).toBeUndefined();
    expect(h.logs.find({ method: "chat.postMessage", slackError: "not_in_channel" })).toBeDefined();
  });
});

describe.each(databaseKinds)("the requesters of an import: who uploaded it and who clicked Create (%s)", (kind) => {
  let h: SlackHarness;
  const [ada, bob, cy] = [SLACK_USERS.admin, SLACK_USERS.otherAdmin, THIRD];
  beforeAll(async () => {
    h = await startSlackHarness(kind, { imports: { approvalPolicy: { kind: "always" } } });
    h.fake.addUser(cy);
    await h.core.ensureBootstrapAdmins({ emails: [cy.email] });
  });
  afterAll(async () => h?.close());

  it("Ada uploads, Bob clicks Create: the request names both; Bob may neither approve nor reject, a hash-less Approve changes nothing, Cy approves", async () => {
    const channel = "C0ITADMINS";
    const ts = "1700000700.000100";
    const file = h.fake.addFile({ id: "F0REQ1", name: "requesters.csv", content: Buffer.from(csvFile(validRows(3, { prefix: "reqs" }))) });
    expect((await h.shareFiles([file], { user: ada.id, channel, mention: true, ts })).status).toBe(200);
    const [summary] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === ts,
      1,
      15_000,
      "the summary",
    );
    const code = codeOf(summary!);
    const batchId = buttonsOf(summary!).find((b) => b.id === IMPORT_ACTIONS.create)!.value!;
    // Once the summary's ts is on the batch (whatever the record's layout), Create can find the summary.
    const summaryTs = await tsOf(summary!);
    await vi.waitFor(async () =>
      expect(JSON.stringify((await h.core.getImport({ batchId })).batch.conversation)).toContain(`"${summaryTs}"`),
    );

    await h.click(IMPORT_ACTIONS.create, batchId, { user: bob.id, channel, threadTs: ts });
    const [request] = await h.fake.waitForCalls(
      (c) => c.method === "chat.postMessage" && String(c.args.text).startsWith(`Approval needed: import ${code}`),
      1,
      15_000,
      "the approval request",
    );
    expect(String(request!.args.text)).toBe(
      `Approval needed: import ${code} (3 accounts) requested by ${ada.email} (uploaded the file) and ${bob.email} (clicked Create).`,
    );
    expect(textOf(request!)).toContain(
      `<@${cy.id}>: <@${ada.id}> uploaded the file and <@${bob.id}> clicked Create; they ask for approval to create these accounts.`,
    );
    const requestTs = await tsOf(request!);
    const [approve, reject] = buttonsOf(request!);
    const { batch } = await h.core.getImport({ batchId });
    expect(batch).toMatchObject({
      status: "AWAITING_APPROVAL",
      requesterEmail: ada.email,
      submitterEmail: bob.email,
      submitterPlatformId: bob.id,
    });

    const opens = h.fake.callsTo("views.open").length;
    for (const [user, button, says] of [
      [bob.id, approve!, `You clicked Create on import ${code}; another Administrator must approve or reject it.`],
      [bob.id, reject!, `You clicked Create on import ${code}; another Administrator must approve or reject it.`],
      [ada.id, approve!, `You requested import ${code}; another Administrator must approve or reject it.`],
      // Without the content's SHA-256 (a button value of the batch id alone), even from an approver.
      [
        cy.id,
        { ...approve!, value: batchId },
        `This decision does not say which file content of import ${code} it is for (its SHA-256), so nothing changed.`,
      ],
    ] as const) {
      const refused = await h.click(button.id, button.value!, { user, channel, messageTs: requestTs, threadTs: ts });
      expect(answerText((await h.waitForResponse(refused.responseUrl))[0]!)).toContain(says);
    }
    expect(h.fake.callsTo("views.open").length).toBe(opens); // no reason form for Bob
    expect((await h.core.getImport({ batchId })).batch).toMatchObject({ status: "AWAITING_APPROVAL", decidedBy: null });
    expect(await h.t.db.prisma.user.count({ where: { email: { startsWith: "reqs" } } })).toBe(0);

    await h.click(IMPORT_ACTIONS.approve, approve!.value!, { user: cy.id, channel, messageTs: requestTs, threadTs: ts });
    await vi.waitFor(async () => expect((await h.core.getImport({ batchId })).batch.status).toBe("CREATED"), {
      timeout: 15_000,
      interval: 50,
    });
    expect(await h.t.db.prisma.user.count({ where: { email: { startsWith: "reqs" } } })).toBe(3);
    const audit = await h.t.db.prisma.auditEvent.findMany({ where: { subject: `import:${code}` }, orderBy: { id: "asc" } });
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ["import.upload", ada.email],
      ["import.approval_requested", bob.email],
      ["import.approve", cy.email],
      ["import.create", cy.email],
    ]);
    for (const event of audit.slice(1, 3)) expect(event.details).toMatchObject({ uploadedBy: ada.email, submittedBy: bob.email });
  });
});
