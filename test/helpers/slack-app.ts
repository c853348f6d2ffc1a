/**
 * The real app composition for Slack tests: a fresh database with the usual directory, the
 * foundation's HTTP app with the platforms started on it exactly as src/main.ts does (real Bolt,
 * real core), listening on an ephemeral port, talking to a fake Slack Web API.
 */
import type { Server } from "node:http";
import { type Logger, pino } from "pino";
import type { SlackConfig } from "../../src/config.ts";
import type { ImportSettings } from "../../src/core/import/types.ts";
import { type Core, createCore } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import type { DatabaseKind } from "../../src/db/database.ts";
import { createSmtpMailer } from "../../src/mail/smtp.ts";
import { type Platforms, type PlatformsOptions, startPlatforms } from "../../src/platforms/index.ts";
import { closeServer, createHttpApp, listen } from "../../src/server.ts";
import { openTestDatabase, type TestDatabase } from "./db.ts";
import { FAKE_TEAM, FakeSlack, type RecordedCall } from "./fake-slack.ts";
import { ADMIN, OTHER_ADMIN, PLAIN_USER, seedDirectory } from "./fixtures.ts";
import {
  blockActionsPayload,
  commandBody,
  eventBody,
  fileSharePayload,
  fixture,
  interactionBody,
  postSigned,
  SIGNING_SECRET,
  type SlackAnswer,
} from "./slack-requests.ts";

/** Slack users of the fake workspace, by HMS identity. */
export const SLACK_USERS = {
  admin: { id: "U0ADMIN", email: ADMIN.email, name: "Ada Admin" },
  otherAdmin: { id: "U0ADMIN2", email: OTHER_ADMIN.email, name: "Sam Second" },
  plain: { id: "U0PLAIN", email: PLAIN_USER.email, name: "Plain User" },
  /** users.info shows no email for this one (as without users:read.email). */
  noEmail: { id: "U0NOMAIL", email: undefined, name: "No Mail" },
} as const;

