/**
 * The chat layer: the bot's conversations written once for every platform (commands, the Add
 * user form's outcomes, the import flow and its background updates), over the surfaces the
 * edges attach. It imports only the core, the views and the logger.
 */
import type { Logger } from "pino";
import type { Core, CreationProgress, ImportBatch } from "../core/index.ts";
import type { Message } from "../render/model.ts";
import { groupAddedMessage, groupsMessage, helpMessage, noticeMessage, usersMessage } from "../render/views.ts";
import { AddUserFlow } from "./add-user.ts";
import { logFailure } from "./answers.ts";
import { type Command, spelledCommands, speller } from "./commands.ts";
import { DirectoryFlow } from "./directory.ts";
import { ImportFlow, type ImportFlowOptions } from "./imports.ts";
import type { ChatSurface, PlatformName, Who } from "./surface.ts";
import { Detached, EditScheduler } from "./work.ts";

export type { AddUserAccess, AddUserOutcome } from "./add-user.ts";
export { type Answer, answerFor, logFailure, SOMETHING_WENT_WRONG } from "./answers.ts";
export { type Command, type CommandSpelling, parseCommand, spelledCommands, speller } from "./commands.ts";
export type { CardClick, FormOutcome } from "./directory.ts";
export type { ClickAnswer, ConversationRecord, ImportFlowOptions, IncomingFile, RejectOutcome } from "./imports.ts";
export type { ChatSurface, FileSource, MessageRef, OutgoingFile, PlaceRef, PlatformName, Recipient, Who } from "./surface.ts";

/** Groups shown by `groups` at most. */
export const GROUPS_SHOWN = 50;

/** What a command asks of the edge: a message to show, or a form only the edge can open. */
export type CommandResult =
  | { kind: "message"; message: Message }
  | { kind: "open-add-user"; email?: string }
  | { kind: "open-upload" }
  /** Done by the chat layer itself (the template was sent, or the person was told why not). */
  | { kind: "done" };

export interface ChatOptions {
  core: Core;
  logger: Logger;
  imports?: ImportFlowOptions;
}

export class Chat {
  readonly imports: ImportFlow;
  readonly addUser: AddUserFlow;
  readonly directory: DirectoryFlow;
  private readonly surfaces = new Map<PlatformName, ChatSurface>();
  private readonly detached: Detached;
  private readonly scheduler: EditScheduler;
  private readonly core: Core;
  private readonly log: Logger;

  constructor({ core, logger, imports }: ChatOptions) {
    this.core = core;
    this.log = logger.child({ component: "chat" });
    this.detached = new Detached(this.log);
    this.scheduler = new EditScheduler(this.log);
    this.imports = new ImportFlow(core, this.log, this.surfaces, this.detached, this.scheduler, imports);
    this.addUser = new AddUserFlow(core, this.log, this.imports);
    this.directory = new DirectoryFlow(core, this.log, this.imports);
  }

  /** An edge's surface: its messages are updated from now on (including by background jobs). */
  attach(surface: ChatSurface): void {
    this.surfaces.set(surface.platform, surface);
  }

  /** What the background jobs tell the platforms about: expiries, resumed creations. */
  readonly background = {
    expired: (batches: ImportBatch[]) => this.imports.expired(batches),
    progress: (progress: CreationProgress) => this.imports.resumedProgress(progress),
    invitations: (batchIds: string[]) => this.imports.invitationsChanged(batchIds),
    reminders: (due: { batch: ImportBatch; approvers: string[] }[]) => this.imports.remind(due),
  };

  /** Runs `work` after the answer went out, tracked so that shutdown waits for it. */
  later(name: string, work: () => Promise<void>): void {
    this.detached.run(name, work);
  }

  /** The help, spelled for the platform; with the command that does not exist, when one was typed. */
  help(surface: ChatSurface, unknown?: string): Message {
    return helpMessage({
      commands: spelledCommands(surface.commands),
      unknown: unknown === undefined ? undefined : speller(surface.commands)(unknown),
    });
  }

  /** A parsed command: answered here, or handed back to the edge for what only it can do (open a form). */
  async command(surface: ChatSurface, who: Who, command: Command): Promise<CommandResult> {
    const spell = speller(surface.commands);
    switch (command.name) {
      case "help":
        return { kind: "message", message: this.help(surface) };
      case "unknown":
        return { kind: "message", message: this.help(surface, command.word) };
      case "add-user":
        return { kind: "open-add-user", email: command.email };
      case "import":
        return { kind: "open-upload" };
      case "template":
        await this.imports.postTemplate(surface, who);
        return { kind: "done" };
      case "export": {
        const failed = await this.directory.exportDirectory(surface, who, command.group);
        return failed ? { kind: "message", message: failed } : { kind: "done" };
      }
      case "user":
        return { kind: "message", message: await this.directory.userCard(surface, who, command.email) };
      case "audit":
        return { kind: "message", message: await this.directory.audit(surface, who, command.about) };
      case "invites":
        return { kind: "message", message: await this.directory.invitations(surface, who, command.batch) };
      case "imports":
        return { kind: "message", message: await this.directory.importsList(surface, who) };
    }
    try {
      const actor = await who.actor();
      switch (command.name) {
        case "add-group":
          return {
            kind: "message",
            message: groupAddedMessage(await this.core.addGroup({ actor, input: { name: command.group, policy: command.policy } })),
          };
        case "groups":
          return {
            kind: "message",
            message: groupsMessage({ ...(await this.core.listGroups({ actor, fragment: command.filter, limit: GROUPS_SHOWN })), spell }),
          };
        case "users":
          return { kind: "message", message: usersMessage(await this.core.findUsers({ actor, query: command.query })) };
      }
    } catch (error) {
      const { text } = logFailure(
        this.log,
        error,
        { subcommand: command.name, ...surface.logContext(who) },
        { explain: (e) => surface.explain(e), spell },
      );
      return { kind: "message", message: noticeMessage(text) };
    }
  }

  /** Resolves once no follow-up work runs (tests). */
  idle(): Promise<void> {
    return this.detached.idle();
  }

  /**
   * At shutdown, after the edges stopped taking requests: lets follow-up work finish (at most
   * `graceMs`; a creation cut short resumes on the next start), drops rate-limited edits still
   * waiting, and waits for those running.
   */
  async stop(graceMs = 10_000): Promise<void> {
    const finished = await this.detached.stop(graceMs);
    if (!finished)
      this.log.warn({ graceMs }, "shutting down with follow-up work still running; an interrupted creation resumes on the next start");
    await this.scheduler.stop();
  }
}
