/**
 * Importing users from Teams, the decision half: Create, the approval request (only the approvers
 * see Approve / Reject, through refresh.userIds), Reject with a reason on a card, progress edited
 * in place (throttled), Finish and Invite; every answer to a click is the card as it reads now,
 * later states replace the cards for everyone (PUT), rate-limited updates are tried again after
 * Retry-After; TEAMS_APPROVAL_CONVERSATION gets the requests as proactive posts.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/core/errors.ts";
import { IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import { csvFile, validRows } from "../helpers/csv.ts";
import { databaseKinds } from "../helpers/db.ts";
import { type ConnectorCall, FakeBotConnector } from "../helpers/fake-bot-connector.ts";
import { OTHER_ADMIN } from "../helpers/fixtures.ts";
import { type FakeSmtp, startFakeSmtp } from "../helpers/smtp.ts";
import { personal } from "../helpers/teams-activities.ts";
import { cardIn, type HarnessUser, startTeamsHarness, TEAMS_USERS, type TeamsHarness, textOf } from "../helpers/teams-app.ts";
import { buttonsOf, codeOf, fieldsOf, idOf, importHelpers } from "../helpers/teams-imports.ts";

const admin = TEAMS_USERS.admin;
const approver = TEAMS_USERS.otherAdmin;
const THIRD: HarnessUser & { email: string } = {
  id: "29:1ThirdAdmin",
  aadObjectId: "3a3a3a3a-0000-4000-8000-000000000003",
  name: "Third Admin",
  email: "third.admin@corp.example.org",
};
const APPROVAL_VIEW = "hms_import_approval_view";

type Card = Record<string, unknown>;

describe.each(databaseKinds)("importing users from Teams: decisions (%s)", (kind) => {
  let h: TeamsHarness;
  let smtp: FakeSmtp;
  let clockMs = 0;
  let clockStep = 1000;
  let people = 0;
  const { summaryOf, updatesOf, waitForUpdate, waitForStatus, nextMessage } = importHelpers(() => h);

  beforeAll(async () => {
    smtp = await startFakeSmtp();
    h = await startTeamsHarness(kind, {
      imports: { approvalPolicy: { kind: "atLeast", count: 10 }, approvers: [OTHER_ADMIN.email] },
      smtpUrl: smtp.url,
      flow: { chunkSize: 3, progressIntervalMs: 1000, now: () => (clockMs += clockStep) },
    });
    h.fake.addMember({
      id: THIRD.id,
      name: THIRD.name,
      aadObjectId: THIRD.aadObjectId,
      email: THIRD.email,
      userPrincipalName: THIRD.email,
    });
    await h.core.addUser({
      actor: { email: admin.email, platform: "teams" },
      input: { email: THIRD.email, name: THIRD.name, group: "Finance", role: "Administrator" },
    });
    // The approver has used the bot: it knows their Teams id (to mention them and give them their view).
    const before = h.fake.calls.length;
    await h.say("groups", { user: approver });
    await nextMessage(before, () => true, approver);
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });
  beforeEach(() => {
    clockStep = 1000;
    h.t.clock.now = new Date("2026-11-24T12:00:00Z");
  });
  afterEach(() => h.expectCardsValid());

  const freshRows = (count: number) => validRows(count, { prefix: `d${++people}x` });
  const click = (verb: string, value: unknown, replyToId: string, user: HarnessUser = admin, extra: Record<string, unknown> = {}) =>
    h.click(verb, { value, ...extra }, { user, replyToId, conversation: personal(admin) });

  /** A summary of `rows` fresh rows (enough to need approval), Create clicked: the approval request is out. */
  async function awaitingApproval(name: string, rows: number) {
    const { id: summaryId, batch, code } = await summaryOf(name, csvFile(freshRows(rows)));
    const before = h.fake.calls.length;
    const answer = await click(IMPORT_ACTIONS.create, batch.id, summaryId);
    const request = await nextMessage(
      before,
      (c) => String(c.body?.summary).startsWith(`Approval needed: import ${code}`),
      admin,
      "the approval request",
    );
    await waitForStatus(code, "AWAITING_APPROVAL");
    await h.chat.idle(); // the request's place is recorded on the batch
    return { batch, code, summaryId, answer, request, requestId: idOf(request), requestCard: cardIn(request.body)! };
  }

  const refreshOf = (card: Card) =>
    card.refresh as { action: { verb: string; data: Record<string, unknown> }; userIds: string[] } | undefined;

  it("Create without approval (policy): the answer shows the creation starting; progress edits the card in place; then Finish", async () => {
    const { id, batch, code } = await summaryOf("small.csv", csvFile(freshRows(7)));
    const answer = await click(IMPORT_ACTIONS.create, batch.id, id);
    expect(answer.status).toBe(200);
    expect(textOf(answer.card)).toContain(`Import ${code}`);
    expect(buttonsOf(answer.card)).toEqual([]);
    const done = await waitForUpdate(id, (c) => buttonsOf(c).some((b) => b.verb === IMPORT_ACTIONS.finish), "the result");
    expect(fieldsOf(done)).toMatchObject({ Created: "7", Skipped: "0", Failed: "0" });
    expect(buttonsOf(done).map((b) => b.title)).toEqual(["Invite the imported users to enroll", "Finish"]);
    const progress = updatesOf(id)
      .map((c) =>
        /Creating accounts… (\d+) \/ (\d+)/
          .exec(textOf(cardIn(c.body)))
          ?.slice(1)
          .join("/"),
      )
      .filter(Boolean);
    expect(progress).toEqual(["0/7", "3/7", "6/7", "7/7"]);
    expect(await h.t.db.prisma.user.count({ where: { email: { startsWith: `d${people}x` } } })).toBe(7);

    // Someone who may not: told so, and the card keeps its buttons.
    const refused = await click(IMPORT_ACTIONS.invite, batch.id, id, TEAMS_USERS.plain);
    expect(refused.text).toBe("You need the Administrator role in HMS to do this.");
    expect(smtp.received.filter((m) => m.to.some((to) => to.startsWith(`d${people}x`)))).toEqual([]);

    const finish = await click(IMPORT_ACTIONS.finish, batch.id, id);
    expect(textOf(finish.card)).toContain("Finished: 7 accounts created, no invitations sent.");
    const finished = await waitForUpdate(id, (c) => textOf(c).includes("Finished"), "finished for everyone");
    expect(buttonsOf(finished)).toEqual([]);
    const actions = (await h.t.db.prisma.auditEvent.findMany({ where: { subject: `import:${code}` }, orderBy: { id: "asc" } })).map(
      (a) => a.action,
    );
    expect(actions).toEqual(["import.upload", "import.submit", "import.create", "import.finish"]);

    // A stale button clicked after the decision: explained, nothing else.
    const late = await click(IMPORT_ACTIONS.create, batch.id, id);
    expect(late.text).toContain(`Import ${code}: it is finished.`);
  });

  it("progress edits are throttled: with no time passing, only the first and the final state go out", async () => {
    clockStep = 0;
    const { id, batch } = await summaryOf("throttled.csv", csvFile(freshRows(9)));
    await click(IMPORT_ACTIONS.create, batch.id, id);
    await waitForUpdate(id, (c) => buttonsOf(c).some((b) => b.verb === IMPORT_ACTIONS.finish), "the result");
    const progress = updatesOf(id).filter((c) => textOf(cardIn(c.body)).includes("Creating accounts…"));
    expect(progress.length).toBe(1);
    expect(textOf(cardIn(progress[0]!.body))).toContain("0 / 9");
  });

  it("with approval: only the approver sees Approve / Reject; requester, non-approver and non-admin are refused; ten concurrent Approve clicks create once; Invite mails the users", async () => {
    const { batch, code, summaryId, answer, request, requestId, requestCard } = await awaitingApproval("big.csv", 12);
    // The click's answer: the summary as it reads now, waiting with Cancel only.
    expect(textOf(answer.card)).toContain("Waiting for approval");
    expect(buttonsOf(answer.card).map((b) => b.verb)).toEqual([IMPORT_ACTIONS.cancel]);
    // No TEAMS_APPROVAL_CONVERSATION: in the import's conversation.
    expect(request.conversationId).toBe(personal(admin).id);
    // Everyone sees the request without buttons; the approver's client asks for their view.
    expect(buttonsOf(requestCard)).toEqual([]);
    expect(textOf(requestCard)).toContain("Only the approvers named above see Approve and Reject.");
    const refresh = refreshOf(requestCard)!;
    expect(refresh.userIds).toEqual([approver.id]);
    expect(refresh.action.verb).toBe(APPROVAL_VIEW);
    // The approver is @mentioned by their Teams id; the requester by theirs.
    const mentions = ((requestCard.msteams as { entities?: { mentioned: { id: string } }[] }).entities ?? []).map((e) => e.mentioned.id);
    expect(mentions).toContain(approver.id);
    expect(mentions).toContain(admin.aadObjectId);
    expect(textOf(requestCard)).toContain("asks for approval to create these accounts.");
    // A personal chat is the requester's alone: the approver gets the request in their own personal chat, with the buttons.
    const [copy] = await h.fake.waitFor(
      (c: ConnectorCall) => c.kind === "send" && c.conversationId === `a:personal-${approver.id}` && textOf(cardIn(c.body)).includes(code),
      1,
      10_000,
      "the request in the approver's personal chat",
    );
    const copyCard = cardIn(copy!.body)!;
    expect(buttonsOf(copyCard).map((b) => b.verb)).toEqual([IMPORT_ACTIONS.approve, IMPORT_ACTIONS.reject]);
    expect(copyCard.refresh).toBeUndefined();
    expect(h.fake.of("create").map((c) => ((c.body?.members ?? []) as { id: string }[])[0]?.id)).toContain(approver.id);

    const value = `${batch.id}:${batch.sha256.slice(0, 12)}`;
    const view = await h.click(APPROVAL_VIEW, refresh.action.data, { user: approver, replyToId: requestId, trigger: "automatic" });
    expect(buttonsOf(view.card)).toEqual([
      { verb: IMPORT_ACTIONS.approve, title: "Approve", value },
      { verb: IMPORT_ACTIONS.reject, title: "Reject", value },
    ]);
    expect(refreshOf(view.card!)!.userIds).toEqual([approver.id]);
    // Anyone else asking (the card's Refresh menu) gets the view without buttons.
    const others = await h.click(APPROVAL_VIEW, refresh.action.data, { user: THIRD, replyToId: requestId });
    expect(buttonsOf(others.card)).toEqual([]);
    // The answer did not update the message for everyone (no PUT before answering).
    expect(updatesOf(requestId)).toEqual([]);
    const waiting = await waitForUpdate(summaryId, (c) => textOf(c).includes("Waiting for approval"), "the summary waiting");
    expect(buttonsOf(waiting).map((b) => b.verb)).toEqual([IMPORT_ACTIONS.cancel]);

    for (const [user, says] of [
      [admin, `You requested import ${code}; another Administrator must approve or reject it.`],
      [THIRD, `Only ${OTHER_ADMIN.email} may approve imports.`],
      [TEAMS_USERS.plain, "You need the Administrator role in HMS to do this."],
    ] as const) {
      const refused = await click(IMPORT_ACTIONS.approve, value, requestId, user);
      expect(refused.text).toContain(says);
    }
    expect((await h.core.getImport({ batchId: code })).batch.status).toBe("AWAITING_APPROVAL");

    // Ten approver clicks at once: one approval, one creation.
    const clicks = await Promise.all(Array.from({ length: 10 }, () => click(IMPORT_ACTIONS.approve, value, requestId, approver)));
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    const won = clicks.filter((c) => c.card);
    expect(won.length).toBe(1);
    expect(textOf(won[0]!.card)).toContain(`Approved by ${OTHER_ADMIN.email}`);
    expect(buttonsOf(won[0]!.card)).toEqual([]);
    for (const lost of clicks.filter((c) => !c.card)) expect(lost.text).toContain(`was already approved by ${OTHER_ADMIN.email}`);
    const created = await waitForStatus(code, "CREATED");
    expect(created).toMatchObject({ createdRows: 12, decidedBy: OTHER_ADMIN.email });
    expect(
      await h.t.db.prisma.auditEvent.count({ where: { subject: `import:${code}`, action: { in: ["import.approve", "import.create"] } } }),
    ).toBe(2);
    expect(await h.t.db.prisma.user.count({ where: { email: { startsWith: `d${people}x` } } })).toBe(12);
    // The request for everyone: decided, no buttons and no more user-specific view.
    const decided = await waitForUpdate(requestId, (c) => textOf(c).includes("Approved by"), "approved for everyone");
    expect(buttonsOf(decided)).toEqual([]);
    expect(decided.refresh).toBeUndefined();
    const copyDecided = await waitForUpdate(idOf(copy!), (c) => textOf(c).includes("Approved by"), "the approver's copy approved");
    expect(buttonsOf(copyDecided)).toEqual([]);
    await waitForUpdate(summaryId, (c) => buttonsOf(c).some((b) => b.verb === IMPORT_ACTIONS.invite), "the result");

    const invite = await click(IMPORT_ACTIONS.invite, batch.id, summaryId);
    expect(textOf(invite.card)).toContain("Inviting the imported users to enroll…");
    expect(buttonsOf(invite.card)).toEqual([]);
    const invited = await waitForUpdate(summaryId, (c) => textOf(c).includes("Invitations"), "invited");
    expect(textOf(invited)).toContain("Finished. Invitations: 12 sent, 0 pending, 0 failed.");
    expect(buttonsOf(invited)).toEqual([]);
    expect(smtp.received.filter((m) => m.to.some((to) => to.startsWith(`d${people}x`))).length).toBe(12);
  });

  it("Reject: only an approver gets the reason card; an empty reason keeps it with the problem shown; the reason is shown and nothing is created", async () => {
    const { code, summaryId, requestId, batch } = await awaitingApproval("reject.csv", 10);
    const value = `${batch.id}:${batch.sha256.slice(0, 12)}`;
    for (const [user, says] of [
      [admin, `You requested import ${code}; another Administrator must approve or reject it.`],
      [THIRD, `Only ${OTHER_ADMIN.email} may approve imports.`],
      [TEAMS_USERS.plain, "You need the Administrator role in HMS to do this."],
    ] as const) {
      const refused = await click(IMPORT_ACTIONS.reject, value, requestId, user);
      expect(refused.text).toContain(says);
      expect(refused.card).toBeUndefined();
    }
    const form = await click(IMPORT_ACTIONS.reject, value, requestId, approver);
    expect(textOf(form.card)).toContain(`Reject import ${code}? The requester will see the reason.`);
    const submit = (form.card!.actions as { verb: string; data: Record<string, unknown> }[])[0]!;
    expect(submit.verb).toBe("hms_import_reject");

    const empty = await h.click(submit.verb, { ...submit.data, reason: "  " }, { user: approver, replyToId: requestId });
    expect(textOf(empty.card)).toContain("Say why");
    expect((await h.core.getImport({ batchId: code })).batch.status).toBe("AWAITING_APPROVAL");
    const again = (empty.card!.actions as { verb: string; data: Record<string, unknown> }[])[0]!;
    const rejected = await h.click(
      again.verb,
      { ...again.data, reason: "Wrong groups for the contractors" },
      { user: approver, replyToId: requestId },
    );
    expect(textOf(rejected.card)).toContain("Wrong groups for the contractors");
    expect(buttonsOf(rejected.card)).toEqual([]);
    const request = await waitForUpdate(requestId, (c) => textOf(c).includes("Rejected"), "rejected for everyone");
    expect(textOf(request)).toContain("Wrong groups for the contractors");
    const summary = await waitForUpdate(summaryId, (c) => textOf(c).includes("Rejected"), "the rejected summary");
    expect(buttonsOf(summary)).toEqual([]);
    expect((await h.core.getImport({ batchId: code })).batch).toMatchObject({
      status: "REJECTED",
      reason: "Wrong groups for the contractors",
      createdRows: 0,
    });
    expect(await h.t.db.prisma.auditEvent.count({ where: { subject: `import:${code}`, action: "import.reject" } })).toBe(1);
  });

  it("Cancel: the answer shows it cancelled, and the card loses its buttons for everyone", async () => {
    const { id, batch } = await summaryOf("cancel.csv", csvFile(freshRows(2)));
    const answer = await click(IMPORT_ACTIONS.cancel, batch.id, id);
    expect(textOf(answer.card)).toContain("Cancelled by");
    const cancelled = await waitForUpdate(id, (c) => textOf(c).includes("Cancelled"), "cancelled");
    expect(buttonsOf(cancelled)).toEqual([]);
  });

  it("expired approval requests have their buttons replaced by “expired” (background job)", async () => {
    const { code, summaryId, requestId } = await awaitingApproval("expire.csv", 11);
    h.t.clock.now = new Date("2026-11-27T13:00:00Z");
    const expired = await h.core.expireImports();
    expect(expired.map((b) => b.code)).toContain(code);
    await h.imports.expired!(expired);
    const request = cardIn(updatesOf(requestId).at(-1)!.body)!;
    expect(textOf(request)).toContain("Expired");
    expect(request.refresh).toBeUndefined();
    expect(buttonsOf(cardIn(updatesOf(summaryId).at(-1)!.body))).toEqual([]);
  });

  it("Approve clicked after the request expired: told so, and both cards lose their buttons at once", async () => {
    const { code, summaryId, requestId, batch } = await awaitingApproval("late.csv", 11);
    h.t.clock.now = new Date("2026-11-27T13:00:00Z");
    const late = await click(IMPORT_ACTIONS.approve, `${batch.id}:${batch.sha256.slice(0, 12)}`, requestId, approver);
    expect(late.text).toContain("expired");
    await waitForUpdate(requestId, (c) => textOf(c).includes("Expired"), "the expired request");
    await waitForUpdate(summaryId, (c) => textOf(c).includes("expired"), "the expired summary");
    expect((await h.core.getImport({ batchId: code })).batch.status).toBe("EXPIRED");
  });

  it("a rate-limited final update (429 with Retry-After) is tried again after the wait: Finish and Invite appear", async () => {
    const { id, batch } = await summaryOf("final-limited.csv", csvFile(freshRows(4)));
    const isResult = (c: ConnectorCall) =>
      c.kind === "update" && c.activityId === id && buttonsOf(cardIn(c.body)).some((b) => b.verb === IMPORT_ACTIONS.finish);
    h.fake.once("update", FakeBotConnector.ratelimited(1), isResult);
    await click(IMPORT_ACTIONS.create, batch.id, id);
    const [refused, shown] = await h.fake.waitFor(isResult, 2, 15_000, "the result, twice");
    expect(refused!.reply?.status).toBe(429);
    expect(shown!.reply?.status).toBe(200);
    expect(shown!.at - refused!.at).toBeGreaterThanOrEqual(1000);
    expect(h.logs.find({ msg: "import message edit rate-limited; refreshing again after Retry-After" })).toMatchObject({ waitMs: 1000 });
    // The bot made one request per attempt (no hidden retries of its own).
    expect(h.fake.calls.filter(isResult).length).toBe(2);
  });

  it("an update still rate-limited after three tries is given up, logged, not retried for ever", async () => {
    const { id, batch } = await summaryOf("limited-4.csv", csvFile(freshRows(2)));
    const isResult = (c: ConnectorCall) =>
      c.kind === "update" && c.activityId === id && buttonsOf(cardIn(c.body)).some((b) => b.verb === IMPORT_ACTIONS.finish);
    for (let i = 0; i < 4; i++) h.fake.once("update", FakeBotConnector.ratelimited(1), isResult);
    await click(IMPORT_ACTIONS.create, batch.id, id);
    await h.fake.waitFor(isResult, 4, 20_000, "the result, four times");
    await vi.waitFor(
      () =>
        expect(
          h.logs.find({ msg: "import messages still rate-limited after 3 tries; they may show an old state until the next change" }),
        ).toBeDefined(),
      { timeout: 5000 },
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.fake.calls.filter(isResult)).toHaveLength(4);
  });

  it("a rate-limited progress update is logged and skipped; the creation finishes and the final state goes out", async () => {
    const { id, batch } = await summaryOf("ratelimited.csv", csvFile(freshRows(5)));
    h.fake.once(
      "update",
      FakeBotConnector.ratelimited(3),
      // A progress edit between the first (0 / 5) and the result: 3 / 5, or 2 / 5 when the second
      // chunk (two rows) was written first, side by side with the first.
      (c) => c.activityId === id && /Creating accounts… [23] \/ 5/.test(textOf(cardIn(c.body))),
    );
    await click(IMPORT_ACTIONS.create, batch.id, id);
    await waitForUpdate(id, (c) => buttonsOf(c).some((b) => b.verb === IMPORT_ACTIONS.finish), "the result");
    expect(h.logs.find({ operation: "update", failure: "ratelimited", retryAfter: 3 })).toBeDefined();
  });

  it("progress of a creation resumed by the background job edits the same card", async () => {
    const { id, code } = await summaryOf("resumed.csv", csvFile(freshRows(2)));
    const { batch } = await h.core.getImport({ batchId: code });
    await h.imports.progress!({ batch: { ...batch, status: "CREATING" }, done: 1, total: 2 });
    expect(textOf(cardIn(updatesOf(id).at(-1)!.body))).toContain("Creating accounts… 1 / 2");
  });

  it("creation paused by a lasting database conflict: the admin is told it carries on by itself, and the job finishes it", async () => {
    const { id, batch, code } = await summaryOf("paused.csv", csvFile(freshRows(2)));
    const store = h.t.store;
    const real = store.transaction;
    let failing = 0;
    store.transaction = ((work, options) =>
      failing-- > 0 ? Promise.reject(new AppError("DATABASE_BUSY", "busy")) : real(work, options)) as typeof real;
    h.fake.once(
      "update",
      () => {
        failing = 4;
        return { status: 200, body: { id } };
      },
      (c) => c.activityId === id && textOf(cardIn(c.body)).includes("Creating accounts… 0 / 2"),
    );
    try {
      const before = h.fake.calls.length;
      await click(IMPORT_ACTIONS.create, batch.id, id);
      const told = await nextMessage(before, (c) => String(c.body?.summary).includes("paused"));
      expect(told.body?.summary).toBe(
        `Creating the accounts of import ${code} paused: the HMS database is busy with other work. It carries on by itself within a few minutes; the summary shows the progress.`,
      );
    } finally {
      store.transaction = real;
    }
    h.t.clock.now = new Date(h.t.clock.now.getTime() + 61_000);
    await h.core.resumeInterruptedImports({ onProgress: h.imports.progress });
    const done = await waitForUpdate(id, (c) => buttonsOf(c).some((b) => b.verb === IMPORT_ACTIONS.finish), "the result");
    expect(fieldsOf(done)).toMatchObject({ Created: "2" });
  });

  it("a click whose card cannot be read back is still answered (a note, not Teams' error)", async () => {
    const { id, batch } = await summaryOf("unreadable.csv", csvFile(freshRows(2)));
    const real = h.core.getImport;
    h.core.getImport = (() => Promise.reject(new Error("disk on fire"))) as typeof real;
    let answer: Awaited<ReturnType<typeof click>>;
    try {
      answer = await click(IMPORT_ACTIONS.cancel, batch.id, id);
    } finally {
      h.core.getImport = real;
    }
    expect(answer.status).toBe(200);
    expect(answer.text).toContain("Something went wrong on our side and it has been logged.");
    expect(h.logs.find({ msg: "disk on fire", while: "answering a card action" })).toBeDefined();
  });

  it("a click whose work outlasts the answer's deadline is told to wait; the card follows", async () => {
    const { id, batch } = await summaryOf("slow-click.csv", csvFile(freshRows(2)));
    const store = h.t.store;
    const real = store.transaction;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    store.transaction = ((work, options) => gate.then(() => real(work, options))) as typeof real;
    let answer: Awaited<ReturnType<typeof click>>;
    try {
      answer = await click(IMPORT_ACTIONS.cancel, batch.id, id);
    } finally {
      store.transaction = real;
      release();
    }
    expect(answer.text).toBe("Still working on it: the card updates when it is done.");
    await waitForUpdate(id, (c) => textOf(c).includes("Cancelled"), "cancelled");
  });
});

