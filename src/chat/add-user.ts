/**
 * The Add user form's outcomes, the same on every platform: field problems shown next to their
 * fields (the form stays open with what was typed), a passing failure kept open with a notice
 * (submitting again is enough), a confirmation, or an explanation. The edges decide how a form
 * stays open (Slack's modal errors, a re-rendered Adaptive Card).
 */
import type { Logger } from "pino";
import { type Core, ErrorCode, isAppError, type UserInput } from "../core/index.ts";
import type { FormErrors, Message, OptionList } from "../render/model.ts";
import { addUserErrors, groupOptions, noticeMessage, userAddedMessage } from "../render/views.ts";
import { logFailure } from "./answers.ts";
import { speller } from "./commands.ts";
import type { ImportFlow } from "./imports.ts";
import type { ChatSurface, Who } from "./surface.ts";

export type AddUserOutcome =
  /** Problems next to their fields; the form stays open with what was typed. */
  | { kind: "errors"; errors: FormErrors }
  /** Worth another try (the platform or the database busy): the form stays open with the values and this notice. */
  | { kind: "retry"; notice: string }
  /** Added: the confirmation. */
  | { kind: "added"; message: Message }
  /** An Administrator, and policy asks an approver first: what happens next (the request is posted). */
  | { kind: "requested"; message: Message }
  /** Not saved, for a reason another try will not fix: the explanation. */
  | { kind: "failed"; message: Message };

/** Whether the person may use the form, checked while it opens. */
export type AddUserAccess = { allowed: true } | { allowed: false; text: string } | { allowed: "unknown" };

export class AddUserFlow {
  constructor(
    private readonly core: Core,
    private readonly log: Logger,
    /** Posts the approval request of an Administrator added through the form, like an import's. */
    private readonly imports: Pick<ImportFlow, "requested">,
  ) {}

  private context(surface: ChatSurface) {
    return { explain: (e: unknown) => surface.explain(e), spell: speller(surface.commands) };
  }

  /**
   * Whether `who` is an HMS Administrator. A refusal (not an Administrator, no identity) is
   * explained and logged; a passing failure is "unknown": the submission checks again.
   */
  async access(surface: ChatSurface, who: Who): Promise<AddUserAccess> {
    const where = { subcommand: "add-user", ...surface.logContext(who) };
    try {
      await this.core.requireAdministrator(await who.actor());
      return { allowed: true };
    } catch (error) {
      const answer = this.context(surface).explain(error);
      const refused = isAppError(error, ErrorCode.NOT_ADMINISTRATOR) || (answer !== undefined && !answer.retry);
      if (!refused) {
        this.log.debug({ ...where, err: error }, "add-user: could not check the Administrator role before the submission");
        return { allowed: "unknown" };
      }
      return { allowed: false, text: logFailure(this.log, error, where, this.context(surface)).text };
    }
  }

  /** Saves a submitted form. */
  async submit(surface: ChatSurface, who: Who, input: UserInput): Promise<AddUserOutcome> {
    const where = { action: "add-user submission", ...surface.logContext(who) };
    try {
      const actor = await who.actor();
      const added = await this.core.addUser({ actor, input });
      if (added.kind === "approval_requested") {
        return { kind: "requested", message: this.imports.requested(surface, who, added.batch, added.approvers).notice! };
      }
      this.log.info({ ...where, user: added.user.email, group: added.group.name, role: added.user.role, actor: actor.email }, "user added");
      return { kind: "added", message: userAddedMessage(added) };
    } catch (error) {
      const errors = isAppError(error, ErrorCode.VALIDATION_FAILED) ? addUserErrors(error.fieldIssues) : undefined;
      if (errors) return { kind: "errors", errors };
      const failure = logFailure(this.log, error, where, this.context(surface));
      return failure.retry ? { kind: "retry", notice: failure.text } : { kind: "failed", message: noticeMessage(failure.text) };
    }
  }

  /** The Group choices for what the admin typed; nothing for someone who may not see them. */
  async groupChoices(surface: ChatSurface, who: Who, fragment: string, limit: number): Promise<OptionList> {
    try {
      return groupOptions(await this.core.listGroups({ actor: await who.actor(), fragment, limit }));
    } catch (error) {
      logFailure(this.log, error, { action: "group options", ...surface.logContext(who) }, this.context(surface));
      return { options: [] };
    }
  }
}
