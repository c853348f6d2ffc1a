/** `npm start` with Teams: the composition root wires the edge in, and refuses TEAMS_AUTH=off in production. */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBotConnector } from "../helpers/fake-bot-connector.ts";
import { ADMIN } from "../helpers/fixtures.ts";
import { message, personal } from "../helpers/teams-activities.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

function start(env: Record<string, string>) {
  const child = spawn("node", ["--import", "tsx", "src/main.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { text: "" };
  child.stdout!.on("data", (d) => (output.text += d));
  child.stderr!.on("data", (d) => (output.text += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { child, output, exit };
}

describe("npm start with Teams", () => {
  let fake: FakeBotConnector;
  let dataDir: string;
  beforeAll(async () => {
    fake = await FakeBotConnector.start();
    fake.addMember({ id: "29:start-admin", name: "Root", email: ADMIN.email, userPrincipalName: ADMIN.email });
    dataDir = await mkdtemp(path.join(tmpdir(), "hms-teams-start-"));
  });
  afterAll(async () => {
    await fake?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("TEAMS_AUTH=off with NODE_ENV=production stops start-up with one line (exit code 2)", async () => {
    const { output, exit } = start({ DATA_DIR: dataDir, TEAMS_AUTH: "off", NODE_ENV: "production" });
    expect(await exit).toBe(2);
    expect(output.text).toBe(
      "hms-userbot: cannot start: invalid configuration: TEAMS_AUTH=off is refused with NODE_ENV=production (it accepts unauthenticated requests)\n",
    );
  }, 60_000);

  it("serves POST /api/messages (TEAMS_AUTH=off), answers through the activity's serviceUrl, and stops cleanly", async () => {
    const { child, output, exit } = start({ DATA_DIR: dataDir, TEAMS_AUTH: "off", BOOTSTRAP_ADMINS: ADMIN.email });
    try {
      const deadline = Date.now() + 90_000;
      while (!output.text.includes('"msg":"ready"') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      expect(output.text).toContain('"msg":"ready"');
      expect(output.text).toContain("Teams listening at POST /api/messages WITHOUT authentication (TEAMS_AUTH=off)");
      const url = `http://127.0.0.1:${/"port":(\d+)/.exec(output.text)![1]}/api/messages`;
      const user = { id: "29:start-admin", name: "Root" };
      const activity = message({ serviceUrl: fake.serviceUrl, from: user, text: "groups" });
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(activity) });
      expect(res.status).toBe(200);
      const [reply] = await fake.waitFor((c) => c.kind === "send" && c.conversationId === personal(user).id, 1, 30_000, "the answer");
      expect(String(reply!.body?.summary)).toMatch(/^1 group$/);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exit).toBe(0);
    expect(output.text).toContain('"msg":"stopped"');
  }, 150_000);
});
