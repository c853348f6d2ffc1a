/**
 * The import conversation, written once for every platform: a file arrives → it is staged →
 * its summary is posted (with the error report when rows need attention) → Create → an approval
 * request, or creation at once → Approve / Reject (with a reason) / Cancel → progress while the
 * accounts are created → the results file, and Finish or Invite; and the updates background jobs
 * cause (a creation resumed after a crash, expiry). Every decision is a core use case; each click
 * answers at once with what the clicker should see, and the rest (creation, posts, edits) runs
 * detached.
 * Where a batch's messages are is recorded on the batch per platform, so later clicks and jobs
 * update them on every platform that holds one.
 */
import type { Logger } from "pino";
import {
  type Actor,
  awaitsInviteOrFinish,
  type Core,
  type CreationProgress,
  describeState,
  ErrorCode,
  type ImportBatch,
  type ImportResults,
  type ImportSummary,
  isAppError,
  isPassingDatabaseError,
  type UserInput,
} from "../core/index.ts";
import {
  approvalOutcomeMessage,
  approvalReminderMessage,
  approvalRequestMessage,
  FIX_ROWS_OFFERED,
  fixRowForm,
  fixRowPickForm,
  type ImportView,
  importFileRefusedMessage,
  importMessage,
  importReportMessage,
  importResultsMessage,
  importSupersededMessage,
  importTemplateMessage,
  type Person,
  parseApprovalValue,
  parseGroupFixValue,
  problemsByField,
} from "../render/import-views.ts";
import type { Form, FormErrors, Message } from "../render/model.ts";
import { noticeMessage } from "../render/views.ts";
import { type Answer, logFailure } from "./answers.ts";
import { speller } from "./commands.ts";
import type { ChatSurface, FileSource, MessageRef, Recipient as Notified, PlaceRef, PlatformName, Who } from "./surface.ts";
import { type Detached, type EditScheduler, Throttle } from "./work.ts";

/** Where a batch's messages are on one platform: stored on the batch under the platform's name. */
export interface ConversationRecord {
  /** The conversation (and thread) of the import: where the summary, report and request go. */
  place?: PlaceRef;
  summary?: MessageRef;
  approval?: MessageRef;
  /** Who asked (uploaded the file, or made the one-user request) here: told when it is decided. */
  requester?: Notified;
  /** Who clicked Create here, when someone else than the uploader: told too. */
  submitter?: Notified;
  /** Where the approval request is (reminders go there). */
  approvalPlace?: PlaceRef;
  /**
   * The request sent to each approver privately, when it was posted where only the requester sees
   * it (a DM with no approvals channel): edited with it, and reminders go there too.
   */
  approvalCopies?: { place: PlaceRef; message: MessageRef }[];
}

/** At most this many approvers get the request privately (past that, an approvals channel is the way). */
const MAX_APPROVER_COPIES = 25;

/** A file someone sent the bot: its name, and how the edge fetches its bytes (after the Administrator check). */
export interface IncomingFile {
  /** The platform's id of the file, for the logs. */
  id?: string;
  name: string;
  fetch(): Promise<{ name: string; bytes: Uint8Array }>;
}

/** What the person who clicked sees at once (privately); the rest follows in the messages. */
export interface ClickAnswer {
  notice?: Message;
  /** The clicked message as it should read now, where the edge replaces it in place (a card answered privately). */
  replace?: Message;
}

export type RejectOutcome = { reasonError: string } | { done: ImportBatch } | { notice: Message };

interface RefreshOptions {
  /** Edit the approval requests too (default). */
  approval?: boolean;
  /** The batch as a use case returned it a moment ago: not read again. */
  batch?: ImportBatch;
  /** Every message at once (on every platform), rather than the summary first, then the requests, in turn. */
  together?: boolean;
}

/** Rows needing attention fetched for a summary; the renderers show as many as fit. */
export const SUMMARY_ROWS = 200;

export interface ImportFlowOptions {
  /** Least time between two progress edits of one message, in ms (platforms allow about one a second). */
  progressIntervalMs?: number;
  /** Clock of the progress throttle. */
  now?: () => number;
  /** Rows created per transaction (tests: small, to see progress). */
  chunkSize?: number;
}

const BATCH_STATE_ERRORS: readonly string[] = [ErrorCode.BATCH_WRONG_STATE, ErrorCode.BATCH_ALREADY_DECIDED, ErrorCode.BATCH_EXPIRED];

/** Each platform's record of a batch, as stored. */
function recordsOf(batch: ImportBatch): [PlatformName, ConversationRecord][] {
  const all = batch.conversation;
  if (!all || typeof all !== "object") return [];
  return Object.entries(all as Record<string, unknown>).filter(
    (entry): entry is [PlatformName, ConversationRecord] => Boolean(entry[1]) && typeof entry[1] === "object",
  );
}

function recordOf(batch: ImportBatch, platform: PlatformName): ConversationRecord | undefined {
  return recordsOf(batch).find(([p]) => p === platform)?.[1];
}

const sameRef = (a: MessageRef, b: MessageRef) => JSON.stringify(a) === JSON.stringify(b);

/** Resolves once the progress edits under way (and waiting) are done. */
async function progressShown(state: ProgressState): Promise<void> {
  await Promise.all([...state.values()].map((s) => s.edits));
}

/**
 * A creation's progress edits on each platform: the throttle, the count last shown, and the
 * edits under way (one at a time, in order) with those waiting for them.
 */
type ProgressState = Map<PlatformName, { throttle: Throttle; shown?: number; edits?: Promise<void>; waiting: { content: Message }[] }>;

