/**
 * What a Teams user is told about Teams' own failures (the chat layer's table covers HMS's):
 * Bot Connector and file failures by kind, and an identity Teams will not tell us.
 */
import { ASK_OPERATOR } from "../../chat/answers.ts";
import type { Answer } from "../../chat/index.ts";
import { TeamsApiError, type TeamsFailure } from "./connector.ts";
import { TeamsNoEmailError } from "./identity.ts";

const isFile = (e: TeamsApiError) => e.operation === "file download" || e.operation === "file upload";

const TEAMS_FAILURES: Record<TeamsFailure, (e: TeamsApiError) => Answer> = {
  ratelimited: (e) => ({
    text: `Microsoft Teams is rate-limiting HMS userbot right now. Try again in ${e.detail.retryAfter ?? 30} seconds.`,
    level: "warn",
    retry: true,
  }),
  auth: () => ({
    text: `The Bot Framework refused HMS userbot's credentials. Ask whoever runs HMS userbot to check TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID.`,
    level: "error",
  }),
  forbidden: (e) =>
    isFile(e)
      ? { text: "OneDrive refused HMS userbot access to the file. Attach it again in this chat.", level: "warn" }
      : { text: `Microsoft Teams does not let HMS userbot post there (is the app still installed?). ${ASK_OPERATOR}`, level: "error" },
  not_found: (e) =>
    isFile(e)
      ? { text: "The file is no longer in OneDrive. Attach it again in this chat.", level: "info" }
      : e.operation === "member lookup"
        ? {
            text: "Microsoft Teams does not list you as a member of this conversation, so HMS userbot cannot tell who you are. Try again from a personal chat with HMS userbot.",
            level: "warn",
          }
        : { text: `Microsoft Teams answered that the conversation or message is gone. ${ASK_OPERATOR}`, level: "error" },
  network: (e) => ({
    text: isFile(e)
      ? "HMS userbot could not fetch the file from OneDrive. Try again in a moment."
      : "HMS userbot could not reach Microsoft Teams. Try again in a moment.",
    level: "warn",
    retry: true,
  }),
  stalled: () => ({
    text: "OneDrive stopped sending the file before all of it arrived, so nothing was done with it. Try again in a moment.",
    level: "warn",
    retry: true,
  }),
  refused: (e) => ({
    text:
      e.detail.reason === "a web page instead of the file"
        ? "Teams sent a link to a web page instead of the file (this happens with files shared from some phones). Attach the CSV file itself from a desktop or web Teams client."
        : `HMS userbot only fetches files from OneDrive or SharePoint, and ${e.detail.reason ?? "this one is elsewhere"}. Attach the CSV again in this chat.`,
    level: "warn",
  }),
  platform: (e) => ({
    text: `Microsoft Teams answered ${e.detail.code ?? `HTTP ${e.detail.status ?? "?"}`} to HMS userbot. Try again in a moment. ${ASK_OPERATOR}`,
    level: "error",
    retry: true,
  }),
};

/** The answer for a Teams failure or an unknown identity; undefined for anything else. */
export function explainTeamsError(error: unknown): Answer | undefined {
  if (error instanceof TeamsApiError) {
    return {
      ...TEAMS_FAILURES[error.failure](error),
      log: {
        operation: error.operation,
        failure: error.failure,
        status: error.detail.status,
        code: error.detail.code,
        retryAfter: error.detail.retryAfter,
      },
    };
  }
  if (error instanceof TeamsNoEmailError) {
    return {
      text:
        "HMS userbot cannot see an email address or user principal name for you in Microsoft Teams, so it cannot tell who you are in HMS. " +
        "Guests and anonymous users cannot use it.",
      level: "warn",
    };
  }
  return undefined;
}
