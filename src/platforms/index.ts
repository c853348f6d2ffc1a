/**
 * The chat platforms the configuration enables, started over one core, one chat layer and the
 * foundation's HTTP app, and stopped together (before the database closes).
 */
import type { Express } from "express";
import type { Logger } from "pino";
import { Chat, type ImportFlowOptions } from "../chat/index.ts";
import type { Config } from "../config.ts";
import type { Core } from "../core/index.ts";
import type { ImportListeners } from "../jobs.ts";
import { type SlackEdgeOptions, startSlack } from "./slack/index.ts";

export interface PlatformsOptions {
  config: Pick<Config, "slack">;
  core: Core;
  http: Express;
  logger: Logger;
  /** Test seams for the Slack edge (Web API client options, clocks). */
  slack?: Pick<SlackEdgeOptions, "clientOptions" | "now" | "identity" | "drainTimeoutMs" | "submitDeadlineMs" | "downloadIdleTimeoutMs">;
  /** The import flow's seams: progress throttle and its clock, rows per creation chunk. */
  imports?: ImportFlowOptions;
}

export interface Platforms {
  /** Stops taking requests, lets those in progress and their follow-up work finish. */
  stop(): Promise<void>;
  /** Updates the platforms make when background jobs change an import. */
  imports: ImportListeners;
  /** The conversations over every platform (tests wait on it). */
  chat: Chat;
}

export async function startPlatforms({ config, core, http, logger, slack, imports }: PlatformsOptions): Promise<Platforms> {
  const chat = new Chat({ core, logger, imports });
  const stops: (() => Promise<void>)[] = [];
  if (config.slack) {
    const edge = await startSlack({ config: config.slack, core, chat, logger, http, ...slack });
    stops.push(() => edge.stop());
  } else {
    logger.info("Slack disabled: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) to enable it");
  }
  return {
    chat,
    imports: chat.background,
    async stop() {
      for (const stop of stops.reverse()) {
        await stop().catch((error: unknown) => logger.error({ err: error }, "a platform did not stop cleanly"));
      }
      // Then the work the requests left running (creations, posts) and the edits waiting out a rate limit.
      await chat.stop();
    },
  };
}