// Progress edits waiting behind the one under way, at most: past that (a platform slower than
// the throttle), the newest progress replaces the last one waiting.
const MAX_WAITING_EDITS = 2;

export class ImportFlow {
  /** Progress of creations the background job resumed, by batch. */
  private readonly resumed = new Map<string, ProgressState>();
  /** Batches whose invitations are being sent after an Invite click (their summary reads "Inviting…"). */
  private readonly inviting = new Set<string>();

  constructor(
    private readonly core: Core,
    private readonly log: Logger,
    private readonly surfaces: ReadonlyMap<PlatformName, ChatSurface>,
    private readonly detached: Detached,
    private readonly scheduler: EditScheduler,
    private readonly options: ImportFlowOptions = {},
  ) {}

  // ------------------------------------------------------------------ answers

  private failure(surface: ChatSurface, error: unknown, where: Record<string, unknown>): Answer {
    return logFailure(this.log, error, where, { explain: (e) => surface.explain(e), spell: speller(surface.commands) });
  }

  /** Tells the person privately; a failure to do so is logged (there is no one left to tell). */
  private async tell(surface: ChatSurface, who: Who, message: Message, where: Record<string, unknown>): Promise<void> {
    await surface.tell(who, message).catch((error: unknown) => this.failure(surface, error, { ...where, while: "answering" }));
  }

  private async tellFailure(surface: ChatSurface, who: Who, error: unknown, where: Record<string, unknown>): Promise<void> {
    await this.tell(surface, who, noticeMessage(this.failure(surface, error, where).text), where);
  }

  private notice(surface: ChatSurface, error: unknown, where: Record<string, unknown>): ClickAnswer {
    return { notice: noticeMessage(this.failure(surface, error, where).text) };
  }

  // ------------------------------------------------------------------ the template

  /** The CSV template, sent where the person asked for it, with how to fill it in. */
  async postTemplate(surface: ChatSurface, who: Who): Promise<void> {
    const where = { subcommand: "template", ...surface.logContext(who) };
    try {
      await this.core.requireAdministrator(await who.actor());
      const template = this.core.importTemplate();
      const comment = importTemplateMessage({ fileName: template.fileName, howTo: template.howTo, sendHint: surface.uploadHint });
      const place = await surface.sendFile(
        who.place,
        { name: template.fileName, bytes: template.bytes, title: "HMS import template", comment, source: { kind: "template" } },
        who,
      );
      this.log.info({ ...where, place }, "import template posted");
    } catch (error) {
      await this.tellFailure(surface, who, error, where);
    }
  }

  /**
   * A file the bot offered, made again for `who` (an edge that sends it only once the person
   * agreed to receive it): the template, an import's error report or results, an export
   * (Administrators only).
   */
  async fileFor(who: Who, source: FileSource): Promise<{ name: string; bytes: Uint8Array }> {
    const actor = await who.actor();
    await this.core.requireAdministrator(actor);
    if (source.kind === "template") {
      const template = this.core.importTemplate();
      return { name: template.fileName, bytes: template.bytes };
    }
    if (source.kind === "export") {
      const exported = await this.core.exportUsers({ actor, group: source.group });
      return { name: exported.fileName, bytes: exported.bytes };
    }
    if (source.kind === "results") {
      const results = await this.core.importResults({ actor, batchId: source.batchId });
      return { name: results.fileName, bytes: results.bytes };
    }
    const report = await this.core.importErrorReport({ actor, batchId: source.batchId });
    return { name: report.fileName, bytes: report.bytes };
  }

  // ------------------------------------------------------------------ uploads

  /**
   * A file to import: fetched (only for an Administrator), staged by the core, and its summary
   * posted where it was sent (with the error report when rows need attention).
   */
  async receiveFile(surface: ChatSurface, who: Who, file: IncomingFile): Promise<void> {
    const where = { action: "import upload", ...surface.logContext(who), file: file.id ?? file.name };
    let actor: Actor;
    let name = file.name;
    let bytes: Uint8Array;
    try {
      actor = await who.actor();
      await this.core.requireAdministrator(actor);
      ({ name, bytes } = await file.fetch());
    } catch (error) {
      await this.tellFailure(surface, who, error, where);
      return;
    }

    let staged: Awaited<ReturnType<Core["stageImport"]>>;
    try {
      staged = await this.core.stageImport({ actor, file: { name, bytes } });
      const { batch } = staged;
      this.log.info(
        { ...where, batch: batch.code, reused: staged.reused, dataRows: batch.dataRows, attentionRows: batch.attentionRows },
        "import file staged",
      );
    } catch (error) {
      const answer = this.failure(surface, error, where);
      if (!(isAppError(error) && error.code.startsWith("FILE_"))) {
        await this.tell(surface, who, noticeMessage(answer.text), where);
        return;
      }
      // The file's problem goes where the file is, so the admin sees it next to it.
      try {
        await surface.post(who.place, importFileRefusedMessage({ fileName: name, problem: answer.text }), who);
      } catch (postError) {
        await this.tellFailure(surface, who, postError, { ...where, while: "posting the refusal" });
      }
      return;
    }

    const { batch, reused, unknownColumns } = staged;
    try {
      // The batch as staging left it, a moment ago; the Administrator was checked before the fetch.
      const summary = await this.core.getImport({ batchId: batch.id, batch, attentionLimit: SUMMARY_ROWS });
      const previous = recordOf(summary.batch, surface.platform);
      const view: ImportView = { ...summary, unknownColumns, reused, approvers: await this.approvers(surface, summary) };
      const posted = await surface.post(who.place, importMessage(view), who);
      await this.core.recordImportConversation({
        batchId: batch.id,
        platform: surface.platform,
        record: {
          place: posted.place,
          summary: posted.message,
          requester: { userId: who.userId, place: who.place },
        } satisfies ConversationRecord,
      });
      // The same file again while its batch is open: one batch, so one live summary per platform.
      if (previous?.summary && !sameRef(previous.summary, posted.message)) this.supersede(surface, previous.summary, summary.batch);
      if (summary.batch.attentionRows > 0 && summary.batch.status === "VALIDATED") {
        await this.attachReport(surface, who, actor, summary.batch, posted.place);
      }
    } catch (error) {
      await this.tellFailure(surface, who, error, { ...where, batch: batch.code, while: "posting the summary" });
    }
  }

