/**
 * The import flow in Slack: a CSV arrives (the /hms import modal, a file shared in the bot's DM,
 * or a channel message with the file that mentions the bot), is downloaded with the bot token and
 * staged by the core; its summary is posted in the thread of the upload, and edited in place as
 * the batch moves on: Create (→ approval request, or creation at once), Approve / Reject, progress
 * while accounts are created, then Finish or Invite. Every decision is a core use case; this file
 * parses, acknowledges, calls and renders. Where the messages are is kept on the batch
 * (setImportConversation), so later clicks and background jobs can update them.
 */
import type { App, webApi } from "@slack/bolt";
import {
  type Actor,
  awaitsInviteOrFinish,
  type CreationProgress,
  ErrorCode,
  type ImportBatch,
  isAppError,
  isPassingDatabaseError,
} from "../../core/index.ts";
import { renderFormErrors, renderMessage, renderModal, renderText } from "../../render/blockkit.ts";
import {
  approvalRequestMessage,
  IMPORT_ACTIONS,
  IMPORT_FILE_INPUT,
  IMPORT_FORM_ID,
  type ImportView,
  importFileForm,
  importFileRefusedMessage,
  importMessage,
  importSupersededMessage,
  importTemplateMessage,
  parseApprovalValue,
  REJECT_FORM_ID,
  REJECT_REASON_INPUT,
  rejectReasonForm,
} from "../../render/import-views.ts";
import type { Message } from "../../render/model.ts";
import { noticeForm, noticeMessage } from "../../render/views.ts";
import { logFailure } from "./answers.ts";
import { HMS_COMMAND, type SlackEdgeContext } from "./context.ts";
import { describeFile, downloadFile, type SlackFileRef, uploadFile } from "./files.ts";
import { SlackPeople } from "./people.ts";
import { type ReplyTarget, replyEphemeral, replyFailure, slackBlocks } from "./reply.ts";
import { callSlack, SlackApiError } from "./web.ts";

/** Where an import's messages are in Slack; stored on the batch under `slack`. */
export interface SlackImportConversation {
  team?: string;
  channel: string;
  /** The thread the summary is in (the upload's message); absent: the summary starts one. */
  threadTs?: string;
  summaryTs?: string;
  approvalChannel?: string;
  approvalTs?: string;
  /** The requester's Slack user id. */
  requester: string;
  /** Approver emails, as when the request was posted. */
  approvers?: string[];
}

/** Rows needing attention fetched for a summary; the renderer shows as many as fit. */
export const SUMMARY_ROWS = 200;

export interface ImportFlowOptions {
  /** The bot token, to download files (Bolt's client carries it per request; background work has none). */
  botToken: string;
  /** The Web API base URL when not Slack's own: file downloads may go to its host too. */
  apiUrl?: string;
  /** SLACK_APPROVAL_CHANNEL: where approval requests go; unset: the import's thread. */
  approvalChannel?: string;
  /** Least time between two progress edits of one message, in ms (Slack allows about one a second). */
  progressIntervalMs?: number;
  /** Clock of the progress throttle. */
  now?: () => number;
  /** Rows created per transaction (tests: small, to see progress). */
  chunkSize?: number;
}

/** At most one edit per interval; the first always goes. */
class Throttle {
  private last = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}
  ready(): boolean {
    const t = this.now();
    if (t - this.last < this.intervalMs) return false;
    this.last = t;
    return true;
  }
}

/** A creation's edits: the throttle, and the count last shown (the same count is not sent twice). */
interface ProgressState {
  throttle: Throttle;
  shown?: number;
}

// [issue 9, item 2] Who clicked Create, named in the approval request (their Slack id as the core recorded it).
function submitterOf(batch: ImportBatch): { name: string; platformId?: string } | undefined {
  return batch.submitterEmail ? { name: batch.submitterEmail, platformId: batch.submitterPlatformId ?? undefined } : undefined;
}

function conversationOf(batch: ImportBatch): SlackImportConversation | undefined {
  const slack = (batch.conversation as { slack?: SlackImportConversation } | null)?.slack;
  return slack && typeof slack.channel === "string" ? slack : undefined;
}

/** Where to answer the person who acted, and where their upload is. */
interface Place {
  team?: string;
  user: string;
  channel: string;
  threadTs?: string;
  responseUrl?: string;
}

