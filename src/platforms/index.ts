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
// Types only: the Teams edge itself is loaded when Teams is enabled (teams-ai costs ~1.3 s and ~50 MB to load).
import type { TeamsEdgeOptions } from "./teams/index.ts";

export interface PlatformsOptions {
  config: Pick<Config, "slack"> & Partial<Pick<Config, "teams">>;
  core: Core;
  http: Express;
  logger: Logger;
  /** Test seams for the Slack edge (Web API client options, clocks). */
  slack?: Pick<SlackEdgeOptions, "clientOptions" | "now" | "identity" | "drainTimeoutMs" | "submitDeadlineMs" | "downloadIdleTimeoutMs">;
  /** Test seams for the Teams edge (Bot Framework endpoints, the bot's token, deadlines, clocks). */
  teams?: Pick<
    TeamsEdgeOptions,
    "authEndpoints" | "botToken" | "identity" | "drainTimeoutMs" | "answerDeadlineMs" | "downloadIdleTimeoutMs"
  >;
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

export async function startPlatforms({ config, core, http, logger, slack, teams, imports }: PlatformsOptions): Promise<Platforms> {
  const chat = new Chat({ core, logger, imports });
  const stops: (() => Promise<void>)[] = [];
  if (config.slack) {
    const edge = await startSlack({ config: config.slack, core, chat, logger, http, ...slack });
    stops.push(() => edge.stop());
  } else {
    logger.info("Slack disabled: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) to enable it");
  }
  if (config.teams) {
    try {
      const { startTeams } = await import("./teams/index.ts");
      const edge = await startTeams({ config: config.teams, chat, logger, http, ...teams });
      stops.push(() => edge.stop());
    } catch (error) {
      // The edges already started stop again: start-up fails as one.
      for (const stop of stops.reverse()) await stop().catch(() => {});
      throw error;
    }
  } else {
    logger.info(
      "Teams disabled: set TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID (or TEAMS_AUTH=off for local tries) to enable it",
    );
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
