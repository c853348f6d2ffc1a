/**
 * The surface port: what the chat layer needs from a chat platform. Each edge (Slack, Teams)
 * implements it over its own API; the conversations in src/chat are written against it once.
 * Places and messages are the edge's own JSON, stored on the batch and handed back as they are.
 */
import type { Actor } from "../core/index.ts";
import type { Person as Mentioned } from "../render/import-views.ts";
import type { Message, RichText } from "../render/model.ts";
import type { CommandSpelling } from "./commands.ts";

export type PlatformName = "slack" | "teams";

/** Where a conversation (and thread) is on the platform: the edge's JSON, e.g. Slack's channel and thread. */
export type PlaceRef = Readonly<Record<string, unknown>>;

/** One message the bot posted: the edge's JSON, e.g. Slack's channel and ts. */
export type MessageRef = Readonly<Record<string, unknown>>;

/** The person acting, and where, as the edge received the request. */
export interface Who {
  /** Their platform user id. */
  userId: string;
  /** Where they acted (what `tell` needs to reach them there, e.g. a response_url). */
  place: PlaceRef;
  /** Their HMS identity, which the edge asks its platform for (it may fail in the edge's own ways). */
  actor(): Promise<Actor>;
}

/** Someone the bot may tell something later: their platform user id and where they acted. */
export interface Recipient {
  userId: string;
  place: PlaceRef;
  /** False when `place` is not where they acted but only somewhere on the platform to reach them from (an approver). */
  actedThere?: boolean;
}

/** What a person is told when something fails, and how loudly it is logged. */
export interface Answer {
  text: string;
  /** info for the person's own mistakes, warn for passing trouble, error for ours. */
  level: "info" | "warn" | "error";
  /** The same request may well succeed in a moment (a busy or unreachable platform or database). */
  retry?: true;
  /** Extra log fields (the platform method that failed, its error code). */
  log?: Readonly<Record<string, unknown>>;
}

/** What a file the bot sends is, so that an edge that sends it later (after a consent click) can make it again. */
export type FileSource =
  | { kind: "template" }
  | { kind: "report"; batchId: string }
  /** What creation did with every row of an import. */
  | { kind: "results"; batchId: string }
  | { kind: "export"; group?: string };

/** A file the bot sends: the template, an error report, an import's results, an export. */
export interface OutgoingFile {
  name: string;
  bytes: Uint8Array;
  title: string;
  /** Said with the file. */
  comment: Message;
  source?: FileSource;
}

export interface ChatSurface {
  readonly platform: PlatformName;
  /** How people type the bot's commands here ("/hms add-user" in Slack). */
  readonly commands: CommandSpelling;
  /** How people send the bot a CSV here, said with the template. */
  readonly uploadHint: RichText;
  /**
   * Posts a message in a conversation; where the bot cannot post there, in the edge's fallback
   * (Slack: the person's DM with the bot). Resolves with where it went.
   */
  post(place: PlaceRef, message: Message, who?: Who): Promise<{ place: PlaceRef; message: MessageRef }>;
  /** Replaces a posted message; throws when the platform refuses (see retryAfterMs). */
  edit(message: MessageRef, content: Message): Promise<void>;
  /** Tells one person privately, where they acted. */
  tell(who: Who, message: Message): Promise<void>;
  /**
   * Tells one person privately later, outside any request of theirs (an approval decided, a request
   * expired): Slack's DM with the bot, Teams' personal chat. `person` is what `Who` was when they acted.
   */
  notify(person: Recipient, message: Message): Promise<{ place: PlaceRef; message: MessageRef }>;
  /**
   * Whether only the person who acted there sees `place` (Slack's DM with the bot, Teams' personal
   * chat): an approval request posted there is also sent to each approver privately.
   */
  isPrivate(place: PlaceRef): boolean;
  /** The person's private conversation with the bot (Slack's DM, Teams' personal chat), opened if need be. */
  privatePlace(who: Who): Promise<PlaceRef>;
  /** Sends a file into a conversation (or the fallback); resolves with where it went. */
  sendFile(place: PlaceRef, file: OutgoingFile, who?: Who): Promise<PlaceRef>;
  /**
   * Approval requests: posted where this platform sends them (a configured channel, else `place`).
   * `approvers` are the people it waits for (a platform may show the buttons to them only).
   */
  postApprovalRequest(
    place: PlaceRef,
    message: Message,
    approvers?: readonly Mentioned[],
  ): Promise<{ place: PlaceRef; message: MessageRef }>;
  /** People to mention, by email: with their platform id when the platform knows them. */
  people(emails: readonly string[]): Promise<Mentioned[]>;
  /** How long the platform asked to wait, when `error` is a rate limit; undefined otherwise. */
  retryAfterMs(error: unknown): number | undefined;
  /** The answer for the platform's own errors (its API, its identity lookup); undefined for others. */
  explain(error: unknown): Answer | undefined;
  /** A link people can open to see a posted message, when the platform has one. */
  link?(message: MessageRef): Promise<string | undefined>;
  /** Log fields that say who acted where (e.g. slackUser, team). */
  logContext(who: Who): Record<string, unknown>;
}
