/**
 * Calls to the Bot Connector (the serviceUrl of each conversation), made by the edge itself:
 * post, reply, update (PUT), delete, a member's profile, a new personal conversation. botbuilder's
 * own connector client retries HTTP 429 for seconds (measured: four requests over 6 s against
 * Retry-After 2) and cannot be told not to; here a rate limit fails at once as a TeamsApiError
 * carrying Retry-After, and the chat layer's scheduler edits again later. Outside any turn, so
 * detached work (creation progress, approval posts) uses it the same way.
 */

/** Why a call failed, for the answer table: "stalled" is a download that stopped part-way. */
export type TeamsFailure = "ratelimited" | "auth" | "forbidden" | "not_found" | "network" | "platform" | "stalled" | "refused";

export class TeamsApiError extends Error {
  constructor(
    /** What was being done: "post", "update", "member lookup", "file download"… */
    readonly operation: string,
    readonly failure: TeamsFailure,
    readonly detail: { status?: number; code?: string; retryAfter?: number; reason?: string } = {},
    options?: { cause?: unknown },
  ) {
    const what = detail.reason ?? detail.code ?? (detail.status ? `HTTP ${detail.status}` : failure);
    super(`${operation} failed: ${what}${detail.retryAfter !== undefined ? ` (retry after ${detail.retryAfter} s)` : ""}`, options);
    this.name = "TeamsApiError";
  }
}

/** A member of a conversation as the Bot Connector describes them (GET …/members/{userId}). */
export interface TeamsMember {
  id: string;
  name?: string;
  /** The REST API says objectId; botbuilder's types aadObjectId. */
  objectId?: string;
  aadObjectId?: string;
  email?: string;
  userPrincipalName?: string;
  tenantId?: string;
  userRole?: string;
}

/** An outgoing activity: a message with attachments (cards), or its replacement. */
export interface OutgoingActivity {
  type: "message";
  text?: string;
  summary?: string;
  textFormat?: "markdown" | "plain" | "xml";
  attachments?: { contentType: string; content?: unknown; contentUrl?: string; name?: string }[];
  entities?: unknown[];
  replyToId?: string;
  [key: string]: unknown;
}

/** The bot's token for the Bot Connector; undefined when authentication is off. */
export type BotToken = () => Promise<string | undefined>;

/** Seconds from a Retry-After header (seconds, or an HTTP date). */
export function retryAfterSeconds(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The conversation without a channel thread's ";messageid=…" (members and personal chats are per conversation). */
export function baseConversationId(conversationId: string): string {
  return conversationId.split(";")[0] ?? conversationId;
}

/** fetch's failure when the connection was closed or reset under the request (not a timeout, not refused). */
function closedUnderUs(error: unknown): boolean {
  const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET" || code === "EPIPE";
}

const join = (serviceUrl: string, path: string) => `${serviceUrl.replace(/\/*$/, "/")}${path}`;
const conversationPath = (conversationId: string) => `v3/conversations/${encodeURIComponent(conversationId)}`;

export class BotConnector {
  constructor(
    private readonly token: BotToken,
    private readonly timeoutMs = 10_000,
  ) {}

  private async call<T>(operation: string, method: string, url: string, body?: unknown): Promise<T> {
    let res: Response;
    for (let attempt = 1; ; attempt++) {
      try {
        const token = await this.token();
        res = await fetch(url, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body !== undefined ? { "content-type": "application/json; charset=utf-8" } : {}),
            accept: "application/json",
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        break;
      } catch (error) {
        if (error instanceof TeamsApiError) throw error;
        // A kept-alive connection the server had closed (the bot's event loop was busy when it
        // did): undici retries PUT and DELETE itself, never a POST, so a post of a summary was
        // lost. Once more on a new connection; no response was read, so nothing is known sent.
        if (attempt === 1 && closedUnderUs(error)) continue;
        throw new TeamsApiError(operation, "network", { reason: error instanceof Error ? error.message : String(error) }, { cause: error });
      }
    }
    const text = await res.text().catch(() => "");
    if (res.ok) {
      if (!text) return {} as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        return {} as T;
      }
    }
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    const detail = { status: res.status, code };
    switch (true) {
      case res.status === 429:
        throw new TeamsApiError(operation, "ratelimited", { ...detail, retryAfter: retryAfterSeconds(res.headers.get("retry-after")) });
      case res.status === 401:
        throw new TeamsApiError(operation, "auth", detail);
      case res.status === 403:
        throw new TeamsApiError(operation, "forbidden", detail);
      case res.status === 404:
        throw new TeamsApiError(operation, "not_found", detail);
      default:
        throw new TeamsApiError(operation, "platform", detail);
    }
  }

  /** Posts a new message into a conversation (a personal chat, a chat, a channel's new thread). */
  send(serviceUrl: string, conversationId: string, activity: OutgoingActivity): Promise<{ id?: string }> {
    return this.call("post", "POST", join(serviceUrl, `${conversationPath(conversationId)}/activities`), activity);
  }

  /** Replies to an activity: in a channel, in its thread. */
  reply(serviceUrl: string, conversationId: string, replyToId: string, activity: OutgoingActivity): Promise<{ id?: string }> {
    return this.call("reply", "POST", join(serviceUrl, `${conversationPath(conversationId)}/activities/${encodeURIComponent(replyToId)}`), {
      ...activity,
      replyToId,
    });
  }

  /** Replaces a message the bot posted, for everyone. */
  async update(serviceUrl: string, conversationId: string, activityId: string, activity: OutgoingActivity): Promise<void> {
    await this.call("update", "PUT", join(serviceUrl, `${conversationPath(conversationId)}/activities/${encodeURIComponent(activityId)}`), {
      ...activity,
      id: activityId,
    });
  }

  async delete(serviceUrl: string, conversationId: string, activityId: string): Promise<void> {
    await this.call(
      "delete",
      "DELETE",
      join(serviceUrl, `${conversationPath(conversationId)}/activities/${encodeURIComponent(activityId)}`),
    );
  }

  /** One member of a conversation, by Teams user id, AAD object id or UPN. */
  member(serviceUrl: string, conversationId: string, userId: string): Promise<TeamsMember> {
    return this.call(
      "member lookup",
      "GET",
      join(serviceUrl, `${conversationPath(baseConversationId(conversationId))}/members/${encodeURIComponent(userId)}`),
    );
  }

  /** Opens (or finds) the bot's personal chat with a user of the tenant. */
  createPersonalConversation(serviceUrl: string, { botId, userId, tenantId }: { botId?: string; userId: string; tenantId?: string }) {
    return this.call<{ id?: string }>("personal chat", "POST", join(serviceUrl, "v3/conversations"), {
      isGroup: false,
      ...(botId ? { bot: { id: botId } } : {}),
      members: [{ id: userId }],
      ...(tenantId ? { tenantId, channelData: { tenant: { id: tenantId } } } : {}),
    });
  }
}
