/**
 * The real app composition for Teams tests: a fresh database with the usual directory, the
 * foundation's HTTP app with the platforms started on it as src/main.ts does (the real teams-ai
 * Application, the real core), listening on an ephemeral port; activities POSTed to /api/messages
 * carry a serviceUrl pointing at the fake Bot Connector, which records what the bot does. With
 * authentication on, requests carry tokens the fake's identity provider signs.
 */
import type { Server } from "node:http";
import { type Logger, pino } from "pino";
import type { TeamsConfig } from "../../src/config.ts";
import type { ImportSettings } from "../../src/core/import/types.ts";
import { type Core, createCore } from "../../src/core/index.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import type { DatabaseKind } from "../../src/db/database.ts";
import { createSmtpMailer } from "../../src/mail/smtp.ts";
import { type Platforms, type PlatformsOptions, startPlatforms } from "../../src/platforms/index.ts";
import type { AdaptiveCard } from "../../src/render/adaptive-cards.ts";
import { closeServer, createHttpApp, listen } from "../../src/server.ts";
import { expectValidCard } from "./adaptive-cards.ts";
import { openTestDatabase, type TestDatabase } from "./db.ts";
import { type ConnectorCall, FakeBotConnector } from "./fake-bot-connector.ts";
import { ADMIN, OTHER_ADMIN, PLAIN_USER, seedDirectory } from "./fixtures.ts";
import { LogLines } from "./slack-app.ts";
import * as A from "./teams-activities.ts";

export { LogLines };

/** The app registration of the tests (authentication on). */
export const APP_ID = "00000000-0000-0000-0000-00000000b0f1";

/** Teams users of the fake tenant, by HMS identity. */
export const TEAMS_USERS = {
  admin: { id: "29:1JiEH1nLmzqH5YT7Do_admin", aadObjectId: "af24b8a2-cfe8-453a-a9b4-4a917b1534ae", name: "Ada Admin", email: ADMIN.email },
  otherAdmin: {
    id: "29:1bSnHZ7Js2STWrgk_second",
    aadObjectId: "76b0b09f-d410-48fd-993e-84da521a597b",
    name: "Sam Second",
    email: OTHER_ADMIN.email,
  },
  plain: {
    id: "29:1URzNQM1x1PNMr1D7L5_plain",
    aadObjectId: "6b7b3b2a-2c4b-4175-8582-41c9e685c1b5",
    name: "Plain User",
    email: PLAIN_USER.email,
  },
  /** The members API shows no email or UPN for this one (a guest). */
  guest: { id: "29:1GuestNoMail", aadObjectId: "0d5c1b2a-0000-4000-8000-00000000gue5", name: "Guest (External)", email: undefined },
} as const;

export type HarnessUser = A.TeamsUser & { email?: string; upn?: string };

export interface InvokeAnswer {
  status: number;
  /** The Universal Actions response body: { statusCode, type, value }; or, for search, { type, value: { results } }. */
  body: { statusCode?: number; type?: string; value?: unknown } | undefined;
  /** The card answered, when the answer is one. */
  card?: Record<string, unknown>;
  /** The message answered, when the answer is text. */
  text?: string;
}

