/**
 * The Adaptive Card renderer: small cards by exact equality on the JSON it produces; the
 * budget (long lists cut, then long texts); and every view rendered to a card that the Adaptive
 * Card 1.5 schema, Microsoft's `adaptivecards` parser and the size budget all accept.
 */
import { describe, expect, it } from "vitest";
import { spelledCommands, speller } from "../../src/chat/commands.ts";
import type { GroupSummary, ImportBatch, ImportRowRecord, UserDetails, UserWithGroup } from "../../src/core/index.ts";
import { fieldIssue } from "../../src/core/schemas.ts";
import {
  type AdaptiveCard,
  CARD_BUDGET_BYTES,
  type CardElement,
  cardBytes,
  escapeMarkdown,
  renderCard,
  renderFormCard,
  renderSearchResults,
  type TextBlock,
} from "../../src/render/adaptive-cards.ts";
import * as directoryViews from "../../src/render/directory-views.ts";
import {
  auditMessage,
  editUserForm,
  exportMessage,
  invitationsMessage,
  moveUserForm,
  userCardMessage,
  userChangedMessage,
  userRemovedMessage,
} from "../../src/render/directory-views.ts";
import * as importViews from "../../src/render/import-views.ts";
import {
  approvalOutcomeMessage,
  approvalReminderMessage,
  approvalRequestMessage,
  fixRowForm,
  fixRowPickForm,
  IMPORT_ACTIONS,
  type ImportView,
  importFileForm,
  importFileRefusedMessage,
  importMessage,
  importReportMessage,
  importResultsMessage,
  importSupersededMessage,
  importsMessage,
  importTemplateMessage,
  rejectReasonForm,
} from "../../src/render/import-views.ts";
import type { Form, Inline, Message } from "../../src/render/model.ts";
import * as views from "../../src/render/views.ts";
import {
  addUserErrors,
  addUserForm,
  formClosedMessage,
  groupAddedMessage,
  groupOptions,
  groupsMessage,
  helpMessage,
  noticeForm,
  noticeMessage,
  userAddedMessage,
  usersMessage,
} from "../../src/render/views.ts";
import { expectValidCard, schemaErrors, sdkMessages } from "../helpers/adaptive-cards.ts";

/** How Teams people type the commands. */
const TEAMS = { prefix: "", joiner: " " } as const;

const SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json";
const cardOf = (body: CardElement[], extra: Partial<AdaptiveCard> = {}): AdaptiveCard => ({
  type: "AdaptiveCard",
  $schema: SCHEMA,
  version: "1.5",
  body,
  ...extra,
  msteams: { width: "Full", ...extra.msteams },
});
const tb = (text: string, extra: Partial<TextBlock> = {}): TextBlock => ({ type: "TextBlock", text, wrap: true, ...extra });
const small = (text: string, extra: Partial<TextBlock> = {}): TextBlock => tb(text, { isSubtle: true, size: "small", ...extra });

const at = new Date("2026-11-24T12:00:00Z");
// Asserted, not annotated: fields the views do not read need not be listed as ImportBatch grows.
const batch = (over: Partial<ImportBatch> = {}): ImportBatch =>
  ({
    id: "b-1",
    kind: "import",
    code: "IMP-7K3Q",
    fileName: "users_2026*final*.csv",
    sha256: "abcdef0123456789".padEnd(64, "0"),
    sizeBytes: 100,
    requesterEmail: "admin@corp.example.org",
    requesterPlatformId: "29:admin",
    platform: "teams",
    conversation: {},
    fileInfo: {},
    status: "VALIDATED",
    approvalRequired: true,
    approvalRequestedAt: null,
    approvalExpiresAt: null,
    decidedBy: null,
    decidedAt: null,
    reason: null,
    leaseOwner: null,
    leaseUntil: null,
    createdAt: at,
    updatedAt: at,
    dataRows: 120,
    readyRows: 114,
    attentionRows: 2,
    blankRows: 1,
    adminRows: 3,
    createdRows: 0,
    skippedRows: 0,
    failedRows: 0,
    updateRows: 0,
    unchangedRows: 0,
    adminUpdateRows: 0,
    updatedRows: 0,
    includeUpdates: false,
    submitterEmail: null,
    submitterPlatformId: null,
    ...over,
  }) as ImportBatch;
const row = (rowNumber: number, message: string, status: ImportRowRecord["status"] = "NEEDS_ATTENTION"): ImportRowRecord => ({
  rowNumber,
  status,
  email: `r${rowNumber}@corp.example.org`,
  name: "N",
  groupName: "Finance",
  role: "USER",
  exchangeDomain: "",
  exchangeUsername: "",
  issues: [{ field: "email", code: "VALIDATION_FAILED", message }],
  changes: null,
});
const group = (name: string, userCount: number, policy = "Default"): GroupSummary => ({
  id: `g-${name}`,
  name,
  policy,
  userCount,
  createdAt: at,
  updatedAt: at,
});
const user = (i: number): UserWithGroup => ({
  id: `u${i}`,
  email: `user_${i}@corp.example.org`,
  name: `User *${i}*`,
  role: i === 0 ? "ADMINISTRATOR" : "USER",
  groupId: "g-Finance",
  group: group("Finance", 0),
  roleSince: at,
  exchangeDomain: null,
  exchangeUsername: null,
  status: "CREATED",
  source: "FORM",
  createdBy: "admin@corp.example.org",
  createdAt: at,
  updatedAt: at,
});
const requester = { name: "admin@corp.example.org", platformId: "29:admin" };
const approvers = [{ name: "second.admin@corp.example.org", platformId: "29:second" }, { name: "x@corp.example.org" }];

