/**
 * The Microsoft Teams edge: a teams-ai Application on the foundation's express server at
 * POST /api/messages. Requests are authenticated with the Bot Framework (a single-tenant app
 * registration; TEAMS_AUTH=off runs without, for local tries), activities from another tenant
 * than TEAMS_TENANT_ID are refused, then the Application routes them: messages (commands, CSVs in
 * personal chat) are handled after the turn answered; invokes (card actions, the Group typeahead,
 * file consent) answer within a deadline with what to show now, the rest detached. Outgoing calls
 * go through the edge's own Bot Connector client. Loaded only when Teams is enabled (teams-ai
 * costs about 1.3 s and 50 MB to load).
 */
// The two modules the edge uses, not the package's index: that one also loads its AI planners,
// models and tokenizers, ~12 MB of heap the bot never uses.
import { Application } from "@microsoft/teams-ai/lib/Application.js";
import { TeamsAdapter } from "@microsoft/teams-ai/lib/TeamsAdapter.js";
import { type Activity, ConfigurationServiceClientCredentialFactory, type TurnContext } from "botbuilder";
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import type { Chat } from "../../chat/index.ts";
import type { TeamsConfig } from "../../config.ts";
import { GROUPS_DATASET, searchGroups } from "./add-user.ts";
import { handleMessage } from "./commands.ts";
import { BotConnector, type BotToken } from "./connector.ts";
import { placeOf, type TeamsEdgeContext, tenantOf } from "./context.ts";
import { type IdentityOptions, TeamsIdentities } from "./identity.ts";
import { acceptFile, declineFile, handleAction } from "./imports.ts";
import { answerInvoke } from "./invoke.ts";
import { routeLibraryLogs, withLibraryLogs } from "./logger.ts";
import { cardActivity, TeamsSurface } from "./surface.ts";

/** Everything from Teams arrives here (the messaging endpoint of the Azure Bot resource). */
export const TEAMS_MESSAGES_PATH = "/api/messages";

/** Bot Framework endpoints of the public cloud (tests point them at local fakes). */
const PUBLIC_CLOUD = {
  ToChannelFromBotLoginUrl: "https://login.microsoftonline.com/botframework.com",
  ToChannelFromBotOAuthScope: "https://api.botframework.com",
  ToBotFromChannelTokenIssuer: "https://api.botframework.com",
  ToBotFromChannelOpenIdMetadataUrl: "https://login.botframework.com/v1/.well-known/openidconfiguration",
  ToBotFromEmulatorOpenIdMetadataUrl: "https://login.microsoftonline.com/botframework.com/v2.0/.well-known/openid-configuration",
  OAuthUrl: "https://api.botframework.com",
  CallerId: "urn:botframework:azure",
};

export interface TeamsEdgeOptions {
  config: TeamsConfig;
  chat: Chat;
  logger: Logger;
  /** The foundation's HTTP app; POST /api/messages is mounted on it. */
  http: Express;
  /** Bot Framework endpoints over the public cloud's (tests: a local OpenID metadata document). */
  authEndpoints?: Partial<typeof PUBLIC_CLOUD>;
  /** The bot's token for outgoing calls (default: the app registration's, from Microsoft Entra). */
  botToken?: BotToken;
  identity?: IdentityOptions;
  /** How long stop() waits for turns in progress, in ms. */
  drainTimeoutMs?: number;
  /** How long an invoke may work before it is answered with what is known (default 1.5 s; Teams waits a few seconds). */
  answerDeadlineMs?: number;
  /** How long a file download may go without a byte before it is given up (default 15 s). */
  downloadIdleTimeoutMs?: number;
}

export interface TeamsEdge {
  /** Stops taking turns and waits (a while) for those in progress. */
  stop(): Promise<void>;
}

/** The adapter with its two steps apart: authenticate (then the edge checks the tenant), then run the turn. */
class HmsTeamsAdapter extends TeamsAdapter {
  authenticate(activity: Activity, authHeader: string) {
    return this.botFrameworkAuthentication.authenticateRequest(activity, authHeader);
  }

  runTurn(auth: Awaited<ReturnType<HmsTeamsAdapter["authenticate"]>>, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(auth, activity, logic);
  }
}

