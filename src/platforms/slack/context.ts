import type { webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { Chat, Who } from "../../chat/index.ts";
import type { Core } from "../../core/index.ts";
import type { SlackFileAccess } from "./files.ts";
import type { SlackIdentities } from "./identity.ts";
import type { SlackPlace, SlackSurface } from "./surface.ts";

/** What the Slack listeners share: the chat layer, this platform's surface, who is who, and the log. */
export interface SlackEdgeContext {
  chat: Chat;
  /** For what is Slack's transport rather than a conversation (claiming an event delivery once). */
  core: Core;
  surface: SlackSurface;
  identities: SlackIdentities;
  /** Holds the bot token: every Web API call of the edge goes through it. */
  client: webApi.WebClient;
  /** Downloading the files people send. */
  files: SlackFileAccess;
  logger: Logger;
  /** How long a form submission may take before the modal is closed and the outcome sent as a message. */
  submitDeadlineMs: number;
}

/** The acting Slack user, where they acted, for the chat layer. */
export function whoIs(edge: SlackEdgeContext, place: SlackPlace & { user: string }): Who {
  const { user, ...where } = place;
  return { userId: user, place: where, actor: () => edge.identities.resolve(edge.client, place.team, user) };
}