describe("escapeMarkdown", () => {
  it("escapes what Teams' Markdown reads, so names show as typed", () => {
    expect(escapeMarkdown("*Finance* _x_ [a](b) `c` back\\slash")).toBe("\\*Finance\\* \\_x\\_ \\[a\\](b) \\`c\\` back\\\\slash");
    // List markers only where a line starts.
    expect(escapeMarkdown("- one\n+ two\n3. three\n4) four\n-5 users, 1.5 GB")).toBe(
      "\\- one\n\\+ two\n3\\. three\n4\\) four\n-5 users, 1.5 GB",
    );
    expect(escapeMarkdown("- not at a line start", false)).toBe("- not at a line start");
    expect(escapeMarkdown("Jane <Doe> & Co, 50% off! #1")).toBe("Jane <Doe> & Co, 50% off! #1");
    // Typed text cannot pose as a mention.
    expect(escapeMarkdown("<at>Boss</at> <AT>x</AT>")).toBe("\\<at>Boss\\</at> \\<AT>x\\</AT>");
  });
});

describe("renderCard", () => {
  it("a notice: one TextBlock, full width", () => {
    expect(renderCard(noticeMessage("Only HMS Administrators can add users."))).toEqual(
      cardOf([tb("Only HMS Administrators can add users.")]),
    );
  });

  it("the help: bold as **…**, code as plain text, brackets escaped, the commands as a Markdown list", () => {
    // A fixed list, so that new commands do not change this test (every real one is rendered below).
    const commands = [
      { name: "add user", usage: "add user [email]", does: "Open the Add user form." },
      { name: "add group", usage: "add group <name> [policy=<policy name>]", does: "Create a group." },
      { name: "help", usage: "help", does: "Show this help." },
    ];
    expect(renderCard(helpMessage({ commands, unknown: "frob_nicate" }))).toEqual(
      cardOf([
        tb("There is no frob\\_nicate command."),
        tb("**HMS userbot** manages the users and groups of Hosted Mobile Security."),
        tb(
          [
            "- add user \\[email\\] — Open the Add user form.",
            "- add group <name> \\[policy=<policy name>\\] — Create a group.",
            "- help — Show this help.",
          ].join("\n"),
        ),
        small("Only HMS Administrators can use these commands."),
      ]),
    );
  });

  it("every block kind: fields as a FactSet, a divider as a line over what follows, progress as text and a bar", () => {
    const message: Message = {
      summary: "s",
      blocks: [
        {
          type: "section",
          text: ["Added ", { bold: " *Jane* " }, " to ", { code: "Fin_ance" }],
          fields: [{ label: "Group", value: "R&D" }],
        },
        { type: "divider" },
        { type: "list", items: ["- a dash", [{ bold: "B" }, " two"]] },
        { type: "progress", label: "Creating accounts…", done: 40_000, total: 150_000 },
        { type: "context", text: "1. not a list" },
        { type: "divider" },
      ],
    };
    expect(renderCard(message)).toEqual(
      cardOf([
        tb("Added  **\\*Jane\\***  to Fin\\_ance"),
        { type: "FactSet", facts: [{ title: "Group", value: "R&D" }] },
        tb("- - a dash\n- **B** two", { separator: true }),
        tb("Creating accounts… 40,000 / 150,000"),
        small("▓▓▓▓▓░░░░░░░░░░░░░░░ 26%", { spacing: "small" }),
        small("1\\. not a list"),
      ]),
    );
  });

  it("links: Markdown links with their text escaped; a target that is not http(s) is shown as text only", () => {
    const link: Inline = { link: "https://teams.microsoft.com/l/message/1?x=(a b)", text: "the *summary*" };
    expect(renderCard({ summary: "s", blocks: [{ type: "section", text: ["See ", link] }] }).body).toEqual([
      tb("See [the \\*summary\\*](https://teams.microsoft.com/l/message/1?x=%28a%20b%29)"),
    ]);
    const odd: Inline = { link: "javascript:alert(1)", text: "click" };
    expect(renderCard({ summary: "s", blocks: [{ type: "section", text: [odd] }] }).body).toEqual([tb("click")]);
  });

  it("a button with a confirmation unfolds the question under it; its answer is the real click", () => {
    const card = renderCard({
      summary: "s",
      blocks: [
        {
          type: "actions",
          buttons: [
            {
              id: "hms_remove",
              label: "Remove",
              value: "jane@corp.example.org",
              style: "danger",
              confirm: { title: "Remove user?", text: "Remove *Jane*?", confirm: "Remove", deny: "Keep" },
            },
          ],
        },
      ],
    });
    expect(card.body).toEqual([
      {
        type: "ActionSet",
        actions: [
          {
            type: "Action.ShowCard",
            title: "Remove",
            style: "destructive",
            card: {
              type: "AdaptiveCard",
              body: [tb("Remove user?", { weight: "bolder" }), tb("Remove \\*Jane\\*?")],
              actions: [
                {
                  type: "Action.Execute",
                  verb: "hms_remove",
                  title: "Remove",
                  data: { value: "jane@corp.example.org" },
                  style: "destructive",
                },
              ],
            },
          },
        ],
      },
    ]);
    expectValidCard(card);
  });

  it("buttons: Action.Execute in an ActionSet where the actions block is, verb = id, data = value and options.data", () => {
    const message: Message = {
      summary: "s",
      blocks: [
        { type: "section", text: "Create?" },
        {
          type: "actions",
          buttons: [
            { id: "hms_import_create", label: "Create 114 accounts", value: "b-1", style: "primary" },
            { id: "hms_import_reject", label: "Reject", value: "b-1:abc", style: "danger" },
            { id: "hms_other", label: "Plain" },
          ],
        },
        { type: "context", text: "After the buttons" },
      ],
    };
    expect(renderCard(message, { data: { conversation: "c-1" } })).toEqual(
      cardOf([
        tb("Create?"),
        {
          type: "ActionSet",
          actions: [
            {
              type: "Action.Execute",
              verb: "hms_import_create",
              title: "Create 114 accounts",
              data: { value: "b-1", conversation: "c-1" },
              style: "positive",
            },
            {
              type: "Action.Execute",
              verb: "hms_import_reject",
              title: "Reject",
              data: { value: "b-1:abc", conversation: "c-1" },
              style: "destructive",
            },
            { type: "Action.Execute", verb: "hms_other", title: "Plain", data: { conversation: "c-1" } },
          ],
        },
        small("After the buttons"),
      ]),
    );
  });

  it("mentions: <at>Name</at> with one entity per person; a person without a platform id by name", () => {
    const card = renderCard(approvalRequestMessage({ batch: batch({ status: "AWAITING_APPROVAL" }), requester, approvers }));
    expect(card.body[1]).toEqual(
      tb(
        "<at>second.admin@corp.example.org</at>, x@corp.example.org: <at>admin@corp.example.org</at> asks for approval to create these accounts.",
      ),
    );
    expect(card.msteams).toEqual({
      width: "Full",
      entities: [
        {
          type: "mention",
          text: "<at>second.admin@corp.example.org</at>",
          mentioned: { id: "29:second", name: "second.admin@corp.example.org" },
        },
        { type: "mention", text: "<at>admin@corp.example.org</at>", mentioned: { id: "29:admin", name: "admin@corp.example.org" } },
      ],
    });
    // The same person twice: one entity.
    const twice = renderCard({
      summary: "s",
      blocks: [
        { type: "section", text: [{ mention: "Jane", platformId: "29:j" }, " and ", { mention: "Jane", platformId: "29:j" }] },
        { type: "context", text: [{ mention: "Jane <J>", platformId: "29:j" }] },
      ],
    });
    expect(twice.body).toEqual([tb("<at>Jane</at> and <at>Jane</at>"), small("<at>Jane</at>")]);
    expect(twice.msteams?.entities).toEqual([{ type: "mention", text: "<at>Jane</at>", mentioned: { id: "29:j", name: "Jane" } }]);
    expectValidCard(card);
    expectValidCard(twice);
  });

  it("refresh: Teams asks for a user-specific view for at most 60 people", () => {
    const userIds = Array.from({ length: 70 }, (_, i) => `29:u${i}`);
    const card = renderCard(noticeMessage("Waiting."), { refresh: { verb: "hms_refresh", userIds, data: { batch: "b-1" } } });
    expect(card).toEqual(
      cardOf([tb("Waiting.")], {
        refresh: { action: { type: "Action.Execute", verb: "hms_refresh", data: { batch: "b-1" } }, userIds: userIds.slice(0, 60) },
      }),
    );
    expect(renderCard(noticeMessage("x"), { refresh: { verb: "v", userIds: ["29:a"] } }).refresh).toEqual({
      action: { type: "Action.Execute", verb: "v" },
      userIds: ["29:a"],
    });
    expectValidCard(card);
  });
});