export interface TeamsHarness {
  t: TestDatabase;
  core: Core;
  imports: Platforms["imports"];
  chat: Platforms["chat"];
  fake: FakeBotConnector;
  logs: LogLines;
  logger: Logger;
  /** POST /api/messages of the app. */
  url: string;
  /** POSTs an activity; signs a token for it when authentication is on (`token`: another header, or none with null). */
  post(activity: Record<string, unknown>, options?: { token?: string | null }): Promise<{ status: number; text: string; json: unknown }>;
  /** A message typed by `user` (in their personal chat unless `conversation` is given). */
  say(
    text: string,
    options?: { user?: HarnessUser; conversation?: A.Conversation; mention?: boolean },
  ): Promise<{ status: number; activity: Record<string, unknown> }>;
  /** Waits for `count` messages (posts and replies) that match, in order. */
  waitForMessages(filter: (call: ConnectorCall) => boolean, count?: number, what?: string): Promise<ConnectorCall[]>;
  /** The card of a recorded post, reply or update. */
  cardOf(call: ConnectorCall): Record<string, unknown>;
  /** An invoke (a click, a refresh, a search, a consent) and its answer, the card validated. */
  invoke(activity: Record<string, unknown>): Promise<InvokeAnswer>;
  /** A click on a card the bot posted. */
  click(
    verb: string,
    data: Record<string, unknown>,
    options: { user?: HarnessUser; replyToId: string; conversation?: A.Conversation; trigger?: "manual" | "automatic" },
  ): Promise<InvokeAnswer>;
  /** Every card the bot sent so far (posts, replies, updates, invoke answers). */
  cards(): Record<string, unknown>[];
  /** Asserts every card the bot sent is a valid Adaptive Card 1.5 within the budget. */
  expectCardsValid(): void;
  /** Stops the platforms as shutdown does (the HTTP server keeps listening until close()). */
  stopPlatforms(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  auth?: "on" | "off";
  teams?: Partial<TeamsConfig>;
  platforms?: PlatformsOptions["teams"];
  seed?: boolean;
  imports?: Partial<ImportSettings>;
  smtpUrl?: string;
  flow?: PlatformsOptions["imports"];
  /** Also start Slack (the same core and chat layer for both). */
  slack?: PlatformsOptions["config"]["slack"];
}

/** The card of an activity the bot sent (its first Adaptive Card attachment). */
export function cardIn(activity: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const attachments = (activity?.attachments ?? []) as { contentType?: string; content?: Record<string, unknown> }[];
  return attachments.find((a) => a.contentType === "application/vnd.microsoft.card.adaptive")?.content;
}

/**
 * Every Action.Execute of a card (in action sets, and the card's own actions): verb, title and data.
 * One inside an Action.ShowCard (a confirmation) is reported by the button people see first (the
 * ShowCard's title), with the answer that goes ahead as `confirm`.
 */
export function actionsOf(
  card: Record<string, unknown> | undefined,
): { verb: string; title: string; data: Record<string, unknown>; confirm?: string }[] {
  const found: { verb: string; title: string; data: Record<string, unknown>; confirm?: string }[] = [];
  const walk = (value: unknown, inRefresh: boolean, shownAs?: string) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, inRefresh, shownAs);
      return;
    }
    if (!value || typeof value !== "object") return;
    const o = value as Record<string, unknown>;
    if (o.type === "Action.ShowCard") {
      walk(o.card, inRefresh, String(o.title ?? ""));
      return;
    }
    if (o.type === "Action.Execute" && !inRefresh) {
      const title = String(o.title ?? "");
      const data = (o.data ?? {}) as Record<string, unknown>;
      found.push(
        shownAs === undefined ? { verb: String(o.verb), title, data } : { verb: String(o.verb), title: shownAs, data, confirm: title },
      );
    }
    for (const [k, v] of Object.entries(o)) walk(v, inRefresh || k === "refresh", shownAs);
  };
  walk(card, false);
  return found;
}

