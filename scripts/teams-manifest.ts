/**
 * `npm run teams:manifest`: brings manifests/teams/manifest.json up to date with what the
 * package script derives (the command lists from src/chat/commands.ts, the version from
 * package.json), for when a command or the version changes. Everything else is left as written.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { packageVersion, ROOT, readTeamsManifest, TEAMS_MANIFEST_DIR, teamsCommandLists } from "./lib/teams-manifest.ts";

const file = path.join(TEAMS_MANIFEST_DIR, "manifest.json");
const manifest = readTeamsManifest();
const updated = {
  ...manifest,
  version: packageVersion(),
  bots: manifest.bots.map((bot) => ({ ...bot, commandLists: teamsCommandLists() })),
};
writeFileSync(file, `${JSON.stringify(updated, null, 2)}\n`);
// The repository's JSON layout is Biome's.
execFileSync(path.join(ROOT, "node_modules/.bin/biome"), ["format", "--write", file], { stdio: "ignore" });
console.log(
  `updated ${path.relative(process.cwd(), file)}: version ${updated.version}, ${teamsCommandLists()[0]!.commands.length} commands per scope`,
);
