/**
 * The Slack edge: a Bolt app over the core. Over HTTP it is mounted on the foundation's server at
 * POST /slack/events; with an app-level token it connects with Socket Mode instead (no public
 * URL). Listeners parse payloads into core inputs, call the use cases and render the results;
 * no business rule lives here.
 */
import { App, type Authorize, type Receiver, SocketModeReceiver, webApi } from "@slack/bolt";
import type { Express } from "express";
import type { Logger } from "pino";
import type { Chat } from "../../chat/index.ts";
import type { SlackConfig } from "../../config.ts";
import type { Core } from "../../core/index.ts";
import { registerAddUser } from "./add-user.ts";
import { registerCommands } from "./commands.ts";
import type { SlackEdgeContext } from "./context.ts";
import { registerDirectory } from "./directory.ts";
import { registerEvents } from "./events.ts";
import { type IdentityOptions, SlackIdentities } from "./identity.ts";
import { registerImports } from "./imports.ts";
import { boltLogger } from "./logger.ts";
import { SlackHttpReceiver } from "./receiver.ts";
import { SlackSurface } from "./surface.ts";
import { toSlackApiError } from "./web.ts";
import { type Installation, workspaceGuard } from "./workspace.ts";

/** Slash commands, interactivity and events all arrive here (HTTP mode). */
export const SLACK_EVENTS_PATH = "/slack/events";

export interface SlackEdgeOptions {
  config: SlackConfig;
  core: Core;
  /** The conversations; the edge attaches its surface to it. */
  chat: Chat;
  logger: Logger;
  /** The foundation's HTTP app; HTTP mode mounts POST /slack/events on it. */
  http: Express;
  /** Web API client options over ours (tests: `retryConfig: { retries: 0 }`). */
  clientOptions?: webApi.WebClientOptions;
  /** The receiver's clock for the timestamp check, and the identity cache's. */
  now?: () => number;
  identity?: IdentityOptions;
  /** How long stop() waits for requests in progress, in ms. */
  drainTimeoutMs?: number;
  /** How long a modal submission may take before it is closed and its outcome sent as a message (Slack allows 3 s). */
  submitDeadlineMs?: number;
  /** How long a file download may go without a byte before it is given up (default 15 s). */
  downloadIdleTimeoutMs?: number;
}

export interface SlackEdge {
  /** Stops taking requests and waits (a while) for those in progress. */
  stop(): Promise<void>;
}

/**
 * The bot's own ids from auth.test, asked once and kept (a failure is asked again next time).
 * Bolt needs them to ignore the bot's own messages; the workspace rule needs the team.
 */
function botAuthorization(
  client: webApi.WebClient,
  token: string,
): { authorize: Authorize<boolean>; check(): Promise<void>; installation(): Promise<Installation> } {
  let ids: Promise<{ botId?: string; botUserId?: string; installation: Installation }> | undefined;
  const get = () => {
    ids ??= client.auth.test({ token }).then((r) => ({
      botId: r.bot_id,
      botUserId: r.user_id,
      installation: { teamId: r.team_id, enterpriseId: r.enterprise_id, url: r.url },
    }));
    ids.catch(() => (ids = undefined));
    return ids;
  };
  return {
    authorize: async () => {
      const { botId, botUserId } = await get();
      return { botToken: token, botId, botUserId };
    },
    check: async () => {
      await get();
    },
    installation: async () => (await get()).installation,
  };
}

