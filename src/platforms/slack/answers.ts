/**
 * What a Slack user is told about Slack's own failures (the chat layer's table covers HMS's):
 * Web API failures by kind, and an identity Slack will not tell us.
 */

import { ASK_OPERATOR } from "../../chat/answers.ts";
import type { Answer } from "../../chat/index.ts";
import { SlackNoEmailError } from "./identity.ts";
import { SlackApiError, type SlackFailure } from "./web.ts";

/** Slack errors about this request that no retry changes: saying "try again" would mislead. */
const LASTING_ERRORS = new Set([
  "file_not_found",
  "file_deleted",
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "user_not_found",
  "users_not_found",
  "restricted_action",
  "no_permission",
  "invalid_blocks",
  "msg_too_long",
  "the file is not stored on Slack",
]);

const SLACK_FAILURES: Record<SlackFailure, (e: SlackApiError) => Answer> = {
  ratelimited: (e) => ({
    text: `Slack is rate-limiting HMS userbot right now. Try again in ${e.detail.retryAfter ?? 30} seconds.`,
    level: "warn",
    retry: true,
  }),
  auth: (e) => ({
    text: `Slack refused HMS userbot's token (${e.detail.slackError}). Ask whoever runs HMS userbot to check SLACK_BOT_TOKEN.`,
    level: "error",
  }),
  missing_scope: (e) => ({
    text: `The HMS userbot Slack app lacks the ${e.detail.needed ?? "needed"} permission. Ask a workspace admin to update it from the manifest and reinstall it.`,
    level: "error",
  }),
  network: () => ({ text: "HMS userbot could not reach Slack. Try again in a moment.", level: "warn", retry: true }),
  stalled: () => ({
    text: "Slack stopped sending the file before all of it arrived, so nothing was done with it. Try again in a moment.",
    level: "warn",
    retry: true,
  }),
  platform: (e) =>
    LASTING_ERRORS.has(e.detail.slackError ?? "")
      ? { text: `Slack answered “${e.detail.slackError}” to HMS userbot. ${ASK_OPERATOR}`, level: "error" }
      : {
          text: `Slack answered “${e.detail.slackError}” to HMS userbot. Try again in a moment. ${ASK_OPERATOR}`,
          level: "error",
          retry: true,
        },
};

/** The answer for a Slack failure or an unknown identity; undefined for anything else. */
export function explainSlackError(error: unknown): Answer | undefined {
  if (error instanceof SlackApiError) {
    return {
      ...SLACK_FAILURES[error.failure](error),
      log: { method: error.method, slackError: error.detail.slackError, retryAfter: error.detail.retryAfter },
    };
  }
  if (error instanceof SlackNoEmailError) {
    return {
      text:
        "HMS userbot cannot see your email address in Slack, so it cannot tell who you are in HMS. " +
        "The app needs the users:read.email permission (a workspace admin can add it from the manifest and reinstall); " +
        "accounts without an email cannot use it.",
      level: "warn",
    };
  }
  return undefined;
}