/** Whether an error from authenticating a request means the request is not authorized (401), and why. */
function authFailure(error: unknown): { status: number; reason: string } | undefined {
  const e = error as { name?: string; message?: string; statusCode?: unknown };
  if (e?.name === "JsonWebTokenError" || e?.name === "TokenExpiredError" || e?.name === "NotBeforeError")
    return { status: 401, reason: e.message ?? String(error) };
  if (typeof e?.statusCode === "number" && /Unauthorized|token|Signing Key|issuer|audience|AppId/i.test(e.message ?? ""))
    return { status: e.statusCode === 401 || e.statusCode === 403 ? e.statusCode : 401, reason: e.message ?? String(error) };
  return undefined;
}

/** The fields every activity needs before it is routed (teams-ai's turn state refuses it otherwise). */
function missingFields(activity: Partial<Activity>): string[] {
  const missing: string[] = [];
  if (typeof activity.type !== "string" || !activity.type) missing.push("type");
  if (!activity.serviceUrl) missing.push("serviceUrl");
  if (!activity.channelId) missing.push("channelId");
  if (!activity.conversation?.id) missing.push("conversation.id");
  if (!activity.from?.id) missing.push("from.id");
  if (!activity.recipient?.id) missing.push("recipient.id");
  return missing;
}

/** The activity as plain data, to use after its turn has answered (botbuilder revokes the turn's context). */
const detach = (activity: Activity): Partial<Activity> => JSON.parse(JSON.stringify(activity)) as Partial<Activity>;

