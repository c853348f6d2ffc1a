/**
 * Slack's request signing (v0): HMAC-SHA256 with the signing secret over `v0:{timestamp}:{raw body}`,
 * compared in constant time, and a timestamp within five minutes of now in either direction
 * (Bolt's own check only refuses old ones; a future timestamp would let a captured request be
 * replayed later).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Largest accepted distance between the request's timestamp and now, in seconds. */
export const MAX_CLOCK_SKEW_SECONDS = 300;

export type Verification = { ok: true } | { ok: false; reason: string };

export interface SignedRequest {
  /** The X-Slack-Request-Timestamp header. */
  timestamp: string | undefined;
  /** The X-Slack-Signature header. */
  signature: string | undefined;
  rawBody: Buffer | string;
}

/** The v0 signature of a body at a timestamp: what Slack sends in X-Slack-Signature. */
export function signV0(signingSecret: string, timestamp: string | number, rawBody: Buffer | string): string {
  const hmac = createHmac("sha256", signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest("hex")}`;
}

export function verifySlackSignature(signingSecret: string, request: SignedRequest, nowMs: number): Verification {
  const { timestamp, signature, rawBody } = request;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: "missing or malformed X-Slack-Request-Timestamp" };
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(timestamp));
  if (skew > MAX_CLOCK_SKEW_SECONDS)
    return { ok: false, reason: `timestamp is ${skew} s away from now (at most ${MAX_CLOCK_SKEW_SECONDS} s allowed)` };
  if (!signature || !/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: "missing or malformed X-Slack-Signature" };
  const expected = Buffer.from(signV0(signingSecret, timestamp, rawBody).slice(3), "hex");
  const given = Buffer.from(signature.slice(3), "hex");
  if (!timingSafeEqual(given, expected)) return { ok: false, reason: "signature mismatch" };
  return { ok: true };
}
