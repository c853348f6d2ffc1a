/**
 * The Slack app manifests a workspace admin pastes into "Create app from manifest": valid against
 * Slack's official schema (test/fixtures/specs/slack, JSON Schema draft-07), and carrying what the
 * bot needs: /hms, interactivity, the events and scopes, HTTP or Socket Mode.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { SLACK_EVENTS_PATH } from "../../src/platforms/slack/index.ts";
import { HMS_COMMAND } from "../../src/platforms/slack/surface.ts";
import { SLACK_SPECS } from "../helpers/shared.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SPECS = SLACK_SPECS;
const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;

function validator() {
  const schema = read(path.join(SPECS, "manifest.schema.json"));
  // The schema says which JSON Schema draft it is written in; Ajv's default class is draft-07.
  expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
  // Its Slack-specific annotations ("_note", "regex") are not JSON Schema keywords.
  const ajv = new Ajv({ allErrors: true, strictTypes: false, strictTuples: false });
  ajv.addKeyword("_note").addKeyword("regex");
  addFormats.default(ajv);
  // The versioned schemas it refers to by their published URLs, from the local copies.
  for (const version of ["1.0.0", "2.0.0"]) {
    ajv.addSchema(
      read(path.join(SPECS, `manifest.schema.${version}.json`)),
      `https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.${version}.json`,
    );
  }
  return ajv.compile(schema);
}

const validate = validator();
const MANIFESTS = { http: "manifests/slack/manifest.json", socket: "manifests/slack/manifest.socket-mode.json" } as const;

interface Manifest {
  features: { slash_commands: { command: string; url?: string; should_escape?: boolean }[]; app_home: Record<string, boolean> };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { request_url?: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url?: string; message_menu_options_url?: string };
    socket_mode_enabled: boolean;
  };
}

describe("the Slack app manifests", () => {
  it("the validator knows a valid manifest from an invalid one (Slack's own example, and a broken copy)", () => {
    expect(validate(read(path.join(SPECS, "example.v1.manifest.valid.json")))).toBe(true);
    const broken = read(path.join(ROOT, MANIFESTS.http));
    (broken.features as { slash_commands: { command: string }[] }).slash_commands[0]!.command = "hms";
    expect(validate(broken)).toBe(false);
  });

  it.each(Object.entries(MANIFESTS))("%s: valid against the official schema", (_, file) => {
    const manifest = read(path.join(ROOT, file));
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(Object.entries(MANIFESTS))("%s: /hms, interactivity, the events and the bot scopes", (_, file) => {
    const m = read(path.join(ROOT, file)) as unknown as Manifest;
    expect(m.features.slash_commands.map((c) => c.command)).toEqual([HMS_COMMAND]);
    expect(m.features.slash_commands[0]!.should_escape).toBe(false);
    expect(m.settings.interactivity.is_enabled).toBe(true);
    expect(m.settings.event_subscriptions.bot_events.sort()).toEqual(["app_mention", "file_shared", "message.im"]);
    expect(m.oauth_config.scopes.bot.sort()).toEqual([
      "app_mentions:read",
      "chat:write",
      "commands",
      "files:read",
      "files:write",
      "im:history",
      "im:write",
      "users:read",
      "users:read.email",
    ]);
    // Direct messages to the bot (message.im) need the Messages tab open for writing.
    expect(m.features.app_home).toMatchObject({ messages_tab_enabled: true, messages_tab_read_only_enabled: false });
  });

  it("HTTP: every request URL is the bot's one endpoint; Socket Mode: none, and socket_mode_enabled", () => {
    const http = read(path.join(ROOT, MANIFESTS.http)) as unknown as Manifest;
    const url = `https://hms-userbot.example.com${SLACK_EVENTS_PATH}`;
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect([
      http.features.slash_commands[0]!.url,
      http.settings.event_subscriptions.request_url,
      http.settings.interactivity.request_url,
      // The external select's options (block_suggestion) are asked from the "Options Load URL".
      http.settings.interactivity.message_menu_options_url,
    ]).toEqual([url, url, url, url]);

    const socket = read(path.join(ROOT, MANIFESTS.socket)) as unknown as Manifest;
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(JSON.stringify(socket)).not.toContain("https://");
    // Otherwise the two are the same app.
    const transportless = (m: Manifest) =>
      JSON.parse(
        JSON.stringify(m, (k, v) =>
          ["url", "request_url", "message_menu_options_url", "socket_mode_enabled"].includes(k) ? undefined : v,
        ),
      );
    expect(transportless(http)).toEqual(transportless(socket));
  });
});