describe("the budget", () => {
  const rowsShown = (card: AdaptiveCard) =>
    card.body.flatMap((el) => (el.type === "TextBlock" ? [...el.text.matchAll(/^- \*\*Row \d+\*\*/gm)] : [])).length;

  it("200 long rows needing attention: as many as fit, then “…and N more.” counting the rest; the buttons stay", () => {
    const long = "Group “Field Sales – EMEA” does not exist. ".repeat(10);
    const card = renderCard({
      summary: "s",
      blocks: [
        { type: "section", text: "Rows needing attention" },
        { type: "list", items: Array.from({ length: 200 }, (_, i) => [{ bold: `Row ${i + 2}` }, `: ${long}`]), total: 250 },
        {
          type: "actions",
          buttons: [
            { id: IMPORT_ACTIONS.create, label: "Create", style: "primary" },
            { id: IMPORT_ACTIONS.cancel, label: "Cancel" },
          ],
        },
      ],
    });
    expectValidCard(card);
    const shown = rowsShown(card);
    expect(shown).toBeGreaterThan(30);
    expect(shown).toBeLessThan(200);
    // The first rows, in order.
    const list = card.body.find((el): el is TextBlock => el.type === "TextBlock" && el.text.startsWith("- **Row 2**"))!;
    expect(list.text.split("\n").map((l) => /^- \*\*Row (\d+)\*\*/.exec(l)?.[1])).toEqual(
      Array.from({ length: shown }, (_, i) => `${i + 2}`),
    );
    const after = card.body[card.body.indexOf(list) + 1];
    expect(after).toEqual(small(`…and ${250 - shown} more.`));
    // Nearly full: one more row would not have fitted.
    const line = `\n- ${list.text.split("\n")[0]!.slice(2)}`;
    expect(cardBytes(card) + JSON.stringify(line).length * 2).toBeGreaterThan(CARD_BUDGET_BYTES);
    expect(card.body.at(-1)).toMatchObject({
      type: "ActionSet",
      actions: [{ verb: IMPORT_ACTIONS.create }, { verb: IMPORT_ACTIONS.cancel }],
    });
  });

  it("lists that say their total are cut before other lists", () => {
    const lineOf = (i: number) => `line ${i} ${"y".repeat(300)}`;
    const card = renderCard({
      summary: "s",
      blocks: [
        { type: "list", items: Array.from({ length: 40 }, (_, i) => lineOf(i)) },
        { type: "list", items: Array.from({ length: 100 }, (_, i) => lineOf(i)), total: 100 },
        { type: "actions", buttons: [{ id: "ok", label: "OK" }] },
      ],
    });
    expectValidCard(card);
    expect(card.body[0]).toEqual(tb(Array.from({ length: 40 }, (_, i) => `- ${lineOf(i)}`).join("\n")));
    const cut = card.body[1] as TextBlock;
    const kept = cut.text.split("\n").length;
    expect(kept).toBeLessThan(100);
    expect(card.body[2]).toEqual(small(`…and ${100 - kept} more.`));
    expect(card.body[3]).toMatchObject({ type: "ActionSet" });
  });

  it("when every list is cut and the card is still too heavy, long texts are cut too (mentions whole or not at all); never the buttons", () => {
    const card = renderCard({
      summary: "s",
      blocks: [
        { type: "section", text: ["x".repeat(30_000), { mention: "Jane", platformId: "29:j" }] },
        { type: "context", text: "z".repeat(30_000) },
        { type: "list", items: Array.from({ length: 50 }, () => "w".repeat(500)), total: 60 },
        { type: "actions", buttons: [{ id: "ok", label: "OK", value: "v" }] },
      ],
    });
    expectValidCard(card);
    const [section, context, more, actions] = card.body as [TextBlock, TextBlock, TextBlock, CardElement];
    expect(section.text).toMatch(/^x+…$/);
    expect(context.text).toMatch(/^z+…$/);
    expect(section.text.length).toBe(context.text.length);
    expect(section.text.length).toBeGreaterThan(9_000);
    expect(more).toEqual(small("…and 60 more."));
    expect(actions).toEqual({ type: "ActionSet", actions: [{ type: "Action.Execute", verb: "ok", title: "OK", data: { value: "v" } }] });
    expect(card.msteams).toEqual({ width: "Full" });
  });

  it("a message that cannot fit even with every text cut is refused with an Error, not sent broken", () => {
    const sections = Array.from({ length: 2_000 }, (_, i): Message["blocks"][number] => ({ type: "section", text: `Section ${i}` }));
    expect(() => renderCard({ summary: "Too many", blocks: sections })).toThrow(
      'the message "Too many" cannot fit in an Adaptive Card of 40000 bytes even with its texts cut',
    );
  });
});

