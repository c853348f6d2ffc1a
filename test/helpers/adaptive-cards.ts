/**
 * Checks that a card is one Teams will show: valid against the official Adaptive Card 1.5 JSON
 * schema (test/fixtures/specs/teams, plus the Teams extensions it lacks), parsed without errors
 * or warnings by Microsoft's own `adaptivecards` library, its mentions matched to entities, and
 * within CARD_BUDGET_BYTES. `expectValidCard` is for every card the bot sends, in any test.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type * as AdaptiveCardsSdk from "adaptivecards";
import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { expect } from "vitest";
import { type AdaptiveCard, CARD_BUDGET_BYTES, cardBytes } from "../../src/render/adaptive-cards.ts";
import { TEAMS_SPECS } from "./shared.ts";

type Schema = Record<string, unknown> & { definitions: Record<string, { properties: Record<string, unknown>; anyOf?: unknown[] }> };

/**
 * What Teams adds to Adaptive Cards, which the 1.5 schema (additionalProperties: false) refuses:
 * the card's `msteams` (full width, mentions: learn.microsoft.com "Format cards in Microsoft
 * Teams") and the typeahead of Input.ChoiceSet (`style: "filtered"`, `choices.data` a Data.Query:
 * "Typeahead search in Adaptive Cards", and schemas/src/elements/inputs/Data.Query.json of
 * microsoft/AdaptiveCards, where it is part of 1.6). Each is as strict as the rest of the schema.
 */
function addTeamsExtensions(schema: Schema): void {
  const defs = schema.definitions;
  defs.AdaptiveCard!.properties.msteams = {
    type: "object",
    additionalProperties: false,
    properties: {
      width: { enum: ["Full"] },
      entities: {
        type: "array",
        items: {
          type: "object",
          additionalProperties: false,
          required: ["type", "text", "mentioned"],
          properties: {
            type: { enum: ["mention"] },
            text: { type: "string", pattern: "^<at>[^<>]+</at>$" },
            mentioned: {
              type: "object",
              additionalProperties: false,
              required: ["id", "name"],
              properties: { id: { type: "string", minLength: 1 }, name: { type: "string", minLength: 1 } },
            },
          },
        },
      },
    },
  };
  defs["Input.ChoiceSet"]!.properties["choices.data"] = {
    type: "object",
    additionalProperties: false,
    required: ["type", "dataset"],
    properties: {
      type: { enum: ["Data.Query"] },
      dataset: { type: "string", minLength: 1 },
      count: { type: "number" },
      skip: { type: "number" },
      associatedInputs: { enum: ["auto", "none"] },
    },
  };
  defs.ChoiceInputStyle!.anyOf = [{ enum: ["compact", "expanded", "filtered"] }];
}

function schemaValidator() {
  const schema = JSON.parse(readFileSync(path.join(TEAMS_SPECS, "adaptive-card.schema.1.5.0.json"), "utf8")) as Schema;
  // Draft-06 names the schema with `id`; Ajv 8 knows only `$id`.
  expect(schema.$schema).toBe("http://json-schema.org/draft-06/schema#");
  schema.$id = schema.id;
  delete schema.id;
  addTeamsExtensions(schema);
  const ajv = new Ajv({ allErrors: true, strict: false });
  const require = createRequire(import.meta.url);
  ajv.addMetaSchema(require("ajv/lib/refs/json-schema-draft-06.json"));
  addFormats.default(ajv);
  return ajv.compile(schema);
}

let validate: ReturnType<typeof schemaValidator> | undefined;

/**
 * The schema's verdict on a card: [] when valid, else its errors (the schema's `anyOf` over every
 * element type makes Ajv report each alternative; the short ones say what is wrong).
 */
export function schemaErrors(card: unknown): string[] {
  validate ??= schemaValidator();
  if (validate(card)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || "/"} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

// The library's browser bundle loads in Node (parsing needs no DOM); its ESM build does not (extensionless imports).
const sdk = createRequire(import.meta.url)("adaptivecards/dist/adaptivecards.js") as typeof AdaptiveCardsSdk;

/** The ids of the card's Input.ChoiceSets that use Teams' dynamic typeahead (`choices.data`). */
function typeaheadIds(card: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === "object") {
      const el = node as Record<string, unknown>;
      if (el.type === "Input.ChoiceSet" && el["choices.data"] && typeof el.id === "string") ids.add(el.id);
      Object.values(el).forEach(visit);
    }
  };
  visit(card);
  return ids;
}

/**
 * What Microsoft's `adaptivecards` library says while parsing a card as version 1.5 and
 * validating it: [] when it has nothing to say. It knows Teams' dynamic typeahead only as 1.6
 * and still asks such a choice set for static choices; Teams takes `choices.data` in 1.5 cards
 * and with `choices: []` (as Microsoft's own Teams samples send it), so those two are left out.
 */
export function sdkMessages(card: unknown): string[] {
  const parsed = new sdk.AdaptiveCard();
  const context = new sdk.SerializationContext(sdk.Versions.v1_5);
  parsed.parse(card, context);
  const events = Array.from({ length: context.eventCount }, (_, i) => context.getEventAt(i));
  events.push(...parsed.validateProperties().validationEvents);
  const typeahead = typeaheadIds(card);
  const teamsTypeahead = (e: AdaptiveCardsSdk.IValidationEvent) =>
    (e.event === sdk.ValidationEvent.UnsupportedProperty && e.message.startsWith('Property "choices.data" is supported in version 1.6')) ||
    (e.event === sdk.ValidationEvent.CollectionCantBeEmpty && typeahead.has((e.source as { id?: string } | undefined)?.id ?? ""));
  return events.filter((e) => !teamsTypeahead(e)).map((e) => `${sdk.ValidationEvent[e.event]}: ${e.message}`);
}

/** Every mention tag `<at>…</at>` in the card's texts, facts and choices. */
function mentionTags(card: AdaptiveCard): string[] {
  const texts: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (typeof value === "string" && ["text", "title", "value"].includes(key)) texts.push(value);
        else if (key !== "msteams") visit(value);
      }
    }
  };
  visit(card.body);
  // An escaped tag (\<at>) is text that only looks like one.
  return texts.flatMap((t) => t.match(/(?<!\\)<at>.*?(?<!\\)<\/at>/g) ?? []);
}

/**
 * Fails the test unless the card is valid for Teams: the schema, the official parser, mentions
 * (each `<at>Name</at>` has an entity and each entity is used), and the size budget.
 */
export function expectValidCard(card: AdaptiveCard): void {
  expect(schemaErrors(card), "Adaptive Card 1.5 schema").toEqual([]);
  expect(sdkMessages(card), "adaptivecards parse and validation").toEqual([]);
  const tags = new Set(mentionTags(card));
  const entities = new Set((card.msteams?.entities ?? []).map((e) => e.text));
  expect([...entities].sort(), "mention entities match the <at> tags in the text").toEqual([...tags].sort());
  expect(cardBytes(card), `card size (UTF-16 bytes) within ${CARD_BUDGET_BYTES}`).toBeLessThanOrEqual(CARD_BUDGET_BYTES);
}
