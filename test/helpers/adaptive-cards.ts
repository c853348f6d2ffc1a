/**
 * STAND-IN until h/cards lands (theirs also parses each card with the adaptivecards package):
 * expectValidCard validates a card against the Adaptive Card 1.5 schema in test/fixtures/specs/teams,
 * Teams' host extensions (msteams, choices.data) set aside, and checks the 40 KB budget.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import draft06 from "ajv/dist/refs/json-schema-draft-06.json" with { type: "json" };
import addFormats from "ajv-formats";
import { expect } from "vitest";
import { CARD_BUDGET_BYTES } from "../../src/render/adaptive-cards.ts";
import { TEAMS_SPECS } from "./shared.ts";

let validate: (((card: unknown) => boolean) & { errors?: unknown }) | undefined;

function validator() {
  if (validate) return validate;
  const schema = JSON.parse(readFileSync(path.join(TEAMS_SPECS, "adaptive-card.schema.1.5.0.json"), "utf8")) as Record<string, unknown>;
  schema.$id = schema.id;
  delete schema.id;
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema(draft06);
  addFormats.default(ajv);
  validate = ajv.compile(schema);
  return validate;
}

/** The card without the host extensions Teams adds to the 1.5 schema. */
function withoutExtensions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutExtensions);
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "msteams" || k === "choices.data") continue;
    out[k] = k === "style" && v === "filtered" ? "compact" : withoutExtensions(v);
  }
  return out;
}

/** Asserts `card` is a valid Adaptive Card 1.5 within the budget. */
export function expectValidCard(card: unknown): void {
  const check = validator();
  const ok = check(withoutExtensions(card));
  expect(ok ? [] : check.errors).toEqual([]);
  expect((card as { version?: string }).version).toBe("1.5");
  expect(JSON.stringify(card).length * 2).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
}
