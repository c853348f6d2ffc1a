import type { Server } from "node:http";
import { connect } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Database, openDatabase } from "../src/db/database.ts";
import { closeServer, createHttpApp, listen } from "../src/server.ts";

describe("/healthz", () => {
  let server: Server | undefined;
  let db: Database | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
    if (db) await db.close();
    server = db = undefined;
  });

  async function serve(ready: () => boolean) {
    db = await openDatabase({ kind: "pglite", instance: await PGlite.create() });
    const database = db;
    const app = createHttpApp({ logger: pino({ level: "silent" }), health: { database: "pglite", ready, ping: () => database.ping() } });
    const listening = await listen(app, 0);
    server = listening.server;
    return async () => {
      const res = await fetch(`http://127.0.0.1:${listening.port}/healthz`);
      return { status: res.status, body: await res.json() };
    };
  }

  it("answers 503 until migrations are applied, then 200", async () => {
    let ready = false;
    const health = await serve(() => ready);
    expect(await health()).toEqual({ status: 503, body: { status: "starting", database: "pglite" } });
    ready = true;
    expect(await health()).toEqual({ status: 200, body: { status: "ok", database: "pglite" } });
  });

  it("answers a keep-alive request that waited through a 6 s event-loop stall (Node's 5 s default reset it)", async () => {
    let port = 0;
    const app = createHttpApp({
      logger: pino({ level: "silent" }),
      health: { database: "pglite", ready: () => false, ping: async () => {} },
    });
    ({ server, port } = await listen(app, 0));
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const answered = (n: number) => received.split("HTTP/1.1 503").length > n;
    const outcome = new Promise<string>((resolve) => {
      socket.on("data", (chunk) => {
        received += chunk;
        if (answered(2)) resolve("answered twice");
      });
      socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
      socket.on("close", () => resolve("closed"));
    });
    const request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    socket.write(request);
    await vi.waitFor(() => expect(answered(1)).toBe(true));
    // Like PGlite's start-up: a long synchronous stretch outside the timers phase, with the
    // second request sent and waiting to be read.
    setImmediate(() => {
      socket.write(request);
      const until = Date.now() + 6_000;
      while (Date.now() < until);
    });
    expect(await outcome).toBe("answered twice");
    socket.destroy();
  }, 15_000);

  it("closes as soon as the requests in flight are answered, though it keeps connections alive for 65 s", async () => {
    let port = 0;
    const slowPing = () => new Promise<void>((r) => setTimeout(r, 300));
    const app = createHttpApp({ logger: pino({ level: "silent" }), health: { database: "pglite", ready: () => true, ping: slowPing } });
    ({ server, port } = await listen(app, 0));
    const url = `http://127.0.0.1:${port}/healthz`;
    await (await fetch(url)).json(); // a keep-alive connection, idle now
    const inFlight = fetch(url).then(async (res) => ({ status: res.status, body: await res.json() }));
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const closing = closeServer(server);
    server = undefined;
    expect(await inFlight).toEqual({ status: 200, body: { status: "ok", database: "pglite" } });
    await closing;
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("cuts connections still busy after the grace period", async () => {
    let port = 0;
    const app = createHttpApp({
      logger: pino({ level: "silent" }),
      health: { database: "pglite", ready: () => true, ping: () => new Promise<void>(() => {}) },
    });
    ({ server, port } = await listen(app, 0));
    const hanging = fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => "answered",
      () => "cut",
    );
    await new Promise((r) => setTimeout(r, 100));
    const closing = closeServer(server, { graceMs: 200 });
    server = undefined;
    await closing;
    expect(await hanging).toBe("cut");
  });

  it("answers 503 when the database stops answering", async () => {
    const health = await serve(() => true);
    await db!.close();
    expect(await health()).toEqual({ status: 503, body: { status: "unavailable", database: "pglite" } });
    db = undefined;
  });
});
