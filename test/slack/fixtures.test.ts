/**
 * The payload fixtures keep the shapes Slack really sends: every key in them exists in the
 * payload samples captured by Slack's Java SDK (test/fixtures/specs/slack), and the fake Web API's
 * answers keep the samples' shapes too.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_RESPONDERS, FakeSlack, SAMPLES_DIR, sample } from "../helpers/fake-slack.ts";
import { fixture } from "../helpers/slack-requests.ts";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Paths of keys in `actual` that `shape` does not have: objects compared key by key, arrays by
 * the sample's first object (of the same type); an empty object in a sample is a free-form map
 * (e.g. view.state), so anything goes under it.
 */
function unknownKeys(actual: unknown, shape: unknown, at = ""): string[] {
  if (Array.isArray(actual) && Array.isArray(shape)) {
    const model = shape.find(isObject);
    return model
      ? actual.flatMap((item, i) => (isObject(item) && item.type === model.type ? unknownKeys(item, model, `${at}[${i}]`) : []))
      : [];
  }
  if (!isObject(actual) || !isObject(shape) || Object.keys(shape).length === 0) return [];
  return Object.entries(actual).flatMap(([k, v]) => (k in shape ? unknownKeys(v, shape[k], `${at}.${k}`) : [`${at}.${k}`]));
}

const readSample = (file: string) => JSON.parse(readFileSync(path.join(SAMPLES_DIR, file), "utf8")) as Record<string, unknown>;

describe("Slack payload fixtures", () => {
  it.each([
    ["slash-command", "app-backend/SlashCommandPayload.json", []],
    // Real view_submission payloads carry the view's blocks; the SDK's sample omits them.
    ["view-submission", "app-backend/ViewSubmissionPayload.json", [".view.blocks"]],
    ["event-message-im", "events/MessagePayload.json", []],
    ["block-actions", "app-backend/BlockActionPayload.json", []],
    ["event-message-file-share", "events/MessageFileSharePayload.json", []],
    ["event-app-mention", "events/AppMentionPayload.json", []],
    ["event-file-shared", "events/FileSharedPayload.json", []],
  ])("%s has only keys of %s", (name, samplePath, allowed) => {
    expect(unknownKeys(fixture(name), readSample(samplePath)).filter((k) => !allowed.includes(k))).toEqual([]);
  });

  it("the fake's answers have only keys of the API samples", async () => {
    const fake = await FakeSlack.start();
    try {
      fake.addUser({ id: "U1", email: "a@corp.example.org", name: "A" });
      const call = (method: string, args: Record<string, unknown>) => ({
        method,
        path: `/api/${method}`,
        args,
        headers: {},
        token: "xoxb-x",
        raw: Buffer.alloc(0),
      });
      for (const [method, args] of [
        ["auth.test", {}],
        ["users.info", { user: "U1" }],
        ["views.open", { view: { type: "modal", blocks: [] } }],
        ["views.update", { view_id: "V1", view: { type: "modal", blocks: [] } }],
        ["chat.postEphemeral", {}],
        ["users.lookupByEmail", { email: "a@corp.example.org" }],
      ] as const) {
        const reply = (await DEFAULT_RESPONDERS[method]!(call(method, args), fake)) as { body: Record<string, unknown> };
        expect({ method, unknown: unknownKeys(reply.body, sample(method)) }).toEqual({ method, unknown: [] });
        expect(reply.body.ok).toBe(true);
      }
    } finally {
      await fake.close();
    }
  });
});