export async function startTeams(options: TeamsEdgeOptions): Promise<TeamsEdge> {
  const { config, chat, logger } = options;
  const log = logger.child({ component: "teams" });
  const auth = config.auth;
  const authConfig =
    auth.kind === "bot-framework"
      ? {
          MicrosoftAppId: auth.appId,
          MicrosoftAppPassword: auth.password,
          MicrosoftAppType: "SingleTenant",
          MicrosoftAppTenantId: auth.tenantId,
          ...(options.authEndpoints ? { ...PUBLIC_CLOUD, ...options.authEndpoints } : {}),
        }
      : {};
  const adapter = new HmsTeamsAdapter(authConfig);
  const botToken: BotToken =
    options.botToken ??
    (auth.kind === "bot-framework"
      ? (() => {
          const factory = new ConfigurationServiceClientCredentialFactory(authConfig);
          let credentials: Promise<{ getToken?: (force?: boolean) => Promise<string> }> | undefined;
          return async () => {
            credentials ??= factory.createCredentials(
              auth.appId,
              PUBLIC_CLOUD.ToChannelFromBotOAuthScope,
              PUBLIC_CLOUD.ToChannelFromBotLoginUrl,
              true,
            ) as Promise<{ getToken?: (force?: boolean) => Promise<string> }>;
            return (await credentials).getToken?.();
          };
        })()
      : async () => undefined);

  const connector = new BotConnector(botToken);
  const surface = new TeamsSurface(connector, log, config.approvalConversation);
  const edge: TeamsEdgeContext = {
    chat,
    surface,
    connector,
    identities: new TeamsIdentities(connector, surface.directory, options.identity, log),
    fileHosts: config.fileHosts,
    downloadIdleTimeoutMs: options.downloadIdleTimeoutMs,
    logger: log,
    answerDeadlineMs: options.answerDeadlineMs ?? 1500,
  };

  const app = new Application({
    adapter,
    botAppId: auth.kind === "bot-framework" ? auth.appId : undefined,
    // One typing timer is shared by all turns of an Application (measured): progress shows on the card instead.
    startTypingTimer: false,
    removeRecipientMention: true,
    longRunningMessages: false,
  });
  app.error(async (context, error) => {
    surface.answer(error, { while: "processing a Teams activity", activity: context.activity?.type, name: context.activity?.name });
  });

  // Messages are handled after the turn answered: Teams waits, but nothing here needs it to.
  app.activity("message", async (context) => {
    const activity = detach(context.activity);
    chat.later("teams message", () => handleMessage(edge, activity));
  });
  // Installed in a personal chat: the help, so the admin knows what to type.
  app.conversationUpdate("membersAdded", async (context) => {
    const activity = detach(context.activity);
    const botAdded = activity.membersAdded?.some((m) => m.id === activity.recipient?.id);
    if (!botAdded || placeOf(activity).kind !== "personal") return;
    chat.later("teams welcome", async () => {
      const place = placeOf(activity);
      const help = chat.help(surface);
      await surface
        .send(place, cardActivity(surface.card(help), help.summary))
        .catch((error: unknown) => surface.answer(error, { while: "welcoming" }));
    });
  });
  // Every Action.Execute of the bot's cards, answered by the edge itself (see invoke.ts).
  app.adaptiveCards.actionExecute(/.*/, async (context, _state, data: Record<string, unknown>) => {
    const value = (context.activity.value ?? {}) as { action?: { verb?: string } };
    const verb = value.action?.verb ?? "";
    // Whatever fails, the click is answered (an unanswered invoke shows the person an error of Teams').
    const answer = await handleAction(edge, detach(context.activity), verb, data ?? {}).catch((error: unknown) => ({
      text: surface.answer(error, { verb, while: "answering a card action" }).text,
    }));
    await answerInvoke(context, answer);
    return "";
  });
  app.adaptiveCards.search(GROUPS_DATASET, async (context, _state, query) =>
    searchGroups(edge, detach(context.activity), query.parameters.queryText),
  );
  app.fileConsentAccept(async (context, _state, response) => acceptFile(edge, detach(context.activity), response));
  app.fileConsentDecline(async (context, _state, response) => declineFile(edge, detach(context.activity), response));

  chat.attach(surface);
  const restoreConsole = routeLibraryLogs();

  // Turns in progress, so that stop() can let them finish.
  const inProgress = new Set<Promise<unknown>>();
  let stopping = false;

  const handle = async (req: Request, res: Response) => {
    if (stopping) {
      res.status(503).set("retry-after", "5").end();
      return;
    }
    const activity = req.body as Activity;
    const missing = activity && typeof activity === "object" && !Array.isArray(activity) ? missingFields(activity) : ["the activity"];
    if (missing.length > 0) {
      log.warn({ missing }, "teams: a request without a usable activity refused");
      res.status(400).json({ error: `missing ${missing.join(", ")}` });
      return;
    }
    const work = withLibraryLogs(log, async () => {
      let authenticated: Awaited<ReturnType<HmsTeamsAdapter["authenticate"]>>;
      try {
        authenticated = await adapter.authenticate(activity, req.get("authorization") ?? "");
      } catch (error) {
        const failure = authFailure(error);
        if (!failure) throw error;
        log.warn({ reason: failure.reason, type: activity.type, serviceUrl: activity.serviceUrl }, "teams: request not authenticated");
        return { status: failure.status };
      }
      const tenant = tenantOf(activity);
      if (config.tenantId && tenant !== config.tenantId) {
        log.warn(
          { tenant: tenant ?? null, expected: config.tenantId, type: activity.type, from: activity.from?.id },
          "teams: activity from another tenant refused; nothing done",
        );
        return { status: 403 };
      }
      surface.heard(activity.serviceUrl, activity.conversation.id);
      return (await adapter.runTurn(authenticated, activity, async (context) => void (await app.run(context)))) ?? { status: 200 };
    });
    inProgress.add(work);
    try {
      const answer = await work;
      if (answer.body === undefined) res.status(answer.status).end();
      else res.status(answer.status).json(answer.body);
    } catch (error) {
      surface.answer(error, { while: "processing a Teams request", type: activity.type });
      if (!res.headersSent) res.status(500).end();
    } finally {
      inProgress.delete(work);
    }
  };

  options.http.post(
    TEAMS_MESSAGES_PATH,
    express.json({ limit: "1mb" }),
    (req: Request, res: Response, next: NextFunction) => void handle(req, res).catch(next),
    (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
      // A body that is not JSON (express.json refused it).
      log.warn({ err: error }, "teams: a request whose body is not JSON refused");
      if (!res.headersSent) res.status(400).json({ error: "the body is not a JSON activity" });
    },
  );
  log.info(
    {
      path: TEAMS_MESSAGES_PATH,
      auth: auth.kind,
      tenant: config.tenantId ?? null,
      approvalConversation: config.approvalConversation ?? null,
    },
    `Teams listening at POST ${TEAMS_MESSAGES_PATH}${auth.kind === "off" ? " WITHOUT authentication (TEAMS_AUTH=off)" : ""}`,
  );
  if (!config.approvalConversation)
    log.info("TEAMS_APPROVAL_CONVERSATION is not set: approval requests go to the import's conversation (the requester's personal chat)");

  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  return {
    async stop() {
      stopping = true;
      if (inProgress.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainTimeoutMs);
        });
        await Promise.race([Promise.allSettled([...inProgress]), timeout]);
        clearTimeout(timer);
      }
      restoreConsole();
    },
  };
}