  /** An older summary of a batch, now shown in a newer message, says so and loses its buttons. */
  private supersede(surface: ChatSurface, message: MessageRef, batch: ImportBatch): void {
    const content = importSupersededMessage({ batch });
    const edit = async (): Promise<void> => {
      try {
        await surface.edit(message, content);
      } catch (error) {
        this.failure(surface, error, { batch: batch.code, while: "updating an import message" });
        const waitMs = surface.retryAfterMs(error);
        if (waitMs !== undefined) this.scheduler.retry(`superseded:${JSON.stringify(message)}`, waitMs, edit);
      }
    };
    this.detached.run("supersede an older summary", edit);
  }

  private async attachReport(surface: ChatSurface, who: Who, actor: Actor, batch: ImportBatch, place: PlaceRef): Promise<void> {
    try {
      const report = await this.core.importErrorReport({ actor, batchId: batch.id });
      await surface.sendFile(place, {
        name: report.fileName,
        bytes: report.bytes,
        source: { kind: "report", batchId: batch.id },
        ...importReportMessage({ batch, rows: report.rows }),
      });
    } catch (error) {
      const { text } = this.failure(surface, error, { action: "error report", batch: batch.code });
      await this.tell(
        surface,
        who,
        noticeMessage(`The summary of import ${batch.code} is posted, but its error report could not be attached. ${text}`),
        {
          batch: batch.code,
        },
      );
    }
  }

  /**
   * The results file of a batch whose creation ended, sent where its summary is on every
   * platform that holds one. A failure is logged, and `clicker` (who set creation off) told.
   */
  private async attachResults(ended: ImportBatch, clicker?: { surface: ChatSurface; who: Who }): Promise<void> {
    const where = { action: "import results", batch: ended.code };
    let results: ImportResults;
    try {
      results = await this.core.importResults({ batchId: ended.id });
    } catch (error) {
      if (!clicker) {
        this.log.error({ err: error, ...where }, "could not make an import's results file");
        return;
      }
      const { text } = this.failure(clicker.surface, error, where);
      await this.tell(
        clicker.surface,
        clicker.who,
        noticeMessage(`Import ${ended.code} has ended, but its results file could not be made. ${text}`),
        where,
      );
      return;
    }
    const { batch } = results;
    for (const [platform, record] of recordsOf(batch)) {
      const surface = this.surfaces.get(platform);
      if (!surface || !record.place) continue;
      try {
        const sent = await surface.sendFile(record.place, {
          name: results.fileName,
          bytes: results.bytes,
          source: { kind: "results", batchId: batch.id },
          ...importResultsMessage(results),
        });
        this.log.info({ ...where, platform, place: sent, rows: results.rows, ...results.counts }, "import results sent");
      } catch (error) {
        const { text } = this.failure(surface, error, { ...where, platform });
        if (clicker?.surface === surface) {
          await this.tell(
            surface,
            clicker.who,
            noticeMessage(`Import ${batch.code} has ended, but its results file could not be attached. ${text}`),
            where,
          );
        }
      }
    }
  }

  // ------------------------------------------------------------------ the messages of a batch

  private async person(surface: ChatSurface, email: string, platformId?: string | null): Promise<Person> {
    if (platformId) return { name: email, platformId };
    return (await surface.people([email]))[0] ?? { name: email };
  }

  private async approvers(surface: ChatSurface, summary: ImportSummary): Promise<Person[] | undefined> {
    return summary.approvers.length > 0 ? surface.people(summary.approvers) : undefined;
  }

  /** The requester as this platform mentions them: by the id they acted with, when they acted here. */
  private requester(surface: ChatSurface, batch: ImportBatch): Promise<Person> {
    return this.person(surface, batch.requesterEmail, batch.platform === surface.platform ? batch.requesterPlatformId : undefined);
  }

  /** Who clicked Create, as this platform mentions them (when it was someone else than the uploader). */
  private async submitter(surface: ChatSurface, batch: ImportBatch): Promise<Person | undefined> {
    if (!batch.submitterEmail || batch.submitterEmail === batch.requesterEmail) return undefined;
    // Found by email: the id they clicked with may be another platform's.
    return this.person(surface, batch.submitterEmail);
  }

  /** The approval request as it should read now. */
  async approvalView(surface: ChatSurface, summary: ImportSummary, link?: Promise<string | undefined>): Promise<Message> {
    const { batch } = summary;
    const [requester, submitter, approvers, summaryLink] = await Promise.all([
      this.requester(surface, batch),
      this.submitter(surface, batch),
      this.approvers(surface, summary),
      summary.facts ? (link ?? this.summaryLink(surface, batch)) : undefined,
    ]);
    return approvalRequestMessage({
      batch,
      requester,
      submitter,
      approvers: approvers ?? [],
      facts: summary.facts && { ...summary.facts, summaryLink },
    });
  }

