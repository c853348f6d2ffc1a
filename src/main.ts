/**
 * Composition root: configuration, database, core, HTTP server and platforms, and the order
 * in which they start and stop.
 */
import type { Server } from "node:http";
import { pino } from "pino";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { createCore } from "./core/index.ts";
import { csvImportFormat } from "./csv/index.ts";
import type { Database } from "./db/database.ts";
import { openMigratedDatabase } from "./db/open.ts";
import { createStore } from "./db/store.ts";
import { type Jobs, startJobs } from "./jobs.ts";
import { createSmtpMailer } from "./mail/smtp.ts";
import { type Platforms, startPlatforms } from "./platforms/index.ts";
import { closeServer, createHttpApp, listen } from "./server.ts";
import { runShutdown } from "./shutdown.ts";

// The README promises a stop within 15 s (Docker waits 10 s by default: set --stop-timeout).
const STOP_BUDGET_MS = 15_000;
// Closing PGlite waits for the statement under way, then checkpoints.
const DATABASE_CLOSE_RESERVE_MS = 3_000;

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, error, false, 2);
    throw error;
  }
  // Written synchronously: with pino's asynchronous default, lines logged while PGlite closes
  // reached stdout after "stopped". Logging is light here; order matters more.
  const logger = pino({ level: config.logLevel, base: { service: "hms-userbot" } }, pino.destination({ dest: 1, sync: true }));
  const verbose = logger.isLevelEnabled("debug");

  let db: Database | undefined;
  let platforms: Platforms | undefined;
  let jobs: Jobs | undefined;
  let mailer: ReturnType<typeof createSmtpMailer> | undefined;
  let ready = false;
  const app = createHttpApp({
    logger,
    health: {
      database: config.database.kind,
      ready: () => ready,
      ping: () => (db ? db.ping() : Promise.reject(new Error("database not open"))),
    },
  });

  let server: Server;
  try {
    const listening = await listen(app, config.port);
    server = listening.server;
    logger.info({ port: listening.port, database: config.database.kind }, "listening");
  } catch (error) {
    const code = (error as { code?: string }).code;
    fail(code === "EADDRINUSE" ? `port ${config.port} is already in use; set PORT to a free port` : String(error), error, verbose);
  }

  let stopping = false;
  let starting: Promise<void> = Promise.resolve();
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    ready = false;
    // A signal during start-up waits for the step under way (opening the database, a
    // migration): closing the database under it could leave PGlite's files half-written.
    await starting;
    // The database is always closed last (PGlite flushes its files on close), even when a step
    // before it had to be left running: work cut short resumes on the next start.
    const { failed, cut } = await runShutdown(
      [
        { name: "platforms", work: () => platforms?.stop() },
        { name: "jobs", work: () => jobs?.stop() },
        { name: "http", work: () => closeServer(server) },
        { name: "mail", work: () => mailer?.close() },
        {
          name: "database",
          work: async () => {
            if (!db) return;
            await db.close();
            logger.info("database closed");
          },
        },
      ],
      { budgetMs: STOP_BUDGET_MS, reserveMs: DATABASE_CLOSE_RESERVE_MS },
    );
    for (const { step, error } of failed) logger.error({ err: error, step }, "shutdown step failed");
    if (cut.length > 0) logger.warn({ steps: cut }, "shutdown steps still running when time was up; their work resumes on the next start");
    logger.info("stopped");
    process.exit(failed.length === 0 ? 0 : 1);
  };
  // \`on\`, not \`once\`: Ctrl-C under \`npm start\` delivers SIGINT twice (from the terminal, then
  // forwarded by npm), and a second signal with no listener would kill the process mid-stop.
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  starting = startUp();
  await starting;
  if (stopping) return;
  ready = true;
  logger.info("ready");

  /** Opens the database, migrates it and starts the rest; stops early when a signal came meanwhile. */
  async function startUp(): Promise<void> {
    try {
      const opened = await openMigratedDatabase(config.database);
      db = opened.db;
      if (opened.applied.length > 0) logger.info({ migrations: opened.applied }, "database migrated");
      if (stopping) return;
      mailer = createSmtpMailer(config.mail);
      if (!mailer.configured) logger.info("SMTP_URL is not set: enrollment invitations will stay pending until it is");
      const core = createCore({ files: csvImportFormat, store: createStore(db), now: () => new Date(), imports: config.imports, mailer });
      const bootstrap = await core.ensureBootstrapAdmins({ emails: config.bootstrapAdmins });
      if (bootstrap.created.length + bootstrap.promoted.length > 0) logger.info(bootstrap, "bootstrap administrators ensured");
      if (config.bootstrapAdmins.length === 0) {
        logger.warn("BOOTSTRAP_ADMINS is empty: unless the directory already has an Administrator, nobody can use the bot");
      }
      if (stopping) return;
      platforms = await startPlatforms({ config, core, http: app, logger });
      if (stopping) return;
      jobs = startJobs({ core, logger, listeners: platforms.imports });
      void jobs.runOnce();
    } catch (error) {
      await db?.close().catch(() => {});
      fail(error instanceof Error ? error.message : String(error), error, verbose);
    }
  }
}

/** Prints one line for the operator (and the stack only when asked for) and exits. */
function fail(message: string, error: unknown, verbose: boolean, exitCode = 1): never {
  process.stderr.write(`hms-userbot: cannot start: ${message}\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(exitCode);
}

await main();
