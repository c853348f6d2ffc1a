import type { Activity } from "botbuilder";
import type { Logger } from "pino";
import type { Chat, Who } from "../../chat/index.ts";
import type { BotConnector } from "./connector.ts";
import type { TeamsIdentities } from "./identity.ts";
import { conversationKind, type TeamsPlace, type TeamsSurface } from "./surface.ts";

/** What the Teams listeners share: the chat layer, this platform's surface, who is who, and the log. */
export interface TeamsEdgeContext {
  chat: Chat;
  surface: TeamsSurface;
  connector: BotConnector;
  identities: TeamsIdentities;
  /** Hosts files are fetched from and uploaded to (TEAMS_FILE_HOSTS, else SharePoint and OneDrive). */
  fileHosts?: readonly string[];
  /** How long a download may go without a byte before it is given up. */
  downloadIdleTimeoutMs?: number;
  logger: Logger;
  /** How long an invoke may work before it is answered with what is known (Teams allows a few seconds). */
  answerDeadlineMs: number;
}

/** The tenant of an activity: the conversation's, else channelData's. */
export function tenantOf(activity: Partial<Activity>): string | undefined {
  return activity.conversation?.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
}

/** Where an activity happened, as the surface stores it. */
export function placeOf(activity: Partial<Activity>): TeamsPlace {
  const conversationId = activity.conversation?.id ?? "";
  const kind = conversationKind(activity.conversation?.conversationType, conversationId);
  return {
    serviceUrl: activity.serviceUrl ?? "",
    conversationId,
    kind,
    tenantId: tenantOf(activity),
    ...(kind !== "personal" && activity.id ? { replyToId: activity.id } : {}),
    ...(activity.recipient?.id ? { botId: activity.recipient.id } : {}),
  };
}

/** The person who sent `activity`, where they acted, for the chat layer. */
export function whoSent(edge: TeamsEdgeContext, activity: Partial<Activity>, place: TeamsPlace = placeOf(activity)): Who {
  const userId = activity.from?.id ?? "";
  const aadObjectId = activity.from?.aadObjectId;
  return {
    userId,
    place: { ...place },
    actor: () =>
      edge.identities.resolve({
        serviceUrl: place.serviceUrl,
        conversationId: place.conversationId,
        tenantId: place.tenantId,
        userId,
        aadObjectId,
      }),
  };
}