  /** A link to the batch's summary on this platform, when it has one. */
  private async summaryLink(surface: ChatSurface, batch: ImportBatch): Promise<string | undefined> {
    const summaryRef = recordOf(batch, surface.platform)?.summary;
    return summaryRef ? surface.link?.(summaryRef) : undefined;
  }

  /**
   * The summary or the approval request of a batch as it should read now, for a platform whose
   * answer to a click (or a refresh) is the message itself (Teams).
   */
  async viewNow(surface: ChatSurface, batchId: string, which: "summary" | "approval"): Promise<Message> {
    // The approval request lists no rows: only its facts are read.
    const summary = await this.core.getImport({ batchId, attentionLimit: which === "approval" ? 0 : SUMMARY_ROWS });
    if (which === "approval") return this.approvalView(surface, summary);
    if (this.inviting.has(batchId) && awaitsInviteOrFinish(summary.batch)) return this.invitingView(summary.batch);
    return this.summaryView(surface, summary);
  }

  private invitingView(batch: ImportBatch): Message {
    return importMessage({ batch: { ...batch, status: "INVITING" }, attention: [] });
  }

  /** The summary as it should read now. */
  async summaryView(surface: ChatSurface, summary: ImportSummary, extra: Partial<ImportView> = {}): Promise<Message> {
    return importMessage({ ...summary, approvers: await this.approvers(surface, summary), ...extra });
  }

  /**
   * Edits the summary and the approval request on every platform that holds them, to show the
   * batch as it is now (buttons only where they may be clicked). A platform that rate-limits an
   * edit is refreshed again after its Retry-After, from the batch as it is then.
   */
  async refresh(batchId: string, { approval = true, batch, together = false }: RefreshOptions = {}): Promise<void> {
    const summary = await this.core.getImport({ batchId, batch, attentionLimit: SUMMARY_ROWS });
    if (together) {
      await Promise.all(
        recordsOf(summary.batch).map(([platform, record]) => {
          const surface = this.surfaces.get(platform);
          return surface ? this.refreshOn(surface, summary, record, approval, true) : undefined;
        }),
      );
      return;
    }
    for (const [platform, record] of recordsOf(summary.batch)) {
      const surface = this.surfaces.get(platform);
      if (surface) await this.refreshOn(surface, summary, record, approval);
    }
  }

  private async refreshOn(
    surface: ChatSurface,
    summary: ImportSummary,
    record: ConversationRecord,
    approval: boolean,
    together = false,
  ): Promise<void> {
    const { batch } = summary;
    const where = { batch: batch.code, platform: surface.platform };
    const waits: number[] = [];
    const edit = async (message: MessageRef, content: () => Promise<Message>) => {
      try {
        await surface.edit(message, await content());
      } catch (error) {
        this.failure(surface, error, { ...where, while: "updating an import message" });
        const waitMs = surface.retryAfterMs(error);
        if (waitMs !== undefined) waits.push(waitMs);
      }
    };
    // The request and its copies read the same: made once.
    let request: Promise<Message> | undefined;
    const requestView = () => (request ??= this.approvalView(surface, summary));
    const requests = (approval ? [record.approval, ...(record.approvalCopies ?? []).map((c) => c.message)] : []).filter(
      (m): m is MessageRef => Boolean(m),
    );
    if (together) {
      await Promise.all([
        record.summary ? edit(record.summary, () => this.summaryView(surface, summary)) : undefined,
        ...requests.map((m) => edit(m, requestView)),
      ]);
    } else {
      if (record.summary) await edit(record.summary, () => this.summaryView(surface, summary));
      for (const message of requests) await edit(message, requestView);
    }
    const key = `refresh:${surface.platform}:${batch.id}`;
    if (waits.length === 0) {
      this.scheduler.succeeded(key); // the next rate limit counts from one again
      return;
    }
    this.scheduler.retry(key, Math.max(...waits), async () => {
      const now = await this.core.getImport({ batchId: batch.id, attentionLimit: SUMMARY_ROWS });
      const current = recordOf(now.batch, surface.platform);
      if (current) await this.refreshOn(surface, now, current, true);
    });
  }

  private async refreshQuietly(batchId: string, options: RefreshOptions = {}): Promise<void> {
    await this.refresh(batchId, options).catch((error: unknown) =>
      this.log.error({ err: error, batchId, while: "refreshing import messages" }, "could not refresh an import's messages"),
    );
  }

  /** After a click refused because the batch had moved on (decided, expired): its messages catch up, so stale buttons go. */
  private refreshIfMovedOn(error: unknown, batchId: string): void {
    if (isAppError(error) && BATCH_STATE_ERRORS.includes(error.code)) this.detached.run("refresh", () => this.refreshQuietly(batchId));
  }

  // ------------------------------------------------------------------ clicks

  /**
   * Create ("Create N accounts"), or with `includeUpdates` "Create N and update M": an approval
   * request, or (no approval needed) the work, done detached.
   */
  async create(surface: ChatSurface, who: Who, batchId: string, includeUpdates = false): Promise<ClickAnswer> {
    const where = { action: "import create", ...surface.logContext(who), batchId };
    try {
      const actor = await who.actor();
      const submitted = await this.core.submitImport({ actor, batchId, includeUpdates });
      let batch = submitted.batch;
      if (batch.submitterEmail !== batch.requesterEmail) {
        // Whoever clicked Create is told of the decision too.
        batch = await this.core.recordImportConversation({
          batchId,
          platform: surface.platform,
          record: { submitter: { userId: who.userId, place: who.place } },
        });
      }
      if (submitted.kind === "approved") {
        this.detached.run("create accounts", () => this.runCreation(surface, who, actor, batch));
      } else {
        this.detached.run("request approval", () => this.requestApproval(surface, who, batch, submitted.approvers));
      }
      return {};
    } catch (error) {
      this.refreshIfMovedOn(error, batchId);
      return this.notice(surface, error, where);
    }
  }

