/**
 * The directory from chat, written once for every platform: export, one user's card and its
 * buttons (Edit, Move to group, Make User / Make Administrator, Remove, Invite / Resend), the
 * audit trail, invitation status with Resend, and the list of imports. Clicks on a card answer
 * with the card as it should read now (`replace`), which the edge shows in place of the old one.
 */
import type { Logger } from "pino";
import { type Core, ErrorCode, isAppError, type UserDetails, type UserInput } from "../core/index.ts";
import {
  auditMessage,
  editUserForm,
  exportMessage,
  invitationsMessage,
  moveUserForm,
  USER_ACTIONS,
  userCardMessage,
  userChangedMessage,
  userRemovedMessage,
} from "../render/directory-views.ts";
import { importsMessage } from "../render/import-views.ts";
import type { Form, FormErrors, Message } from "../render/model.ts";
import { addUserErrors, noticeMessage } from "../render/views.ts";
import { logFailure } from "./answers.ts";
import { speller } from "./commands.ts";
import type { ClickAnswer, ConversationRecord, ImportFlow } from "./imports.ts";
import type { ChatSurface, Who } from "./surface.ts";

/** What a card's button asks of the edge: a form to open, or an answer (and the card as it is now). */
export type CardClick = { kind: "form"; form: Form } | ({ kind: "answer" } & ClickAnswer);

/** A saved form: the card or confirmation to show, or the problems next to the fields (the form stays open). */
export type FormOutcome = { kind: "errors"; errors: FormErrors } | { kind: "done"; message: Message };

export class DirectoryFlow {
  constructor(
    private readonly core: Core,
    private readonly log: Logger,
    /** Administrator grants follow the approval policy, with the import flow's requests and buttons. */
    private readonly imports: ImportFlow,
  ) {}

  private fail(surface: ChatSurface, error: unknown, where: Record<string, unknown>): Message {
    return noticeMessage(logFailure(this.log, error, where, { explain: (e) => surface.explain(e), spell: speller(surface.commands) }).text);
  }

  /** `export [group]`: the directory (or a group) sent as a CSV with how to send it back. */
  async exportDirectory(surface: ChatSurface, who: Who, group?: string): Promise<Message | undefined> {
    const where = { subcommand: "export", ...surface.logContext(who) };
    try {
      const exported = await this.core.exportUsers({ actor: await who.actor(), group });
      const comment = exportMessage(exported, speller(surface.commands));
      // Everyone's details: only ever into the person's private conversation with the bot, not a channel's.
      const shared = !surface.isPrivate(who.place);
      const place = await surface.sendFile(
        shared ? await surface.privatePlace(who) : who.place,
        {
          name: exported.fileName,
          bytes: exported.bytes,
          title: comment.summary,
          comment,
          source: { kind: "export", group: exported.group },
        },
        who,
      );
      this.log.info({ ...where, users: exported.users, group: exported.group, place }, "directory exported");
      return shared
        ? noticeMessage(
            `The export (${comment.summary}) is in your direct conversation with the bot: it holds people's details, so it is not posted here.`,
          )
        : undefined;
    } catch (error) {
      return this.fail(surface, error, where);
    }
  }

  /** `user <email>`: their card. */
  async userCard(surface: ChatSurface, who: Who, email: string): Promise<Message> {
    try {
      return userCardMessage(await this.core.getUser({ actor: await who.actor(), email }));
    } catch (error) {
      return this.fail(surface, error, { subcommand: "user", ...surface.logContext(who) });
    }
  }

  async audit(surface: ChatSurface, who: Who, about?: string): Promise<Message> {
    try {
      return auditMessage(await this.core.listAudit({ actor: await who.actor(), about }));
    } catch (error) {
      return this.fail(surface, error, { subcommand: "audit", ...surface.logContext(who) });
    }
  }

  async invitations(surface: ChatSurface, who: Who, batch?: string): Promise<Message> {
    try {
      return invitationsMessage(await this.core.invitationStatus({ actor: await who.actor(), batch }));
    } catch (error) {
      return this.fail(surface, error, { subcommand: "invites", ...surface.logContext(who) });
    }
  }

  /** `imports`: the open and recent imports, with a link to each summary this platform shows. */
  async importsList(surface: ChatSurface, who: Who): Promise<Message> {
    try {
      const batches = await this.core.listImports({ actor: await who.actor() });
      const links = new Map<string, string>();
      await Promise.all(
        batches.map(async (batch) => {
          const record = (batch.conversation as Record<string, ConversationRecord> | null)?.[surface.platform];
          const link = record?.summary ? await surface.link?.(record.summary) : undefined;
          if (link) links.set(batch.id, link);
        }),
      );
      return importsMessage({ batches, links });
    } catch (error) {
      return this.fail(surface, error, { subcommand: "imports", ...surface.logContext(who) });
    }
  }

