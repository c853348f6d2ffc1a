/**
 * The one table of what a person is told when something fails, on every platform, and how
 * loudly it is logged: HMS's AppError codes here, the platform's own errors (its API, its
 * identity lookup) from the surface, and anything else as "something went wrong".
 */
import type { Logger } from "pino";
import { AppError, ErrorCode } from "../core/index.ts";
import type { Spell } from "../render/model.ts";
import type { Answer } from "./surface.ts";

export type { Answer } from "./surface.ts";

/** Said when a failure needs whoever runs the bot. */
export const ASK_OPERATOR = "If it keeps happening, tell whoever runs HMS userbot.";
export const SOMETHING_WENT_WRONG = `Something went wrong on our side and it has been logged. Try again in a moment. ${ASK_OPERATOR}`;

/** What answers need of the platform: its own errors, and how its commands are typed. */
export interface AnswerContext {
  explain?(error: unknown): Answer | undefined;
  spell: Spell;
}

/** AppError codes whose answer is not simply the error's own message. */
const APP_ERRORS: Partial<Record<ErrorCode, (error: AppError, spell: Spell) => Answer>> = {
  [ErrorCode.NOT_ADMINISTRATOR]: () => ({ text: "You need the Administrator role in HMS to do this.", level: "info" }),
  [ErrorCode.VALIDATION_FAILED]: (e) => ({
    text: e.fieldIssues.length > 0 ? e.fieldIssues.map((i) => i.message).join(" ") : e.message,
    level: "info",
  }),
  [ErrorCode.NO_ELIGIBLE_APPROVER]: (e, spell) => ({
    // The core says who is missing; how to add someone is the platform's command.
    text: e.details.onlyAdministrator
      ? `${e.message} Add another Administrator (${spell("add-user")} with Role Administrator, or BOOTSTRAP_ADMINS), or set APPROVAL_POLICY.`
      : e.message,
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

/** What to tell the person about `error`. */
export function answerFor(error: unknown, context: AnswerContext): Answer {
  if (error instanceof AppError) return APP_ERRORS[error.code]?.(error, context.spell) ?? { text: error.message, level: "info" };
  return context.explain?.(error) ?? { text: SOMETHING_WENT_WRONG, level: "error", retry: true };
}

/** Logs a failure at the level its answer calls for, with where it happened; returns the answer. */
export function logFailure(logger: Logger, error: unknown, where: Record<string, unknown>, context: AnswerContext): Answer {
  const answer = answerFor(error, context);
  const fields: Record<string, unknown> = { ...where, ...answer.log };
  if (error instanceof AppError) fields.code = error.code;
  if (answer.level === "error") fields.err = error;
  logger[answer.level](fields, error instanceof Error ? error.message : String(error));
  return answer;
}