  private async requestApproval(surface: ChatSurface, who: Who, batch: ImportBatch, approvers: string[]): Promise<void> {
    const where = { action: "import create", ...surface.logContext(who), batch: batch.code };
    try {
      const place = recordOf(batch, surface.platform)?.place ?? who.place;
      // The batch and its approvers as the use case left them a moment ago; the summary's link asked for meanwhile.
      const link = this.summaryLink(surface, batch).catch(() => undefined);
      const [people, summary] = await Promise.all([
        surface.people(approvers),
        this.core.getImport({ batchId: batch.id, batch, approvers, attentionLimit: 0 }),
      ]);
      const message = await this.approvalView(surface, summary, link);
      const posted = await surface.postApprovalRequest(place, message, people);
      await this.core.recordImportConversation({
        batchId: batch.id,
        platform: surface.platform,
        record: {
          approval: posted.message,
          approvalPlace: posted.place,
          // One-user requests have no summary: the person who asked is recorded here.
          ...(recordOf(batch, surface.platform) ? {} : { place, requester: { userId: who.userId, place: who.place } }),
        },
      });
      this.log.info({ batch: batch.code, place: posted.place, approvers }, "import approval requested");
      if (surface.isPrivate(posted.place)) {
        const copies = await this.sendToApprovers(surface, batch, people, message, posted.place);
        if (copies.length > 0) {
          const recorded = await this.core.recordImportConversation({
            batchId: batch.id,
            platform: surface.platform,
            record: { approvalCopies: copies },
          });
          // Decided while the copies went out: they catch up, so no copy keeps live buttons.
          if (recorded.status !== "AWAITING_APPROVAL") await this.refreshQuietly(batch.id);
        }
      }
    } catch (error) {
      await this.tellFailure(surface, who, error, where);
    }
    // The batch waits for approval either way: the summary says so (with Cancel). The request
    // was just posted as it is, so it is not edited.
    await this.refreshQuietly(batch.id, { approval: false });
  }

  /**
   * The request where only the requester would see it: each approver the platform knows gets it
   * privately too (one failing is logged; the others still get theirs).
   */
  private async sendToApprovers(
    surface: ChatSurface,
    batch: ImportBatch,
    people: readonly Person[],
    message: Message,
    place: PlaceRef,
  ): Promise<{ place: PlaceRef; message: MessageRef }[]> {
    const known = people.filter((p): p is Person & { platformId: string } => Boolean(p.platformId));
    if (known.length > MAX_APPROVER_COPIES) {
      this.log.warn(
        { batch: batch.code, platform: surface.platform, approvers: known.length, sent: MAX_APPROVER_COPIES },
        "approval request sent privately to the first approvers only: configure an approvals channel",
      );
    }
    const copies: { place: PlaceRef; message: MessageRef }[] = [];
    for (const person of known.slice(0, MAX_APPROVER_COPIES)) {
      try {
        copies.push(await surface.notify({ userId: person.platformId, place, actedThere: false }, message));
      } catch (error) {
        this.failure(surface, error, { batch: batch.code, approver: person.name, while: "sending the approval request to an approver" });
      }
    }
    return copies;
  }

  async approve(surface: ChatSurface, who: Who, value: string): Promise<ClickAnswer> {
    const { batchId, sha256Prefix } = parseApprovalValue(value);
    const where = { action: "import approve", ...surface.logContext(who), batchId };
    try {
      const actor = await who.actor();
      const approved = await this.core.approveImport({ actor, batchId, sha256Prefix });
      this.log.info({ ...where, batch: approved.code, approver: actor.email }, "import approved");
      this.detached.run("notify the requesters", () => this.notifyRequesters(approved));
      this.detached.run("create accounts", () => this.runCreation(surface, who, actor, approved));
      return {};
    } catch (error) {
      // The requester, a non-approver, a late click: they are told why; nothing else happens
      // (but a request found expired or decided loses its buttons).
      this.refreshIfMovedOn(error, batchId);
      return this.notice(surface, error, where);
    }
  }

  /** Before asking for a reason: whether this person may reject now (so nobody types one in vain). */
  async checkReject(surface: ChatSurface, who: Who, value: string): Promise<{ batch: ImportBatch } | ClickAnswer> {
    const { batchId, sha256Prefix } = parseApprovalValue(value);
    try {
      const actor = await who.actor();
      return { batch: await this.core.checkImportDecision({ actor, batchId, sha256Prefix }) };
    } catch (error) {
      this.refreshIfMovedOn(error, batchId);
      return this.notice(surface, error, { action: "import reject", ...surface.logContext(who), batchId });
    }
  }

  /** Reject with a reason. A missing reason is `reasonError` (the form stays open); otherwise the messages show the outcome. */
  async reject(surface: ChatSurface, who: Who, value: string, reason: string): Promise<RejectOutcome> {
    const { batchId, sha256Prefix } = parseApprovalValue(value);
    const where = { action: "import reject", ...surface.logContext(who), batchId };
    try {
      const actor = await who.actor();
      const rejected = await this.core.rejectImport({ actor, batchId, sha256Prefix, reason });
      this.log.info({ ...where, batch: rejected.code, reason: rejected.reason }, "import rejected");
      this.detached.run("refresh", () => this.refreshQuietly(rejected.id));
      this.detached.run("notify the requesters", () => this.notifyRequesters(rejected));
      return { done: rejected };
    } catch (error) {
      if (isAppError(error, ErrorCode.REASON_REQUIRED)) return { reasonError: error.message };
      this.refreshIfMovedOn(error, batchId);
      return { notice: this.notice(surface, error, where).notice! };
    }
  }