export async function startSlack(options: SlackEdgeOptions): Promise<SlackEdge> {
  const { config, core, chat, logger } = options;
  const log = logger.child({ component: "slack" });
  const clientOptions: webApi.WebClientOptions = {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    // Interactive work cannot wait out a rate limit: fail at once and tell the person when to retry.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 250, maxTimeout: 2000 },
    timeout: 10_000,
    ...options.clientOptions,
  };
  const sdkLogger = boltLogger(logger);

  let receiver: Receiver;
  let httpReceiver: SlackHttpReceiver | undefined;
  if (config.appToken) {
    if (config.signingSecret)
      log.warn("SLACK_APP_TOKEN is set, so Slack uses Socket Mode: SLACK_SIGNING_SECRET is ignored and POST /slack/events is not served");
    receiver = new SocketModeReceiver({ appToken: config.appToken, logger: sdkLogger, installerOptions: { clientOptions } });
  } else {
    if (!config.signingSecret) throw new Error("SLACK_SIGNING_SECRET is required for Slack over HTTP");
    httpReceiver = new SlackHttpReceiver({ signingSecret: config.signingSecret, logger, now: options.now });
    receiver = httpReceiver;
  }

  const bot = botAuthorization(new webApi.WebClient(undefined, { ...clientOptions, logger: sdkLogger }), config.botToken);
  // A token Slack refuses stops start-up with one line; Slack unreachable only delays (asked again on the first request).
  try {
    await bot.check();
  } catch (error) {
    const failure = toSlackApiError("auth.test", error);
    if (failure?.failure === "auth") throw new Error(`Slack refused SLACK_BOT_TOKEN (auth.test: ${failure.detail.slackError})`);
    log.warn({ err: error, method: "auth.test" }, "could not reach Slack to check SLACK_BOT_TOKEN; will try again on the first request");
  }

  const app = new App({ receiver, authorize: bot.authorize, logger: sdkLogger, clientOptions, convoStore: false });
  // The bot token's own client: every call of the edge, in requests and in background work alike.
  const client = new webApi.WebClient(config.botToken, { ...clientOptions, logger: sdkLogger });
  const surface = new SlackSurface(client, log, config.approvalChannel);
  app.error(async (error) => {
    surface.answer(error, { while: "processing a Slack request" });
  });
  app.use(workspaceGuard({ installation: bot.installation, allowedTeams: config.allowedTeams, logger: log }));

  // Requests in progress, whatever the transport, so that stop() can let them finish.
  const inProgress = new Set<Promise<void>>();
  app.use(async ({ next }) => {
    const work = next();
    inProgress.add(work);
    try {
      await work;
    } finally {
      inProgress.delete(work);
    }
  });

  const edge: SlackEdgeContext = {
    chat,
    core,
    surface,
    client,
    identities: new SlackIdentities({ now: options.now, ...options.identity }),
    files: { botToken: config.botToken, apiUrl: config.apiUrl, idleTimeoutMs: options.downloadIdleTimeoutMs },
    logger: log,
    submitDeadlineMs: options.submitDeadlineMs ?? 2000,
  };
  registerEvents(app, edge);
  registerCommands(app, edge);
  registerAddUser(app, edge);
  registerImports(app, edge);
  registerDirectory(app, edge);
  chat.attach(surface);

  if (httpReceiver) {
    options.http.post(SLACK_EVENTS_PATH, httpReceiver.handle);
    await app.start();
    log.info({ mode: "http", path: SLACK_EVENTS_PATH }, `Slack listening at POST ${SLACK_EVENTS_PATH}`);
  } else {
    // Resolves once connected; Slack's SDK retries what it can (a rate limit), not a refused token or no network.
    try {
      await app.start();
    } catch (error) {
      const failure = toSlackApiError("apps.connections.open", error);
      if (failure?.failure === "auth")
        throw new Error(`Slack refused SLACK_APP_TOKEN (apps.connections.open: ${failure.detail.slackError})`);
      throw new Error(
        `could not connect to Slack with Socket Mode: ${failure?.message ?? (error instanceof Error ? error.message : String(error))}`,
      );
    }
    log.info({ mode: "socket" }, "Slack connected with Socket Mode");
  }

  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  return {
    async stop() {
      await app.stop();
      if (inProgress.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, drainTimeoutMs);
        });
        await Promise.race([Promise.allSettled([...inProgress]), timeout]);
        clearTimeout(timer);
      }
    },
  };
}