/** The visible text of a card, one string. */
export function textOf(card: Record<string, unknown> | undefined): string {
  const out: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v);
      return;
    }
    if (!value || typeof value !== "object") return;
    const o = value as Record<string, unknown>;
    for (const k of ["text", "title", "value", "label", "placeholder"]) if (typeof o[k] === "string") out.push(o[k] as string);
    for (const [k, v] of Object.entries(o)) if (k !== "refresh" && k !== "msteams") walk(v);
  };
  walk(card?.body);
  walk(card?.actions);
  // Markdown undone: the visible words only.
  return out
    .join("\n")
    .replace(/\r/g, "\n")
    .replace(/\*\*/g, "")
    .replace(/\\([\\*_`[\]<>])/g, "$1");
}

export async function startTeamsHarness(kind: DatabaseKind, options: HarnessOptions = {}): Promise<TeamsHarness> {
  const t = await openTestDatabase(kind);
  if (options.seed !== false) await seedDirectory(t);
  const fake = await FakeBotConnector.start();
  for (const u of Object.values(TEAMS_USERS))
    fake.addMember({ id: u.id, name: u.name, aadObjectId: u.aadObjectId, email: u.email, userPrincipalName: u.email });

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
  const authOn = options.auth === "on";
  const teams: TeamsConfig = {
    auth: authOn ? { kind: "bot-framework", appId: APP_ID, password: "not-a-real-secret", tenantId: A.TENANT } : { kind: "off" },
    tenantId: A.TENANT,
    fileHosts: ["127.0.0.1"],
    ...options.teams,
  };
  let platforms: Platforms | undefined;
  let server: Server | undefined;
  const answered: Record<string, unknown>[] = [];
  let stopped: Promise<void> | undefined;
  try {
    platforms = await startPlatforms({
      config: { slack: options.slack, teams },
      core,
      http,
      logger,
      teams: {
        ...(authOn
          ? { authEndpoints: { ToBotFromChannelOpenIdMetadataUrl: fake.openIdMetadataUrl }, botToken: async () => "bot-token-from-entra" }
          : {}),
        ...options.platforms,
      },
      imports: options.flow,
    });
    const listening = await listen(http, 0);
    server = listening.server;
    const url = `http://127.0.0.1:${listening.port}/api/messages`;
    const serviceUrl = fake.serviceUrl;

    const harness: TeamsHarness = {
      t,
      core,
      imports: platforms.imports,
      chat: platforms.chat,
      fake,
      logs,
      logger,
      url,
      async post(activity, { token } = {}) {
        const header =
          token === null
            ? undefined
            : (token ?? (authOn ? `Bearer ${fake.token({ aud: APP_ID, serviceurl: activity.serviceUrl })}` : undefined));
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json; charset=utf-8", ...(header ? { authorization: header } : {}) },
          body: JSON.stringify(activity),
        });
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        return { status: res.status, text, json };
      },
      async say(text, { user = TEAMS_USERS.admin, conversation, mention } = {}) {
        const activity = A.message({ serviceUrl, from: user, conversation, text, mention });
        const { status } = await harness.post(activity);
        return { status, activity };
      },
      waitForMessages: (filter, count = 1, what = "messages") =>
        fake.waitFor((c) => (c.kind === "send" || c.kind === "reply") && filter(c), count, 15_000, what),
      cardOf(call) {
        const card = cardIn(call.body);
        if (!card) throw new Error(`no Adaptive Card in the ${call.kind} ${call.path}`);
        return card;
      },
      async invoke(activity) {
        const { status, json } = await harness.post(activity);
        const body = json as InvokeAnswer["body"];
        const answer: InvokeAnswer = { status, body };
        if (body?.type === "application/vnd.microsoft.card.adaptive") {
          answer.card = body.value as Record<string, unknown>;
          expectValidCard(answer.card as unknown as AdaptiveCard);
          answered.push(answer.card);
        } else if (body?.type === "application/vnd.microsoft.activity.message") answer.text = String(body.value);
        return answer;
      },
      click(verb, data, { user = TEAMS_USERS.admin, replyToId, conversation, trigger }) {
        return harness.invoke(A.action({ serviceUrl, from: user, conversation, verb, data, replyToId, trigger }));
      },
      cards() {
        const sent = fake.calls
          .filter((c) => c.kind === "send" || c.kind === "reply" || c.kind === "update")
          .map((c) => cardIn(c.body))
          .filter((c): c is Record<string, unknown> => Boolean(c));
        return [...sent, ...answered];
      },
      expectCardsValid() {
        for (const card of harness.cards()) expectValidCard(card as unknown as AdaptiveCard);
      },
      stopPlatforms() {
        stopped ??= platforms!.stop();
        return stopped;
      },
      async close() {
        mailer.close();
        await harness.stopPlatforms();
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
