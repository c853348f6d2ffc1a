/**
 * A fake Slack for end-to-end tests: a node:http server on 127.0.0.1 that plays the Web API
 * (POST /api/<method>), hands out response_urls (POST /response/<id>) and serves files
 * (GET, see serve()). It records every request and answers like Slack, with the shapes of the
 * samples in test/fixtures/specs/slack/java-slack-sdk-json-samples/api (the sample skeleton, `ok`
 * set, the error fields dropped, and the values that matter filled in).
 *
 * Script it per test:
 *   fake.once("users.info", FakeSlack.ratelimited(30))          // the next users.info
 *   fake.once("users.info", FakeSlack.error("invalid_auth"), (c) => c.args.user === "U2")
 *   fake.on("views.open", (call) => ({ body: { ok: true, ... } })) // every views.open from now on
 *   fake.once("users.info", "network-error")                      // the connection is dropped
 * Extend it for new methods with on(method, responder) or by adding to DEFAULT_RESPONDERS.
 * chat.getPermalink answers for the messages chat.postMessage posted (message_not_found otherwise).
 *
 * Files: addFile() makes a file files.info describes and GET url_private_download serves (the
 * request, with its Authorization header, is recorded as method "GET"); serve() with `partial`
 * sends the headers and the first bytes only, then stalls or drops the connection; uploads go
 * files.getUploadURLExternal → POST to the upload_url (recorded as method "upload", bytes in
 * `raw`, kept in `uploads`) → files.completeUploadExternal.
 *
 * Socket Mode: apps.connections.open (with an xapp- token) hands out a ws:// URL of this fake;
 * once the app is connected (waitForSocket), socketSend(type, payload) delivers an envelope and
 * resolves with the app's acknowledgement.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import { SLACK_SPECS } from "./shared.ts";

export const SAMPLES_DIR = path.join(SLACK_SPECS, "java-slack-sdk-json-samples");

export interface RecordedCall {
  /** The Web API method ("views.open"), "response_url", or "GET" for file downloads. */
  method: string;
  path: string;
  /** Form fields (JSON-looking values parsed) or the JSON body. */
  args: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** The token sent (Authorization: Bearer, or the `token` argument). */
  token?: string;
  raw: Buffer;
  /** What the fake answered (the parsed body), once it has. */
  reply?: unknown;
  /** When the fake received it (Date.now()). */
  at?: number;
}

export type Reply = { status?: number; headers?: Record<string, string>; body?: unknown; delayMs?: number } | "network-error";
export type Responder = (call: RecordedCall, fake: FakeSlack) => Reply | Promise<Reply>;

export interface FakeUser {
  id: string;
  teamId?: string;
  name?: string;
  /** Absent: users.info returns no email (as without the users:read.email scope). */
  email?: string;
  isBot?: boolean;
}

export interface FakeFile {
  id: string;
  name: string;
  content: Buffer | string;
  mimetype?: string;
  filetype?: string;
  /** Who shared it. */
  user?: string;
}

export const FAKE_TEAM = { id: "T0HMSTEST", domain: "hms-test" };
export const FAKE_BOT = { userId: "U0HMSBOT", botId: "B0HMSBOT", appId: "A0HMSAPP" };

const samples = new Map<string, Record<string, unknown>>();

