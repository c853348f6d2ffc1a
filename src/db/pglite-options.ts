// Shared by the bot and the Prisma CLI (prisma.config.ts), which must open a data directory
// the same way; kept free of imports so that the CLI's config stays light.

// PostgreSQL's default 128 MB of shared buffers sits in PGlite's WASM memory, which never
// shrinks; 32 MB serves one bot (the OS still caches the data files) and saves ~100 MB RSS.
/** Options every embedded database is opened with. */
export const PGLITE_OPTIONS = { postgresqlconf: ["shared_buffers=32MB"] };