describe("approval requests with TEAMS_APPROVAL_CONVERSATION", () => {
  const APPROVALS = "19:approvals0000000000000000000000@thread.tacv2";
  let h: TeamsHarness;
  const { summaryOf, nextMessage } = importHelpers(() => h);

  beforeAll(async () => {
    h = await startTeamsHarness("pglite", { teams: { approvalConversation: APPROVALS }, imports: { approvalPolicy: { kind: "always" } } });
  }, 180_000);
  afterAll(async () => h?.close());
  afterEach(() => h.expectCardsValid());

  it("go there as a new post (proactive), the approvers found by UPN in that conversation and mentioned", async () => {
    const { id, batch, code } = await summaryOf("chan.csv", csvFile(validRows(2, { prefix: "chan" })));
    const before = h.fake.calls.length;
    await h.click(IMPORT_ACTIONS.create, { value: batch.id }, { replyToId: id });
    const [request] = await h.waitForMessages(
      (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === APPROVALS,
      1,
      "the request there",
    );
    expect(request!.kind).toBe("send");
    expect(String(request!.body?.summary)).toBe(`Approval needed: import ${code} (2 accounts) requested by ${TEAMS_USERS.admin.email}.`);
    // Every other Administrator may approve: each looked up by email in the approvals conversation.
    const lookups = h.fake
      .of("member")
      .filter((c) => c.conversationId === APPROVALS)
      .map((c) => c.userId);
    expect(lookups).toContain(OTHER_ADMIN.email);
    const card = cardIn(request!.body)!;
    expect(((card.msteams as { entities?: { mentioned: { id: string } }[] }).entities ?? []).map((e) => e.mentioned.id)).toContain(
      TEAMS_USERS.otherAdmin.id,
    );
    expect((card.refresh as { userIds: string[] }).userIds).toEqual([TEAMS_USERS.otherAdmin.id]);
    // The batch remembers the request where it is.
    await h.chat.idle();
    const { batch: now } = await h.core.getImport({ batchId: code });
    expect((now.conversation as { teams: { approval: Record<string, unknown> } }).teams.approval).toMatchObject({
      conversationId: APPROVALS,
      activityId: idOf(request!),
      approvers: [TEAMS_USERS.otherAdmin.id],
    });
  });

  it("an approver the bot cannot find is named by email, and then everyone sees the buttons", async () => {
    // Another Administrator who is not in Teams at all (made at start-up: adding one from chat asks an approver first).
    await h.core.ensureBootstrapAdmins({ emails: ["offline.admin@corp.example.org"] });
    const { id, batch } = await summaryOf("unknown.csv", csvFile(validRows(2, { prefix: "unknown" })));
    const before = h.fake.calls.length;
    await h.click(IMPORT_ACTIONS.create, { value: batch.id }, { replyToId: id });
    const [request] = await h.waitForMessages(
      (c) => h.fake.calls.indexOf(c) >= before && c.conversationId === APPROVALS,
      1,
      "the request there",
    );
    const card = cardIn(request!.body)!;
    expect(card.refresh).toBeUndefined();
    expect(buttonsOf(card).map((b) => b.verb)).toEqual([IMPORT_ACTIONS.approve, IMPORT_ACTIONS.reject]);
    expect(textOf(card)).toContain("offline.admin@corp.example.org");
  });

  it("a conversation the bot cannot post in: the request goes to the import's conversation, and the failure is logged", async () => {
    const { id, batch } = await summaryOf("fallback.csv", csvFile(validRows(2, { prefix: "fallback" })));
    h.fake.once("send", FakeBotConnector.error(403, "BotNotInConversationRoster"), (c) => c.conversationId === APPROVALS);
    const before = h.fake.calls.length;
    await h.click(IMPORT_ACTIONS.create, { value: batch.id }, { replyToId: id });
    const request = await nextMessage(before, (c) => String(c.body?.summary).startsWith("Approval needed"));
    expect(request.conversationId).toBe(personal(TEAMS_USERS.admin).id);
    expect(h.logs.find({ operation: "post", code: "BotNotInConversationRoster", conversation: APPROVALS })).toBeDefined();
    void codeOf;
  });
});