/** The sample reply of a Web API method, as Slack's SDK recorded it (a skeleton of every field). */
export function sample(method: string): Record<string, unknown> {
  let s = samples.get(method);
  if (!s) {
    s = JSON.parse(readFileSync(path.join(SAMPLES_DIR, "api", `${method}.json`), "utf8")) as Record<string, unknown>;
    samples.set(method, s);
  }
  return structuredClone(s);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge, anything else (arrays included) is replaced. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** A successful reply shaped like the sample of `method`, with `values` filled in. */
export function okFromSample(method: string, values: Record<string, unknown> = {}): Record<string, unknown> {
  const s = sample(method);
  for (const k of ["error", "needed", "provided", "warning", "response_metadata"]) delete s[k];
  return merge({ ...s, ok: true }, values);
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}${Date.now().toString(36).toUpperCase()}${(++counter).toString(36).toUpperCase()}`;
const ts = () => `${Math.floor(Date.now() / 1000)}.${String(++counter).padStart(6, "0")}`;

function viewReply(call: RecordedCall, id: string): Record<string, unknown> {
  const view = (call.args.view ?? {}) as Record<string, unknown>;
  return okFromSample(String(call.method), {
    view: {
      ...view,
      id,
      team_id: FAKE_TEAM.id,
      state: { values: {} },
      hash: `${Date.now()}.${randomBytes(4).toString("hex")}`,
      root_view_id: id,
      previous_view_id: null,
      app_id: FAKE_BOT.appId,
      app_installed_team_id: FAKE_TEAM.id,
      bot_id: FAKE_BOT.botId,
    },
  });
}

/** How the fake answers each method unless a test says otherwise. */
export const DEFAULT_RESPONDERS: Record<string, Responder> = {
  "auth.test": (call) => ({
    body: okFromSample("auth.test", {
      url: `https://${FAKE_TEAM.domain}.slack.com/`,
      team: "HMS Test",
      user: "hms_userbot",
      team_id: FAKE_TEAM.id,
      user_id: FAKE_BOT.userId,
      bot_id: call.token?.startsWith("xoxb-") ? FAKE_BOT.botId : undefined,
      app_id: FAKE_BOT.appId,
      enterprise_id: undefined,
      expires_in: undefined,
    }),
  }),
  "users.info": (call, fake) => {
    const user = fake.users.get(String(call.args.user));
    if (!user) return { body: { ok: false, error: "user_not_found" } };
    const s = sample("users.info").user as Record<string, unknown>;
    const profile = { ...(s.profile as Record<string, unknown>) };
    delete profile.email;
    return {
      body: okFromSample("users.info", {
        user: {
          ...s,
          id: user.id,
          team_id: user.teamId ?? FAKE_TEAM.id,
          name: user.name ?? user.id.toLowerCase(),
          real_name: user.name ?? user.id,
          is_bot: Boolean(user.isBot),
          deleted: false,
          profile: {
            ...profile,
            real_name: user.name ?? user.id,
            display_name: user.name ?? user.id,
            team: user.teamId ?? FAKE_TEAM.id,
            ...(user.email ? { email: user.email } : {}),
          },
          teams: [user.teamId ?? FAKE_TEAM.id],
          enterprise_user: undefined,
          enterprise_id: undefined,
          enterprise_name: undefined,
        },
      }),
    };
  },
  "views.open": (call) => ({ body: viewReply(call, nextId("V")) }),
  "views.update": (call) => ({ body: viewReply(call, String(call.args.view_id ?? nextId("V"))) }),
  "views.push": (call) => ({ body: viewReply(call, nextId("V")) }),
  "chat.postEphemeral": () => ({ body: okFromSample("chat.postEphemeral", { message_ts: ts() }) }),
  "chat.postMessage": (call) => {
    const at = ts();
    return {
      body: {
        ok: true,
        channel: call.args.channel,
        ts: at,
        message: {
          type: "message",
          text: call.args.text,
          blocks: call.args.blocks,
          user: FAKE_BOT.userId,
          bot_id: FAKE_BOT.botId,
          app_id: FAKE_BOT.appId,
          team: FAKE_TEAM.id,
          ts: at,
        },
      },
    };
  },
  "chat.update": (call) => ({
    body: {
      ok: true,
      channel: call.args.channel,
      ts: call.args.ts,
      text: call.args.text,
      message: { type: "message", text: call.args.text, blocks: call.args.blocks, bot_id: FAKE_BOT.botId },
    },
  }),
  // As Slack answers it (https://api.slack.com/methods/chat.getPermalink): a reply in a thread gets thread_ts and cid.
  "chat.getPermalink": (call, fake) => {
    const channel = String(call.args.channel ?? "");
    const ts = String(call.args.message_ts ?? "");
    const posted = fake
      .callsTo("chat.postMessage")
      .find((c) => (c.reply as { ts?: string; channel?: unknown } | undefined)?.ts === ts && c.args.channel === channel);
    if (!posted) return FakeSlack.error("message_not_found");
    const thread = typeof posted.args.thread_ts === "string" ? posted.args.thread_ts : undefined;
    const permalink = `https://${FAKE_TEAM.domain}.slack.com/archives/${channel}/p${ts.replace(".", "")}${thread ? `?thread_ts=${thread}&cid=${channel}` : ""}`;
    return { body: { ok: true, channel, permalink } };
  },
  "apps.connections.open": (call, fake) =>
    call.token?.startsWith("xapp-")
      ? {
          body: okFromSample("apps.connections.open", {
            url: `${fake.url.replace(/^http/, "ws")}/link/?ticket=${randomBytes(8).toString("hex")}&app_id=${FAKE_BOT.appId}`,
          }),
        }
      : FakeSlack.error("not_allowed_token_type"),
  "files.info": (call, fake) => {
    const file = fake.files.get(String(call.args.file));
    return file ? { body: { ok: true, file: fake.describeFile(file) } } : FakeSlack.error("file_not_found");
  },
  "files.getUploadURLExternal": (_call, fake) => {
    const fileId = nextId("F");
    return { body: okFromSample("files.getUploadURLExternal", { upload_url: `${fake.url}/upload/${fileId}`, file_id: fileId }) };
  },
  "files.completeUploadExternal": (call) => {
    const files = Array.isArray(call.args.files) ? (call.args.files as { id: string; title?: string }[]) : [];
    return {
      body: {
        ok: true,
        files: files.map((f) => ({ id: f.id, title: f.title ?? "", channels: call.args.channel_id ? [call.args.channel_id] : [] })),
      },
    };
  },
  "users.lookupByEmail": (call, fake) => {
    const email = String(call.args.email ?? "").toLowerCase();
    const user = [...fake.users.values()].find((u) => u.email?.toLowerCase() === email);
    if (!user) return FakeSlack.error("users_not_found");
    const s = sample("users.lookupByEmail").user as Record<string, unknown>;
    return {
      body: okFromSample("users.lookupByEmail", {
        user: {
          ...s,
          id: user.id,
          team_id: user.teamId ?? FAKE_TEAM.id,
          name: user.name ?? user.id.toLowerCase(),
          real_name: user.name ?? user.id,
          deleted: false,
        },
      }),
    };
  },
  "conversations.open": (call) => ({
    body: {
      ok: true,
      channel: {
        id: `D${String(call.args.users ?? "X").replace(/^U/, "")}`,
        created: Math.floor(Date.now() / 1000),
        is_im: true,
        user: call.args.users,
      },
    },
  }),
};

