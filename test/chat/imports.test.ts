/**
 * The import conversation's rules, tested once for every platform: a real core on a real
 * database, and in-memory surfaces that record what they were asked to post, edit and tell.
 */

import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Chat } from "../../src/chat/index.ts";
import { type Core, createCore, type ImportBatch, type ImportSettings } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { approvalValue, IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import type { Message } from "../../src/render/model.ts";
import { csvFile, headerOf, readBack, validRows } from "../helpers/csv.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ADMIN, OTHER_ADMIN, PLAIN_USER, seedDirectory } from "../helpers/fixtures.ts";
import { MemorySurface, PlatformDown, RateLimited } from "../helpers/memory-surface.ts";

const text = MemorySurface.text;
const buttons = MemorySurface.buttons;

describe.each(databaseKinds)("the import conversation (%s)", (kind) => {
  let t: TestDatabase;
  let files = 0;
  const chats: Chat[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await seedDirectory(t);
  });
  afterAll(async () => t?.close());
  afterEach(async () => {
    for (const chat of chats.splice(0)) await chat.stop(1000);
  });

  /** A chat layer over a core with these settings, with the surfaces attached. */
  function chatWith(imports: Partial<ImportSettings>, ...surfaces: MemorySurface[]): { chat: Chat; core: Core } {
    const core = createCore({
      files: csvImportFormat,
      store: t.store,
      now: () => t.clock.now,
      imports: { approvalPolicy: { kind: "always" }, approvers: [], approvalTtlHours: 72, ...imports },
    });
    const chat = new Chat({ core, logger: pino({ level: "silent" }), imports: { chunkSize: 2, progressIntervalMs: 0 } });
    for (const surface of surfaces) chat.attach(surface);
    chats.push(chat);
    return { chat, core };
  }

  /** A distinct CSV of `ready` good rows (and `bad` rows needing attention). */
  function file(ready: number, bad = 0) {
    const n = ++files;
    const rows = [
      ...validRows(ready, { prefix: `c${n}x` }),
      ...Array.from({ length: bad }, (_, i) => [`bad${i}`, "Bad", "Finance", "User", "", ""]),
    ];
    return { id: `F${n}`, name: `people-${n}.csv`, fetch: async () => ({ name: `people-${n}.csv`, bytes: csvFile(rows) }) };
  }

  /** Uploads through the chat layer and returns the batch and its summary message id. */
  async function upload(chat: Chat, core: Core, surface: MemorySurface, f = file(3)) {
    await chat.imports.receiveFile(surface, surface.who(ADMIN), f);
    const post = surface.of("post").at(-1)!;
    const code = /Import (IMP-\w+)/.exec(post.message.summary)![1]!;
    const { batch } = await core.getImport({ batchId: code });
    return { batch, post };
  }

  const latest = (surface: MemorySurface, id: string): Message => surface.messages.get(id)!;
  const summaryId = (batch: ImportBatch, platform: string) =>
    String((batch.conversation as Record<string, { summary?: { id?: string } }>)[platform]?.summary?.id);

  it("someone who is not an Administrator is told so, and the file is never fetched", async () => {
    const surface = new MemorySurface();
    const { chat } = chatWith({}, surface);
    let fetched = false;
    await chat.imports.receiveFile(surface, surface.who(PLAIN_USER), {
      name: "x.csv",
      fetch: async () => {
        fetched = true;
        return { name: "x.csv", bytes: csvFile(validRows(1)) };
      },
    });
    expect(fetched).toBe(false);
    expect(surface.told(PLAIN_USER.platformUserId!)).toEqual([
      expect.stringContaining("You need the Administrator role in HMS to do this."),
    ]);
    expect(surface.of("post")).toEqual([]);
  });

  it("a file that is not a CSV is refused where it was sent, naming the problem; nothing is staged", async () => {
    const surface = new MemorySurface();
    const { chat } = chatWith({}, surface);
    const before = await t.db.prisma.importBatch.count();
    await chat.imports.receiveFile(surface, surface.who(ADMIN, { conversation: "C7", thread: "T7" }), {
      name: "photo.csv",
      fetch: async () => ({ name: "photo.csv", bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]) }),
    });
    const [refusal] = surface.of("post");
    expect(refusal!.target).toEqual({ conversation: "C7", thread: "T7" });
    expect(text(refusal!.message)).toContain("photo.csv was not imported. This looks like a PNG image, not a CSV file");
    expect(await t.db.prisma.importBatch.count()).toBe(before);
  });

  it("posts the summary where the file came from, records it for this platform, and sends the error report", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({}, surface);
    const { batch, post } = await upload(chat, core, surface, file(3, 1));
    expect(post.target).toEqual({ conversation: "C1" });
    expect(text(post.message)).toContain("Need attention");
    expect(buttons(post.message)).toEqual([IMPORT_ACTIONS.create, IMPORT_ACTIONS.fixRow, IMPORT_ACTIONS.cancel]);
    expect(batch.conversation).toEqual({
      slack: {
        place: { conversation: "C1", thread: "m1" },
        summary: { id: "m1" },
        requester: { userId: "U0ADMIN", place: { conversation: "C1" } },
      },
    });
    const [report] = surface.of("file");
    expect(report!.target).toEqual({ conversation: "C1", thread: "m1" });
    expect(report!.file).toMatchObject({
      name: `people-${files}-${batch.code}-problems.csv`,
      title: `Rows needing attention in import ${batch.code}`,
      source: { kind: "report", batchId: batch.id },
    });
    expect(text(report!.message)).toContain(`The row of import ${batch.code} that needs attention, with the problems in the last column.`);
    expect(text(report!.message)).toContain("Row is the row number in people-");
    // The bad row is the file's row 5 (header 1, three good rows): the report says so first.
    expect(readBack(report!.file!.bytes)).toEqual([
      {
        Row: "5",
        "Email ID": "bad0",
        Name: "Bad",
        Group: "Finance",
        Role: "User",
        "Exchange Domain": "",
        "Exchange Username": "",
        Problems: "Email ID “bad0” is not a valid email address.",
      },
    ]);
  });

  it("a semicolon file gets a semicolon report, and a duplicate says which row is imported", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({}, surface);
    const n = ++files;
    const rows = [
      [`first${n}@corp.example.org`, "First", "Finance", "User", "", ""],
      [`other${n}@corp.example.org`, "Other", "Finance", "User", "", ""],
      [`FIRST${n}@corp.example.org`, "Again", "Finance", "User", "", ""],
    ];
    const bytes = csvFile(rows, undefined, ";");
    const { batch } = await upload(chat, core, surface, { id: `F${n}`, name: "eu.csv", fetch: async () => ({ name: "eu.csv", bytes }) });
    const [report] = surface.of("file");
    expect(headerOf(report!.file!.bytes, ";")).toEqual([
      "Row",
      "Email ID",
      "Name",
      "Group",
      "Role",
      "Exchange Domain",
      "Exchange Username",
      "Problems",
    ]);
    expect(readBack(report!.file!.bytes, ";")).toEqual([
      expect.objectContaining({
        Row: "4",
        "Email ID": `FIRST${n}@corp.example.org`,
        Problems: "Same Email ID as row 2, which is imported.",
      }),
    ]);
    // What an edge that sends files later (after a consent click) makes again is the same file.
    const again = await chat.imports.fileFor(surface.who(ADMIN), { kind: "report", batchId: batch.id });
    expect(Buffer.from(again.bytes).equals(Buffer.from(report!.file!.bytes))).toBe(true);
  });

  it("the same open file sent again: one batch, a new summary, and the older one loses its buttons", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({}, surface);
    const f = file(2);
    const first = await upload(chat, core, surface, f);
    const second = await upload(chat, core, surface, f);
    expect(second.batch.id).toBe(first.batch.id);
    await chat.idle();
    const old = latest(surface, "m1");
    expect(text(old)).toContain("the same file was shared again, so this summary moved to a newer message");
    expect(buttons(old)).toEqual([]);
    expect(summaryId(second.batch, "slack")).toBe("m2");
  });

  it("Create with no approval needed: the click answers at once, then the buttons go, progress shows, and the result offers Invite and Finish", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({ approvalPolicy: { kind: "never" } }, surface);
    const { batch } = await upload(chat, core, surface, file(5));
    // Nothing slow sits in the answer: it comes while the summary's first edit is still held up.
    let release!: () => void;
    surface.editGate = new Promise((resolve) => {
      release = resolve;
    });
    const answer = await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    expect(answer).toEqual({});
    expect(surface.of("edit")).toEqual([]);
    release();
    surface.editGate = undefined;
    await chat.idle();
    const edits = surface.of("edit").map((e) => text(e.message));
    expect(edits[0]).toContain("Creating accounts… 0 / 5");
    expect(edits.some((e) => e.includes("Creating accounts… 2 / 5"))).toBe(true);
    const final = latest(surface, "m1");
    expect(final.summary).toBe(`Import ${batch.code}: 5 accounts created, 0 skipped, 0 failed.`);
    expect(buttons(final)).toEqual([IMPORT_ACTIONS.invite, IMPORT_ACTIONS.finish]);
  });

  it("when creation ends, the results file goes where the summary is: every row with what happened", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({ approvalPolicy: { kind: "never" } }, surface);
    const { batch } = await upload(chat, core, surface, file(3, 1));
    expect(surface.of("file").map((f) => f.file!.source)).toEqual([{ kind: "report", batchId: batch.id }]);
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    const results = surface.of("file").filter((f) => f.file!.source?.kind === "results");
    expect(results).toHaveLength(1);
    const [sent] = results;
    // After the final state of the summary: the admin sees the counts, then the file.
    const finalEdit = surface.recorded.findLastIndex((r) => r.kind === "edit" && buttons(r.message).includes(IMPORT_ACTIONS.finish));
    expect(surface.recorded.indexOf(sent!)).toBeGreaterThan(finalEdit);
    expect(sent!.target).toEqual({ conversation: "C1", thread: "m1" });
    expect(sent!.file).toMatchObject({
      name: `people-${files}-${batch.code}-results.csv`,
      title: `Results of import ${batch.code}`,
      source: { kind: "results", batchId: batch.id },
    });
    expect(sent!.message.summary).toBe(`Results of import ${batch.code}: 3 created, 1 skipped, 0 failed.`);
    expect(text(sent!.message)).toContain(`what happened to each of the 4 rows of people-${files}.csv — 3 created, 1 skipped, 0 failed.`);
    expect(readBack(sent!.file!.bytes).map((r) => [r.Row, r["Email ID"], r.Result, r.Details])).toEqual([
      ["2", `c${files}x0@corp.example.org`, "created", ""],
      ["3", `c${files}x1@corp.example.org`, "created", ""],
      ["4", `c${files}x2@corp.example.org`, "created", ""],
      ["5", "bad0", "skipped", "Not imported: Email ID “bad0” is not a valid email address."],
    ]);
    const again = await chat.imports.fileFor(surface.who(ADMIN), { kind: "results", batchId: batch.id });
    expect(again.name).toBe(sent!.file!.name);
    expect(Buffer.from(again.bytes).equals(Buffer.from(sent!.file!.bytes))).toBe(true);
  });

  it("before creation there are no results: asking for them says so", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({}, surface);
    const { batch } = await upload(chat, core, surface, file(1));
    await expect(chat.imports.fileFor(surface.who(ADMIN), { kind: "results", batchId: batch.id })).rejects.toThrow(
      `Import ${batch.code} is validated and waiting for Create. Its results come once its accounts are created.`,
    );
    await expect(chat.imports.fileFor(surface.who(PLAIN_USER), { kind: "results", batchId: batch.id })).rejects.toThrow(
      "You need the Administrator role in HMS to do this.",
    );
  });

  it("a creation the background job finishes (its process died after approval): the results go out once, on every platform", async () => {
    const slack = new MemorySurface("slack");
    const teams = new MemorySurface("teams", { prefix: "", joiner: " " });
    const { chat, core } = chatWith({ approvers: [OTHER_ADMIN.email] }, slack, teams);
    const f = file(2);
    const { batch } = await upload(chat, core, slack, f);
    await upload(chat, core, teams, f);
    await chat.imports.create(slack, slack.who(ADMIN), batch.id);
    await chat.idle();
    const waiting = (await core.getImport({ batchId: batch.id })).batch;
    // Approved, and the process died before creating: nothing here runs the creation.
    await core.approveImport({ actor: OTHER_ADMIN, batchId: batch.id, sha256Prefix: waiting.sha256.slice(0, 12) });
    t.clock.now = new Date(t.clock.now.getTime() + 61_000);
    try {
      const resumed = await core.resumeInterruptedImports({ onProgress: chat.background.progress });
      expect(resumed.filter((r) => r.batch.id === batch.id && r.ran)).toHaveLength(1);
      await chat.idle();
      // Run again: nothing left to resume, nothing sent twice.
      await core.resumeInterruptedImports({ onProgress: chat.background.progress });
      await chat.idle();
    } finally {
      t.clock.now = new Date("2026-11-24T12:00:00Z");
    }
    for (const surface of [slack, teams]) {
      const results = surface.of("file").filter((r) => r.file!.source?.kind === "results");
      expect(results).toHaveLength(1);
      expect(results[0]!.target).toEqual({ conversation: "C1", thread: summaryId(waiting, surface.platform) });
      expect(readBack(results[0]!.file!.bytes).map((r) => r.Result)).toEqual(["created", "created"]);
    }
  });

  it("a creation that stops part-way: the summary says so and the results file shows the rows not reached as failed", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({ approvalPolicy: { kind: "never" } }, surface);
    const { batch } = await upload(chat, core, surface, file(5));
    // A row the database refuses (validation would never let one through): creation stops at its chunk.
    await t.db.sql.query(`UPDATE "ImportRow" SET "exchangeDomain" = 'CORP' WHERE "batchId" = $1 AND "rowNumber" = 5`, [batch.id]);
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    expect(latest(surface, "m1").summary).toBe(`Import ${batch.code} failed.`);
    const [results] = surface.of("file").filter((r) => r.file!.source?.kind === "results");
    const rows = readBack(results!.file!.bytes);
    // Chunks of two: rows 2 and 3 were created, the chunk of rows 4 and 5 failed. On PostgreSQL
    // two chunks are written side by side: row 6 is created when the first lane finished its
    // chunk before the failure was known, else it is not reached. Either way the file and the
    // counts tell the same story.
    const last = t.store.concurrentStatements > 1 && rows[4]!.Result === "created" ? "created" : "failed";
    expect(rows.map((r) => r.Result)).toEqual(["created", "created", "failed", "failed", last]);
    expect(rows[2]!.Details).toMatch(/^Not created: account creation stopped: /);
    if (last === "failed") expect(rows[4]!.Details).toMatch(/^Not created: account creation stopped: /);
    const created = last === "created" ? 3 : 2;
    expect(results!.message.summary).toBe(`Results of import ${batch.code}: ${created} created, 0 skipped, ${5 - created} failed.`);
  });

  it("a results file the platform refuses: the one who clicked is told; the accounts stay created", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({ approvalPolicy: { kind: "never" } }, surface);
    const { batch } = await upload(chat, core, surface, file(1));
    surface.failOnce("sendFile", new PlatformDown("down"), (m) => m.summary.startsWith("Results of import"));
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    expect((await core.getImport({ batchId: batch.id })).batch.status).toBe("CREATED");
    expect(surface.told(ADMIN.platformUserId!)).toEqual([
      expect.stringContaining(`Import ${batch.code} has ended, but its results file could not be attached. The platform is down.`),
    ]);
  });

  it("with approval: the request mentions the approvers; the requester may not approve; another Administrator's Approve creates", async () => {
    const surface = new MemorySurface().know(OTHER_ADMIN.email, "U-SAM");
    const { chat, core } = chatWith({ approvers: [OTHER_ADMIN.email] }, surface);
    const { batch } = await upload(chat, core, surface, file(2));
    expect(await chat.imports.create(surface, surface.who(ADMIN), batch.id)).toEqual({});
    await chat.idle();
    const [request] = surface.of("approval");
    expect(request!.target).toEqual({ conversation: "C1", thread: "m1" });
    expect(request!.message.blocks).toContainEqual(
      expect.objectContaining({ type: "section", text: expect.arrayContaining([{ mention: OTHER_ADMIN.email, platformId: "U-SAM" }]) }),
    );
    expect(text(latest(surface, "m1"))).toContain("Waiting for approval");
    expect(buttons(latest(surface, "m1"))).toEqual([IMPORT_ACTIONS.cancel]);

    const waiting = (await core.getImport({ batchId: batch.id })).batch;
    const self = await chat.imports.approve(surface, surface.who(ADMIN), approvalValue(waiting));
    expect(text(self.notice!)).toContain(`You requested import ${batch.code}; another Administrator must approve or reject it.`);
    expect((await core.getImport({ batchId: batch.id })).batch.status).toBe("AWAITING_APPROVAL");

    expect(await chat.imports.approve(surface, surface.who(OTHER_ADMIN), approvalValue(waiting))).toEqual({});
    await chat.idle();
    expect((await core.getImport({ batchId: batch.id })).batch.status).toBe("CREATED");
    const approvalId = String((waiting.conversation as { slack: { approval: { id: string } } }).slack.approval.id);
    expect(text(latest(surface, approvalId))).toContain(`Approved by ${OTHER_ADMIN.email}`);
    expect(buttons(latest(surface, approvalId))).toEqual([]);
  });

  it("a request posted where only the requester sees it (a DM): each approver gets it privately, kept up to date, and reminded there", async () => {
    const surface = new MemorySurface().know(OTHER_ADMIN.email, "U-SAM");
    const { chat, core } = chatWith({ approvers: [OTHER_ADMIN.email] }, surface);
    const f = file(2);
    await chat.imports.receiveFile(surface, surface.who(ADMIN, { conversation: "DM-ada" }), f);
    const code = /Import (IMP-\w+)/.exec(surface.of("post").at(-1)!.message.summary)![1]!;
    const { batch } = await core.getImport({ batchId: code });
    await chat.imports.create(surface, surface.who(ADMIN, { conversation: "DM-ada" }), batch.id);
    await chat.idle();
    const [request] = surface.of("approval");
    expect(request!.target).toMatchObject({ conversation: "DM-ada" });
    const [copy] = surface.of("notify");
    expect(copy!.target).toBe("U-SAM");
    expect(text(copy!.message)).toBe(text(request!.message));
    expect(buttons(copy!.message)).toEqual([IMPORT_ACTIONS.approve, IMPORT_ACTIONS.reject]);
    const waiting = (await core.getImport({ batchId: batch.id })).batch;
    const record = (waiting.conversation as { slack: { approvalCopies: { place: unknown; message: { id: string } }[] } }).slack;
    expect(record.approvalCopies).toEqual([{ place: { conversation: "DM-U-SAM" }, message: { id: expect.any(String) } }]);

    // The reminder goes where the approver has the request.
    await chat.imports.remind([{ batch: waiting, approvers: [OTHER_ADMIN.email] }]);
    expect(surface.of("post").filter((p) => (p.target as { conversation: string }).conversation === "DM-U-SAM")).toHaveLength(1);

    // Approved from the copy: the copy and the request both lose their buttons.
    await chat.imports.approve(surface, surface.who(OTHER_ADMIN, { conversation: "DM-U-SAM" }), approvalValue(waiting));
    await chat.idle();
    const copyId = record.approvalCopies[0]!.message.id;
    expect(text(latest(surface, copyId))).toContain(`Approved by ${OTHER_ADMIN.email}`);
    expect(buttons(latest(surface, copyId))).toEqual([]);
    expect(buttons(latest(surface, String((waiting.conversation as { slack: { approval: { id: string } } }).slack.approval.id)))).toEqual(
      [],
    );
  });

  it("a request posted in a shared conversation is not sent to the approvers privately", async () => {
    const surface = new MemorySurface().know(OTHER_ADMIN.email, "U-SAM");
    const { chat, core } = chatWith({ approvers: [OTHER_ADMIN.email] }, surface);
    const { batch } = await upload(chat, core, surface, file(2));
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    expect(surface.of("approval")).toHaveLength(1);
    expect(surface.of("notify")).toEqual([]);
  });

  it("Reject needs a reason; with one, both messages show it and nothing is created", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({}, surface);
    const { batch } = await upload(chat, core, surface, file(2));
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    const value = approvalValue((await core.getImport({ batchId: batch.id })).batch);
    expect("batch" in (await chat.imports.checkReject(surface, surface.who(OTHER_ADMIN), value))).toBe(true);
    expect(await chat.imports.reject(surface, surface.who(OTHER_ADMIN), value, "  ")).toEqual({
      reasonError: expect.stringContaining("Say why"),
    });
    const done = await chat.imports.reject(surface, surface.who(OTHER_ADMIN), value, "Wrong quarter");
    expect("done" in done && done.done.status).toBe("REJECTED");
    await chat.idle();
    expect(text(latest(surface, "m1"))).toContain("“Wrong quarter”");
    expect(buttons(latest(surface, "m1"))).toEqual([]);
  });

  it("a rate-limited edit is done again after Retry-After, from the batch as it is then; three in a row and it gives up", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({ approvalPolicy: { kind: "never" } }, surface);
    const { batch } = await upload(chat, core, surface, file(1));
    const isResult = (m: Message) => buttons(m).includes(IMPORT_ACTIONS.finish);
    surface.failOnce("edit", new RateLimited(50), isResult);
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await expect.poll(() => buttons(latest(surface, "m1")), { timeout: 5000 }).toEqual([IMPORT_ACTIONS.invite, IMPORT_ACTIONS.finish]);

    const again = await upload(chat, core, surface, file(1));
    for (let i = 0; i < 4; i++) surface.failOnce("edit", new RateLimited(30), isResult);
    await chat.imports.create(surface, surface.who(ADMIN), again.batch.id);
    const id = summaryId(again.batch, "slack");
    // The first try and three more, then it gave up: the message still shows creation under way.
    await expect.poll(() => surface.scriptedFailures(), { timeout: 5000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    await chat.idle();
    expect(buttons(latest(surface, id))).toEqual([]);
    expect(surface.of("edit").filter((e) => (e.target as { id: string }).id === id && isResult(e.message))).toHaveLength(0);
  });

  it("a failure of the platform while posting the summary is explained to the person", async () => {
    const surface = new MemorySurface();
    const { chat } = chatWith({}, surface);
    surface.failOnce("post", new PlatformDown("down"));
    await chat.imports.receiveFile(surface, surface.who(ADMIN), file(1));
    expect(surface.told(ADMIN.platformUserId!)).toEqual([expect.stringContaining("The platform is down.")]);
  });

  it("a batch recorded on two platforms: each keeps its record, and background updates reach both", async () => {
    const slack = new MemorySurface("slack");
    const teams = new MemorySurface("teams", { prefix: "", joiner: " " });
    const { chat, core } = chatWith({}, slack, teams);
    const f = file(2);
    const first = await upload(chat, core, slack, f);
    const second = await upload(chat, core, teams, f);
    expect(second.batch.id).toBe(first.batch.id);
    expect(Object.keys(second.batch.conversation as object).sort()).toEqual(["slack", "teams"]);
    // Nobody confirms it: once it expires, both summaries lose their buttons.
    t.clock.now = new Date(t.clock.now.getTime() + 73 * 3_600_000);
    try {
      const expired = await core.expireImports();
      await chat.background.expired(expired);
    } finally {
      t.clock.now = new Date("2026-11-24T12:00:00Z");
    }
    for (const surface of [slack, teams]) {
      const summary = latest(surface, summaryId(second.batch, surface.platform));
      expect(summary.summary).toContain("expired before anyone clicked Create");
      expect(buttons(summary)).toEqual([]);
    }
  });

  it("invitations the background sends later update the final message's counts", async () => {
    const surface = new MemorySurface();
    let failing = true;
    const mailer = {
      configured: true,
      send: async () => {
        if (failing) throw new Error("421 try later");
      },
    };
    const core = createCore({
      files: csvImportFormat,
      store: t.store,
      now: () => t.clock.now,
      imports: { approvalPolicy: { kind: "never" }, approvers: [], approvalTtlHours: 72 },
      mailer,
    });
    const chat = new Chat({ core, logger: pino({ level: "silent" }) });
    chat.attach(surface);
    chats.push(chat);
    const { batch } = await upload(chat, core, surface, file(2));
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    await chat.imports.invite(surface, surface.who(ADMIN), batch.id);
    await chat.idle();
    expect(latest(surface, "m1").summary).toBe(`Import ${batch.code} finished: 0 invitations sent, 0 pending, 2 failed.`);
    failing = false;
    t.clock.now = new Date(t.clock.now.getTime() + 61_000); // the first retry is due
    try {
      const { batchIds } = await core.deliverInvitations();
      expect(batchIds).toEqual([batch.id]);
      await chat.background.invitations(batchIds);
    } finally {
      t.clock.now = new Date("2026-11-24T12:00:00Z");
    }
    expect(latest(surface, "m1").summary).toBe(`Import ${batch.code} finished: 2 invitations sent, 0 pending, 0 failed.`);
  });

  it("shutdown waits for follow-up work under way (a creation), within its grace period", async () => {
    const surface = new MemorySurface();
    const { chat, core } = chatWith({ approvalPolicy: { kind: "never" } }, surface);
    const { batch } = await upload(chat, core, surface, file(6));
    await chat.imports.create(surface, surface.who(ADMIN), batch.id);
    await chat.stop(20_000);
    expect((await core.getImport({ batchId: batch.id })).batch.status).toBe("CREATED");
  });
});