const ADD_USER_STATIC: Form = addUserForm({ metadata: '{"conversation":"c-1"}' });

describe("renderFormCard", () => {
  it("the Add user form with what was typed and the problems under their inputs", () => {
    const errors = addUserErrors([fieldIssue("email", "EMAIL_INVALID", "jane_doe@@corp"), fieldIssue("group", "GROUP_UNKNOWN", "Nope")])!;
    const card = renderFormCard(ADD_USER_STATIC, {
      values: { email: "jane_doe@@corp", name: "Jane *Doe*", group: "Nope", role: "Administrator" },
      errors,
      choices: { group: [{ value: "Finance", label: "Finance", description: "Policy Default · 3 users" }] },
    });
    expect(card).toEqual(
      cardOf(
        [
          tb("Add user", { weight: "bolder", size: "medium" }),
          {
            type: "Input.Text",
            id: "email",
            label: "Email ID",
            placeholder: "jane.doe@example.com",
            value: "jane_doe@@corp",
            isRequired: true,
            errorMessage: "Email ID “jane_doe@@corp” is not a valid email address.",
          },
          tb("Email ID “jane\\_doe@@corp” is not a valid email address.", { color: "attention", spacing: "small" }),
          small("The Email ID is also the user's logon ID.", { spacing: "small" }),
          {
            type: "Input.Text",
            id: "name",
            label: "Name",
            placeholder: "Jane Doe",
            value: "Jane *Doe*",
            isRequired: true,
            errorMessage: "Name is required.",
          },
          {
            type: "Input.ChoiceSet",
            id: "group",
            label: "Group",
            style: "compact",
            choices: [
              { title: "Nope", value: "Nope" },
              { title: "Finance", value: "Finance" },
            ],
            placeholder: "Choose a group",
            value: "Nope",
            isRequired: true,
            errorMessage: "There is no group named “Nope”.",
          },
          tb("There is no group named “Nope”.", { color: "attention", spacing: "small" }),
          small("Type to search the groups.", { spacing: "small" }),
          {
            type: "Input.ChoiceSet",
            id: "role",
            label: "Role",
            style: "expanded",
            choices: [
              { title: "User — Uses the end-user portal only.", value: "User" },
              { title: "Administrator — Manages the service, users and devices.", value: "Administrator" },
            ],
            wrap: true,
            value: "Administrator",
            isRequired: true,
            errorMessage: "Role is required.",
          },
          { type: "Input.Text", id: "exchangeDomain", label: "Exchange domain", placeholder: "CORP" },
          small("Only for Exchange ActiveSync, with the username: a NetBIOS name (CORP) or a DNS domain (corp.example.com).", {
            spacing: "small",
          }),
          { type: "Input.Text", id: "exchangeUsername", label: "Exchange username", placeholder: "jdoe" },
          small("Only for Exchange ActiveSync, with the domain.", { spacing: "small" }),
        ],
        {
          actions: [
            {
              type: "Action.Execute",
              verb: "hms_add_user",
              title: "Add user",
              data: { metadata: '{"conversation":"c-1"}' },
              associatedInputs: "auto",
            },
          ],
        },
      ),
    );
    expectValidCard(card);
  });

  it("the group select: static choices (compact) or Teams' typeahead (Data.Query), the chosen group kept", () => {
    const form = addUserForm({ values: { group: "Finance" } });
    const select = (card: AdaptiveCard) => card.body.find((el) => el.type === "Input.ChoiceSet" && el.id === "group");
    const options = [
      { value: "Engineering", label: "Engineering" },
      { value: "Finance", label: "Finance" },
    ];
    expect(select(renderFormCard(form, { choices: { group: options } }))).toEqual({
      type: "Input.ChoiceSet",
      id: "group",
      label: "Group",
      style: "compact",
      choices: [
        { title: "Engineering", value: "Engineering" },
        { title: "Finance", value: "Finance" },
      ],
      placeholder: "Choose a group",
      value: "Finance",
      isRequired: true,
      errorMessage: "Group is required.",
    });
    const typeahead = renderFormCard(form, { choices: { group: { dataset: "groups" } } });
    expect(select(typeahead)).toEqual({
      type: "Input.ChoiceSet",
      id: "group",
      label: "Group",
      style: "filtered",
      choices: [{ title: "Finance", value: "Finance" }],
      "choices.data": { type: "Data.Query", dataset: "groups" },
      placeholder: "Choose a group",
      value: "Finance",
      isRequired: true,
      errorMessage: "Group is required.",
    });
    const empty = renderFormCard(addUserForm(), { choices: { group: { dataset: "groups" } } });
    expect(select(empty)).toMatchObject({ style: "filtered", choices: [], "choices.data": { type: "Data.Query", dataset: "groups" } });
    expect(select(empty)).not.toHaveProperty("value");
    for (const card of [typeahead, empty]) expectValidCard(card);
  });

  it("typed values win over initial ones; a text is cut to its maxLength; a form that only informs has no submit", () => {
    const reject = renderFormCard(rejectReasonForm({ code: "IMP-7K3Q" }), { values: { reason: "r".repeat(600) } });
    expect(reject.body).toEqual([
      tb("Reject import", { weight: "bolder", size: "medium" }),
      tb("Reject import **IMP-7K3Q**? The requester will see the reason."),
      {
        type: "Input.Text",
        id: "reason",
        label: "Reason",
        placeholder: "Why the accounts should not be created",
        value: "r".repeat(500),
        maxLength: 500,
        isMultiline: true,
        isRequired: true,
        errorMessage: "Reason is required.",
      },
    ]);
    expect(reject.actions).toEqual([{ type: "Action.Execute", verb: "hms_import_reject", title: "Reject", associatedInputs: "auto" }]);
    const cleared = renderFormCard(addUserForm({ email: "jane@corp.example.org" }), { values: { email: "" }, choices: { group: [] } });
    expect(cleared.body[1]).not.toHaveProperty("value");
    expect(renderFormCard(noticeForm({ title: "Add user", text: "Only HMS Administrators can add users." }))).toEqual(
      cardOf([tb("Add user", { weight: "bolder", size: "medium" }), tb("Only HMS Administrators can add users.")]),
    );
  });

  it("refuses what a card cannot hold: a file input, a select with no choices given", () => {
    expect(() => renderFormCard(importFileForm({ spell: speller(TEAMS) }))).toThrow(
      'form "hms_import_upload": the input "file" is a file picker, which an Adaptive Card cannot hold',
    );
    expect(() => renderFormCard(addUserForm())).toThrow('the select "group" needs state.choices["group"]');
  });
});

