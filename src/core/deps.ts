import type { Gate } from "./gate.ts";
import type { ImportFileFormat } from "./import/files.ts";
import type { InvitationMailer } from "./import/ports.ts";
import type { ImportSettings } from "./import/types.ts";
import type { Store } from "./ports.ts";

/** What every use case is given by the composition root. */
export interface CoreDeps {
  store: Store;
  now: () => Date;
  /** How import files are read and written (src/csv). */
  files: ImportFileFormat;
  /** Import approval policy; defaults to DEFAULT_IMPORT_SETTINGS. */
  imports?: ImportSettings;
  /** Enrollment mail; absent means not configured (invitations stay PENDING). */
  mailer?: InvitationMailer;
  /** Serializes bulk work in this process; createCore makes one when absent. */
  bulk?: Gate;
}