  /** Resend on the invitation status or a finished import: its failed invitations are sent again. */
  async resend(surface: ChatSurface, who: Who, batchId: string): Promise<ClickAnswer> {
    const where = { action: "resend invitations", ...surface.logContext(who), batchId };
    try {
      const actor = await who.actor();
      const outcome = await this.core.resendInvitations({ actor, batchId });
      this.log.info({ ...where, resent: outcome.resent, ...outcome.counts }, "invitations sent again");
      // The import's summary shows its invitation counts (and a Resend of its own): it follows.
      await this.imports.invitationsChanged([batchId]);
      const status = invitationsMessage(await this.core.invitationStatus({ actor, batch: batchId }));
      const text = !outcome.mailConfigured
        ? "No mail server is configured (SMTP_URL): the invitations stay pending until one is."
        : `${outcome.resent} ${outcome.resent === 1 ? "invitation" : "invitations"} sent again: ${outcome.counts.sent} sent, ${outcome.counts.pending} pending, ${outcome.counts.failed} failed.`;
      return { notice: noticeMessage(text), replace: status };
    } catch (error) {
      return { notice: this.fail(surface, error, where) };
    }
  }

  // ------------------------------------------------------------------ a user's card

  /** A button of a user's card (the value is their email). */
  async cardClick(surface: ChatSurface, who: Who, action: string, email: string): Promise<CardClick> {
    const where = { action, ...surface.logContext(who), user: email };
    try {
      const actor = await who.actor();
      const user = await this.core.getUser({ actor, email });
      switch (action) {
        case USER_ACTIONS.edit:
          return { kind: "form", form: editUserForm(user) };
        case USER_ACTIONS.move:
          return { kind: "form", form: moveUserForm(user) };
        case USER_ACTIONS.invite: {
          const outcome = await this.core.resendInvitations({ actor, email: user.email });
          const text = !outcome.mailConfigured
            ? `The invitation to ${user.email} is recorded; no mail server is configured (SMTP_URL), so it stays pending until one is.`
            : outcome.counts.sent > 0
              ? `Invitation sent to ${user.email}.`
              : `The invitation to ${user.email} could not be sent yet; it is retried automatically.`;
          return { kind: "answer", notice: noticeMessage(text), replace: await this.card(actor, user.email) };
        }
        case USER_ACTIONS.remove: {
          const removed = await this.core.removeUser({ actor, email: user.email });
          this.log.info({ ...where }, "user removed");
          return { kind: "answer", replace: userRemovedMessage(removed) };
        }
        case USER_ACTIONS.role:
          // Awaited here, so that a refusal (the last Administrator) is answered below rather than escaping.
          return await (user.role === "ADMINISTRATOR" ? this.makeUser(actor, user) : this.makeAdministrator(surface, who, user));
        default:
          return { kind: "answer", notice: noticeMessage("This button is no longer used; run the command again.") };
      }
    } catch (error) {
      return { kind: "answer", notice: this.fail(surface, error, where) };
    }
  }

  private async card(actor: Awaited<ReturnType<Who["actor"]>>, email: string): Promise<Message> {
    return userCardMessage(await this.core.getUser({ actor, email }));
  }

  private async makeUser(actor: Awaited<ReturnType<Who["actor"]>>, user: UserDetails): Promise<CardClick> {
    const { changes } = await this.core.updateUser({ actor, email: user.email, input: this.inputOf(user, { role: "User" }) });
    return { kind: "answer", notice: userChangedMessage({ user, changes }), replace: await this.card(actor, user.email) };
  }

  private async makeAdministrator(surface: ChatSurface, who: Who, user: UserDetails): Promise<CardClick> {
    const answer = await this.imports.requestAdministrator(surface, who, user.email);
    return { kind: "answer", ...answer, replace: answer.replace ?? (await this.card(await who.actor(), user.email)) };
  }

  private inputOf(user: UserDetails, over: Partial<UserInput> = {}): UserInput {
    return {
      name: user.name,
      group: user.group.name,
      role: user.role === "ADMINISTRATOR" ? "Administrator" : "User",
      exchangeDomain: user.exchangeDomain ?? "",
      exchangeUsername: user.exchangeUsername ?? "",
      ...over,
    };
  }

  /** The Edit form saved: the changes, or the problems next to the fields. */
  async saveEdit(surface: ChatSurface, who: Who, email: string, input: UserInput): Promise<FormOutcome> {
    return this.save(surface, who, "edit user", email, (user) => ({ ...input, email: input.email || user.email }));
  }

  /** Move to group saved. */
  async saveMove(surface: ChatSurface, who: Who, email: string, group: string): Promise<FormOutcome> {
    return this.save(surface, who, "move user", email, (user) => this.inputOf(user, { group }));
  }

  private async save(
    surface: ChatSurface,
    who: Who,
    action: string,
    email: string,
    inputFor: (user: UserDetails) => UserInput,
  ): Promise<FormOutcome> {
    const where = { action, ...surface.logContext(who), user: email };
    try {
      const actor = await who.actor();
      const user = await this.core.getUser({ actor, email });
      const { changes } = await this.core.updateUser({ actor, email: user.email, input: inputFor(user) });
      this.log.info({ ...where, changes }, "user changed");
      return { kind: "done", message: userChangedMessage({ user, changes }) };
    } catch (error) {
      const errors = isAppError(error, ErrorCode.VALIDATION_FAILED) ? addUserErrors(error.fieldIssues) : undefined;
      if (errors) return { kind: "errors", errors };
      return { kind: "done", message: this.fail(surface, error, where) };
    }
  }
}
