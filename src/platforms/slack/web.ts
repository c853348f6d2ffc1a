/**
 * Calls to Slack, wrapped at the edge: every Web API failure becomes a SlackApiError naming the
 * method, classified for the answer table (rate limited with Retry-After, token rejected,
 * missing scope, Slack unreachable, any other Slack error). Also posting to a response_url.
 */

/** "stalled": Slack stopped sending part-way through (a file download). */
export type SlackFailure = "ratelimited" | "auth" | "missing_scope" | "network" | "platform" | "stalled";

export class SlackApiError extends Error {
  constructor(
    /** The Web API method ("users.info"), or "response_url". */
    readonly method: string,
    readonly failure: SlackFailure,
    readonly detail: { slackError?: string; retryAfter?: number; needed?: string; status?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(
      `${method} failed: ${detail.slackError ?? failure}${detail.retryAfter !== undefined ? ` (retry after ${detail.retryAfter} s)` : ""}`,
      options,
    );
    this.name = "SlackApiError";
  }
}

/** Slack errors meaning the token itself is not (or no longer) usable. */
const TOKEN_ERRORS = new Set([
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "team_disabled",
  "not_allowed_token_type",
]);

// The @slack/web-api error codes (ErrorCode enum values), matched by value so that a second copy
// of the package in node_modules cannot break an instanceof.
interface WebApiErrorShape {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string; needed?: string; response_metadata?: { retryAfter?: number } };
}

/** Classifies a failure of `method`; undefined when `error` did not come from talking to Slack. */
export function toSlackApiError(method: string, error: unknown): SlackApiError | undefined {
  if (error instanceof SlackApiError) return error;
  const e = (error ?? {}) as WebApiErrorShape;
  switch (e.code) {
    case "slack_webapi_rate_limited_error":
      return new SlackApiError(method, "ratelimited", { slackError: "ratelimited", retryAfter: e.retryAfter }, { cause: error });
    case "slack_webapi_platform_error": {
      const slackError = e.data?.error ?? "unknown_error";
      if (slackError === "ratelimited") {
        return new SlackApiError(
          method,
          "ratelimited",
          { slackError, retryAfter: e.data?.response_metadata?.retryAfter },
          { cause: error },
        );
      }
      if (TOKEN_ERRORS.has(slackError)) return new SlackApiError(method, "auth", { slackError }, { cause: error });
      if (slackError === "missing_scope")
        return new SlackApiError(method, "missing_scope", { slackError, needed: e.data?.needed }, { cause: error });
      return new SlackApiError(method, "platform", { slackError }, { cause: error });
    }
    case "slack_webapi_request_error":
      return new SlackApiError(method, "network", {}, { cause: error });
    case "slack_webapi_http_error":
      return new SlackApiError(method, "network", { status: e.statusCode, slackError: `HTTP ${e.statusCode}` }, { cause: error });
    default:
      return undefined;
  }
}

/** Runs one Web API call; its failure comes out as a SlackApiError naming `method`. */
export async function callSlack<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toSlackApiError(method, error) ?? error;
  }
}

/**
 * Posts a message to a response_url (slash commands hand one out: valid 30 minutes, 5 uses).
 * Messages there are ephemeral unless `response_type` says otherwise.
 */
export async function postToResponseUrl(url: string, body: Record<string, unknown>, timeoutMs = 10_000): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new SlackApiError("response_url", "network", {}, { cause: error });
  }
  const text = await res.text().catch(() => "");
  if (res.ok) return;
  const retryAfter = Number.parseInt(res.headers.get("retry-after") ?? "", 10);
  throw new SlackApiError("response_url", res.status === 429 ? "ratelimited" : "platform", {
    status: res.status,
    slackError: text.trim().slice(0, 100) || `HTTP ${res.status}`,
    retryAfter: Number.isNaN(retryAfter) ? undefined : retryAfter,
  });
}
