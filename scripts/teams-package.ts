/**
 * `npm run teams:package`: builds the Microsoft Teams app package an admin uploads, a zip with
 * manifest.json, color.png and outline.png at its root, for one organization's bot.
 *
 *   TEAMS_APP_ID=<GUID> npm run teams:package [-- --name "IT directory" --version 1.2.0 --out app.zip]
 *
 * --app-id replaces TEAMS_APP_ID. A bad option stops it with one line (exit code 2) and no file written.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pngSize } from "./lib/png.ts";
import { buildTeamsManifest, PackageError, ROOT, TEAMS_ICONS, TEAMS_MANIFEST_DIR } from "./lib/teams-manifest.ts";
import { writeZip } from "./lib/zip.ts";

const DEFAULT_OUT = path.join(ROOT, "dist/teams/hms-userbot-teams.zip");

function options(argv: string[], env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({
    args: argv,
    options: { "app-id": { type: "string" }, name: { type: "string" }, version: { type: "string" }, out: { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  const appId = values["app-id"] ?? env.TEAMS_APP_ID;
  if (appId === undefined || appId === "") {
    throw new PackageError(
      "TEAMS_APP_ID is not set: give the application (client) id of the bot's Microsoft Entra app registration (or pass --app-id)",
    );
  }
  return { appId, name: values.name, version: values.version, out: path.resolve(values.out ?? DEFAULT_OUT) };
}

function icon({ file, size }: { file: string; size: number }): Buffer {
  const bytes = readFileSync(path.join(TEAMS_MANIFEST_DIR, file));
  const found = pngSize(bytes);
  if (found?.width !== size || found.height !== size) {
    throw new PackageError(`manifests/teams/${file} must be a ${size}×${size} PNG (npm run teams:icons rebuilds it)`);
  }
  return bytes;
}

function main() {
  // The one place this script reads the environment.
  const { appId, name, version, out } = options(process.argv.slice(2), process.env);
  const manifest = buildTeamsManifest({ appId, name, version });
  const zip = writeZip([
    { name: "manifest.json", data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
    { name: manifest.icons.color, data: icon(TEAMS_ICONS.color) },
    { name: manifest.icons.outline, data: icon(TEAMS_ICONS.outline) },
  ]);
  mkdirSync(path.dirname(out), { recursive: true });
  // Written beside the target and renamed, so an interrupted run leaves no half-written package.
  writeFileSync(`${out}.tmp`, zip);
  renameSync(`${out}.tmp`, out);
  console.log(
    `wrote ${path.relative(process.cwd(), out)}: "${manifest.name.short}" ${manifest.version} for app id ${appId} (manifest.json, color.png, outline.png)`,
  );
}

try {
  main();
} catch (error) {
  // parseArgs' own errors (an unknown or valueless flag) carry a code such as ERR_PARSE_ARGS_UNKNOWN_OPTION.
  const bad = error instanceof PackageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
  if (!bad) throw error;
  console.error(`teams:package: ${(error as Error).message}`);
  process.exitCode = 2;
}
