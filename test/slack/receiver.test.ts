/**
 * The HTTP receiver alone (Bolt replaced by a stand-in): every request is answered in time,
 * whatever the listener does, and a stopped receiver takes no new work.
 */
import type { Server } from "node:http";
import type { App, ReceiverEvent } from "@slack/bolt";
import express from "express";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SlackHttpReceiver } from "../../src/platforms/slack/receiver.ts";
import { signV0, verifySlackSignature } from "../../src/platforms/slack/verify.ts";
import { closeServer, listen } from "../../src/server.ts";
import { LogLines } from "../helpers/slack-app.ts";
import { eventBody, fixture, postSigned, SIGNING_SECRET } from "../helpers/slack-requests.ts";

describe("verifySlackSignature", () => {
  const body = "token=x&command=%2Fhms";
  const at = 1_800_000_000;
  it("accepts Slack's signature within five minutes either way, refuses the rest", () => {
    const signature = signV0(SIGNING_SECRET, at, body);
    const check = (nowSec: number, sig = signature, ts = String(at)) =>
      verifySlackSignature(SIGNING_SECRET, { timestamp: ts, signature: sig, rawBody: body }, nowSec * 1000);
    expect(check(at)).toEqual({ ok: true });
    expect(check(at + 300)).toEqual({ ok: true });
    expect(check(at - 300)).toEqual({ ok: true });
    expect(check(at + 301)).toEqual({ ok: false, reason: "timestamp is 301 s away from now (at most 300 s allowed)" });
    expect(check(at - 301)).toEqual({ ok: false, reason: "timestamp is 301 s away from now (at most 300 s allowed)" });
    expect(
      check(
        at,
        signature.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
      ),
    ).toEqual({ ok: false, reason: "signature mismatch" });
    expect(check(at, "v0=xyz")).toEqual({ ok: false, reason: "missing or malformed X-Slack-Signature" });
    expect(check(at, signature, "12e3")).toEqual({ ok: false, reason: "missing or malformed X-Slack-Request-Timestamp" });
  });
});

describe("SlackHttpReceiver", () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  async function serve(processEvent: (event: ReceiverEvent) => Promise<void>, start = true) {
    const logs = new LogLines();
    const receiver = new SlackHttpReceiver({ signingSecret: SIGNING_SECRET, logger: pino({ level: "debug" }, logs), ackTimeoutMs: 200 });
    receiver.init({ processEvent } as unknown as App);
    if (start) await receiver.start();
    const app = express();
    app.post("/slack/events", receiver.handle);
    const listening = await listen(app, 0);
    server = listening.server;
    return { url: `http://127.0.0.1:${listening.port}/slack/events`, logs, receiver };
  }
  const event = () => eventBody(fixture("event-message-im"));

  it("hands Bolt the parsed body, the retry headers and an ack that writes the answer", async () => {
    let seen: ReceiverEvent | undefined;
    const { url } = await serve(async (e) => {
      seen = e;
      await e.ack({ response_action: "errors", errors: { email: "x" } });
    });
    const answer = await postSigned(url, { ...event(), headers: { "x-slack-retry-num": "2", "x-slack-retry-reason": "http_timeout" } });
    expect(answer).toMatchObject({ status: 200, json: { response_action: "errors", errors: { email: "x" } } });
    expect(seen).toMatchObject({ body: { event_id: "Ev0HMS000001" }, retryNum: 2, retryReason: "http_timeout" });
  });

  it("answers 200 in time when nobody acknowledges, and drops a late ack", async () => {
    let late: Promise<void> | undefined;
    const { url, logs } = await serve(async (e) => {
      await new Promise((r) => setTimeout(r, 1500));
      late = e.ack({ text: "too late" });
    });
    const started = Date.now();
    const answer = await postSigned(url, event());
    expect(answer).toMatchObject({ status: 200, text: "" });
    // Answered at the 200 ms deadline, long before the handler's late ack (with room for a busy CI machine).
    expect(Date.now() - started).toBeLessThan(1200);
    await vi.waitFor(() => expect(late).toBeDefined(), { timeout: 5000, interval: 20 });
    await late;
    expect(logs.messages()).toContain("slack request not acknowledged within 200 ms; answered empty");
    expect(logs.messages()).toContain("slack request acknowledged twice or too late; the later answer was dropped");
  });

  it("answers at once when Bolt finishes without anyone acknowledging", async () => {
    const { url } = await serve(async () => {});
    expect(await postSigned(url, event())).toMatchObject({ status: 200, text: "" });
  });

  it("answers 500 when Bolt fails before acknowledging", async () => {
    const { url, logs } = await serve(async () => {
      throw new Error("boom");
    });
    expect((await postSigned(url, event())).status).toBe(500);
    expect(logs.messages()).toContain("slack request failed in Bolt");
  });

  it("answers 503 (Slack retries) once stopped, or before it is started", async () => {
    const { url, receiver } = await serve(async (e) => e.ack());
    expect((await postSigned(url, event())).status).toBe(200);
    await receiver.stop();
    expect((await postSigned(url, event())).status).toBe(503);
  });

  it("refuses a body larger than the limit with 413", async () => {
    const logs = new LogLines();
    const receiver = new SlackHttpReceiver({ signingSecret: SIGNING_SECRET, logger: pino({ level: "debug" }, logs), bodyLimit: 1024 });
    receiver.init({ processEvent: async () => {} } as unknown as App);
    await receiver.start();
    const app = express();
    app.post("/slack/events", receiver.handle);
    const listening = await listen(app, 0);
    server = listening.server;
    const answer = await postSigned(`http://127.0.0.1:${listening.port}/slack/events`, eventBody({ padding: "x".repeat(2000) })).catch(
      (e: unknown) => e,
    );
    expect(answer).toMatchObject({ status: 413 });
    // A flood far past the limit, without a declared length, is answered too (not left hanging).
    const flood = await fetch(`http://127.0.0.1:${listening.port}/slack/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit).then(
      (r) => r.status,
      () => "closed",
    );
    expect([413, "closed"]).toContain(flood);
  });
});
