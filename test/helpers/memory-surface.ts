/**
 * An in-memory chat surface for testing the chat layer without a platform: it records what it
 * was asked to post, edit, tell and send, keeps every message's latest content, and fails on
 * request (a rate limit with Retry-After, any other error).
 */
import type { ChatSurface, CommandSpelling, MessageRef, OutgoingFile, PlaceRef, PlatformName, Who } from "../../src/chat/index.ts";
import type { Actor } from "../../src/core/index.ts";
import type { Person } from "../../src/render/import-views.ts";
import type { Message, RichText } from "../../src/render/model.ts";

export interface Recorded {
  kind: "post" | "edit" | "tell" | "file" | "approval" | "notify";
  /** The place posted to, the message edited, or the person told. */
  target: unknown;
  message: Message;
  file?: OutgoingFile;
  at: number;
}

/** A rate limit, as a platform error the surface knows. */
export class RateLimited extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`rate limited for ${retryAfterMs} ms`);
  }
}

/** An error of the platform's own, explained by the surface. */
export class PlatformDown extends Error {}

type Method = "post" | "edit" | "tell" | "sendFile" | "postApprovalRequest";

export class MemorySurface implements ChatSurface {
  readonly uploadHint = "Send the CSV here.";
  readonly recorded: Recorded[] = [];
  /** Every message by id, with its latest content. */
  readonly messages = new Map<string, Message>();
  private nextId = 0;
  private readonly failures: { method: Method; error: Error; when?: (message: Message) => boolean }[] = [];
  /** While set, edits wait for it (to catch work that should not sit in an answer). */
  editGate?: Promise<void>;
  readonly ids = new Map<string, string>();

  constructor(
    readonly platform: PlatformName = "slack",
    readonly commands: CommandSpelling = { prefix: "/hms ", joiner: "-" },
  ) {}

  /** The next call of `method` (matching `when`) fails with `error`. */
  failOnce(method: Method, error: Error, when?: (message: Message) => boolean): this {
    this.failures.push({ method, error, when });
    return this;
  }

  /** How many scripted failures have not happened yet. */
  scriptedFailures(): number {
    return this.failures.length;
  }

  /** People with a platform id, for mentions. */
  know(email: string, platformId: string): this {
    this.ids.set(email, platformId);
    return this;
  }

  private failure(method: Method, message: Message): void {
    const i = this.failures.findIndex((f) => f.method === method && (!f.when || f.when(message)));
    if (i < 0) return;
    const [f] = this.failures.splice(i, 1);
    throw f!.error;
  }

  private record(kind: Recorded["kind"], target: unknown, message: Message, file?: OutgoingFile): void {
    this.recorded.push({ kind, target, message, file, at: Date.now() });
  }

  /** Someone acting in `place` (the default conversation "C1"). */
  who(actor: Actor, place: PlaceRef = { conversation: "C1" }): Who {
    return { userId: actor.platformUserId ?? actor.email, place, actor: async () => actor };
  }

  async post(place: PlaceRef, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    this.failure("post", message);
    const id = `m${++this.nextId}`;
    this.messages.set(id, message);
    this.record("post", place, message);
    return { place: { conversation: place.conversation, thread: place.thread ?? id }, message: { id } };
  }

  async edit(ref: MessageRef, content: Message): Promise<void> {
    await this.editGate;
    this.failure("edit", content);
    this.messages.set(String(ref.id), content);
    this.record("edit", ref, content);
  }

  async tell(who: Who, message: Message): Promise<void> {
    this.failure("tell", message);
    this.record("tell", who.userId, message);
  }

  async notify(person: { userId: string; place: PlaceRef }, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    this.record("notify", person.userId, message);
    const id = `N${++this.nextId}`;
    this.messages.set(id, message);
    return { place: { conversation: `DM-${person.userId}` }, message: { id } };
  }

  async privatePlace(who: Who): Promise<PlaceRef> {
    return { conversation: `DM-${who.userId}` };
  }

  /** Places whose conversation starts with "DM" are private (a direct message with the bot). */
  isPrivate(place: PlaceRef): boolean {
    return String(place.conversation ?? "").startsWith("DM");
  }

  /** What was notified to `userId` later, as text. */
  notified(userId: string): string[] {
    return this.of("notify")
      .filter((r) => r.target === userId)
      .map((r) => MemorySurface.text(r.message));
  }

  async sendFile(place: PlaceRef, file: OutgoingFile): Promise<PlaceRef> {
    this.failure("sendFile", file.comment);
    this.record("file", place, file.comment, file);
    return place;
  }

  async postApprovalRequest(place: PlaceRef, message: Message): Promise<{ place: PlaceRef; message: MessageRef }> {
    this.failure("postApprovalRequest", message);
    const id = `m${++this.nextId}`;
    this.messages.set(id, message);
    this.record("approval", place, message);
    return { place, message: { id } };
  }

  async people(emails: readonly string[]): Promise<Person[]> {
    return emails.map((email) => ({ name: email, platformId: this.ids.get(email) }));
  }

  retryAfterMs(error: unknown): number | undefined {
    return error instanceof RateLimited ? error.retryAfterMs : undefined;
  }

  explain(error: unknown) {
    if (error instanceof RateLimited) return { text: "The platform asks us to wait.", level: "warn" as const, retry: true as const };
    if (error instanceof PlatformDown) return { text: "The platform is down.", level: "warn" as const, retry: true as const };
    return undefined;
  }

  logContext(who: Who): Record<string, unknown> {
    return { user: who.userId };
  }

  // ------------------------------------------------------------------ reading what happened

  of(kind: Recorded["kind"]): Recorded[] {
    return this.recorded.filter((r) => r.kind === kind);
  }

  /** The text of a message as people read it, without markup: the summary, then each block's text. */
  static text(message: Message): string {
    const plain = (text: RichText): string =>
      (typeof text === "string" ? [text] : text)
        .map((r) => (typeof r === "string" ? r : "bold" in r ? r.bold : "code" in r ? r.code : "link" in r ? r.text : r.mention))
        .join("");
    const lines = message.blocks.flatMap((b): string[] => {
      switch (b.type) {
        case "section":
          return [plain(b.text), ...(b.fields ?? []).map((f) => `${f.label}: ${plain(f.value)}`)];
        case "list":
          return b.items.map((item) => `• ${plain(item)}`);
        case "context":
          return [plain(b.text)];
        case "progress":
          return [`${b.label} ${b.done} / ${b.total}`];
        case "actions":
          return [b.buttons.map((x) => `[${x.label}]`).join(" ")];
        default:
          return [];
      }
    });
    return [message.summary, ...lines].join("\n");
  }

  /** The button ids of a message. */
  static buttons(message: Message): string[] {
    return message.blocks.flatMap((b) => (b.type === "actions" ? b.buttons.map((x) => x.id) : []));
  }

  /** What was told to `userId`, as text. */
  told(userId: string): string[] {
    return this.of("tell")
      .filter((r) => r.target === userId)
      .map((r) => MemorySurface.text(r.message));
  }
}
