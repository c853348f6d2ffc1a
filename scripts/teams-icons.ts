/** Rebuilds manifests/teams/color.png and outline.png from their shapes (scripts/lib/teams-icons.ts). */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { encodePng } from "./lib/png.ts";
import { colorIcon, outlineIcon } from "./lib/teams-icons.ts";
import { TEAMS_ICONS, TEAMS_MANIFEST_DIR } from "./lib/teams-manifest.ts";

for (const [icon, { file }] of [
  [colorIcon(), TEAMS_ICONS.color],
  [outlineIcon(), TEAMS_ICONS.outline],
] as const) {
  const target = path.join(TEAMS_MANIFEST_DIR, file);
  writeFileSync(target, encodePng(icon.size, icon.size, icon.rgba));
  console.log(`wrote ${path.relative(process.cwd(), target)} (${icon.size}×${icon.size})`);
}