describe("renderSearchResults", () => {
  it("answers Teams' typeahead with at most 15 results", () => {
    const groups = Array.from({ length: 40 }, (_, i) => group(`G${i}`, i));
    const list = groupOptions({ groups, total: 250 });
    expect(renderSearchResults(list)).toEqual(groups.slice(0, 15).map((g) => ({ title: g.name, value: g.name })));
    expect(renderSearchResults(list, 3)).toEqual([
      { title: "G0", value: "G0" },
      { title: "G1", value: "G1" },
      { title: "G2", value: "G2" },
    ]);
    expect(renderSearchResults(list, 100)).toHaveLength(15);
  });
});

describe("the validators", () => {
  it("tell a broken card from a good one", () => {
    const good = renderCard(noticeMessage("ok"));
    expect(schemaErrors(good)).toEqual([]);
    expect(sdkMessages(good)).toEqual([]);
    expect(schemaErrors({ ...good, msteams: { width: "Wide" } })).not.toEqual([]);
    expect(schemaErrors({ ...good, body: [{ type: "TextBlock", text: "x", colour: "red" }] })).not.toEqual([]);
    expect(sdkMessages({ ...good, body: [{ type: "Bogus" }] })).toEqual([
      'UnknownElementType: Unknown element type "Bogus". Fallback will be used if present.',
    ]);
    const required = { type: "Input.Text", id: "a", label: "A", isRequired: true };
    expect(sdkMessages({ ...good, body: [required] })).toEqual([
      "RequiredInputsShouldHaveErrorMessage: Required inputs should have an error message",
    ]);
    expect(() => expectValidCard({ ...good, body: [tb("<at>Jane</at>")] })).toThrow(/mention entities/);
  });
});

