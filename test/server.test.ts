import type { Server } from "node:http";
import { PGlite } from "@electric-sql/pglite";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../src/db/database.ts";
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

  it("answers 503 when the database stops answering", async () => {
    const health = await serve(() => true);
    await db!.close();
    expect(await health()).toEqual({ status: 503, body: { status: "unavailable", database: "pglite" } });
    db = undefined;
  });
});
