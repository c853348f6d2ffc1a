/**
 * The one table of what a Slack user is told when something fails, and how loudly it is
 * logged: HMS's AppError codes, Slack Web API failures, identity problems, and the rest.
 */
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../../core/index.ts";
import { SlackNoEmailError } from "./identity.ts";
import { SlackApiError, type SlackFailure } from "./web.ts";

export interface Answer {
  /** What the person reads (ephemeral). */
  text: string;
  /** How the failure is logged: info for the person's own mistakes, error for ours. */
  level: "info" | "warn" | "error";
  /** The same request may well succeed in a moment (a busy or unreachable Slack or database). */
  retry?: true;
}

const ASK_OPERATOR = "If it keeps happening, tell whoever runs HMS userbot.";
export const SOMETHING_WENT_WRONG = `Something went wrong on our side and it has been logged. Try again in a moment. ${ASK_OPERATOR}`;

/** AppError codes whose answer is not simply the error's own message. */
const APP_ERRORS: Partial<Record<ErrorCode, (error: AppError) => Answer>> = {
  [ErrorCode.NOT_ADMINISTRATOR]: () => ({ text: "You need the Administrator role in HMS to do this.", level: "info" }),
  [ErrorCode.VALIDATION_FAILED]: (e) => ({
    text: e.fieldIssues.length > 0 ? e.fieldIssues.map((i) => i.message).join(" ") : e.message,
    level: "info",
  }),
  [ErrorCode.DATABASE_UNAVAILABLE]: () => ({
    text: `The HMS database is not answering right now. Try again in a minute. ${ASK_OPERATOR}`,
    level: "error",
    retry: true,
  }),
  [ErrorCode.DATABASE_BUSY]: () => ({
    text: "The HMS database was busy with other work. Try again in a moment.",
    level: "warn",
    retry: true,
  }),
  [ErrorCode.INTERNAL]: () => ({ text: SOMETHING_WENT_WRONG, level: "error", retry: true }),
};

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
  platform: (e) => ({
    text: `Slack answered “${e.detail.slackError}” to HMS userbot. Try again in a moment. ${ASK_OPERATOR}`,
    level: "error",
    retry: true,
  }),
};

export function answerFor(error: unknown): Answer {
  if (error instanceof AppError) return APP_ERRORS[error.code]?.(error) ?? { text: error.message, level: "info" };
  if (error instanceof SlackApiError) return SLACK_FAILURES[error.failure](error);
  if (error instanceof SlackNoEmailError) {
    return {
      text:
        "HMS userbot cannot see your email address in Slack, so it cannot tell who you are in HMS. " +
        "The app needs the users:read.email permission (a workspace admin can add it from the manifest and reinstall); " +
        "accounts without an email cannot use it.",
      level: "warn",
    };
  }
  return { text: SOMETHING_WENT_WRONG, level: "error", retry: true };
}

/** Logs a failure at the level its answer calls for, with where it happened; returns the answer. */
export function logFailure(logger: Logger, error: unknown, context: Record<string, unknown>): Answer {
  const answer = answerFor(error);
  const fields: Record<string, unknown> = { ...context };
  if (error instanceof SlackApiError)
    Object.assign(fields, { method: error.method, slackError: error.detail.slackError, retryAfter: error.detail.retryAfter });
  else if (error instanceof AppError) fields.code = error.code;
  if (answer.level === "error") fields.err = error;
  logger[answer.level](fields, error instanceof Error ? error.message : String(error));
  return answer;
}
