/**
 * The Microsoft Teams app manifest: the committed template (manifests/teams/manifest.json), the
 * bot's command lists derived from the chat layer's grammar, and the official schema (v1.17,
 * JSON Schema draft-04) that the package script and the tests validate against offline.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import AjvDraft04 from "ajv-draft-04";
import addFormats from "ajv-formats";
import { type CommandSpelling, spelledCommands } from "../../src/chat/commands.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
/** manifest.json, color.png and outline.png: the files of the app package. */
export const TEAMS_MANIFEST_DIR = path.join(ROOT, "manifests/teams");
/** Microsoft's schema for manifest version 1.17 (provenance in test/fixtures/SOURCES.md). */
export const TEAMS_SCHEMA_FILE = path.join(ROOT, "test/fixtures/specs/teams/MicrosoftTeams.schema.v1.17.json");
/** What the committed manifest carries for `id` and `bots[0].botId` until the package script puts the app's id there. */
export const PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000";
/** How people type commands to the bot in Teams: `add user`, no prefix (the @mention is removed first). */
export const TEAMS_SPELLING: CommandSpelling = { prefix: "", joiner: " " };
/** The icons' file names in the package and their required sizes (square, in pixels). */
export const TEAMS_ICONS = { color: { file: "color.png", size: 192 }, outline: { file: "outline.png", size: 32 } } as const;

export type TeamsScope = "personal" | "team" | "groupChat";
export const TEAMS_SCOPES: readonly TeamsScope[] = ["personal", "team", "groupChat"];

export interface TeamsCommand {
  title: string;
  description: string;
}

/** The parts of a manifest this project reads or writes; the schema checks the rest. */
export interface TeamsManifest {
  manifestVersion: string;
  version: string;
  id: string;
  name: { short: string; full: string };
  icons: { color: string; outline: string };
  bots: {
    botId: string;
    scopes: TeamsScope[];
    supportsFiles?: boolean;
    isNotificationOnly?: boolean;
    commandLists?: { scopes: TeamsScope[]; commands: TeamsCommand[] }[];
  }[];
  [key: string]: unknown;
}

interface TeamsSchema {
  $schema: string;
  definitions: { guid: { pattern: string }; semver: { pattern: string } };
  properties: {
    bots: {
      items: {
        properties: {
          commandLists: {
            items: {
              properties: {
                commands: { maxItems: number; items: { properties: { title: { maxLength: number }; description: { maxLength: number } } } };
              };
            };
          };
        };
      };
    };
  };
}

/** The official schema, as committed. */
export function teamsSchema(): TeamsSchema {
  return JSON.parse(readFileSync(TEAMS_SCHEMA_FILE, "utf8")) as TeamsSchema;
}

/** A validator for the official schema; everything it needs is local (the schema has no remote $ref). */
export function teamsManifestValidator(schema = teamsSchema()): ValidateFunction {
  // Ajv's default class is draft-07; ajv-draft-04 brings draft-04's `id`, exclusiveMaximum and meta-schema.
  const ajv = new AjvDraft04.default({ allErrors: true, strictTypes: false });
  addFormats.default(ajv);
  return ajv.compile(schema);
}

/** Ajv's errors as one line: `/bots/0/botId must match pattern …; …`. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is not valid"}`).join("; ");
}

/** Cuts `text` to at most `max` characters at a word boundary, marking the cut with "…". */
export function cut(text: string, max: number): string {
  if ([...text].length <= max) return text;
  const head = [...text].slice(0, max - 1).join("");
  const space = head.lastIndexOf(" ");
  return `${(space > 0 ? head.slice(0, space) : head).replace(/[\s,;:—-]+$/, "")}…`;
}

/** The bot's commands as the Teams command menu shows them: the words people type, then what they do. */
export function teamsCommands(
  schema = teamsSchema(),
  commands: readonly { name: string; usage: string; does: string }[] = spelledCommands(TEAMS_SPELLING),
): TeamsCommand[] {
  const { maxItems, items } = schema.properties.bots.items.properties.commandLists.items.properties.commands;
  const all = commands.map(({ name, usage, does }) => ({
    title: name,
    // The usage says what follows the words (`<name> [policy=<policy name>]`); the menu shows the title above it.
    description: cut(usage === name ? does : `${usage} — ${does}`, items.properties.description.maxLength),
  }));
  if (all.length <= maxItems) return all;
  // A menu holds at most 10: the first ones in help order, and help, which lists them all.
  const help = all.filter((c) => c.title === "help");
  return [...all.filter((c) => c.title !== "help").slice(0, maxItems - help.length), ...help];
}

/** One command list per scope, as Microsoft asks, each with the same commands. */
export function teamsCommandLists(schema = teamsSchema()): { scopes: TeamsScope[]; commands: TeamsCommand[] }[] {
  const commands = teamsCommands(schema);
  return TEAMS_SCOPES.map((scope) => ({ scopes: [scope], commands }));
}

/** The committed manifest template. */
export function readTeamsManifest(): TeamsManifest {
  return JSON.parse(readFileSync(path.join(TEAMS_MANIFEST_DIR, "manifest.json"), "utf8")) as TeamsManifest;
}

/** The version in package.json, which the package gives the app unless told otherwise. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

export interface BuildOptions {
  /** The Microsoft Entra app registration's application (client) id: the app's and the bot's id. */
  appId: string;
  /** The app's name in Teams (at most 30 characters); default "HMS userbot". */
  name?: string;
  /** The app's version, major.minor.patch; Teams asks for a higher one on each update. Default: package.json's. */
  version?: string;
}

/** A bad option: the message names it and what is expected. */
export class PackageError extends Error {}

/** The manifest for one organization's bot, checked against the schema; throws PackageError when it is not valid. */
export function buildTeamsManifest(options: BuildOptions, schema = teamsSchema()): TeamsManifest {
  const { appId, name, version = packageVersion() } = options;
  if (!new RegExp(schema.definitions.guid.pattern).test(appId) || appId === PLACEHOLDER_APP_ID) {
    throw new PackageError(
      `TEAMS_APP_ID must be the application (client) id of the bot's Microsoft Entra app registration, a GUID like 2f1a8c3e-5b7d-4e9f-a0c1-3d5e7f9b1a2c; got ${JSON.stringify(appId)}`,
    );
  }
  if (!new RegExp(schema.definitions.semver.pattern).test(version)) {
    throw new PackageError(
      `the version must be major.minor.patch in digits, like 1.2.0 (Teams accepts no suffix); got ${JSON.stringify(version)}`,
    );
  }
  if (name !== undefined && name.trim() === "") throw new PackageError("the name must not be empty");
  const template = readTeamsManifest();
  const manifest: TeamsManifest = {
    ...template,
    version,
    id: appId,
    name: name === undefined ? template.name : { short: name, full: name },
    bots: template.bots.map((bot) => ({ ...bot, botId: appId, commandLists: teamsCommandLists(schema) })),
  };
  const validate = teamsManifestValidator(schema);
  if (!validate(manifest))
    throw new PackageError(`the manifest is not valid against the Teams schema v1.17: ${describeErrors(validate.errors)}`);
  return manifest;
}