  async cancel(surface: ChatSurface, who: Who, batchId: string): Promise<ClickAnswer> {
    return this.decide(surface, who, batchId, "import cancel", (actor) => this.core.cancelImport({ actor, batchId }));
  }

  async finish(surface: ChatSurface, who: Who, batchId: string): Promise<ClickAnswer> {
    return this.decide(surface, who, batchId, "import finish", (actor) => this.core.finishImport({ actor, batchId }));
  }

  /** A click whose use case moves the batch; then its messages show the new state. */
  private async decide(
    surface: ChatSurface,
    who: Who,
    batchId: string,
    action: string,
    run: (actor: Actor) => Promise<unknown>,
  ): Promise<ClickAnswer> {
    const where = { action, ...surface.logContext(who), batchId };
    try {
      await run(await who.actor());
      this.detached.run("refresh", () => this.refreshQuietly(batchId));
      return {};
    } catch (error) {
      // Shows the batch as it is: stale buttons go, and buttons hidden while the click was handled come back.
      this.detached.run("refresh", () => this.refreshQuietly(batchId, { approval: false }));
      return this.notice(surface, error, where);
    }
  }

  /** Invite: for an Administrator the buttons go at once; the invitations are sent detached (a refusal puts them back). */
  async invite(surface: ChatSurface, who: Who, batchId: string): Promise<ClickAnswer> {
    const where = { action: "import invite", ...surface.logContext(who), batchId };
    let actor: Actor;
    try {
      actor = await who.actor();
      await this.core.requireAdministrator(actor);
    } catch (error) {
      this.detached.run("refresh", () => this.refreshQuietly(batchId, { approval: false }));
      return this.notice(surface, error, where);
    }
    this.inviting.add(batchId);
    this.detached.run("invite", async () => {
      try {
        await this.showInviting(batchId);
        const outcome = await this.core.inviteImportedUsers({ actor, batchId });
        this.log.info({ batch: outcome.batch.code, ...outcome.counts }, "imported users invited");
        await this.refreshQuietly(batchId);
      } catch (error) {
        this.inviting.delete(batchId);
        await this.tellFailure(surface, who, error, where);
        await this.refreshQuietly(batchId, { approval: false });
      } finally {
        this.inviting.delete(batchId);
      }
    });
    return {};
  }

  /** Resend on a finished import: its failed invitations sent again (detached); the summary shows the counts after. */
  async resend(surface: ChatSurface, who: Who, batchId: string): Promise<ClickAnswer> {
    const where = { action: "resend invitations", ...surface.logContext(who), batchId };
    let actor: Actor;
    try {
      actor = await who.actor();
      await this.core.requireAdministrator(actor);
    } catch (error) {
      return this.notice(surface, error, where);
    }
    this.detached.run("resend invitations", async () => {
      try {
        const outcome = await this.core.resendInvitations({ actor, batchId });
        this.log.info({ ...where, resent: outcome.resent, ...outcome.counts }, "invitations sent again");
      } catch (error) {
        await this.tellFailure(surface, who, error, where);
      }
      await this.refreshQuietly(batchId);
    });
    return {};
  }

  private async showInviting(batchId: string): Promise<void> {
    const summary = await this.core.getImport({ batchId, attentionLimit: 0 });
    if (!awaitsInviteOrFinish(summary.batch)) return;
    const inviting = this.invitingView(summary.batch);
    for (const [platform, record] of recordsOf(summary.batch)) {
      const surface = this.surfaces.get(platform);
      if (!surface || !record.summary) continue;
      await surface
        .edit(record.summary, inviting)
        .catch((error: unknown) => this.failure(surface, error, { batch: summary.batch.code, while: "updating an import message" }));
    }
  }

  // ------------------------------------------------------------------ creation and progress

  /** Creates the accounts, editing the summaries with the progress (throttled), then the result. */
  private async runCreation(surface: ChatSurface, who: Who, actor: Actor | undefined, batch: ImportBatch): Promise<void> {
    // At once: the buttons go (Create, or Approve/Reject) and the summary shows 0 / N; that counts as the first edit.
    // The batch is the one the click just moved (not read again); creation waits for these edits, so they go at once.
    await this.refreshQuietly(batch.id, { batch, together: true });
    const state = this.progressState();
    for (const entry of state.values()) {
      entry.throttle.ready();
      entry.shown = 0;
    }
    // Set when this creation took the batch to its end: then its results file goes out.
    const end: { batch?: ImportBatch } = {};
    try {
      await this.core.createAccounts({
        actor,
        batchId: batch.id,
        chunkSize: this.options.chunkSize,
        // Not awaited: the next chunk does not wait for the platform (an edit takes 100-300 ms).
        onProgress: (p) => {
          if (p.ended) end.batch = p.batch;
          void this.showProgress(p, state);
        },
      });
    } catch (error) {
      const where = { batch: batch.code, ...surface.logContext(who) };
      if (!isPassingDatabaseError(error)) {
        await this.tellFailure(surface, who, error, { ...where, action: "create accounts" });
      } else {
        // The batch stays CREATING and the background job carries on with it: no button to click again.
        const paused = isAppError(error, ErrorCode.DATABASE_BUSY)
          ? "the HMS database is busy with other work"
          : "the HMS database is not answering";
        this.failure(surface, error, { ...where, while: "creating accounts; the background job resumes them" });
        await this.tell(
          surface,
          who,
          noticeMessage(
            `Creating the accounts of import ${batch.code} paused: ${paused}. It carries on by itself within a few minutes; the summary shows the progress.`,
          ),
          where,
        );
      }
    } finally {
      // The final state always goes out, whatever happened in between: after the progress edits; then the results.
      // The batch creation ended with is the one shown (not read again).
      await progressShown(state);
      await this.refreshQuietly(batch.id, end.batch ? { batch: end.batch } : {});
      if (end.batch?.kind === "import") await this.attachResults(end.batch, { surface, who });
    }
  }