const BATCH_STATE_ERRORS: readonly string[] = [ErrorCode.BATCH_WRONG_STATE, ErrorCode.BATCH_ALREADY_DECIDED, ErrorCode.BATCH_EXPIRED];

export class SlackImports {
  readonly people: SlackPeople;
  private readonly progressThrottles = new Map<string, ProgressState>();
  private readonly delayed = new Map<string, { timer: NodeJS.Timeout; run: () => Promise<void> }>();
  private readonly running = new Set<Promise<void>>();
  private readonly refreshAgain = new Map<string, { extra: Partial<ImportView>; approval: boolean }>();
  private readonly refreshTries = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly edge: SlackEdgeContext,
    /** A client holding the bot token: used for everything here, in requests and in background jobs alike. */
    readonly client: webApi.WebClient,
    private readonly options: ImportFlowOptions,
  ) {
    this.people = new SlackPeople(edge.logger);
  }

  private get log() {
    return this.edge.logger;
  }

  private throttle(): Throttle {
    return new Throttle(this.options.progressIntervalMs ?? 1000, this.options.now ?? Date.now);
  }

  // ------------------------------------------------------------------ answers

  private async tell(place: Place, message: Message): Promise<void> {
    const target: ReplyTarget = { responseUrl: place.responseUrl, channel: place.channel, user: place.user };
    await replyEphemeral(this.client, target, message).catch((error: unknown) =>
      logFailure(this.log, error, { slackUser: place.user, while: "answering" }),
    );
  }

  private async fail(place: Place, error: unknown, where: Record<string, unknown>): Promise<void> {
    await replyFailure(this.client, { responseUrl: place.responseUrl, channel: place.channel, user: place.user }, error, this.log, where);
  }

  private async post(channel: string, threadTs: string | undefined, message: Message): Promise<string | undefined> {
    const { text, blocks } = renderMessage(message);
    const result = await callSlack("chat.postMessage", () =>
      this.client.chat.postMessage({ channel, text, blocks: slackBlocks(blocks), ...(threadTs ? { thread_ts: threadTs } : {}) }),
    );
    return result.ts;
  }

  /** Edits a message; on failure logs it and says whether Slack asked to wait (rate limit). */
  private async update(
    channel: string,
    ts: string,
    message: Message,
    where: Record<string, unknown>,
  ): Promise<{ ok: boolean; retryAfterMs?: number }> {
    const { text, blocks } = renderMessage(message);
    try {
      await callSlack("chat.update", () => this.client.chat.update({ channel, ts, text, blocks: slackBlocks(blocks) }));
      return { ok: true };
    } catch (error) {
      logFailure(this.log, error, { ...where, while: "updating an import message" });
      const limited = error instanceof SlackApiError && error.failure === "ratelimited";
      return { ok: false, retryAfterMs: limited ? Math.min(error.detail.retryAfter ?? 1, 30) * 1000 : undefined };
    }
  }

  /**
   * Runs `run` after `waitMs` (Slack's Retry-After), unless one already waits under `key`: then
   * that one runs the newer `run` instead. Holds up nothing; stop() drops what still waits and
   * waits for what already runs.
   */
  private later(key: string, waitMs: number, run: () => Promise<void>): void {
    if (this.stopped) {
      this.log.warn({ key }, "shutting down: a rate-limited Slack edit is not tried again");
      return;
    }
    const waiting = this.delayed.get(key);
    if (waiting) {
      waiting.run = run;
      return;
    }
    const entry = {
      run,
      timer: setTimeout(() => {
        this.delayed.delete(key);
        const running: Promise<void> = entry
          .run()
          .catch((error: unknown) => void logFailure(this.log, error, { key, while: "editing an import message again after a rate limit" }))
          .finally(() => this.running.delete(running));
        this.running.add(running);
      }, waitMs),
    };
    entry.timer.unref();
    this.delayed.set(key, entry);
  }

  /**
   * A refresh Slack rate-limited is done again after Retry-After, from the batch as it is then
   * (never a stale copy): no later edit may come to fix a message whose buttons are wrong.
   * Three rate limits in a row for a batch, and it gives up (logged).
   */
  private refreshLater(batchId: string, waitMs: number, extra: Partial<ImportView>, approval: boolean): void {
    const tries = (this.refreshTries.get(batchId) ?? 0) + 1;
    if (tries > 3) {
      this.refreshTries.delete(batchId);
      this.log.error({ batchId }, "import messages still rate-limited after 3 tries; they may show an old state until the next change");
      return;
    }
    this.refreshTries.set(batchId, tries);
    this.log.warn({ batchId, waitMs }, "import message edit rate-limited; refreshing again after Retry-After");
    const pending = this.refreshAgain.get(batchId);
    this.refreshAgain.set(batchId, { extra: { ...pending?.extra, ...extra }, approval: approval || Boolean(pending?.approval) });
    this.later(`refresh:${batchId}`, waitMs, async () => {
      const again = this.refreshAgain.get(batchId);
      this.refreshAgain.delete(batchId);
      try {
        await this.refresh(batchId, again?.extra, { approval: again?.approval ?? true });
      } catch (error) {
        this.refreshTries.delete(batchId);
        throw error;
      }
    });
  }

  /** At shutdown: drops the edits waiting for Slack's rate limit, waits for those running. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.delayed.size > 0)
      this.log.warn({ edits: this.delayed.size }, "shutting down: rate-limited Slack edits waiting to be tried again are dropped");
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    await Promise.allSettled([...this.running]);
  }

  // ------------------------------------------------------------------ the template

  async postTemplate(place: Place): Promise<void> {
    const where = { subcommand: "template", slackUser: place.user, team: place.team };
    try {
      const actor = await this.edge.identities.resolve(this.client, place.team, place.user);
      await this.edge.core.requireAdministrator(actor);
      const template = this.edge.core.importTemplate();
      const comment = renderText(importTemplateMessage({ fileName: template.fileName, howTo: template.howTo, invoke: HMS_COMMAND }));
      const channel = await this.reachable(place, (channel) =>
        uploadFile(this.client, { channel, fileName: template.fileName, bytes: template.bytes, comment, title: "HMS import template" }),
      );
      this.log.info({ ...where, channel }, "import template posted");
    } catch (error) {
      await this.fail(place, error, where);
    }
  }

  /**
   * Runs `work` in the person's conversation; where the bot is not a member (a channel it was
   * not invited to), in its DM with them instead. Returns the channel used.
   */
  private async reachable(place: Place, work: (channel: string) => Promise<unknown>): Promise<string> {
    try {
      await work(place.channel);
      return place.channel;
    } catch (error) {
      const code = error instanceof SlackApiError ? error.detail.slackError : undefined;
      if (code !== "not_in_channel" && code !== "channel_not_found") throw error;
      const opened = await callSlack("conversations.open", () => this.client.conversations.open({ users: place.user }));
      const dm = opened.channel?.id;
      if (!dm) throw error;
      await work(dm);
      return dm;
    }
  }

  // ------------------------------------------------------------------ uploads

  /** Opens the upload modal of `/hms import`. */
  async openUploadForm(place: Place & { triggerId: string }): Promise<void> {
    const metadata = JSON.stringify({ channel: place.channel, responseUrl: place.responseUrl });
    try {
      await callSlack("views.open", () =>
        this.client.views.open({ trigger_id: place.triggerId, view: renderModal(importFileForm({ metadata })) }),
      );
    } catch (error) {
      await this.fail(place, error, { subcommand: "import", slackUser: place.user, team: place.team });
    }
  }

  /**
   * A file to import: downloaded with the bot token, staged by the core, and its summary posted
   * in the thread (with the error report when rows need attention).
   */
  async receiveFile(place: Place, file: SlackFileRef): Promise<void> {
    const where = { action: "import upload", slackUser: place.user, team: place.team, file: file.id };
    let actor: Actor;
    let name = file.name ?? file.id;
    let bytes: Uint8Array;
    try {
      actor = await this.edge.identities.resolve(this.client, place.team, place.user);
      await this.edge.core.requireAdministrator(actor);
      const described = await describeFile(this.client, file);
      name = described.name;
      bytes = await downloadFile(described.url_private_download, this.options.botToken, { apiUrl: this.options.apiUrl });
    } catch (error) {
      await this.fail(place, error, where);
      return;
    }

    let batch: ImportBatch;
    let unknownColumns: string[];
    let reused: boolean;
    try {
      const staged = await this.edge.core.stageImport({
        actor,
        file: { name, bytes },
        conversation: {
          slack: {
            team: place.team,
            channel: place.channel,
            threadTs: place.threadTs,
            requester: place.user,
          } satisfies SlackImportConversation,
        },
      });
      batch = staged.batch;
      unknownColumns = staged.unknownColumns;
      reused = staged.reused;
      this.log.info(
        { ...where, batch: batch.code, reused: staged.reused, dataRows: batch.dataRows, attentionRows: batch.attentionRows },
        "import file staged",
      );
    } catch (error) {
      const answer = logFailure(this.log, error, where);
      const refused = isAppError(error) && error.code.startsWith("FILE_");
      if (!refused) {
        await this.tell(place, noticeMessage(answer.text));
        return;
      }
      // The file's problem goes where the file is, so the admin sees it next to it.
      try {
        await this.reachable(place, (channel) =>
          this.post(
            channel,
            channel === place.channel ? place.threadTs : undefined,
            importFileRefusedMessage({ fileName: name, problem: answer.text }),
          ),
        );
      } catch (postError) {
        await this.fail(place, postError, { ...where, while: "posting the refusal" });
      }
      return;
    }

    // The summary, in the upload's thread (or in the DM when the bot cannot post there).
    try {
      const summary = await this.edge.core.getImport({ actor, batchId: batch.id, attentionLimit: SUMMARY_ROWS });
      const previous = conversationOf(summary.batch);
      const view: ImportView = { ...summary, unknownColumns, reused, approvers: await this.approverPeople(previous) };
      let posted: { channel: string; ts?: string } | undefined;
      const channel = await this.reachable(place, async (ch) => {
        posted = { channel: ch, ts: await this.post(ch, ch === place.channel ? place.threadTs : undefined, importMessage(view)) };
      });
      const threadTs = channel === place.channel ? place.threadTs : undefined;
      const conversation: SlackImportConversation = {
        ...previous,
        team: place.team,
        channel,
        threadTs: threadTs ?? posted?.ts,
        summaryTs: posted?.ts,
        requester: place.user,
      };
      await this.edge.core.setImportConversation({ batchId: batch.id, conversation: { slack: conversation } });
      // The same file again while its batch is open: one batch, so one live summary.
      if (previous?.summaryTs && previous.summaryTs !== posted?.ts) {
        const superseded = importSupersededMessage({ batch: summary.batch });
        const edited = await this.update(previous.channel, previous.summaryTs, superseded, { batch: batch.code });
        if (edited.retryAfterMs) {
          this.later(
            `superseded:${previous.summaryTs}`,
            edited.retryAfterMs,
            async () => void (await this.update(previous.channel, previous.summaryTs!, superseded, { batch: batch.code })),
          );
        }
      }
      if (summary.batch.attentionRows > 0 && summary.batch.status === "VALIDATED")
        await this.attachReport(actor, summary.batch, conversation, place);
    } catch (error) {
      await this.fail(place, error, { ...where, batch: batch.code, while: "posting the summary" });
    }
  }

  private async attachReport(actor: Actor, batch: ImportBatch, conversation: SlackImportConversation, place: Place): Promise<void> {
    try {
      const report = await this.edge.core.importErrorReport({ actor, batchId: batch.id });
      await uploadFile(this.client, {
        channel: conversation.channel,
        threadTs: conversation.threadTs,
        fileName: report.fileName,
        bytes: report.bytes,
        title: `Rows needing attention in import ${batch.code}`,
        comment: `The ${report.rows.toLocaleString("en-US")} rows of import ${batch.code} that need attention, with the problems in the last column. Fix them and upload the file again.`,
      });
    } catch (error) {
      const { text } = logFailure(this.log, error, { action: "error report", batch: batch.code });
      await this.tell(
        place,
        noticeMessage(`The summary of import ${batch.code} is posted, but its error report could not be attached. ${text}`),
      );
    }
  }

  // ------------------------------------------------------------------ the messages of a batch

  private async approverPeople(conversation: SlackImportConversation | undefined) {
    return conversation?.approvers ? this.people.people(this.client, conversation.approvers) : undefined;
  }

  /** Edits the summary and the approval request to show the batch as it is now (buttons only where they may be clicked). */
  async refresh(batchId: string, extra: Partial<ImportView> = {}, { approval = true } = {}): Promise<void> {
    const summary = await this.edge.core.getImport({ batchId, attentionLimit: SUMMARY_ROWS });
    const conversation = conversationOf(summary.batch);
    if (!conversation) return;
    const where = { batch: summary.batch.code };
    const approvers = await this.approverPeople(conversation);
    const edits: { ok: boolean; retryAfterMs?: number }[] = [];
    if (conversation.summaryTs) {
      edits.push(
        await this.update(conversation.channel, conversation.summaryTs, importMessage({ ...summary, approvers, ...extra }), where),
      );
    }
    if (approval && conversation.approvalTs && conversation.approvalChannel) {
      const requester = { name: summary.batch.requesterEmail, platformId: conversation.requester };
      edits.push(
        await this.update(
          conversation.approvalChannel,
          conversation.approvalTs,
          approvalRequestMessage({ batch: summary.batch, requester, submitter: submitterOf(summary.batch), approvers: approvers ?? [] }), // [issue 9] submitter
          where,
        ),
      );
    }
    const waitMs = Math.max(0, ...edits.map((e) => e.retryAfterMs ?? 0));
    if (waitMs > 0) this.refreshLater(batchId, waitMs, extra, approval);
    else this.refreshTries.delete(batchId); // not rate-limited: the next limit counts from one again
  }

  private async refreshOrLog(batchId: string, extra: Partial<ImportView> = {}, options: { approval?: boolean } = {}): Promise<void> {
    await this.refresh(batchId, extra, options).catch((error: unknown) =>
      logFailure(this.log, error, { batchId, while: "refreshing import messages" }),
    );
  }

  /** After a click refused because the batch had moved on (decided, expired): its messages catch up, so stale buttons go. */
  async refreshIfMovedOn(error: unknown, batchId: string): Promise<void> {
    if (isAppError(error) && BATCH_STATE_ERRORS.includes(error.code)) await this.refreshOrLog(batchId);
  }

  // ------------------------------------------------------------------ clicks

  async create(place: Place, batchId: string): Promise<void> {
    const where = { action: "import create", slackUser: place.user, team: place.team, batchId };
    let actor: Actor;
    try {
      actor = await this.edge.identities.resolve(this.client, place.team, place.user);
      const submitted = await this.edge.core.submitImport({ actor, batchId });
      if (submitted.kind === "approved") {
        await this.runCreation(actor, submitted.batch, place);
        return;
      }
      await this.requestApproval(submitted.batch, submitted.approvers, place);
    } catch (error) {
      await this.fail(place, error, where);
      await this.refreshIfMovedOn(error, batchId);
    }
  }

  private async requestApproval(batch: ImportBatch, approvers: string[], place: Place): Promise<void> {
    const conversation = conversationOf(batch) ?? { channel: place.channel, requester: place.user };
    const people = await this.people.people(this.client, approvers);
    const requester = { name: batch.requesterEmail, platformId: conversation.requester };
    const message = approvalRequestMessage({ batch, requester, submitter: submitterOf(batch), approvers: people }); // [issue 9] submitter
    let channel = this.options.approvalChannel ?? conversation.channel;
    let ts: string | undefined;
    try {
      try {
        ts = await this.post(channel, this.options.approvalChannel ? undefined : conversation.threadTs, message);
      } catch (error) {
        // SLACK_APPROVAL_CHANNEL the bot cannot post in: the request goes to the thread rather than nowhere.
        const code = error instanceof SlackApiError ? error.detail.slackError : undefined;
        if (!this.options.approvalChannel || (code !== "not_in_channel" && code !== "channel_not_found" && code !== "is_archived"))
          throw error;
        logFailure(this.log, error, {
          batch: batch.code,
          channel,
          while: "posting the approval request in SLACK_APPROVAL_CHANNEL; posted in the import's thread instead",
        });
        channel = conversation.channel;
        ts = await this.post(channel, conversation.threadTs, message);
      }
    } catch (error) {
      // The batch waits for approval either way: the summary says so (with Cancel), and the admin is told what failed.
      await this.refreshOrLog(batch.id, {}, { approval: false });
      throw error;
    }
    const updated: SlackImportConversation = { ...conversation, approvalChannel: channel, approvalTs: ts, approvers };
    await this.edge.core.setImportConversation({ batchId: batch.id, conversation: { slack: updated } });
    this.log.info({ batch: batch.code, channel, approvers }, "import approval requested");
    await this.refreshOrLog(batch.id, {}, { approval: false }); // the request was just posted as it is
  }

  async approve(place: Place, value: string): Promise<void> {
    const { batchId, sha256Prefix } = parseApprovalValue(value);
    const where = { action: "import approve", slackUser: place.user, team: place.team, batchId };
    try {
      const actor = await this.edge.identities.resolve(this.client, place.team, place.user);
      const approved = await this.edge.core.approveImport({ actor, batchId, sha256Prefix });
      this.log.info({ ...where, batch: approved.code, approver: actor.email }, "import approved");
      await this.runCreation(actor, approved, place);
    } catch (error) {
      // The requester, a non-approver, a late click: they are told why; nothing else happens
      // (but a request found expired or decided loses its buttons).
      await this.fail(place, error, where);
      await this.refreshIfMovedOn(error, batchId);
    }
  }

  /** Reject opens a small form for the reason, only for someone who may reject now. */
  async openReject(place: Place & { triggerId: string }, value: string): Promise<void> {
    const { batchId, sha256Prefix } = parseApprovalValue(value);
    try {
      const actor = await this.edge.identities.resolve(this.client, place.team, place.user);
      const batch = await this.edge.core.checkImportDecision({ actor, batchId, sha256Prefix });
      const metadata = JSON.stringify({ batchId, sha256Prefix, channel: place.channel, responseUrl: place.responseUrl });
      await callSlack("views.open", () =>
        this.client.views.open({ trigger_id: place.triggerId, view: renderModal(rejectReasonForm({ code: batch.code, metadata })) }),
      );
    } catch (error) {
      await this.fail(place, error, { action: "import reject", slackUser: place.user, team: place.team, batchId });
      await this.refreshIfMovedOn(error, batchId);
    }
  }

  async cancel(place: Place, batchId: string): Promise<void> {
    await this.decide(place, batchId, "import cancel", (actor) => this.edge.core.cancelImport({ actor, batchId }));
  }

  async finish(place: Place, batchId: string): Promise<void> {
    await this.decide(place, batchId, "import finish", (actor) => this.edge.core.finishImport({ actor, batchId }));
  }

  async invite(place: Place, batchId: string): Promise<void> {
    await this.decide(place, batchId, "import invite", async (actor) => {
      // Sending can take a while: for an Administrator the buttons go at once (a refusal below puts them back).
      await this.edge.core.requireAdministrator(actor);
      await this.showInviting(batchId);
      const outcome = await this.edge.core.inviteImportedUsers({ actor, batchId });
      this.log.info({ batch: outcome.batch.code, ...outcome.counts }, "imported users invited");
      return { extra: { invitations: outcome.counts, mailConfigured: outcome.mailConfigured } };
    });
  }

  private async showInviting(batchId: string): Promise<void> {
    const { batch } = await this.edge.core.getImport({ batchId, attentionLimit: 0 });
    const conversation = conversationOf(batch);
    if (!awaitsInviteOrFinish(batch) || !conversation?.summaryTs) return;
    await this.update(
      conversation.channel,
      conversation.summaryTs,
      importMessage({ batch: { ...batch, status: "INVITING" }, attention: [] }),
      { batch: batch.code },
    );
  }

  /** A click whose use case moves the batch; then its messages show the new state. */
  private async decide(place: Place, batchId: string, action: string, run: (actor: Actor) => Promise<unknown>): Promise<void> {
    const where = { action, slackUser: place.user, team: place.team, batchId };
    try {
      const actor = await this.edge.identities.resolve(this.client, place.team, place.user);
      const result = (await run(actor)) as { extra?: Partial<ImportView> } | undefined;
      await this.refreshOrLog(batchId, result && "extra" in result ? result.extra : {});
    } catch (error) {
      await this.fail(place, error, where);
      // Shows the batch as it is: stale buttons go, and buttons hidden while the click was handled come back.
      await this.refreshOrLog(batchId, {}, { approval: false });
    }
  }

  // ------------------------------------------------------------------ creation and progress

  /** Creates the accounts, editing the summary with the progress (throttled), then the result. */
  private async runCreation(actor: Actor | undefined, batch: ImportBatch, place: Place): Promise<void> {
    // At once: the buttons go (Create, or Approve/Reject) and the summary shows 0 / N; that counts as the first edit.
    await this.refreshOrLog(batch.id);
    const throttle: ProgressState = { throttle: this.throttle(), shown: 0 };
    throttle.throttle.ready();
    try {
      await this.edge.core.createAccounts({
        actor,
        batchId: batch.id,
        chunkSize: this.options.chunkSize,
        onProgress: (p) => this.showProgress(p, throttle),
      });
    } catch (error) {
      // The batch stays CREATING and the background job carries on with it: no button to click again.
      if (!isPassingDatabaseError(error)) throw error;
      const paused = isAppError(error, ErrorCode.DATABASE_BUSY)
        ? "the HMS database is busy with other work"
        : "the HMS database is not answering";
      logFailure(this.log, error, { batch: batch.code, while: "creating accounts; the background job resumes them" });
      await this.tell(
        place,
        noticeMessage(
          `Creating the accounts of import ${batch.code} paused: ${paused}. It carries on by itself within a few minutes; the summary shows the progress.`,
        ),
      );
    } finally {
      // The final state always goes out, whatever happened in between.
      await this.refreshOrLog(batch.id);
    }
  }

  private async showProgress(progress: CreationProgress, state: ProgressState): Promise<void> {
    if (progress.batch.status !== "CREATING" || progress.done === state.shown) return;
    const conversation = conversationOf(progress.batch);
    if (!conversation?.summaryTs || !state.throttle.ready()) return;
    state.shown = progress.done;
    const view: ImportView = { batch: progress.batch, attention: [], progress: { done: progress.done, total: progress.total } };
    await this.update(conversation.channel, conversation.summaryTs, importMessage(view), { batch: progress.batch.code });
  }

  /** Background jobs: progress of a creation resumed after a crash. */
  async resumedProgress(progress: CreationProgress): Promise<void> {
    const id = progress.batch.id;
    if (progress.batch.status !== "CREATING") {
      this.progressThrottles.delete(id);
      await this.refreshOrLog(id);
      return;
    }
    let throttle = this.progressThrottles.get(id);
    if (!throttle) {
      throttle = { throttle: this.throttle() };
      this.progressThrottles.set(id, throttle);
    }
    await this.showProgress(progress, throttle).catch((error: unknown) => logFailure(this.log, error, { batch: progress.batch.code }));
  }

  /** Background jobs: approval requests that expired lose their buttons. */
  async expired(batches: ImportBatch[]): Promise<void> {
    for (const batch of batches) if (conversationOf(batch)) await this.refreshOrLog(batch.id);
  }
}

