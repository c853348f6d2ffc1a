/**
 * The workplace's shared material, which CI and every developer machine keep beside the
 * repository as ../shared: real spreadsheet exports and Slack's official specs and samples.
 */
import path from "node:path";

export const SHARED_DIR = path.resolve(import.meta.dirname, "../../../shared");
/** LibreOffice and Excel-style exports of one roster, with users.expect.json. */
export const CSV_FIXTURES = path.join(SHARED_DIR, "fixtures/csv");
/** Slack's manifest schema and the Java SDK's captured Web API samples. */
export const SLACK_SPECS = path.join(SHARED_DIR, "specs/slack");
