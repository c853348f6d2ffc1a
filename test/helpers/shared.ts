/**
 * The fixtures the tests read, all inside the repository (test/fixtures, provenance in
 * test/fixtures/SOURCES.md): real spreadsheet exports and the platforms' official specs.
 */
import path from "node:path";

export const FIXTURES_DIR = path.resolve(import.meta.dirname, "../fixtures");
/** LibreOffice and Excel-style exports of one roster, with users.expect.json. */
export const CSV_FIXTURES = path.join(FIXTURES_DIR, "csv");
/** Slack's manifest schema and the Java SDK's captured Web API samples. */
export const SLACK_SPECS = path.join(FIXTURES_DIR, "specs/slack");
/** The Teams app manifest schema and the Adaptive Card 1.5 schema. */
export const TEAMS_SPECS = path.join(FIXTURES_DIR, "specs/teams");
