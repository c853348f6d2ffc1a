/**
 * The Microsoft Teams app manifest and package an admin uploads: valid against Microsoft's
 * schema v1.17 (test/fixtures/specs/teams, JSON Schema draft-04, offline), the bot in every
 * scope with files, the commands of the chat layer, the icons Teams asks for, and
 * `npm run teams:package` building a zip Teams accepts for a given app id.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { ACCENT, colorIcon, outlineIcon } from "../../scripts/lib/teams-icons.ts";
import {
  buildTeamsManifest,
  PackageError,
  PLACEHOLDER_APP_ID,
  packageVersion,
  ROOT,
  readTeamsManifest,
  TEAMS_SCHEMA_FILE,
  type TeamsManifest,
  teamsCommandLists,
  teamsCommands,
  teamsManifestValidator,
  teamsSchema,
} from "../../scripts/lib/teams-manifest.ts";
import { COMMANDS, parseCommand } from "../../src/chat/commands.ts";
import { decodePng } from "../helpers/png.ts";
import { TEAMS_SPECS } from "../helpers/shared.ts";
import { readZip } from "../helpers/zip.ts";

const MANIFEST_DIR = path.join(ROOT, "manifests/teams");
const schema = teamsSchema();
const validate = teamsManifestValidator(schema);
const manifest = readTeamsManifest();
const copy = (): TeamsManifest => structuredClone(manifest);
const errorsOf = (m: unknown) => (validate(m) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`));

describe("the Teams app manifest", () => {
  it("the schema is the committed draft-04 file with only local $refs, so validating needs nothing from the network", () => {
    expect(TEAMS_SCHEMA_FILE).toBe(path.join(TEAMS_SPECS, "MicrosoftTeams.schema.v1.17.json"));
    expect(schema.$schema).toBe("http://json-schema.org/draft-04/schema#");
    const refs = [...JSON.stringify(schema).matchAll(/"\$ref":"([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => !ref.startsWith("#"))).toEqual([]);
  });

  it("is valid against the official schema v1.17", () => {
    expect(errorsOf(manifest)).toEqual([]);
    expect(manifest.manifestVersion).toBe("1.17");
  });

  it("the validator refuses broken copies: a non-GUID bot id, a long title, eleven commands, another version, an unknown field", () => {
    const badBotId = copy();
    badBotId.bots[0]!.botId = "hms-userbot";
    expect(errorsOf(badBotId)).toContain("/bots/0/botId pattern");

    const longTitle = copy();
    longTitle.bots[0]!.commandLists![0]!.commands[0]!.title = "add user with a very long command name";
    expect(errorsOf(longTitle)).toContain("/bots/0/commandLists/0/commands/0/title maxLength");

    const eleven = copy();
    const list = eleven.bots[0]!.commandLists![1]!;
    list.commands = Array.from({ length: 11 }, (_, i) => ({ title: `c${i}`, description: "x" }));
    expect(errorsOf(eleven)).toContain("/bots/0/commandLists/1/commands maxItems");

    expect(errorsOf({ ...copy(), manifestVersion: "1.16" })).toContain("/manifestVersion const");
    expect(errorsOf({ ...copy(), botEndpoint: "https://example.com/api/messages" })).toContain(" additionalProperties");
  });

  it("carries the placeholder id for the package script, and the name and descriptions for admins", () => {
    expect(manifest.id).toBe(PLACEHOLDER_APP_ID);
    expect(manifest.bots.map((b) => b.botId)).toEqual([PLACEHOLDER_APP_ID]);
    expect(manifest.name.short).toBe("HMS userbot");
    const m = manifest as unknown as {
      developer: Record<string, string>;
      description: { short: string; full: string };
      accentColor: string;
    };
    expect(m.developer).toEqual({
      name: "hms-userbot contributors",
      websiteUrl: "https://github.com/hms-userbot/hms-userbot",
      privacyUrl: "https://github.com/hms-userbot/hms-userbot",
      termsOfUseUrl: "https://github.com/hms-userbot/hms-userbot",
    });
    expect(m.description.short).toContain("Hosted Mobile Security user directory");
    for (const words of ["Add users and groups", "CSV", "summary", "approves", "invited", "enroll"])
      expect(m.description.full).toContain(words);
    expect(m.accentColor).toBe(ACCENT);
    expect(manifest.icons).toEqual({ color: "color.png", outline: "outline.png" });
    // A plain bot signs nobody in: no Entra SSO section.
    expect(manifest).not.toHaveProperty("webApplicationInfo");
  });

  it("one conversational bot in personal chat, teams and group chats, receiving files", () => {
    expect(manifest.bots).toHaveLength(1);
    const [bot] = manifest.bots;
    expect([...bot!.scopes].sort()).toEqual(["groupChat", "personal", "team"]);
    expect(bot!.supportsFiles).toBe(true);
    expect(bot!.isNotificationOnly).toBe(false);
  });
});

describe("the bot's command lists", () => {
  const lists = manifest.bots[0]!.commandLists!;
  const { maxItems, items } = schema.properties.bots.items.properties.commandLists.items.properties.commands;
  const maxDescription = items.properties.description.maxLength;
  // The menu the manifest should show: every command while they fit, else the first ones and help.
  const help = COMMANDS.find((c) => c.name === "help")!;
  const shown = COMMANDS.length <= maxItems ? COMMANDS : [...COMMANDS.filter((c) => c !== help).slice(0, maxItems - 1), help];

  it("the schema's limits: 10 commands a list, a title of 32 characters, a description of 128", () => {
    expect([maxItems, items.properties.title.maxLength, maxDescription]).toEqual([10, 32, 128]);
  });

  it("one list per scope, each with the commands as Teams users type them (words apart, no dash), in the help's order", () => {
    expect(lists.map((l) => l.scopes)).toEqual([["personal"], ["team"], ["groupChat"]]);
    for (const list of lists) expect(list.commands.map((c) => c.title)).toEqual(shown.map((c) => c.name.replaceAll("-", " ")));
    expect(lists[0]!.commands.map((c) => c.title)).toEqual(expect.arrayContaining(["add user", "add group", "help"]));
  });

  it("every command of COMMANDS is listed (while they fit in 10), and each title is parsed back into that command", () => {
    expect(lists[0]!.commands.map((c) => parseCommand(c.title).name)).toEqual(shown.map((c) => c.name));
    if (COMMANDS.length <= maxItems) expect(shown).toBe(COMMANDS);
    // What typing the title (as a person would, in any case) does in the chat layer.
    expect(parseCommand("Add User").name).toBe("add-user");
  });

  it("descriptions come from COMMANDS (the usage first when the command takes more words), cut to the schema's 128", () => {
    const commands = lists[0]!.commands;
    shown.forEach(({ name, args, does }, i) => {
      const full = args ? `${name.replaceAll("-", " ")} ${args} — ${does}` : does;
      const { description } = commands[i]!;
      expect(description.length).toBeLessThanOrEqual(maxDescription);
      if (full.length <= maxDescription) expect(description).toBe(full);
      else {
        expect(description.endsWith("…")).toBe(true);
        expect(full.startsWith(description.slice(0, -1))).toBe(true);
      }
    });
    // The import's description is one too long for Teams.
    expect(commands.find((c) => c.title === "import")!.description).toMatch(/^Upload a CSV of users: see a summary first, .*…$/);
  });

  it("more commands than a menu holds: the first nine in help order, then help", () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}`, usage: `c${i}`, does: `Does ${i}.` }));
    many.splice(5, 0, { name: "help", usage: "help", does: "Show this help." });
    expect(teamsCommands(schema, many).map((c) => c.title)).toEqual(["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "help"]);
    expect(teamsCommands(schema, many.slice(0, 10))).toHaveLength(10);
  });

  it("the committed lists and version are what the package script derives from the chat layer and package.json", () => {
    const stale = "manifests/teams/manifest.json is behind: run npm run teams:manifest";
    expect(lists, stale).toEqual(teamsCommandLists(schema));
    expect(manifest.version, stale).toBe(packageVersion());
  });
});

describe("the icons", () => {
  const png = (file: string) => decodePng(readFileSync(path.join(MANIFEST_DIR, file)));

  it("color.png: a 192×192 PNG, opaque, the white mark on the accent colour; outline.png: 32×32 with alpha", () => {
    const color = png("color.png");
    expect([color.width, color.height]).toEqual([192, 192]);
    const pixel = (x: number, y: number) => [...color.rgba.subarray((y * 192 + x) * 4, (y * 192 + x) * 4 + 4)];
    const accent = [1, 3, 5].map((i) => Number.parseInt(ACCENT.slice(i, i + 2), 16));
    expect(pixel(0, 0)).toEqual([...accent, 255]);
    expect(pixel(96, 40)).toEqual([255, 255, 255, 255]);
    expect(color.rgba.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);

    const outline = png("outline.png");
    expect([outline.width, outline.height, outline.colorType]).toEqual([32, 32, 6]);
  });

  it("outline.png has only white pixels, more or less transparent, and draws something", () => {
    const { rgba } = png("outline.png");
    const notWhite: number[] = [];
    const alphas = new Set<number>();
    for (let i = 0; i < rgba.length; i += 4) {
      if (rgba[i + 3]! > 0 && (rgba[i] !== 255 || rgba[i + 1] !== 255 || rgba[i + 2] !== 255)) notWhite.push(i / 4);
      alphas.add(rgba[i + 3]!);
    }
    expect(notWhite).toEqual([]);
    expect(alphas.has(0) && alphas.has(255)).toBe(true);
  });

  it("are what scripts/teams-icons.ts draws (npm run teams:icons rebuilds them)", () => {
    expect(Buffer.from(png("color.png").rgba).equals(Buffer.from(colorIcon().rgba))).toBe(true);
    expect(Buffer.from(png("outline.png").rgba).equals(Buffer.from(outlineIcon().rgba))).toBe(true);
  });
});

describe("npm run teams:package", () => {
  const APP_ID = "2f1a8c3e-5b7d-4e9f-a0c1-3d5e7f9b1a2c";
  const NOT_A_GUID =
    "TEAMS_APP_ID must be the application (client) id of the bot's Microsoft Entra app registration, a GUID like 2f1a8c3e-5b7d-4e9f-a0c1-3d5e7f9b1a2c; got";
  const dir = mkdtempSync(path.join(tmpdir(), "hms-teams-package-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[], env: Record<string, string | undefined>) {
    const { TEAMS_APP_ID: _, ...rest } = process.env;
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", path.join(ROOT, "scripts/teams-package.ts"), ...args],
        { cwd: ROOT, env: { ...rest, ...env } },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
      return { code, stdout, stderr };
    }
  }

  it("with a GUID: a zip holding exactly manifest.json, color.png and outline.png at its root, for that app id", async () => {
    const out = path.join(dir, "app.zip");
    const result = await run(["--out", out], { TEAMS_APP_ID: APP_ID });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(`for app id ${APP_ID}`);

    const entries = readZip(readFileSync(out));
    expect(entries.map((e) => e.name)).toEqual(["manifest.json", "color.png", "outline.png"]);
    const built = JSON.parse(entries[0]!.data.toString("utf8")) as TeamsManifest;
    expect(built.id).toBe(APP_ID);
    expect(built.bots[0]!.botId).toBe(APP_ID);
    expect(built).toEqual(buildTeamsManifest({ appId: APP_ID }));
    expect(errorsOf(built)).toEqual([]);
    // Everything else is the committed manifest.
    expect({ ...built, id: PLACEHOLDER_APP_ID, bots: [{ ...built.bots[0], botId: PLACEHOLDER_APP_ID }] }).toEqual(manifest);
    expect(entries[1]!.data.equals(readFileSync(path.join(MANIFEST_DIR, "color.png")))).toBe(true);
    expect(entries[2]!.data.equals(readFileSync(path.join(MANIFEST_DIR, "outline.png")))).toBe(true);
    expect(existsSync(`${out}.tmp`)).toBe(false);
  });

  it("--app-id, --name and --version override TEAMS_APP_ID, the name and package.json's version", async () => {
    const out = path.join(dir, "named.zip");
    const other = "0A1B2C3D-4E5F-4a6b-8c7d-9e0f1a2b3c4d";
    const result = await run(["--app-id", other, "--name", "IT directory", "--version", "2.3.4", "--out", out], { TEAMS_APP_ID: APP_ID });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const built = JSON.parse(readZip(readFileSync(out))[0]!.data.toString("utf8")) as TeamsManifest;
    expect([built.id, built.bots[0]!.botId, built.name, built.version]).toEqual([
      other,
      other,
      { short: "IT directory", full: "IT directory" },
      "2.3.4",
    ]);
    expect(errorsOf(built)).toEqual([]);
  });

  it.each([
    [
      "missing",
      undefined,
      "teams:package: TEAMS_APP_ID is not set: give the application (client) id of the bot's Microsoft Entra app registration (or pass --app-id)",
    ],
    ["not a GUID", "my-bot", `teams:package: ${NOT_A_GUID} "my-bot"`],
  ])("an app id %s is refused with one line (exit code 2) and no package", async (_, id, message) => {
    const out = path.join(dir, "refused.zip");
    const result = await run(["--out", out], { TEAMS_APP_ID: id });
    expect(result).toEqual({ code: 2, stdout: "", stderr: `${message}\n` });
    expect(existsSync(out)).toBe(false);
  });

  it("an unknown flag is refused the same way", async () => {
    const result = await run(["--colour", "red"], { TEAMS_APP_ID: APP_ID });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^teams:package: Unknown option '--colour'[^\n]*\n$/);
  });

  it.each([
    ["the placeholder id", { appId: PLACEHOLDER_APP_ID }, `${NOT_A_GUID} "${PLACEHOLDER_APP_ID}"`],
    ["a GUID with a space", { appId: ` ${APP_ID}` }, `${NOT_A_GUID} " ${APP_ID}"`],
    ["a GUID without dashes", { appId: APP_ID.replaceAll("-", "") }, `${NOT_A_GUID} "${APP_ID.replaceAll("-", "")}"`],
    [
      "a version with a suffix",
      { appId: APP_ID, version: "1.2.0-beta" },
      'the version must be major.minor.patch in digits, like 1.2.0 (Teams accepts no suffix); got "1.2.0-beta"',
    ],
    ["an empty name", { appId: APP_ID, name: " " }, "the name must not be empty"],
    [
      "a name over 30 characters",
      { appId: APP_ID, name: "x".repeat(31) },
      "the manifest is not valid against the Teams schema v1.17: /name/short must NOT have more than 30 characters",
    ],
  ])("%s is refused with a message saying what is expected", (_, options, message) => {
    expect(() => buildTeamsManifest(options)).toThrow(new PackageError(message));
  });
});