  private progressState(): ProgressState {
    const state: ProgressState = new Map();
    for (const platform of this.surfaces.keys()) {
      state.set(platform, { throttle: new Throttle(this.options.progressIntervalMs ?? 1000, this.options.now ?? Date.now), waiting: [] });
    }
    return state;
  }

  /** Edits the summaries with the progress (throttled); resolves once these edits are done. */
  private showProgress(progress: CreationProgress, state: ProgressState): Promise<void> {
    if (progress.batch.status !== "CREATING") return Promise.resolve();
    let view: Message | undefined;
    const edits: Promise<void>[] = [];
    for (const [platform, record] of recordsOf(progress.batch)) {
      const surface = this.surfaces.get(platform);
      const shown = state.get(platform);
      const ref = record.summary;
      if (!surface || !shown || !ref || progress.done === shown.shown || !shown.throttle.ready()) continue;
      shown.shown = progress.done;
      view ??= importMessage({ batch: progress.batch, attention: [], progress: { done: progress.done, total: progress.total } });
      const last = shown.waiting.at(-1);
      if (last && shown.waiting.length >= MAX_WAITING_EDITS) {
        last.content = view;
        edits.push(shown.edits!);
        continue;
      }
      const edit = { content: view };
      shown.waiting.push(edit);
      // A rate-limited progress edit is skipped: the next one, or the final state, follows.
      shown.edits = (shown.edits ?? Promise.resolve()).then(async () => {
        shown.waiting.shift();
        await surface
          .edit(ref, edit.content)
          .catch((error: unknown) => this.failure(surface, error, { batch: progress.batch.code, while: "updating an import message" }));
      });
      edits.push(shown.edits);
    }
    return Promise.all(edits).then(() => {});
  }

  // ------------------------------------------------------------------ background jobs

  /** Progress of a creation resumed after a crash (the background job). */
  async resumedProgress(progress: CreationProgress): Promise<void> {
    const id = progress.batch.id;
    if (progress.batch.status !== "CREATING") {
      const state = this.resumed.get(id);
      this.resumed.delete(id);
      if (state) await progressShown(state);
      await this.refreshQuietly(id);
      // Not awaited: the job that finished the batch need not wait for the file.
      if (progress.ended && progress.batch.kind === "import")
        this.detached.run("send the results", () => this.attachResults(progress.batch));
      return;
    }
    let state = this.resumed.get(id);
    if (!state) {
      state = this.progressState();
      this.resumed.set(id, state);
    }
    await this.showProgress(progress, state);
  }

  /** Imports whose invitations the background job sent: their final messages show the counts as they are now. */
  async invitationsChanged(batchIds: readonly string[]): Promise<void> {
    for (const id of batchIds) await this.refreshQuietly(id);
  }

  /** Imports that expired (an approval request, or a summary nobody confirmed): their buttons go; requesters of a request are told. */
  async expired(batches: readonly ImportBatch[]): Promise<void> {
    for (const batch of batches) {
      if (recordsOf(batch).length === 0) continue;
      await this.refreshQuietly(batch.id);
      if (batch.approvalRequestedAt) await this.notifyRequesters(batch);
    }
  }

  /** Requests half-way to expiry that nobody answered: a reminder where each request is, mentioning who may approve. */
  async remind(due: readonly { batch: ImportBatch; approvers: string[] }[]): Promise<void> {
    for (const { batch, approvers } of due) {
      for (const [platform, record] of recordsOf(batch)) {
        const surface = this.surfaces.get(platform);
        if (!surface || !record.approvalPlace) continue;
        const reminder = approvalReminderMessage({ batch, approvers: await surface.people(approvers) });
        for (const place of [record.approvalPlace, ...(record.approvalCopies ?? []).map((c) => c.place)]) {
          try {
            await surface.post(place, reminder);
          } catch (error) {
            this.failure(surface, error, { batch: batch.code, while: "reminding the approvers" });
          }
        }
      }
    }
  }

  /** The requesters of a batch (the uploader, and who clicked Create) told privately how it was decided. */
  private async notifyRequesters(batch: ImportBatch): Promise<void> {
    const message = approvalOutcomeMessage(batch);
    for (const [platform, record] of recordsOf(batch)) {
      const surface = this.surfaces.get(platform);
      if (!surface) continue;
      for (const person of [record.requester, record.submitter]) {
        if (!person) continue;
        await surface
          .notify(person, message)
          .catch((error: unknown) => this.failure(surface, error, { batch: batch.code, while: "telling a requester" }));
      }
    }
  }

  // ------------------------------------------------------------------ fixes in place

