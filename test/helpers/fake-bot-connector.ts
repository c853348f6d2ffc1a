/**
 * A fake Bot Connector for end-to-end tests: a node:http server on 127.0.0.1 that activities'
 * `serviceUrl` points at. It records what the bot does (posts, replies, updates, deletes, member
 * look-ups, new personal conversations), keeps every message's latest content, serves files at
 * download URLs (whole, stalling part-way, or as an HTML page), takes uploads, and plays the
 * identity provider of Bot Framework authentication (OpenID metadata and keys for tokens it signs
 * with a locally generated RSA key).
 *
 * Script it per test:
 *   fake.once("update", FakeBotConnector.ratelimited(1), (c) => c.activityId === id)  // the next PUT of that message
 *   fake.once("member", { status: 404, body: { error: { code: "MemberNotFoundInConversation" } } })
 *   fake.once("send", "network-error")
 */
import { createSign, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { FIXTURES_DIR } from "./shared.ts";

export type CallKind = "send" | "reply" | "update" | "delete" | "member" | "create" | "download" | "upload" | "openid";

export interface ConnectorCall {
  kind: CallKind;
  method: string;
  path: string;
  /** The conversation of the call (decoded), when it has one. */
  conversationId?: string;
  /** The activity replied to, updated or deleted; the member looked up. */
  activityId?: string;
  userId?: string;
  /** The parsed JSON body (activities). */
  body?: Record<string, unknown>;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  /** What the fake answered (status and body), once it has. */
  reply?: { status: number; body?: unknown };
  at: number;
}

export type Reply = { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number } | "network-error";
export type Responder = (call: ConnectorCall, fake: FakeBotConnector) => Reply | Promise<Reply>;

export interface FakeMember {
  id: string;
  name?: string;
  aadObjectId?: string;
  /** Absent (with upn): the members API tells no identity, as for a guest. */
  email?: string;
  userPrincipalName?: string;
  userRole?: "user" | "anonymous";
}

/** What GET of a served path answers. */
export interface ServedFile {
  status?: number;
  headers?: Record<string, string>;
  body: Buffer | string;
  /** Send only the first `bytes` of the body, then stall (send nothing more) or close the connection. */
  partial?: { bytes: number; ending: "stall" | "close" };
}

/** A message as the fake holds it: its latest content, and its history of versions. */
export interface HeldMessage {
  id: string;
  conversationId: string;
  activity: Record<string, unknown>;
  versions: Record<string, unknown>[];
}

interface Scripted {
  reply: Reply | Responder;
  when?: (call: ConnectorCall) => boolean;
}

const MEMBER_SAMPLE = JSON.parse(readFileSync(path.join(FIXTURES_DIR, "teams/member.json"), "utf8")) as Record<string, unknown>;

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

let counter = 0;

export class FakeBotConnector {
  readonly calls: ConnectorCall[] = [];
  readonly members = new Map<string, FakeMember>();
  /** Messages the bot posted, by activity id, with their latest content. */
  readonly messages = new Map<string, HeldMessage>();
  /** Bytes PUT to upload URLs, by upload id. */
  readonly uploads = new Map<string, Buffer>();
  private readonly served = new Map<string, ServedFile>();
  private readonly queued = new Map<CallKind, Scripted[]>();
  private readonly waiters = new Set<() => void>();
  /** The identity provider's signing key, and the id its tokens name. */
  private readonly keys: { privateKey: KeyObject; publicKey: KeyObject; kid: string };

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    this.keys = { privateKey, publicKey, kid: `fake-${randomBytes(4).toString("hex")}` };
  }

  static async start(): Promise<FakeBotConnector> {
    let fake: FakeBotConnector | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end(`fake Bot Connector failed: ${String(error)}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake = new FakeBotConnector(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  /** The serviceUrl activities carry. */
  get serviceUrl(): string {
    return `${this.url}/teams/`;
  }

  /** The OpenID metadata document of the fake identity provider (ToBotFromChannelOpenIdMetadataUrl). */
  get openIdMetadataUrl(): string {
    return `${this.url}/openid/.well-known/openidconfiguration`;
  }

  addMember(member: FakeMember): void {
    this.members.set(member.id, member);
  }

  /** Serves GET `urlPath` (a file's downloadUrl). Returns the full URL. */
  serve(urlPath: string, file: ServedFile): string {
    this.served.set(urlPath, file);
    return `${this.url}${urlPath}`;
  }

  /** A fresh upload URL (what fileConsent/invoke hands the bot). */
  uploadUrl(): string {
    return `${this.url}/upload/${(++counter).toString(36)}${randomBytes(3).toString("hex")}`;
  }

  /** Answers the next call of `kind` (that `when` accepts) with `reply`, once. */
  once(kind: CallKind, reply: Reply | Responder, when?: (call: ConnectorCall) => boolean): this {
    const list = this.queued.get(kind) ?? [];
    list.push({ reply, when });
    this.queued.set(kind, list);
    return this;
  }

  /** A token as the Bot Framework signs it for the bot (RS256, issuer api.botframework.com). */
  token(claims: Record<string, unknown>, { key = this.keys.privateKey, kid = this.keys.kid } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid, x5t: kid }));
    const payload = b64url(JSON.stringify({ iss: "https://api.botframework.com", nbf: now - 60, exp: now + 3600, ...claims }));
    const signature = createSign("RSA-SHA256").update(`${header}.${payload}`).sign(key);
    return `${header}.${payload}.${b64url(signature)}`;
  }

  /** A key the identity provider does not publish (forged tokens). */
  static otherKey(): KeyObject {
    return generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  }

  of(kind: CallKind): ConnectorCall[] {
    return this.calls.filter((c) => c.kind === kind);
  }

  /** Resolves once at least `count` recorded calls match `filter`; with them. */
  async waitFor(
    filter: (call: ConnectorCall) => boolean,
    count = 1,
    timeoutMs = 10_000,
    what = "matching calls",
  ): Promise<ConnectorCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.calls.filter(filter);
      if (matching.length >= count && matching.every((c) => c.reply)) return matching;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `fake Bot Connector: expected ${count} ${what}, got ${matching.length}; calls: ${this.calls.map((c) => c.kind).join(", ") || "none"}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 50));
        this.waiters.add(wake);
      });
    }
  }

  /** The message with this id as it reads now. */
  message(id: string): HeldMessage | undefined {
    return this.messages.get(id);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** The Bot Connector's answer when a rate limit is hit. */
  static ratelimited(retryAfterSeconds: number): Exclude<Reply, "network-error"> {
    return {
      status: 429,
      headers: { "retry-after": String(retryAfterSeconds) },
      body: { error: { code: "Throttled", message: "Too many requests" } },
    };
  }

  /** A Bot Connector error answer. */
  static error(status: number, code: string): Exclude<Reply, "network-error"> {
    return { status, body: { error: { code, message: code } } };
  }

  private record(call: ConnectorCall): void {
    this.calls.push(call);
    for (const wake of [...this.waiters]) wake();
  }

  private async scripted(call: ConnectorCall): Promise<Reply | undefined> {
    const list = this.queued.get(call.kind);
    const index = list?.findIndex((s) => !s.when || s.when(call)) ?? -1;
    if (!list || index < 0) return undefined;
    const [entry] = list.splice(index, 1);
    return typeof entry!.reply === "function" ? entry!.reply(call, this) : entry!.reply;
  }

  private memberOf(userId: string): FakeMember | undefined {
    const wanted = userId.toLowerCase();
    return [...this.members.values()].find(
      (m) =>
        m.id === userId || m.aadObjectId === userId || m.userPrincipalName?.toLowerCase() === wanted || m.email?.toLowerCase() === wanted,
    );
  }

  /** The answer the real service gives, unless a test scripted another. */
  private respond(call: ConnectorCall): Reply {
    switch (call.kind) {
      case "send":
      case "reply": {
        const id = `${Date.now()}${String(++counter).padStart(4, "0")}`;
        const activity = { ...call.body, id };
        this.messages.set(id, { id, conversationId: call.conversationId ?? "", activity, versions: [activity] });
        return { status: 201, body: { id } };
      }
      case "update": {
        const held = this.messages.get(call.activityId ?? "");
        if (!held) return FakeBotConnector.error(404, "ActivityNotFoundInConversation");
        held.activity = { ...call.body };
        held.versions.push(held.activity);
        return { status: 200, body: { id: held.id } };
      }
      case "delete":
        this.messages.delete(call.activityId ?? "");
        return { status: 200 };
      case "member": {
        const member = this.memberOf(call.userId ?? "");
        if (!member) return FakeBotConnector.error(404, "MemberNotFoundInConversation");
        const body: Record<string, unknown> = {
          ...MEMBER_SAMPLE,
          id: member.id,
          objectId: member.aadObjectId,
          givenName: member.name?.split(" ")[0],
          surname: member.name?.split(" ").slice(1).join(" "),
          name: member.name,
          tenantId: "caafef10-9d12-4668-a0d6-268b71695e1a",
          userRole: member.userRole ?? "user",
        };
        delete body.email;
        delete body.userPrincipalName;
        if (member.email) body.email = member.email;
        if (member.userPrincipalName) body.userPrincipalName = member.userPrincipalName;
        return { status: 200, body };
      }
      case "create": {
        const user = ((call.body?.members as { id?: string }[] | undefined) ?? [])[0]?.id ?? "unknown";
        return { status: 201, body: { id: `a:personal-${user}` } };
      }
      case "upload":
        return { status: 201, body: { id: "01UPLOADED", name: "uploaded" } };
      default:
        return { status: 404 };
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const url = new URL(req.url ?? "/", this.url);
    const base = { method: req.method ?? "GET", path: url.pathname, raw, headers: req.headers, at: Date.now() };

    if (url.pathname === "/openid/.well-known/openidconfiguration") {
      return this.json(res, 200, {
        issuer: "https://api.botframework.com",
        jwks_uri: `${this.url}/openid/keys`,
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    if (url.pathname === "/openid/keys") {
      const jwk = this.keys.publicKey.export({ format: "jwk" }) as { n: string; e: string };
      return this.json(res, 200, {
        keys: [{ kty: "RSA", use: "sig", kid: this.keys.kid, x5t: this.keys.kid, n: jwk.n, e: jwk.e, endorsements: ["msteams"] }],
      });
    }
    if (req.method === "GET" && this.served.has(url.pathname)) {
      const call: ConnectorCall = { ...base, kind: "download" };
      this.record(call);
      const scripted = await this.scripted(call);
      if (scripted) return this.send(res, scripted, call);
      const file = this.served.get(url.pathname)!;
      call.reply = { status: file.status ?? 200 };
      if (file.partial) {
        const body = Buffer.from(file.body);
        res.writeHead(file.status ?? 200, { "content-length": String(body.length), ...file.headers });
        res.write(body.subarray(0, file.partial.bytes), () => {
          if (file.partial?.ending === "close") res.socket?.destroy();
        });
        return;
      }
      res.writeHead(file.status ?? 200, file.headers ?? {}).end(file.body);
      return;
    }
    if (url.pathname.startsWith("/upload/")) {
      const call: ConnectorCall = { ...base, kind: "upload" };
      this.record(call);
      this.uploads.set(url.pathname.slice("/upload/".length), raw);
      return this.send(res, (await this.scripted(call)) ?? this.respond(call), call);
    }

    // The Bot Connector REST API under the serviceUrl.
    const rest = url.pathname.startsWith("/teams/v3/") ? url.pathname.slice("/teams/v3/".length) : undefined;
    if (rest === undefined) return this.json(res, 404, { error: { code: "NotFound" } });
    let body: Record<string, unknown> | undefined;
    try {
      body = raw.length ? (JSON.parse(raw.toString("utf8")) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    const parts = rest.split("/").map(decodeURIComponent);
    let call: ConnectorCall;
    if (parts[0] === "conversations" && parts.length === 1 && req.method === "POST") {
      call = { ...base, kind: "create", body };
    } else if (parts[0] === "conversations" && parts[2] === "activities") {
      const conversationId = parts[1];
      const activityId = parts[3];
      const kind: CallKind = req.method === "PUT" ? "update" : req.method === "DELETE" ? "delete" : activityId ? "reply" : "send";
      call = { ...base, kind, conversationId, activityId, body };
    } else if (parts[0] === "conversations" && parts[2] === "members" && req.method === "GET") {
      call = { ...base, kind: "member", conversationId: parts[1], userId: parts[3] };
    } else {
      return this.json(res, 404, { error: { code: "NotFound" } });
    }
    this.record(call);
    return this.send(res, (await this.scripted(call)) ?? this.respond(call), call);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  }

  private async send(res: ServerResponse, reply: Reply, call: ConnectorCall): Promise<void> {
    if (reply === "network-error") {
      call.reply = { status: 0 };
      res.socket?.destroy();
      for (const wake of [...this.waiters]) wake();
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    call.reply = { status: reply.status ?? 200, body: reply.body };
    const text = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    res
      .writeHead(reply.status ?? 200, {
        "content-type": typeof reply.body === "string" ? "text/plain" : "application/json; charset=utf-8",
        ...reply.headers,
      })
      .end(text);
    for (const wake of [...this.waiters]) wake();
  }
}
