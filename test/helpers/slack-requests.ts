/**
 * Requests as Slack sends them to POST /slack/events: bodies built from the fixtures in
 * test/fixtures/slack, signed with HMAC v0 over `v0:{timestamp}:{raw body}`.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

export const FIXTURES_DIR = path.resolve(import.meta.dirname, "../fixtures/slack");
export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

/** A fixture, parsed afresh (tests may change it). */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, `${name}.json`), "utf8")) as T;
}

export function signature(secret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface SignedPost {
  body: string;
  contentType: "application/x-www-form-urlencoded" | "application/json";
  /** Seconds since the epoch; now unless given. */
  timestamp?: number;
  secret?: string;
  /** Replaces the computed X-Slack-Signature (forgeries). */
  signature?: string;
  headers?: Record<string, string>;
}

export interface SlackAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  json: unknown;
}

export async function postSigned(url: string, request: SignedPost): Promise<SlackAnswer> {
  const timestamp = request.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": request.contentType,
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": request.signature ?? signature(request.secret ?? SIGNING_SECRET, timestamp, request.body),
      ...request.headers,
    },
    body: request.body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** A slash command body: form fields. */
export function commandBody(fields: Record<string, string>): SignedPost {
  return { body: new URLSearchParams(fields).toString(), contentType: "application/x-www-form-urlencoded" };
}

/** An interactivity body (block_suggestion, view_submission, block_actions): `payload=<json>`. */
export function interactionBody(payload: unknown): SignedPost {
  return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: "application/x-www-form-urlencoded" };
}

/** An Events API body: JSON. */
export function eventBody(payload: unknown): SignedPost {
  return { body: JSON.stringify(payload), contentType: "application/json" };
}

/** A button click (block_actions) as Slack sends it for a message the bot posted. */
export function blockActionsPayload(click: {
  actionId: string;
  value: string;
  user: string;
  channel: string;
  messageTs: string;
  threadTs?: string;
  responseUrl: string;
  triggerId: string;
}): Record<string, unknown> {
  const payload = fixture("block-actions");
  payload.user = { ...(payload.user as object), id: click.user };
  payload.channel = { id: click.channel, name: "it-admins" };
  payload.container = {
    ...(payload.container as object),
    channel_id: click.channel,
    message_ts: click.messageTs,
    thread_ts: click.threadTs,
  };
  payload.response_url = click.responseUrl;
  payload.trigger_id = click.triggerId;
  payload.actions = [{ ...(payload.actions as object[])[0], action_id: click.actionId, value: click.value }];
  return payload;
}

/** A message event with files: a DM file share, or (mention) a channel message mentioning the bot. */
export function fileSharePayload(share: {
  eventId: string;
  user: string;
  ts: string;
  files: Record<string, unknown>[];
  channel?: string;
  mention?: boolean;
}): Record<string, unknown> {
  const payload = fixture(share.mention ? "event-app-mention" : "event-message-file-share");
  payload.event_id = share.eventId;
  const event = payload.event as Record<string, unknown>;
  Object.assign(event, {
    user: share.user,
    ts: share.ts,
    event_ts: share.ts,
    files: share.files,
    channel: share.channel ?? (share.mention ? "C0ITADMINS" : "D0ADMIN"),
  });
  return payload;
}