/** Parses a Web API body: form fields (nested values are JSON strings) or JSON. */
function parseArgs(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString("utf8");
  if ((contentType ?? "").includes("application/json")) {
    try {
      return text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  if (!(contentType ?? "").includes("application/x-www-form-urlencoded")) return {};
  const args: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    if (/^[[{]/.test(v)) {
      try {
        args[k] = JSON.parse(v);
        continue;
      } catch {
        // not JSON after all
      }
    }
    args[k] = v;
  }
  return args;
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** What GET of a served path answers. */
export interface ServedFile {
  status?: number;
  headers?: Record<string, string>;
  body: Buffer | string;
  /** Send only the first `bytes` of the body, then stall (send nothing more) or close the connection. */
  partial?: { bytes: number; ending: "stall" | "close" };
}

interface Scripted {
  reply: Reply | Responder;
  when?: (call: RecordedCall) => boolean;
}

export class FakeSlack {
  readonly calls: RecordedCall[] = [];
  readonly users = new Map<string, FakeUser>();
  private readonly persistent = new Map<string, Responder>();
  private readonly queued = new Map<string, Scripted[]>();
  private readonly served = new Map<string, ServedFile>();
  /** Files addFile() made, by id. */
  readonly files = new Map<string, FakeFile>();
  /** Bytes POSTed to upload URLs, by file id. */
  readonly uploads = new Map<string, Buffer>();
  private readonly waiters = new Set<() => void>();
  private readonly sockets = new Set<Socket>();
  private readonly acks = new Map<string, (payload: unknown) => void>();
  /** Accepted tokens; empty: any xoxb-/xapp- token. */
  readonly tokens = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end(`fake Slack failed: ${String(error)}`);
      });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Socket) => fake!.upgrade(req, socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake = new FakeSlack(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return fake;
  }

  /** The Web API base URL (SLACK_API_URL). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A fresh response_url; what is posted to it is recorded as method "response_url". */
  responseUrl(): string {
    return `${this.url}/response/${nextId("R")}`;
  }

  addUser(user: FakeUser): void {
    this.users.set(user.id, user);
  }

  /** Answers every later call to `method` with `responder` (until reset()). */
  on(method: string, responder: Responder): this {
    this.persistent.set(method, responder);
    return this;
  }

  /** Answers the next call to `method` (that `when` accepts) with `reply`, once. */
  once(method: string, reply: Reply | Responder, when?: (call: RecordedCall) => boolean): this {
    const list = this.queued.get(method) ?? [];
    list.push({ reply, when });
    this.queued.set(method, list);
    return this;
  }

  /** Serves GET `urlPath` (e.g. a file's url_private_download). Returns the full URL. */
  serve(urlPath: string, file: ServedFile): string {
    this.served.set(urlPath, file);
    return `${this.url}${urlPath}`;
  }

  /** A file in the workspace: files.info describes it, its url_private_download serves it. */
  addFile(file: FakeFile): Record<string, unknown> {
    this.files.set(file.id, file);
    this.serve(`/files-pri/${FAKE_TEAM.id}-${file.id}/download/${encodeURIComponent(file.name)}`, {
      headers: { "content-type": file.mimetype ?? "application/octet-stream" },
      body: file.content,
    });
    return this.describeFile(file);
  }

  /** A file as files.info shows it (the keys of the sample that matter here). */
  describeFile(file: FakeFile): Record<string, unknown> {
    const at = Math.floor(Date.now() / 1000);
    const path = `/files-pri/${FAKE_TEAM.id}-${file.id}`;
    return {
      id: file.id,
      created: at,
      timestamp: at,
      name: file.name,
      title: file.name,
      mimetype: file.mimetype ?? "text/csv",
      filetype: file.filetype ?? "csv",
      pretty_type: (file.filetype ?? "csv").toUpperCase(),
      user: file.user ?? "U0ADMIN",
      user_team: FAKE_TEAM.id,
      mode: "hosted",
      editable: false,
      is_external: false,
      size: Buffer.byteLength(file.content),
      url_private: `${this.url}${path}/${encodeURIComponent(file.name)}`,
      url_private_download: `${this.url}${path}/download/${encodeURIComponent(file.name)}`,
    };
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves once at least `count` calls to `method` were received. */
  waitFor(method: string, count = 1, timeoutMs = 5000): Promise<RecordedCall[]> {
    return this.waitForCalls((c) => c.method === method, count, timeoutMs, method);
  }

  /** Resolves once at least `count` recorded calls match `filter`; with them. */
  async waitForCalls(
    filter: (call: RecordedCall) => boolean,
    count = 1,
    timeoutMs = 5000,
    what = "matching calls",
  ): Promise<RecordedCall[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.calls.filter(filter);
      if (matching.length >= count) return matching;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `fake Slack: expected ${count} ${what}, got ${matching.length}; calls: ${this.calls.map((c) => c.method).join(", ") || "none"}`,
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Forgets calls and scripted replies (users and served files stay). */
  reset(): void {
    this.calls.length = 0;
    this.persistent.clear();
    this.queued.clear();
  }

  /** Resolves once the app holds a Socket Mode connection. */
  async waitForSocket(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.sockets.size === 0) {
      if (Date.now() > deadline) throw new Error("fake Slack: no Socket Mode connection");
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Delivers a Socket Mode envelope ("slash_commands", "interactive", "events_api"); resolves with the app's ack payload. */
  socketSend(type: string, payload: unknown, extra: Record<string, unknown> = {}, timeoutMs = 5000): Promise<unknown> {
    const [socket] = this.sockets;
    if (!socket) return Promise.reject(new Error("fake Slack: no Socket Mode connection"));
    const envelopeId = randomBytes(8).toString("hex");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake Slack: envelope ${type} not acknowledged`)), timeoutMs);
      this.acks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      writeFrame(
        socket,
        0x1,
        Buffer.from(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== "events_api", ...extra })),
      );
    });
  }

  /** The WebSocket handshake, then hello; frames from the app are acks (and pings, closes). */
  private upgrade(req: IncomingMessage, socket: Socket): void {
    const key = req.headers["sec-websocket-key"];
    if (!req.url?.startsWith("/link/") || typeof key !== "string") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => this.sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let frame = readFrame(buffered); frame; frame = readFrame(buffered)) {
        buffered = buffered.subarray(frame.size);
        if (frame.opcode === 0x8) {
          writeFrame(socket, 0x8, frame.payload.subarray(0, 2));
          socket.end();
          this.sockets.delete(socket);
        } else if (frame.opcode === 0x9) {
          writeFrame(socket, 0xa, frame.payload);
        } else if (frame.opcode === 0x1) {
          const message = JSON.parse(frame.payload.toString("utf8")) as { envelope_id?: string; payload?: unknown };
          if (message.envelope_id) this.acks.get(message.envelope_id)?.(message.payload);
        }
      }
    });
    writeFrame(
      socket,
      0x1,
      Buffer.from(
        JSON.stringify({
          type: "hello",
          num_connections: 1,
          debug_info: { host: "fake-slack" },
          connection_info: { app_id: FAKE_BOT.appId },
        }),
      ),
    );
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Slack's answer when a method's rate limit is hit. */
  static ratelimited(retryAfterSeconds: number): Exclude<Reply, "network-error"> {
    return { status: 429, headers: { "retry-after": String(retryAfterSeconds) }, body: { ok: false, error: "ratelimited" } };
  }

  /** A Slack error answer ({ ok: false, error }), HTTP 200 like Slack. */
  static error(error: string, extra: Record<string, unknown> = {}): Reply {
    return { body: { ok: false, error, ...extra } };
  }

  private record(call: RecordedCall): void {
    call.at = Date.now();
    this.calls.push(call);
    for (const wake of [...this.waiters]) wake();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readAll(req);
    const url = new URL(req.url ?? "/", this.url);
    if (req.method === "GET") {
      this.record({ method: "GET", path: url.pathname, args: Object.fromEntries(url.searchParams), headers: req.headers, raw });
      const file = this.served.get(url.pathname);
      if (!file) return void res.writeHead(404).end("not found");
      if (file.partial) {
        const body = Buffer.from(file.body);
        // The whole length announced, part of it sent; then silence (the socket stays open until close()) or a dropped connection.
        res.writeHead(file.status ?? 200, { "content-length": String(body.length), ...file.headers });
        res.write(body.subarray(0, file.partial.bytes), () => {
          if (file.partial?.ending === "close") res.socket?.destroy();
        });
        return;
      }
      return void res.writeHead(file.status ?? 200, file.headers ?? {}).end(file.body);
    }
    const args = parseArgs(raw, req.headers["content-type"]);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : typeof args.token === "string" ? args.token : undefined;

    if (url.pathname.startsWith("/upload/")) {
      const call: RecordedCall = { method: "upload", path: url.pathname, args: {}, headers: req.headers, token, raw };
      this.record(call);
      this.uploads.set(url.pathname.slice("/upload/".length), raw);
      return this.send(res, (await this.scripted(call)) ?? { body: `OK - ${raw.length}` }, call);
    }
    if (url.pathname.startsWith("/response/")) {
      const call: RecordedCall = { method: "response_url", path: url.pathname, args, headers: req.headers, token, raw };
      this.record(call);
      return this.send(res, (await this.scripted(call)) ?? { body: "ok" }, call);
    }

    const method = url.pathname.replace(/^\/api\//, "");
    const call: RecordedCall = { method, path: url.pathname, args, headers: req.headers, token, raw };
    this.record(call);
    const scripted = await this.scripted(call);
    if (scripted) return this.send(res, scripted, call);
    if (!token) return this.send(res, FakeSlack.error("not_authed"), call);
    const known = this.tokens.size > 0 ? this.tokens.has(token) : /^(xoxb|xoxp|xapp)-/.test(token);
    if (!known) return this.send(res, FakeSlack.error("invalid_auth"), call);
    const responder = this.persistent.get(method) ?? DEFAULT_RESPONDERS[method];
    if (!responder) return this.send(res, FakeSlack.error("unknown_method"), call);
    return this.send(res, await responder(call, this), call);
  }

  private async scripted(call: RecordedCall): Promise<Reply | undefined> {
    const list = this.queued.get(call.method);
    const index = list?.findIndex((s) => !s.when || s.when(call)) ?? -1;
    if (!list || index < 0) {
      const persistent = call.method === "response_url" || call.method === "upload" ? this.persistent.get(call.method) : undefined;
      return persistent ? persistent(call, this) : undefined;
    }
    const [entry] = list.splice(index, 1);
    return typeof entry!.reply === "function" ? entry!.reply(call, this) : entry!.reply;
  }

  private async send(res: ServerResponse, reply: Reply, call?: RecordedCall): Promise<void> {
    if (reply === "network-error") {
      res.socket?.destroy();
      return;
    }
    if (call) call.reply = reply.body;
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    const body = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? { ok: true });
    const type = typeof reply.body === "string" ? "text/plain" : "application/json; charset=utf-8";
    res.writeHead(reply.status ?? 200, { "content-type": type, ...reply.headers }).end(body);
  }
}

/** One unmasked (server → client) WebSocket frame. */
function writeFrame(socket: Socket, opcode: number, payload: Buffer): void {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.alloc(payload.length < 65536 ? 4 : 10);
  if (payload.length >= 126 && payload.length < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(payload.length, 2);
  } else if (payload.length >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  if (!socket.destroyed) socket.write(Buffer.concat([head, payload]));
}

/** One complete (client → server, masked) frame at the start of `data`, or undefined if incomplete. */
function readFrame(data: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (data.length < 2) return undefined;
  const opcode = data[0]! & 0x0f;
  const masked = (data[1]! & 0x80) !== 0;
  let length = data[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (data.length < 4) return undefined;
    length = data.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (data.length < 10) return undefined;
    length = Number(data.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (data.length < offset + length) return undefined;
  const payload = Buffer.from(data.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= data[maskAt + (i % 4)]!;
  return { opcode, payload, size: offset + length };
}