describe("every view as a card", () => {
  const waiting = batch({ status: "AWAITING_APPROVAL", approvalRequestedAt: at, approvalExpiresAt: new Date("2026-11-27T12:00:00Z") });
  const attention = [row(4, "Email ID is not a valid email address."), row(13, "Group *Nope* does not exist.")];
  const summary = (view: Partial<ImportView> & { batch: ImportBatch }) => importMessage({ attention: [], ...view });

  const messages: Record<string, Message> = {
    notice: noticeMessage("You need the HMS Administrator role for that."),
    help: helpMessage({ commands: spelledCommands(TEAMS) }),
    "help, unknown command": helpMessage({ commands: spelledCommands(TEAMS), unknown: "frobnicate" }),
    groups: groupsMessage({ groups: [group("Finance", 1, "Strict BYOD"), group("_Ops_ <at>x</at>", 0)], total: 60, spell: speller(TEAMS) }),
    "no groups": groupsMessage({ groups: [], total: 0, spell: speller(TEAMS) }),
    users: usersMessage({ users: Array.from({ length: 20 }, (_, i) => user(i)), total: 25, query: "user" }),
    "no users": usersMessage({ users: [], total: 0, query: "*nobody*" }),
    "group added": groupAddedMessage(group("Field Sales", 0, "Strict BYOD")),
    "user added": userAddedMessage({
      user: { ...user(1), exchangeDomain: "CORP", exchangeUsername: "jdoe" },
      group: group("Finance", 1),
    }),
    "form closed": formClosedMessage({ errors: { email: "Email ID is required." }, command: speller(TEAMS)("add-user") }),
    template: importTemplateMessage({
      fileName: "hms-import-template.csv",
      howTo: "One row per user: Email ID, Name, Group, Role (User or Administrator), Exchange domain and username if used.",
      sendHint: ["Send the filled-in file to the bot in a ", { bold: "personal chat" }, "."],
    }),
    "file refused": importFileRefusedMessage({ fileName: "users.xlsx", problem: "It is not a CSV file." }),
    superseded: importSupersededMessage({ batch: batch() }),
    "error report comment": importReportMessage({ batch: batch(), rows: 1_204 }).comment,
    "results comment": importResultsMessage({
      batch: batch(),
      rows: 1_204,
      counts: { created: 1_190, updated: 3, unchanged: 1, skipped: 8, failed: 2 },
    }).comment,
    "validated, rows need attention": summary({
      batch: batch({
        fileInfo: { encoding: "windows-1252", delimiter: ";", encodingConfident: false, sampleNames: ["Zoë Ångström", "José"] },
      }),
      attention,
      unknownColumns: ["Notes"],
      reused: true,
    }),
    "validated, nothing ready": summary({ batch: batch({ readyRows: 0, attentionRows: 2, adminRows: 0 }), attention }),
    "validated, all ready": summary({ batch: batch({ attentionRows: 0 }) }),
    "awaiting approval": summary({ batch: waiting, approvers }),
    approved: summary({ batch: batch({ status: "APPROVED", decidedBy: "second.admin@corp.example.org", decidedAt: at }) }),
    creating: summary({
      batch: batch({ status: "CREATING", decidedBy: "second.admin@corp.example.org", decidedAt: at }),
      progress: { done: 40_000, total: 150_000 },
    }),
    created: summary({
      batch: batch({ status: "CREATED", createdRows: 112, skippedRows: 1, failedRows: 1 }),
      attention: [row(9, "Created meanwhile by someone else.", "SKIPPED"), row(11, "Group was deleted.", "FAILED")],
    }),
    inviting: summary({ batch: batch({ status: "INVITING", createdRows: 114 }) }),
    "finished, invitations": summary({
      batch: batch({ status: "FINISHED", createdRows: 114 }),
      invitations: { sent: 110, pending: 3, failed: 1 },
      mailConfigured: true,
    }),
    "finished, no mail server": summary({
      batch: batch({ status: "FINISHED", createdRows: 114 }),
      invitations: { sent: 0, pending: 114, failed: 0 },
      mailConfigured: false,
    }),
    "finished, no invitations": summary({ batch: batch({ status: "FINISHED", createdRows: 114 }) }),
    cancelled: summary({ batch: batch({ status: "CANCELLED", decidedBy: "admin@corp.example.org" }) }),
    rejected: summary({ batch: batch({ status: "REJECTED", decidedBy: "second.admin@corp.example.org", reason: "Wrong *groups*" }) }),
    "expired approval": summary({ batch: batch({ status: "EXPIRED", approvalRequestedAt: at }) }),
    "expired unconfirmed": summary({ batch: batch({ status: "EXPIRED", reason: "Not confirmed within 72 hours." }) }),
    "failed part-way": summary({
      batch: batch({ status: "FAILED", reason: "account creation stopped", createdRows: 100, skippedRows: 2, failedRows: 1 }),
      attention: [row(20, "Skipped.", "SKIPPED")],
    }),
    "failed, nothing created": summary({ batch: batch({ status: "FAILED", reason: "boom" }) }),
    "approval request": approvalRequestMessage({ batch: waiting, requester, approvers }),
    "approval request, approved": approvalRequestMessage({
      batch: batch({ status: "CREATING", decidedBy: "second.admin@corp.example.org", decidedAt: at }),
      requester,
      approvers,
    }),
    "approval request, rejected": approvalRequestMessage({
      batch: batch({ status: "REJECTED", decidedBy: "second.admin@corp.example.org", decidedAt: at, reason: "No" }),
      requester,
      approvers,
    }),
    "approval request, expired": approvalRequestMessage({
      batch: batch({ status: "EXPIRED", approvalExpiresAt: at }),
      requester,
      approvers,
    }),
    "approval request, cancelled": approvalRequestMessage({
      batch: batch({ status: "CANCELLED", decidedBy: "admin@corp.example.org", decidedAt: at }),
      requester,
      approvers,
    }),
  };

  const details: UserDetails = {
    ...user(3),
    importBatch: { id: "b-1", code: "IMP-7K3Q" },
    invitation: { status: "FAILED", attempts: 3, sentAt: null, lastError: "550 *mailbox* unavailable", createdAt: at },
  };
  Object.assign(messages, {
    "summary with updates": summary({
      batch: batch({ updateRows: 12, unchangedRows: 3, adminUpdateRows: 1 }),
      attention,
      changes: [{ ...row(7, "", "UPDATE"), issues: [], changes: { group: { from: "Finance", to: "Engineering" } } }],
    }),
    "one-user request": approvalRequestMessage({
      batch: batch({ ...waiting, kind: "add-user", fileName: "Add jane@corp.example.org as Administrator", dataRows: 1, readyRows: 1 }),
      requester,
      approvers,
    }),
    "approval outcome, approved": approvalOutcomeMessage(batch({ status: "CREATED", decidedBy: "second.admin@corp.example.org" })),
    "approval outcome, rejected": approvalOutcomeMessage(
      batch({ status: "REJECTED", decidedBy: "second.admin@corp.example.org", reason: "No" }),
    ),
    "approval outcome, expired": approvalOutcomeMessage(batch({ status: "EXPIRED", approvalExpiresAt: at })),
    "approval reminder": approvalReminderMessage({ batch: waiting, approvers }),
    imports: importsMessage({
      batches: [waiting, batch({ id: "b-2", code: "IMP-2222", status: "FINISHED" })],
      links: new Map([["b-1", "https://teams.microsoft.com/l/message/19%3Ax/1"]]),
    }),
    "no imports": importsMessage({ batches: [], links: new Map() }),
    "user card": userCardMessage(details),
    "user card, administrator": userCardMessage({ ...details, ...user(0), importBatch: null, invitation: null }),
    audit: auditMessage({
      about: { kind: "user", email: details.email },
      events: [
        { id: "e1", at, actor: "admin@corp.example.org", action: "user.update", subject: details.email, details: { changes: {} } },
        { id: "e2", at, actor: "admin@corp.example.org", action: "user.add", subject: details.email, details: {} },
      ],
    }),
    "audit, empty": auditMessage({ about: { kind: "all" }, events: [] }),
    invitations: invitationsMessage({
      imports: [{ batchId: "b-1", code: "IMP-7K3Q", fileName: "users.csv", createdAt: at, counts: { sent: 10, pending: 1, failed: 2 } }],
      batchId: "b-1",
      failed: [
        { email: "x@corp.example.org", name: "X", attempts: 5, lastError: "550 no *such* user", batchCode: "IMP-7K3Q", exhausted: true },
      ],
      failedTotal: 2,
      mailConfigured: true,
    }),
    "no invitations": invitationsMessage({ imports: [], failed: [], failedTotal: 0, mailConfigured: false }),
    export: exportMessage({ fileName: "hms-users-2026-11-24.csv", bytes: new Uint8Array(), users: 120, group: "Finance" }, speller(TEAMS)),
    "user changed": userChangedMessage({ user: details, changes: { group: { from: "Finance", to: "Engineering" } } }),
    "nothing changed": userChangedMessage({ user: details, changes: {} }),
    "user removed": userRemovedMessage(details),
  } satisfies Record<string, Message>);

  const forms: Record<string, AdaptiveCard> = {
    "edit user": renderFormCard(editUserForm(details), { choices: { group: [{ value: "Finance", label: "Finance" }] } }),
    "move user": renderFormCard(moveUserForm(details), { choices: { group: { dataset: "groups" } } }),
    "fix a row, pick": renderFormCard(fixRowPickForm({ batch: batch({ attentionRows: 300 }), rows: attention })),
    "fix a row": renderFormCard(fixRowForm({ batch: batch(), row: attention[1]!, problems: { group: "Group *Nope* does not exist." } }), {
      choices: { group: [{ value: "Finance", label: "Finance" }] },
    }),
    "add user, empty": renderFormCard(addUserForm({ metadata: "{}" }), { choices: { group: { dataset: "groups" } } }),
    "add user, with errors": renderFormCard(
      addUserForm({ values: { email: "jane@@corp", group: "Nope" }, notice: "Saving failed: try again." }),
      {
        errors: { email: "Email ID is not a valid email address.", group: "There is no group named “Nope”." },
        choices: { group: [{ value: "Finance", label: "Finance" }] },
      },
    ),
    "a form that only informs": renderFormCard(noticeForm({ title: "Add user", text: "Only HMS Administrators can add users." })),
    "reject reason": renderFormCard(rejectReasonForm({ code: "IMP-7K3Q", metadata: "{}" })),
  };

  it.each(Object.entries(messages))("%s", (_, message) => {
    expectValidCard(renderCard(message, { data: { conversation: "c-1" } }));
  });

  it.each(Object.entries(forms))("form: %s", (_, card) => {
    expectValidCard(card);
  });

  it("covers every view of views.ts and import-views.ts (a new view needs a case above)", () => {
    const covered = [
      ...[noticeMessage, helpMessage, groupsMessage, usersMessage, groupAddedMessage, userAddedMessage, formClosedMessage],
      ...[importTemplateMessage, importFileRefusedMessage, importSupersededMessage, importMessage, approvalRequestMessage],
      ...[addUserForm, noticeForm, rejectReasonForm, fixRowPickForm, fixRowForm],
      ...[approvalOutcomeMessage, approvalReminderMessage, importsMessage, importReportMessage, importResultsMessage],
      ...[userCardMessage, auditMessage, invitationsMessage, exportMessage, userChangedMessage, userRemovedMessage],
      ...[editUserForm, moveUserForm],
      importFileForm, // refused: a file input (above)
      groupOptions, // renderSearchResults (above)
    ].map((f) => f.name);
    const helpers = [
      ...["addUserErrors", "approvalValue", "parseApprovalValue", "groupFixValue", "parseGroupFixValue"],
      ...["problemsByField", "importStateLabel", "changesText"],
    ];
    const exported = Object.entries({ ...views, ...importViews, ...directoryViews })
      .filter(([, v]) => typeof v === "function")
      .map(([name]) => name)
      .filter((name) => !helpers.includes(name));
    expect(exported.sort()).toEqual(covered.sort());
  });
});
