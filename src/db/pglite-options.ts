// Shared by the bot and the Prisma CLI (prisma.config.ts), which must open a data directory
// the same way; kept free of imports so that the CLI's config stays light.

/**
 * Options every embedded database is opened with. PGlite's WASM memory grows to what
 * PostgreSQL asks for and never shrinks, so these bound what the bot keeps:
 * - shared_buffers: PGlite zeroes them at start, so all of them sit in that memory from then
 *   on. PostgreSQL's default is 128 MB; 16 MB serves one bot (the OS still caches the data
 *   files): idle RSS 15-20 MB below 32 MB, for ~5-10% more time creating 150,000 accounts.
 * - track_counts=off: the activity statistics (pg_stat_*) feed autovacuum, which PGlite does
 *   not run; with them on, PostgreSQL re-arms a 10 s timer for ever, which keeps a process
 *   such as the Prisma CLI from exiting.
 */
export const PGLITE_OPTIONS = { postgresqlconf: ["shared_buffers=16MB", "track_counts=off"] };