// ---------------------------------------------------------------------- Bolt listeners

interface ActionBody {
  user: { id: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string };
  container?: { channel_id?: string; message_ts?: string; thread_ts?: string };
  response_url?: string;
  trigger_id?: string;
  actions?: { action_id?: string; value?: string }[];
}

function placeOf(body: ActionBody): Place {
  return {
    team: body.team?.id ?? body.user.team_id,
    user: body.user.id,
    channel: body.channel?.id ?? body.container?.channel_id ?? "",
    threadTs: body.container?.thread_ts,
    responseUrl: body.response_url,
  };
}

function readMetadata(text: string | undefined): Record<string, string | undefined> {
  try {
    const parsed = JSON.parse(text ?? "{}") as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : undefined]));
  } catch {
    return {};
  }
}

type FileInputState = { files?: SlackFileRef[] | null };

export function registerImports(app: App, edge: SlackEdgeContext, imports: SlackImports): void {
  const onClick = (actionId: string, run: (place: Place, value: string, body: ActionBody) => Promise<void>) =>
    app.action({ type: "block_actions", action_id: actionId }, async ({ ack, body, action }) => {
      await ack();
      const value = (action as { value?: string }).value ?? "";
      await run(placeOf(body as unknown as ActionBody), value, body as unknown as ActionBody);
    });

  onClick(IMPORT_ACTIONS.create, (place, value) => imports.create(place, value));
  onClick(IMPORT_ACTIONS.cancel, (place, value) => imports.cancel(place, value));
  onClick(IMPORT_ACTIONS.approve, (place, value) => imports.approve(place, value));
  onClick(IMPORT_ACTIONS.reject, (place, value, body) => imports.openReject({ ...place, triggerId: body.trigger_id ?? "" }, value));
  onClick(IMPORT_ACTIONS.finish, (place, value) => imports.finish(place, value));
  onClick(IMPORT_ACTIONS.invite, (place, value) => imports.invite(place, value));

  // The upload modal: acknowledged with a notice at once; the file is fetched and checked after.
  app.view(IMPORT_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const values = view.state.values as Record<string, Record<string, FileInputState>>;
    const files = values[IMPORT_FILE_INPUT]?.[IMPORT_FILE_INPUT]?.files ?? [];
    const file = files[0];
    if (!file) {
      await ack(renderFormErrors({ [IMPORT_FILE_INPUT]: "Choose a CSV file." }));
      return;
    }
    const name = file.name ?? "the file";
    const text = `Checking ${name}… the summary will be posted in the conversation where you ran ${HMS_COMMAND} import.`;
    await ack({ response_action: "update", view: renderModal(noticeForm({ id: "hms_import_checking", title: "Import users", text })) });
    const place: Place = {
      team: body.team?.id ?? body.user.team_id,
      user: body.user.id,
      channel: metadata.channel ?? "",
      responseUrl: metadata.responseUrl,
    };
    if (!place.channel) {
      // Without a channel (opened elsewhere), the DM with the bot.
      const opened = await callSlack("conversations.open", () => imports.client.conversations.open({ users: body.user.id })).catch(
        () => undefined,
      );
      place.channel = opened?.channel?.id ?? "";
    }
    await imports.receiveFile(place, file);
  });

  // Reject's reason: an empty one keeps the form open; anything else closes it and the outcome shows in the messages.
  app.view(REJECT_FORM_ID, async ({ ack, body, view }) => {
    const metadata = readMetadata(view.private_metadata);
    const values = view.state.values as Record<string, Record<string, { value?: string | null }>>;
    const reason = values[REJECT_REASON_INPUT]?.[REJECT_REASON_INPUT]?.value ?? "";
    const place: Place = {
      team: body.team?.id ?? body.user.team_id,
      user: body.user.id,
      channel: metadata.channel ?? "",
      responseUrl: metadata.responseUrl,
    };
    const where = { action: "import reject", slackUser: place.user, team: place.team, batchId: metadata.batchId };
    const target: ReplyTarget = { responseUrl: place.responseUrl, channel: place.channel, user: place.user };

    const work = (async (): Promise<{ reasonError: string } | { done: ImportBatch } | { failed: unknown }> => {
      try {
        const actor = await edge.identities.resolve(imports.client, place.team, place.user);
        return {
          done: await edge.core.rejectImport({ actor, batchId: metadata.batchId ?? "", sha256Prefix: metadata.sha256Prefix, reason }),
        };
      } catch (error) {
        return isAppError(error, ErrorCode.REASON_REQUIRED) ? { reasonError: error.message } : { failed: error };
      }
    })();
    // The form stays open only for a missing reason, which needs the answer within Slack's 3 seconds.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), edge.submitDeadlineMs)));
    const first = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (first !== "late" && "reasonError" in first) {
      await ack(renderFormErrors({ [REJECT_REASON_INPUT]: first.reasonError }));
      return;
    }
    await ack();
    const outcome = first === "late" ? await work : first;
    if ("done" in outcome) {
      edge.logger.info({ ...where, batch: outcome.done.code, reason: outcome.done.reason }, "import rejected");
      await imports.refresh(outcome.done.id).catch((error: unknown) => logFailure(edge.logger, error, where));
      return;
    }
    const text = "reasonError" in outcome ? outcome.reasonError : logFailure(edge.logger, outcome.failed, where).text;
    await replyEphemeral(imports.client, target, noticeMessage(text)).catch((e: unknown) =>
      logFailure(edge.logger, e, { ...where, while: "answering" }),
    );
    if ("failed" in outcome && metadata.batchId) await imports.refreshIfMovedOn(outcome.failed, metadata.batchId);
  });
}

/** A message event carrying files (a DM file share, or a mention of the bot on a file message). */
export interface FileMessage {
  team?: string;
  user?: string;
  channel?: string;
  ts?: string;
  thread_ts?: string;
  files?: SlackFileRef[];
}

/** The files of a message, each staged on its own and answered in the message's thread. */
export async function receiveFiles(imports: SlackImports, message: FileMessage): Promise<void> {
  if (!message.user || !message.channel) return;
  for (const file of message.files ?? []) {
    await imports.receiveFile(
      { team: message.team, user: message.user, channel: message.channel, threadTs: message.thread_ts ?? message.ts },
      file,
    );
  }
}
