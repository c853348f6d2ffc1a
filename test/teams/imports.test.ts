/**
 * Importing users from Teams, the upload half: CSVs attached in personal chat are fetched from
 * their downloadUrl (only from allowed hosts, bounded, no HTML page), staged, and summarised on a
 * card; the error report and the template reach the admin through a FileConsentCard (Allow: the
 * file is uploaded to the uploadUrl and shown); in a channel or group chat, where bots get no
 * files, the bot says so and continues in personal chat.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import { csvFile, headerOf, readBack, validRows } from "../helpers/csv.ts";
import { databaseKinds } from "../helpers/db.ts";
import type { ConnectorCall } from "../helpers/fake-bot-connector.ts";
import { CSV_FIXTURES as FIXTURES } from "../helpers/shared.ts";
import { channel, fileConsent, fileMessage, groupChat, message, personal } from "../helpers/teams-activities.ts";
import { cardIn, startTeamsHarness, TEAMS_USERS, type TeamsHarness, textOf } from "../helpers/teams-app.ts";
import { buttonsOf, fieldsOf, idOf, importHelpers, rowsListed } from "../helpers/teams-imports.ts";

const expectations = JSON.parse(readFileSync(path.join(FIXTURES, "users.expect.json"), "utf8")) as {
  data_rows: number;
  row_notes_spreadsheet_numbering: Record<string, string>;
};
const FLAGGED = Object.entries(expectations.row_notes_spreadsheet_numbering)
  .filter(([, note]) => !note.startsWith("valid"))
  .map(([row]) => Number(row));
const CSV_FIXTURES = readdirSync(FIXTURES).filter((f) => f.endsWith(".csv"));

const admin = TEAMS_USERS.admin;

describe.each(databaseKinds)("importing users from Teams: uploads (%s)", (kind) => {
  let h: TeamsHarness;
  let people = 0;
  const { attach, nextMessage, summaryOf, waitForUpdate, consentAfter, allow } = importHelpers(() => h);

  beforeAll(async () => {
    h = await startTeamsHarness(kind, { platforms: { downloadIdleTimeoutMs: 1500 } });
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  const freshRows = (count: number) => validRows(count, { prefix: `t${++people}x` });

  describe("the validation summary", () => {
    it.each(CSV_FIXTURES)(
      "%s attached in personal chat: counts, and the rows needing attention with their spreadsheet row numbers",
      async (name) => {
        const { post, card, batch, id } = await summaryOf(name, readFileSync(path.join(FIXTURES, name)));
        expect(post.kind).toBe("send");
        expect(fieldsOf(card)).toEqual({
          "Data rows": String(expectations.data_rows),
          Ready: String(expectations.data_rows - FLAGGED.length),
          "Need attention": String(FLAGGED.length),
          Blank: "0",
        });
        expect(rowsListed(card)).toEqual(FLAGGED);
        expect(buttonsOf(card)).toEqual([
          { verb: IMPORT_ACTIONS.create, title: `Create ${expectations.data_rows - FLAGGED.length} accounts`, value: batch.id },
          // The roster names a group that does not exist yet: one click makes it (and checks its rows again).
          { verb: IMPORT_ACTIONS.createGroup, title: "Create group Legal", value: JSON.stringify({ b: batch.id, g: "Legal" }) },
          { verb: IMPORT_ACTIONS.fixRow, title: "Fix a row", value: batch.id },
          { verb: IMPORT_ACTIONS.cancel, title: "Cancel", value: batch.id },
        ]);
        // Fetched from content.downloadUrl (never contentUrl), without a token.
        const download = h.fake.of("download").at(-1)!;
        expect(download.path).toContain(encodeURIComponent(name));
        expect(download.headers.authorization).toBeUndefined();
        // The batch remembers where its card is.
        expect(batch.conversation).toEqual({
          teams: {
            place: {
              serviceUrl: h.fake.serviceUrl,
              conversationId: personal(admin).id,
              kind: "personal",
              tenantId: expect.any(String),
              botId: expect.any(String),
            },
            summary: { serviceUrl: h.fake.serviceUrl, conversationId: personal(admin).id, activityId: id },
            // Whom to tell of a decision later, in their personal chat.
            requester: { userId: admin.id, place: expect.objectContaining({ conversationId: personal(admin).id, kind: "personal" }) },
          },
        });
        const audit = await h.t.db.prisma.auditEvent.findFirst({ where: { action: "import.upload", subject: `import:${batch.code}` } });
        expect(audit?.actor).toBe(admin.email);
      },
    );

    it("a Windows-1250 file: read as Windows-1250, the Polish names right", async () => {
      const actor = { email: admin.email, platform: "teams" as const };
      for (const name of ["Księgowość", "Sprzedaż", "Magazyn", "IT"]) await h.core.addGroup({ actor, input: { name } });
      const { card, batch } = await summaryOf("pracownicy.csv", readFileSync(path.join(FIXTURES, "encodings/users.pl.windows-1250.csv")));
      expect(fieldsOf(card)).toEqual({ "Data rows": "31", Ready: "31", "Need attention": "0", Blank: "0" });
      expect(textOf(card)).toContain(
        "Read as Windows-1250 (Central European), semicolon-separated. Names as read: Łukasz Żółć · Jędrzej Stępień · Małgorzata Wiśniewska.",
      );
      const staged = await h.t.db.prisma.importRow.findFirst({ where: { batchId: batch.id, rowNumber: 2 } });
      expect(staged).toMatchObject({ name: "Łukasz Żółć", groupName: "Księgowość", status: "READY" });
    });

    it("a UTF-8 file with stray bytes: exactly the rows holding them need attention, saying why", async () => {
      const { card } = await summaryOf("stray.csv", readFileSync(path.join(FIXTURES, "encodings/users.multi.utf-8-stray-bytes.csv")));
      expect(fieldsOf(card)).toMatchObject({ "Data rows": "28", Ready: "25", "Need attention": "3" });
      expect(rowsListed(card)).toEqual([9, 15, 23]);
      expect(textOf(card)).toContain("Row 15 (jose.nunez@corp.example.com): Name has bytes that are not valid UTF-8 (shown as �)");
    });

    it("a file whose encoding cannot be told for sure: what was assumed, and how to save as CSV UTF-8", async () => {
      const bytes = Buffer.from(`Email ID,Name,Group\nayse.yilmaz@corp.example.org,Ay\xfee Y\xfdlmaz,Finance\n`, "latin1");
      const { card } = await summaryOf("tr.csv", bytes);
      expect(textOf(card)).toContain("The file's encoding could not be told for sure: it was read as");
      expect(textOf(card)).toContain("File › Save As › CSV UTF-8 (Comma delimited)");
    });

    it("a long list of rows needing attention fits the card's budget: rows dropped, ending with how many more", async () => {
      const rows = Array.from({ length: 400 }, (_, i) => [`broken-${i}-${"x".repeat(60)}`, `Name ${i}`, "Finance", "User", "", ""]);
      const { card } = await summaryOf("many-broken.csv", csvFile(rows));
      expect(JSON.stringify(card).length * 2).toBeLessThanOrEqual(40 * 1024);
      expect(textOf(card)).toMatch(/…and [\d,]+ more/);
      expect(fieldsOf(card)).toMatchObject({ "Need attention": "400" });
    });

    it("the same file attached again while its import is open: one batch, and the older card loses its buttons", async () => {
      const bytes = csvFile(freshRows(3));
      const first = await summaryOf("again.csv", bytes);
      const second = await summaryOf("again.csv", bytes);
      expect(second.code).toBe(first.code);
      expect(textOf(second.card)).toContain(
        "this is that check. To check it against the directory as it is now, Cancel and upload it again.",
      );
      const moved = await waitForUpdate(first.id, (c) => textOf(c).includes("shared again"), "the older summary");
      expect(buttonsOf(moved)).toEqual([]);
    });

    it.each([
      ["a PNG renamed .csv", "photo.csv", Buffer.from("89504e470d0a1a0a0000000d4948445200000001", "hex"), "not a CSV file"],
      ["an Excel workbook", "users.xlsx", readFileSync(path.join(FIXTURES, "users.xlsx")), "CSV"],
      ["an empty file", "empty.csv", Buffer.alloc(0), "The file is empty."],
    ])("%s is refused clearly, nothing staged", async (_, name, content, says) => {
      const batches = await h.t.db.prisma.importBatch.count();
      const { before } = await attach(name, content);
      const post = await nextMessage(before, (c) => String(c.body?.summary).includes("was not imported"));
      expect(String(post.body?.summary)).toContain(`${name} was not imported`);
      expect(textOf(cardIn(post.body))).toContain(says);
      expect(await h.t.db.prisma.importBatch.count()).toBe(batches);
    });

    it("someone who is not an HMS Administrator: told so, nothing fetched or staged", async () => {
      const batches = await h.t.db.prisma.importBatch.count();
      const downloads = h.fake.of("download").length;
      const { before } = await attach("plain.csv", csvFile(freshRows(1)), { user: TEAMS_USERS.plain });
      const post = await nextMessage(before, () => true, TEAMS_USERS.plain);
      expect(post.body?.summary).toBe("You need the Administrator role in HMS to do this.");
      expect(await h.t.db.prisma.importBatch.count()).toBe(batches);
      expect(h.fake.of("download").length).toBe(downloads);
    });
  });

  describe("downloads", () => {
    it.each([
      ["gone from OneDrive (404)", { status: 404, body: "not found" }, "The file is no longer in OneDrive."],
      [
        "a sharing link that answers with a web page",
        { headers: { "content-type": "text/html; charset=utf-8" }, body: "<html><body>Sign in</body></html>" },
        "Teams sent a link to a web page instead of the file",
      ],
      [
        "a web page served as a file",
        { headers: { "content-type": "application/octet-stream" }, body: "<!DOCTYPE html><html><head></head></html>" },
        "Teams sent a link to a web page instead of the file",
      ],
      [
        "a download that stalls part-way",
        {
          headers: { "content-type": "text/csv" },
          body: csvFile(validRows(50)) as unknown as string,
          partial: { bytes: 100, ending: "stall" as const },
        },
        "OneDrive stopped sending the file before all of it arrived",
      ],
    ])("%s: the admin is told, nothing staged", async (_, served, says) => {
      const batches = await h.t.db.prisma.importBatch.count();
      const before = h.fake.calls.length;
      const downloadUrl = h.fake.serve(`/files/odd/${before}/odd.csv`, served as never);
      await h.post(fileMessage({ serviceUrl: h.fake.serviceUrl, from: admin, name: "odd.csv", downloadUrl }));
      const post = await nextMessage(before, () => true);
      expect(String(post.body?.summary)).toContain(says);
      expect(await h.t.db.prisma.importBatch.count()).toBe(batches);
      expect(h.logs.find({ operation: "file download" })).toBeDefined();
    });

    it("a downloadUrl on a host that is not allowed is never fetched", async () => {
      const before = h.fake.calls.length;
      const downloads = h.fake.of("download").length;
      await h.post(
        fileMessage({
          serviceUrl: h.fake.serviceUrl,
          from: admin,
          name: "elsewhere.csv",
          downloadUrl: "https://files.example.net/users.csv",
        }),
      );
      const post = await nextMessage(before, () => true);
      expect(String(post.body?.summary)).toContain("HMS userbot only fetches files from OneDrive or SharePoint");
      expect(h.fake.of("download").length).toBe(downloads);
    });
  });

  describe("files the bot sends: a consent card in personal chat", () => {
    it("the error report: a consent card after the summary; Allow uploads the formula-safe report and shows it", async () => {
      const rows = [["bad-email", '=HYPERLINK("http://evil")', "Finance", "User", "", ""], ...freshRows(2)];
      const { before, code, batch } = await summaryOf("formula.csv", csvFile(rows)).then(async (s) => ({
        ...s,
        before: h.fake.calls.indexOf(s.post),
      }));
      const consent = await consentAfter(before);
      expect(consent.name).toBe(`formula-${code}-problems.csv`);
      expect(consent.content).toMatchObject({
        description: `Rows needing attention in import ${code}`,
        sizeInBytes: expect.any(Number),
        acceptContext: { name: `formula-${code}-problems.csv`, source: { kind: "report", batchId: batch.id } },
      });
      const { answer, upload, info, bytes } = await allow(consent);
      expect(answer.status).toBe(200);
      expect(upload.method).toBe("PUT");
      expect(upload.headers["content-range"]).toBe(`bytes 0-${upload.raw.length - 1}/${upload.raw.length}`);
      // Row first (the bad row is the file's row 2, as the summary says), then the cells, then Problems.
      expect(headerOf(bytes)).toEqual(["Row", "Email ID", "Name", "Group", "Role", "Exchange Domain", "Exchange Username", "Problems"]);
      expect(readBack(bytes)).toEqual([
        expect.objectContaining({
          Row: "2",
          "Email ID": "bad-email",
          Name: `'=HYPERLINK("http://evil")`,
          Problems: "Email ID “bad-email” is not a valid email address.",
        }),
      ]);
      expect(bytes).not.toMatch(/(^|,)"?=HYPERLINK/m);
      expect((info.body!.attachments as Record<string, unknown>[])[0]).toMatchObject({
        contentType: "application/vnd.microsoft.teams.card.file.info",
        name: consent.name,
        contentUrl: expect.stringContaining("sharepoint.com"),
      });
      // The consent card goes, so the same file is not allowed twice.
      await h.fake.waitFor((c) => c.kind === "delete" && c.activityId === consent.id, 1, 10_000, "the consent card removed");
    });

    it("a tab-separated file's report is tab-separated, Row as the summary numbers it, a duplicate naming the row imported", async () => {
      const [one, two] = freshRows(2);
      const rows = [one!, two!, ["", "", "", "", "", ""], [one![0]!, "Twice", "Finance", "User", "", ""]];
      const { before, card } = await summaryOf("tabs.csv", csvFile(rows, undefined, "\t")).then(async (s) => ({
        ...s,
        before: h.fake.calls.indexOf(s.post),
      }));
      expect(rowsListed(card)).toEqual([5]);
      expect(textOf(card)).toContain("tab-separated");
      const { bytes } = await allow(await consentAfter(before));
      expect(bytes.split("\r\n")[0]).toBe("\uFEFFRow\tEmail ID\tName\tGroup\tRole\tExchange Domain\tExchange Username\tProblems");
      expect(readBack(bytes, "\t").map((r) => [r.Row, r["Email ID"], r.Name, r.Problems])).toEqual([
        ["5", one![0], "Twice", "Same Email ID as row 2, which is imported."],
      ]);
    });

    it("the results when creation ends: a comment and a consent card in personal chat; Allow uploads every row with what happened", async () => {
      const rows = [...freshRows(2), ["broken", "Broken", "Finance", "User", "", ""]];
      const { id, batch, code } = await summaryOf("results.csv", csvFile(rows));
      const before = h.fake.calls.length;
      await h.click(IMPORT_ACTIONS.create, { value: batch.id }, { replyToId: id, conversation: personal(admin) });
      const request = await nextMessage(before, (c) => String(c.body?.summary).startsWith(`Approval needed: import ${code}`));
      const value = `${batch.id}:${batch.sha256.slice(0, 12)}`;
      const approving = h.fake.calls.length;
      const approved = await h.click(
        IMPORT_ACTIONS.approve,
        { value },
        { user: TEAMS_USERS.otherAdmin, replyToId: idOf(request), conversation: personal(admin) },
      );
      expect(approved.status).toBe(200);
      const comment = await nextMessage(approving, (c) => String(c.body?.summary).startsWith(`Results of import ${code}`));
      expect(comment.body?.summary).toBe(`Results of import ${code}: 2 created, 1 skipped, 0 failed.`);
      expect(textOf(cardIn(comment.body))).toContain("Row is the row number in the uploaded file");
      // After the card's final state: the counts are shown before the file is offered.
      const final = h.fake.calls.findIndex(
        (c) => c.kind === "update" && c.activityId === id && buttonsOf(cardIn(c.body)).some((b) => b.verb === IMPORT_ACTIONS.finish),
      );
      expect(final).toBeGreaterThanOrEqual(0);
      expect(h.fake.calls.indexOf(comment)).toBeGreaterThan(final);
      const consent = await consentAfter(h.fake.calls.indexOf(comment));
      expect(consent.name).toBe(`results-${code}-results.csv`);
      expect(consent.content).toMatchObject({
        description: `Results of import ${code}`,
        acceptContext: { name: consent.name, source: { kind: "results", batchId: batch.id } },
      });
      const { bytes } = await allow(consent);
      expect(headerOf(bytes)).toEqual([
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
      expect(readBack(bytes).map((r) => [r.Row, r["Email ID"], r.Result, r.Details])).toEqual([
        ["2", rows[0]![0], "created", ""],
        ["3", rows[1]![0], "created", ""],
        ["4", "broken", "skipped", "Not imported: Email ID “broken” is not a valid email address."],
      ]);
    });

    it("the results of a creation the background job finished (approved, then the process died): offered in personal chat", async () => {
      const { batch, code } = await summaryOf("resumed-results.csv", csvFile(freshRows(2)));
      await h.core.submitImport({ actor: { email: admin.email, platform: "teams" }, batchId: batch.id });
      await h.core.approveImport({
        actor: { email: TEAMS_USERS.otherAdmin.email, platform: "teams" },
        batchId: batch.id,
        sha256Prefix: batch.sha256.slice(0, 12),
      });
      const before = h.fake.calls.length;
      h.t.clock.now = new Date(h.t.clock.now.getTime() + 61_000);
      try {
        await h.core.resumeInterruptedImports({ onProgress: h.imports.progress });
      } finally {
        h.t.clock.now = new Date("2026-11-24T12:00:00Z");
      }
      const comment = await nextMessage(before, (c) => String(c.body?.summary).startsWith(`Results of import ${code}`));
      expect(comment.body?.summary).toBe(`Results of import ${code}: 2 created, 0 skipped, 0 failed.`);
      const consent = await consentAfter(h.fake.calls.indexOf(comment));
      expect(consent.content.acceptContext).toEqual({
        name: `resumed-results-${code}-results.csv`,
        source: { kind: "results", batchId: batch.id },
      });
      const { bytes } = await allow(consent);
      expect(readBack(bytes).map((r) => r.Result)).toEqual(["created", "created"]);
    });

    it("no report when every row is ready", async () => {
      const { post } = await summaryOf("clean.csv", csvFile(freshRows(2)));
      await h.chat.idle();
      const after = h.fake.calls.slice(h.fake.calls.indexOf(post) + 1);
      expect(after.filter((c) => JSON.stringify(c.body ?? {}).includes("file.consent"))).toEqual([]);
    });

    it("template in personal chat: how to fill it in, then the consent card; Allow uploads the template", async () => {
      const before = h.fake.calls.length;
      await h.say("template");
      const comment = await nextMessage(before, (c) => String(c.body?.summary).startsWith("The HMS import template"));
      expect(textOf(cardIn(comment.body))).toContain("Fill in one row per user.");
      expect(textOf(cardIn(comment.body))).toContain("attach the CSV to a message to HMS userbot in this personal chat");
      const consent = await consentAfter(before);
      expect(consent.content.acceptContext).toEqual({ name: consent.name, source: { kind: "template" } });
      const { bytes } = await allow(consent);
      expect(bytes).toBe("\uFEFFEmail ID,Name,Group,Role,Exchange Domain,Exchange Username\r\n");
    });

    it("Decline: the consent card says so; nothing is uploaded", async () => {
      const before = h.fake.calls.length;
      await h.say("template");
      const consent = await consentAfter(before);
      const uploads = h.fake.of("upload").length;
      const answer = await h.post(
        fileConsent({
          serviceUrl: h.fake.serviceUrl,
          from: admin,
          accept: false,
          context: consent.content.declineContext,
          replyToId: consent.id,
        }),
      );
      expect(answer.status).toBe(200);
      const card = await waitForUpdate(consent.id, (c) => textOf(c).includes("declined"), "the declined card");
      expect(textOf(card)).toBe(`You declined ${consent.name}. Type template to get it after all.`);
      expect(h.fake.of("upload").length).toBe(uploads);
    });

    it("Allow from someone who is no longer an Administrator: nothing uploaded, told why", async () => {
      const before = h.fake.calls.length;
      await h.say("template");
      const consent = await consentAfter(before);
      const uploadUrl = h.fake.uploadUrl();
      const at = h.fake.calls.length;
      await h.post(
        fileConsent({
          serviceUrl: h.fake.serviceUrl,
          from: TEAMS_USERS.plain,
          accept: true,
          context: consent.content.acceptContext,
          replyToId: consent.id,
          uploadUrl,
        }),
      );
      const post = await nextMessage(at, () => true, TEAMS_USERS.plain);
      expect(post.body?.summary).toBe("You need the Administrator role in HMS to do this.");
      expect(h.fake.of("upload").filter((c) => uploadUrl.endsWith(c.path))).toEqual([]);
    });

    it("template in a channel: the consent card goes to the personal chat, and the thread says so", async () => {
      const thread = channel("1732449900001");
      const before = h.fake.calls.length;
      await h.say("template", { conversation: thread });
      const [created] = await h.fake.waitFor(
        (c) => h.fake.calls.indexOf(c) >= before && c.kind === "create",
        1,
        10_000,
        "the personal chat opened",
      );
      expect(created!.body).toMatchObject({ isGroup: false, members: [{ id: admin.id }], tenantId: expect.any(String) });
      const consent = await consentAfter(before);
      expect(consent.post.conversationId).toBe(personal(admin).id);
      const [reply] = await h.waitForMessages(
        (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === thread.id,
        1,
        "the thread's answer",
      );
      expect(reply!.kind).toBe("reply");
      expect(reply!.body?.summary).toBe(
        "Microsoft Teams does not let bots send files in channels or group chats, so I sent the import template to you in our personal chat.",
      );
    });
  });

  describe("channels and group chats, where bots get no files", () => {
    it.each([
      ["import typed in a channel", () => channel("1732449900101"), undefined],
      [
        "a channel message with a file, mentioning the bot",
        () => channel("1732449900102"),
        [
          {
            contentType: "reference",
            contentUrl: "https://contoso.sharepoint.com/sites/it/Shared%20Documents/users.csv",
            name: "users.csv",
          },
        ],
      ],
      ["import typed in a group chat", () => groupChat(), undefined],
    ])("%s: said so in the thread, and continued in personal chat", async (_, where, attachments) => {
      const conversation = where();
      const before = h.fake.calls.length;
      await h.post(
        message({ serviceUrl: h.fake.serviceUrl, from: admin, conversation, text: attachments ? "here it is" : "import", attachments }),
      );
      const [said] = await h.waitForMessages(
        (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === conversation.id,
        1,
        "the answer there",
      );
      expect(said!.body?.summary).toBe(
        "Microsoft Teams does not give bots the files attached in channels or group chats. I sent you a message in our personal chat: attach the CSV there.",
      );
      const invite = await nextMessage(before, () => true);
      expect(String(invite.body?.summary)).toContain("Attach the CSV file of users to a message to me here");
      expect(h.fake.of("download").filter((c) => h.fake.calls.indexOf(c) >= before)).toEqual([]);
    });

    it("when the personal chat cannot be opened, the thread says how to get there", async () => {
      h.fake.once("create", { status: 403, body: { error: { code: "BotNotInConversationRoster" } } });
      const conversation = channel("1732449900201");
      const before = h.fake.calls.length;
      await h.say("import", { conversation });
      const [said] = await h.waitForMessages(
        (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === conversation.id,
        1,
        "the answer there",
      );
      expect(said!.body?.summary).toBe(
        "Microsoft Teams does not give bots the files attached in channels or group chats. Open a personal chat with HMS userbot and attach the CSV there.",
      );
    });

    it("import typed in personal chat says how to send the CSV", async () => {
      const before = h.fake.calls.length;
      await h.say("import");
      const post = await nextMessage(before, () => true);
      expect(String(post.body?.summary)).toContain("Attach the CSV file of users to a message to me here");
      expect(h.fake.calls.slice(before).filter((c: ConnectorCall) => c.kind === "create")).toEqual([]);
    });
  });
});
