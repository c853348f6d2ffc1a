import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import type { Logger } from "pino";
import type { DatabaseKind } from "./db/database.ts";

/** What /healthz needs to know about the database. */
export interface Health {
  database: DatabaseKind;
  /** True once migrations are applied. */
  ready(): boolean;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
}

/** The one HTTP app: /healthz here; the platforms mount their routes on it. */
export function createHttpApp({ health, logger }: { health: Health; logger: Logger }): Express {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", async (_req, res) => {
    const database = health.database;
    if (!health.ready()) {
      res.status(503).json({ status: "starting", database });
      return;
    }
    try {
      await health.ping();
      res.json({ status: "ok", database });
    } catch (error) {
      logger.warn({ err: error }, "health check: database did not answer");
      res.status(503).json({ status: "unavailable", database });
    }
  });
  return app;
}

/** Starts listening; resolves with the server and the port actually bound (PORT=0 picks one). */
export function listen(app: Express, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer(app);
  // Node ends an idle keep-alive connection after 5 s. PGlite's start-up holds the event loop
  // for longer than that on a busy machine, and then that timer fires before a waiting request
  // is read: the client gets a reset. 65 s also outlasts load balancers' 60 s idle timeout.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}

/**
 * Stops accepting connections and resolves when all are closed: idle keep-alive connections at
 * once, busy ones as soon as their response is sent, any still open after `graceMs` cut.
 */
export function closeServer(server: Server, { graceMs = 10_000 } = {}): Promise<void> {
  return new Promise((resolve) => {
    // A connection busy at close() goes idle afterwards and would then be kept for the 65 s
    // keep-alive, holding the database open; sweep until none is left.
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
