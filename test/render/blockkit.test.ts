/** The Block Kit renderer, by exact equality on the JSON it produces. */
import { describe, expect, it } from "vitest";
import { clip, escapeMrkdwn, mrkdwn, renderFormErrors, renderMessage, renderModal, renderOptions } from "../../src/render/blockkit.ts";
import type { Form, Message } from "../../src/render/model.ts";

describe("renderMessage", () => {
  it("renders every block kind", () => {
    const message: Message = {
      summary: "Summary line",
      blocks: [
        {
          type: "section",
          text: ["Added ", { bold: "Jane <Doe>" }, " & ", { code: "/hms" }],
          fields: [{ label: "Group", value: "Finance" }],
        },
        { type: "section", text: "Plain *not bold* & <tag>" },
        { type: "list", items: [[{ bold: "A" }, " one"], "two & three"] },
        { type: "list", items: ["plain_one", "plain_two"] },
        { type: "context", text: "Small print" },
        {
          type: "actions",
          buttons: [
            { id: "approve", label: "Approve", value: "batch-1", style: "primary" },
            { id: "reject", label: "Reject" },
          ],
        },
        { type: "divider" },
      ],
    };
    expect(renderMessage(message)).toEqual({
      text: "Summary line",
      blocks: [
        {
          type: "section",
          text: { type: "mrkdwn", text: "Added *Jane &lt;Doe&gt;* &amp; `/hms`" },
          fields: [{ type: "mrkdwn", text: "*Group*\nFinance" }],
        },
        { type: "section", text: { type: "plain_text", text: "Plain *not bold* & <tag>" } },
        { type: "section", text: { type: "mrkdwn", text: "• *A* one\n• two &amp; three" } },
        { type: "section", text: { type: "plain_text", text: "• plain_one\n• plain_two" } },
        { type: "context", elements: [{ type: "plain_text", text: "Small print" }] },
        {
          type: "actions",
          elements: [
            { type: "button", action_id: "approve", text: { type: "plain_text", text: "Approve" }, value: "batch-1", style: "primary" },
            { type: "button", action_id: "reject", text: { type: "plain_text", text: "Reject" } },
          ],
        },
        { type: "divider" },
      ],
    });
  });

  it("splits a long list into sections within Slack's 3000 characters", () => {
    const items = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, "0")} ${"x".repeat(60)}`);
    const { blocks } = renderMessage({ summary: "long", blocks: [{ type: "list", items }] });
    expect(blocks.length).toBe(3);
    for (const b of blocks) expect(b.type === "section" && b.text.text.length <= 3000).toBe(true);
    const lines = blocks.flatMap((b) => (b.type === "section" ? b.text.text.split("\n") : []));
    expect(lines).toEqual(items.map((i) => `• ${i}`));
  });

  it("keeps a message within 50 blocks, saying it was shortened", () => {
    const { blocks } = renderMessage({ summary: "many", blocks: Array.from({ length: 60 }, () => ({ type: "divider" as const })) });
    expect(blocks.length).toBe(50);
    expect(blocks.at(-1)).toEqual({
      type: "context",
      elements: [{ type: "plain_text", text: "(Shortened: Slack shows at most this much in one message.)" }],
    });
  });

  it("escapes only what mrkdwn reserves, and clips by characters", () => {
    expect(escapeMrkdwn("a & b < c > d")).toBe("a &amp; b &lt; c &gt; d");
    expect(mrkdwn(["x ", { bold: "" }, { code: "" }])).toBe("x ");
    expect(clip("abcdef", 4)).toBe("abc…");
    expect(clip("ab😀d", 4)).toBe("ab😀d");
  });
});

const FORM: Form = {
  id: "hms_add_user",
  title: "A title longer than Slack allows",
  submitLabel: "Add user",
  cancelLabel: "Cancel",
  metadata: '{"channel":"C1"}',
  intro: [{ type: "context", text: "Intro" }],
  inputs: [
    { type: "text", id: "email", label: "Email ID", hint: "Hint", placeholder: "jane@example.com", initialValue: "jane@corp.example.org" },
    { type: "text", id: "exchangeDomain", label: "Exchange domain", optional: true, maxLength: 64 },
    {
      type: "externalSelect",
      id: "group",
      label: "Group",
      placeholder: "Choose",
      minQueryLength: 0,
      initialOption: { value: "Finance", label: "Finance" },
    },
    {
      type: "radio",
      id: "role",
      label: "Role",
      options: [
        { value: "User", label: "User", description: "Portal only." },
        { value: "Administrator", label: "Administrator" },
      ],
      initialValue: "User",
    },
  ],
};

describe("renderModal", () => {
  it("renders inputs as input blocks whose block and action ids are the input ids", () => {
    expect(renderModal(FORM)).toEqual({
      type: "modal",
      callback_id: "hms_add_user",
      title: { type: "plain_text", text: "A title longer than Sla…" },
      submit: { type: "plain_text", text: "Add user" },
      close: { type: "plain_text", text: "Cancel" },
      private_metadata: '{"channel":"C1"}',
      blocks: [
        { type: "context", elements: [{ type: "plain_text", text: "Intro" }] },
        {
          type: "input",
          block_id: "email",
          label: { type: "plain_text", text: "Email ID" },
          hint: { type: "plain_text", text: "Hint" },
          element: {
            type: "plain_text_input",
            action_id: "email",
            placeholder: { type: "plain_text", text: "jane@example.com" },
            initial_value: "jane@corp.example.org",
          },
        },
        {
          type: "input",
          block_id: "exchangeDomain",
          label: { type: "plain_text", text: "Exchange domain" },
          optional: true,
          element: { type: "plain_text_input", action_id: "exchangeDomain", max_length: 64 },
        },
        {
          type: "input",
          block_id: "group",
          label: { type: "plain_text", text: "Group" },
          element: {
            type: "external_select",
            action_id: "group",
            placeholder: { type: "plain_text", text: "Choose" },
            min_query_length: 0,
            initial_option: { text: { type: "plain_text", text: "Finance" }, value: "Finance" },
          },
        },
        {
          type: "input",
          block_id: "role",
          label: { type: "plain_text", text: "Role" },
          element: {
            type: "radio_buttons",
            action_id: "role",
            options: [
              { text: { type: "plain_text", text: "User" }, value: "User", description: { type: "plain_text", text: "Portal only." } },
              { text: { type: "plain_text", text: "Administrator" }, value: "Administrator" },
            ],
            initial_option: {
              text: { type: "plain_text", text: "User" },
              value: "User",
              description: { type: "plain_text", text: "Portal only." },
            },
          },
        },
      ],
    });
  });

  it("has no submit button when the form has no inputs", () => {
    const modal = renderModal({
      id: "notice",
      title: "Add user",
      submitLabel: "Add user",
      cancelLabel: "Close",
      intro: [{ type: "section", text: "No." }],
      inputs: [],
    });
    expect(modal).toEqual({
      type: "modal",
      callback_id: "notice",
      title: { type: "plain_text", text: "Add user" },
      close: { type: "plain_text", text: "Close" },
      blocks: [{ type: "section", text: { type: "plain_text", text: "No." } }],
    });
  });

  it("refuses metadata Slack would not keep (more than 3000 characters)", () => {
    expect(() => renderModal({ ...FORM, metadata: "x".repeat(3001) })).toThrow(/3000/);
  });
});

describe("renderFormErrors and renderOptions", () => {
  it("keys errors by input id (the block id)", () => {
    expect(renderFormErrors({ email: "Email ID is required.", group: "There is no group named “X”." })).toEqual({
      response_action: "errors",
      errors: { email: "Email ID is required.", group: "There is no group named “X”." },
    });
  });

  it("renders options, and an option group carrying the note when there are more", () => {
    const options = [{ value: "Finance", label: "Finance", description: "Policy Default · 1 user" }];
    expect(renderOptions({ options })).toEqual({
      options: [
        {
          text: { type: "plain_text", text: "Finance" },
          value: "Finance",
          description: { type: "plain_text", text: "Policy Default · 1 user" },
        },
      ],
    });
    expect(renderOptions({ options, note: "First 1 of 2: type to narrow" })).toEqual({
      option_groups: [
        {
          label: { type: "plain_text", text: "First 1 of 2: type to narrow" },
          options: [
            {
              text: { type: "plain_text", text: "Finance" },
              value: "Finance",
              description: { type: "plain_text", text: "Policy Default · 1 user" },
            },
          ],
        },
      ],
    });
  });

  it("keeps at most 100 options, and option texts within 75 characters", () => {
    const options = Array.from({ length: 150 }, (_, i) => ({ value: `g${i}`, label: `Group ${i} ${"y".repeat(80)}` }));
    const rendered = renderOptions({ options }) as { options: { text: { text: string } }[] };
    expect(rendered.options.length).toBe(100);
    expect([...rendered.options[0]!.text.text].length).toBe(75);
  });
});
