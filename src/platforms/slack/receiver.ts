/**
 * The HTTP transport for Bolt, mounted on the foundation's express app at POST /slack/events
 * (slash commands, interactivity and the Events API share the URL). Transport only: read the
 * raw body, verify the signature and the timestamp, answer url_verification, parse, hand the
 * request to Bolt with an ack() that writes the HTTP answer, and make sure every request gets
 * one within Slack's 3 seconds. What requests mean is the listeners' business.
 *
 * Why not Bolt's receivers: HTTPReceiver and ExpressReceiver start their own server (or need
 * their own router), and their signature check refuses only stale timestamps, not future ones.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App, Receiver, ReceiverEvent } from "@slack/bolt";
import type { Logger } from "pino";
import { verifySlackSignature } from "./verify.ts";

export interface HttpReceiverOptions {
  signingSecret: string;
  logger: Logger;
  /** Clock for the timestamp check (ms since the epoch). */
  now?: () => number;
  /** When a request nobody acknowledged is answered anyway (Slack gives up at 3 s). */
  ackTimeoutMs?: number;
  /** Largest body accepted, in bytes. */
  bodyLimit?: number;
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new RequestError(413, `body larger than ${limit} bytes`);
    // Refuse before reading when the client says how much it sends.
    if (Number(req.headers["content-length"] ?? 0) > limit) {
      reject(tooLarge());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit: stop keeping it, read on so the 413 reaches the client; give up on floods.
      if (size <= limit) chunks.push(chunk);
      else if (size > 4 * limit) {
        reject(tooLarge());
        req.destroy();
      }
    });
    req.on("end", () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks))));
    req.on("error", reject);
    // An aborted request ends neither way; settle so nothing waits forever.
    req.on("close", () => reject(new RequestError(400, "request closed before its body was read")));
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type Body = Record<string, unknown>;
const isObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === "string" && v !== "";

function parseJson(text: string, what: string): Body {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError(400, `${what} is not valid JSON`);
  }
  if (!isObject(value)) throw new RequestError(400, `${what} is not a JSON object`);
  return value;
}

/** Slash commands are form fields; interactivity is a form with one `payload` field of JSON; events are JSON. */
function parseBody(raw: Buffer, contentType: string | undefined): Body {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded") {
    const form = new URLSearchParams(raw.toString("utf8"));
    const payload = form.get("payload");
    return payload !== null ? checkInteraction(parseJson(payload, "the payload field")) : checkCommand(Object.fromEntries(form));
  }
  if (type === "application/json") return checkEvent(parseJson(raw.toString("utf8"), "the body"));
  throw new RequestError(400, `unexpected content type "${type}"`);
}

// What Bolt and the listeners rely on, checked before they see it: a signed but malformed body
// gets a 400 here rather than a TypeError (and a 500) inside Bolt.
const malformed = (problem: string) => new RequestError(400, `malformed payload: ${problem}`);

function checkCommand(body: Body): Body {
  if (!isText(body.command)) throw malformed("a form that is neither a slash command nor an interaction payload");
  if (!isText(body.user_id)) throw malformed(`slash command ${body.command} without user_id`);
  return body;
}

/** Interactivity types whose payload carries a view. */
const VIEW_TYPES = new Set(["view_submission", "view_closed"]);

function checkInteraction(body: Body): Body {
  if (!isText(body.type)) throw malformed("interaction payload without a type");
  if (!isObject(body.user) || !isText(body.user.id)) throw malformed(`${body.type} without user`);
  if (VIEW_TYPES.has(body.type) && !isObject(body.view)) throw malformed(`${body.type} without view`);
  if (body.type === "block_actions" && !Array.isArray(body.actions)) throw malformed("block_actions without actions");
  return body;
}

function checkEvent(body: Body): Body {
  if (!isText(body.type)) throw malformed("event body without a type");
  if (body.type === "event_callback" && (!isObject(body.event) || !isText(body.event.type)))
    throw malformed("event_callback without an event");
  return body;
}

