import type { Logger } from "pino";
import type { Core } from "../../core/index.ts";
import type { SlackIdentities } from "./identity.ts";
import type { SlackImports } from "./imports.ts";

/** The slash command. */
export const HMS_COMMAND = "/hms";

/** What the Slack listeners share: the core's use cases, who is who, and the log. */
export interface SlackEdgeContext {
  core: Core;
  identities: SlackIdentities;
  logger: Logger;
  /** How long a form submission may take before the modal is closed and the outcome sent as a message. */
  submitDeadlineMs: number;
  /** The import flow (set once the edge is built). */
  imports?: SlackImports;
}
