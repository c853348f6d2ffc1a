/**
 * The chat platforms the configuration enables, started over one core and the foundation's HTTP
 * app, and stopped together (before the database closes).
 */
import type { Express } from "express";
import type { Logger } from "pino";
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
  slack?: Pick<SlackEdgeOptions, "clientOptions" | "now" | "identity" | "drainTimeoutMs" | "submitDeadlineMs" | "imports">;
}

export interface Platforms {
  /** Stops taking requests and lets those in progress finish. */
  stop(): Promise<void>;
  /** Updates the platforms make when background jobs change an import. */
  imports: ImportListeners;
}

export async function startPlatforms({ config, core, http, logger, slack }: PlatformsOptions): Promise<Platforms> {
  const stops: (() => Promise<void>)[] = [];
  const imports: Required<ImportListeners> = { expired: async () => {}, progress: () => {} };
  if (config.slack) {
    const edge = await startSlack({ config: config.slack, core, logger, http, ...slack });
    stops.push(() => edge.stop());
    imports.expired = (batches) => edge.imports.expired(batches);
    imports.progress = (progress) => edge.imports.resumedProgress(progress);
  } else {
    logger.info("Slack disabled: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode) to enable it");
  }
  return {
    imports,
    async stop() {
      for (const stop of stops.reverse()) {
        await stop().catch((error: unknown) => logger.error({ err: error }, "a platform did not stop cleanly"));
      }
    },
  };
}