function isSslCheck(raw: Buffer, contentType: string | undefined): boolean {
  if (!(contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded") || raw.length > 1024) return false;
  const form = new URLSearchParams(raw.toString("utf8"));
  return form.get("ssl_check") === "1" && !form.has("command") && !form.has("payload");
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return;
  if (body === undefined || body === "") {
    res.writeHead(status).end();
  } else if (typeof body === "string") {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8" }).end(body);
  } else {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  }
}

export class SlackHttpReceiver implements Receiver {
  private bolt: App | undefined;
  private accepting = false;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly ackTimeoutMs: number;
  private readonly bodyLimit: number;

  constructor(private readonly options: HttpReceiverOptions) {
    this.log = options.logger.child({ component: "slack" });
    this.now = options.now ?? Date.now;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 2500;
    this.bodyLimit = options.bodyLimit ?? 4 * 1024 * 1024;
  }

  init(app: App): void {
    this.bolt = app;
  }

  /** The HTTP server belongs to the foundation: starting only opens the door. */
  async start(): Promise<void> {
    this.accepting = true;
  }

  /** New requests get 503 (Slack retries events); ones already in Bolt finish. */
  async stop(): Promise<void> {
    this.accepting = false;
  }

  /** The request handler to mount at POST /slack/events. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((error: unknown) => {
      this.log.error({ err: error }, "slack request failed");
      send(res, 500);
    });
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.accepting || !this.bolt) {
      send(res, 503);
      return;
    }
    let body: Body;
    try {
      const raw = await readBody(req, this.bodyLimit);
      // Slack's certificate check of a slash command URL comes unsigned; answer it and do nothing else.
      if (isSslCheck(raw, header(req, "content-type"))) {
        send(res, 200);
        return;
      }
      const verdict = verifySlackSignature(
        this.options.signingSecret,
        { timestamp: header(req, "x-slack-request-timestamp"), signature: header(req, "x-slack-signature"), rawBody: raw },
        this.now(),
      );
      if (!verdict.ok) {
        this.log.warn({ reason: verdict.reason }, "slack request refused: not signed by Slack");
        send(res, 401);
        return;
      }
      body = parseBody(raw, header(req, "content-type"));
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      this.log.warn({ reason: error.message }, "slack request refused");
      send(res, error.status);
      return;
    }

    // Slack checks the Events API URL with a signed challenge.
    if (body.type === "url_verification") {
      send(res, 200, { challenge: body.challenge });
      return;
    }
    let acked = false;
    const timer = setTimeout(() => {
      if (acked) return;
      acked = true;
      this.log.error({ type: body.type ?? body.command }, `slack request not acknowledged within ${this.ackTimeoutMs} ms; answered empty`);
      send(res, 200);
    }, this.ackTimeoutMs);
    timer.unref();
    const ack = async (response?: unknown): Promise<void> => {
      if (acked) {
        this.log.warn({ type: body.type ?? body.command }, "slack request acknowledged twice or too late; the later answer was dropped");
        return;
      }
      acked = true;
      clearTimeout(timer);
      send(res, 200, response);
    };

    const retryNum = Number(header(req, "x-slack-retry-num"));
    const event: ReceiverEvent = {
      body,
      ack,
      retryNum: Number.isInteger(retryNum) ? retryNum : undefined,
      retryReason: header(req, "x-slack-retry-reason"),
    };
    try {
      await this.bolt.processEvent(event);
    } catch (error) {
      this.log.error({ err: error, type: body.type ?? body.command }, "slack request failed in Bolt");
      if (!acked) {
        acked = true;
        clearTimeout(timer);
        send(res, 500);
      }
      return;
    }
    // No listener acknowledged it (an event type nobody listens to, a stale button): answer now.
    if (!acked) await ack();
  }
}
