import { existsSync } from "node:fs";
import { CSV_FIXTURES, SHARED_DIR, SLACK_SPECS } from "./helpers/shared.ts";

/** Stops the run with one line when ../shared is missing, instead of a hundred failed tests. */
export default function checkSharedMaterial(): void {
  const missing = [CSV_FIXTURES, SLACK_SPECS].filter((dir) => !existsSync(dir));
  if (missing.length > 0) {
    throw new Error(`the tests need the shared fixtures and specs beside this repository (${SHARED_DIR}); missing: ${missing.join(", ")}`);
  }
}