/** JSON log lines, captured. */
export class LogLines {
  readonly lines: Record<string, unknown>[] = [];
  write(line: string): void {
    this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  find(match: Record<string, unknown>): Record<string, unknown> | undefined {
    return this.lines.find((l) => Object.entries(match).every(([k, v]) => l[k] === v));
  }
  messages(): string[] {
    return this.lines.map((l) => String(l.msg));
  }
}

export interface StateValues {
  email?: string;
  name?: string;
  group?: string;
  role?: string;
  exchangeDomain?: string;
  exchangeUsername?: string;
}

/** view.state.values as Slack sends them for the Add user modal. */
export function stateValues(values: StateValues): Record<string, Record<string, unknown>> {
  const text = (v: string | undefined) => ({ type: "plain_text_input", value: v ?? null });
  const selected = (v: string | undefined) => (v ? { text: { type: "plain_text", text: v, emoji: true }, value: v } : null);
  return {
    email: { email: text(values.email) },
    name: { name: text(values.name) },
    group: { group: { type: "external_select", selected_option: selected(values.group) } },
    role: { role: { type: "radio_buttons", selected_option: selected(values.role ?? "User") } },
    exchangeDomain: { exchangeDomain: text(values.exchangeDomain) },
    exchangeUsername: { exchangeUsername: text(values.exchangeUsername) },
  };
}

export interface SlackHarness {
  t: TestDatabase;
  /** The core the app runs on (t.core unless import settings or mail were given). */
  core: Core;
  /** What the platforms give the background jobs (expired approvals, resumed progress). */
  imports: Platforms["imports"];
  fake: FakeSlack;
  logs: LogLines;
  logger: Logger;
  eventsUrl: string;
  /** Runs `/hms <text>` as `user`; the response_url points at the fake. */
  command(text: string, options?: { user?: string; channel?: string }): Promise<SlackAnswer & { responseUrl: string }>;
  /** What was posted to a response_url. */
  responses(responseUrl: string): RecordedCall[];
  /** Waits until `count` posts reached `responseUrl`. */
  waitForResponse(responseUrl: string, count?: number): Promise<RecordedCall[]>;
  /** `/hms add-user [email]`, then the views.open call it made. */
  openAddUser(email?: string, user?: string): Promise<{ open: RecordedCall; view: Record<string, unknown>; responseUrl: string }>;
  /** The Group select asking for options. */
  suggest(value: string, user?: string): Promise<SlackAnswer>;
  /** Submits a view the bot opened, with these values typed in. */
  submit(view: Record<string, unknown>, values: StateValues, user?: string): Promise<SlackAnswer>;
  event(payload: unknown, headers?: Record<string, string>): Promise<SlackAnswer>;
  /** Submits a view the bot opened with raw view.state.values. */
  submitState(view: Record<string, unknown>, values: Record<string, Record<string, unknown>>, user?: string): Promise<SlackAnswer>;
  /** Clicks a button of a message the bot posted; ephemeral answers go to the returned response_url. */
  click(
    actionId: string,
    value: string,
    options?: { user?: string; channel?: string; messageTs?: string; threadTs?: string },
  ): Promise<SlackAnswer & { responseUrl: string }>;
  /** A message event with files: a DM file share, or a channel message mentioning the bot. */
  shareFiles(
    files: Record<string, unknown>[],
    options?: { user?: string; channel?: string; mention?: boolean; ts?: string },
  ): Promise<SlackAnswer>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  slack?: Partial<SlackConfig>;
  platforms?: PlatformsOptions["slack"];
  seed?: boolean;
  /** Import settings (approval policy…) for the app's core; default: approval always. */
  imports?: Partial<ImportSettings>;
  /** SMTP server for invitations (test/helpers/smtp.ts); unset: no mail configured. */
  smtpUrl?: string;
  /** The import flow's seams (progress throttle and its clock, rows per creation chunk). */
  flow?: PlatformsOptions["imports"];
  /** Scripts the fake before the app starts (e.g. what auth.test answers at start-up). */
  beforeStart?: (fake: FakeSlack) => void;
}

export async function startSlackHarness(kind: DatabaseKind, options: HarnessOptions = {}): Promise<SlackHarness> {
  const t = await openTestDatabase(kind);
  if (options.seed !== false) await seedDirectory(t);
  const fake = await FakeSlack.start();
  for (const u of Object.values(SLACK_USERS)) fake.addUser({ id: u.id, email: u.email, name: u.name });
  options.beforeStart?.(fake);

  const mailer = createSmtpMailer({
    smtpUrl: options.smtpUrl,
    from: "HMS <hms@corp.example.org>",
    enrollUrl: "https://hms.example.com/enroll",
  });
  const core =
    options.imports || options.smtpUrl
      ? createCore({
          files: csvImportFormat,
          store: t.store,
          now: () => t.clock.now,
          imports: { approvalPolicy: { kind: "always" }, approvers: [], approvalTtlHours: 72, ...options.imports },
          mailer,
        })
      : t.core;
  const logs = new LogLines();
  const logger = pino({ level: "debug" }, logs);
  const http = createHttpApp({ logger, health: { database: kind, ready: () => true, ping: () => t.db.ping() } });
  let platforms: Platforms | undefined;
  let server: Server | undefined;
  try {
    platforms = await startPlatforms({
      config: { slack: { botToken: "xoxb-hms-test", signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl, ...options.slack } },
      core,
      http,
      logger,
      slack: { clientOptions: { retryConfig: { retries: 0 } }, ...options.platforms },
      imports: options.flow,
    });
    const listening = await listen(http, 0);
    server = listening.server;
    const eventsUrl = `http://127.0.0.1:${listening.port}/slack/events`;
    let triggers = 0;
    let events = 0;

    const harness: SlackHarness = {
      t,
      core,
      imports: platforms.imports,
      fake,
      logs,
      logger,
      eventsUrl,
      async command(text, { user = SLACK_USERS.admin.id, channel = "C0ITADMINS" } = {}) {
        const responseUrl = fake.responseUrl();
        const fields = {
          ...fixture<Record<string, string>>("slash-command"),
          text,
          user_id: user,
          user_name: user.toLowerCase(),
          channel_id: channel,
          response_url: responseUrl,
          trigger_id: `1234567890123.1111111111.${String(++triggers).padStart(32, "0")}`,
        };
        return { ...(await postSigned(eventsUrl, commandBody(fields))), responseUrl };
      },
      responses: (responseUrl) => fake.callsTo("response_url").filter((c) => responseUrl.endsWith(c.path)),
      waitForResponse: (responseUrl, count = 1) =>
        fake.waitForCalls((c) => c.method === "response_url" && responseUrl.endsWith(c.path), count, 5000, `answers at ${responseUrl}`),
      async openAddUser(email, user) {
        const before = fake.callsTo("views.open").length;
        const answer = await harness.command(`add-user${email ? ` ${email}` : ""}`, { user });
        if (answer.status !== 200) throw new Error(`/hms add-user answered ${answer.status}`);
        const open = (await fake.waitFor("views.open", before + 1))[before]!;
        return { open, view: open.args.view as Record<string, unknown>, responseUrl: answer.responseUrl };
      },
      suggest(value, user = SLACK_USERS.admin.id) {
        const payload = fixture("block-suggestion");
        payload.value = value;
        payload.user = { ...(payload.user as object), id: user };
        return postSigned(eventsUrl, interactionBody(payload));
      },
      submit(view, values, user = SLACK_USERS.admin.id) {
        const payload = fixture("view-submission");
        payload.user = { ...(payload.user as object), id: user };
        payload.view = { ...(payload.view as object), ...view, team_id: FAKE_TEAM.id, state: { values: stateValues(values) } };
        return postSigned(eventsUrl, interactionBody(payload));
      },
      event(payload, headers) {
        return postSigned(eventsUrl, { ...eventBody(payload), headers });
      },
      submitState(view, values, user = SLACK_USERS.admin.id) {
        const payload = fixture("view-submission");
        payload.user = { ...(payload.user as object), id: user };
        payload.view = { ...(payload.view as object), ...view, team_id: FAKE_TEAM.id, state: { values } };
        return postSigned(eventsUrl, interactionBody(payload));
      },
      async click(
        actionId,
        value,
        { user = SLACK_USERS.admin.id, channel = "C0ITADMINS", messageTs = "1700000100.000200", threadTs } = {},
      ) {
        const responseUrl = fake.responseUrl();
        const triggerId = `1234567890123.1111111111.${String(++triggers).padStart(32, "0")}`;
        const payload = blockActionsPayload({ actionId, value, user, channel, messageTs, threadTs, responseUrl, triggerId });
        return { ...(await postSigned(eventsUrl, interactionBody(payload))), responseUrl };
      },
      shareFiles(
        files,
        { user = SLACK_USERS.admin.id, channel, mention = false, ts = `1700000${String(++events).padStart(3, "0")}.000100` } = {},
      ) {
        const eventId = `Ev0HMSF${String(++events).padStart(5, "0")}`;
        return postSigned(eventsUrl, eventBody(fileSharePayload({ eventId, user, ts, files, channel, mention })));
      },
      async close() {
        mailer.close();
        await platforms?.stop();
        if (server) await closeServer(server);
        await fake.close();
        await t.close();
      },
    };
    return harness;
  } catch (error) {
    await platforms?.stop().catch(() => {});
    if (server) await closeServer(server);
    await fake.close();
    await t.close();
    throw error;
  }
}