  /** Create group X on a summary: the group made, its rows checked again (detached), the summary's counts updated. */
  async createGroup(surface: ChatSurface, who: Who, value: string): Promise<ClickAnswer> {
    const { batchId, group } = parseGroupFixValue(value);
    const where = { action: "create group for import", ...surface.logContext(who), batchId, group };
    let actor: Actor;
    try {
      actor = await who.actor();
      await this.core.requireAdministrator(actor);
    } catch (error) {
      return this.notice(surface, error, where);
    }
    this.detached.run("create a group and check its rows again", async () => {
      try {
        const done = await this.core.createGroupForImport({ actor, batchId, group });
        this.log.info({ ...where, fixed: done.fixed }, "group created from an import summary; its rows checked again");
        await this.refreshQuietly(batchId);
        await this.tell(
          surface,
          who,
          noticeMessage(
            `Created group ${done.group.name} with policy ${done.group.policy}. ${done.fixed === 1 ? "1 of the rows naming it is" : `${done.fixed} of the rows naming it are`} ready now; the summary shows the new counts.`,
          ),
          where,
        );
      } catch (error) {
        await this.tellFailure(surface, who, error, where);
        this.refreshIfMovedOn(error, batchId);
      }
    });
    return {};
  }

  /** Fix a row: the form to pick one of the rows needing attention. */
  async fixRowStart(surface: ChatSurface, who: Who, batchId: string): Promise<{ form: Form } | ClickAnswer> {
    const where = { action: "fix a row", ...surface.logContext(who), batchId };
    try {
      const actor = await who.actor();
      const { batch, attention } = await this.core.getImport({ actor, batchId, attentionLimit: FIX_ROWS_OFFERED });
      if (batch.status !== "VALIDATED") return { notice: noticeMessage(describeState(batch)) };
      const rows = attention.filter((r) => r.status === "NEEDS_ATTENTION");
      if (rows.length === 0) return { notice: noticeMessage(`No row of import ${batch.code} needs attention any more.`) };
      return { form: fixRowPickForm({ batch, rows }) };
    } catch (error) {
      return this.notice(surface, error, where);
    }
  }

  /** The picked row as the Add user form, filled, its problems next to the fields. */
  async fixRowPicked(surface: ChatSurface, who: Who, batchId: string, rowNumber: number): Promise<{ form: Form } | ClickAnswer> {
    const where = { action: "fix a row", ...surface.logContext(who), batchId, rowNumber };
    try {
      const actor = await who.actor();
      const row = await this.core.importRow({ actor, batchId, rowNumber });
      const { batch } = await this.core.getImport({ batchId, attentionLimit: 0 });
      return { form: fixRowForm({ batch, row, problems: problemsByField(row.issues) }) };
    } catch (error) {
      return this.notice(surface, error, where);
    }
  }

  /** The fixed row saved: problems next to the fields (the form stays open), or it joined the import and the summary is updated. */
  async saveFixedRow(
    surface: ChatSurface,
    who: Who,
    batchId: string,
    rowNumber: number,
    input: UserInput,
  ): Promise<{ kind: "errors"; errors: FormErrors } | { kind: "done"; message: Message }> {
    const where = { action: "fix a row", ...surface.logContext(who), batchId, rowNumber };
    try {
      const { batch, verdict } = await this.core.fixImportRow({ actor: await who.actor(), batchId, rowNumber, input });
      this.log.info({ ...where, status: verdict.status }, "import row fixed");
      this.detached.run("refresh", () => this.refreshQuietly(batchId));
      const what =
        verdict.status === "UPDATE"
          ? "an update of an existing user"
          : verdict.status === "UNCHANGED"
            ? "unchanged (the user is already so)"
            : "ready";
      return {
        kind: "done",
        message: noticeMessage(`Row ${rowNumber} of import ${batch.code} is ${what} now; the summary shows the new counts.`),
      };
    } catch (error) {
      if (isAppError(error, ErrorCode.VALIDATION_FAILED) && error.fieldIssues.length > 0)
        return { kind: "errors", errors: problemsByField(error.fieldIssues) };
      this.refreshIfMovedOn(error, batchId);
      return { kind: "done", message: this.notice(surface, error, where).notice! };
    }
  }

  // ------------------------------------------------------------------ one-user requests

  /** Make Administrator on a card: done at once, or an approval request posted where the person acted. */
  async requestAdministrator(surface: ChatSurface, who: Who, email: string): Promise<ClickAnswer> {
    const where = { action: "make administrator", ...surface.logContext(who), user: email };
    try {
      const grant = await this.core.requestAdministrator({ actor: await who.actor(), email });
      if (grant.kind === "granted") {
        this.log.info({ ...where }, "administrator role granted");
        return { notice: noticeMessage(`${grant.user.email} is an Administrator now.`) };
      }
      return this.requested(surface, who, grant.batch, grant.approvers);
    } catch (error) {
      return this.notice(surface, error, where);
    }
  }

  /** A one-user request waits for an approver: the request is posted (detached), the person told what happens next. */
  requested(surface: ChatSurface, who: Who, batch: ImportBatch, approvers: string[]): ClickAnswer {
    this.log.info({ batch: batch.code, kind: batch.kind, approvers }, "one-user request waits for approval");
    this.detached.run("request approval", () => this.requestApproval(surface, who, batch, approvers));
    const until = batch.approvalExpiresAt ? ` (until ${batch.approvalExpiresAt.toISOString().replace("T", " ").slice(0, 16)} UTC)` : "";
    return {
      notice: noticeMessage(
        `“${batch.fileName}” needs another Administrator's approval: request ${batch.code} is posted for ${approvers.join(", ")}${until}. You will be told when it is decided.`,
      ),
    };
  }
}
