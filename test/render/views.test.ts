/** Views: use-case results → the neutral model, and that model in Block Kit, by exact equality. */
import { describe, expect, it } from "vitest";
import { spelledCommands, speller } from "../../src/chat/commands.ts";
import { AppError, type GroupSummary, type UserWithGroup } from "../../src/core/index.ts";
import { fieldIssue } from "../../src/core/schemas.ts";
import { renderMessage, renderModal } from "../../src/render/blockkit.ts";
import {
  addUserErrors,
  addUserForm,
  groupOptions,
  groupsMessage,
  helpMessage,
  userAddedMessage,
  usersMessage,
} from "../../src/render/views.ts";

/** How Slack types the commands. */
const SLACK = { prefix: "/hms ", joiner: "-" } as const;

const at = new Date("2026-11-24T12:00:00Z");
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
  email: `user${i}@corp.example.org`,
  name: `User ${i}`,
  role: i === 0 ? "ADMINISTRATOR" : "USER",
  groupId: "g-Finance",
  group: group("Finance", 0),
  exchangeDomain: null,
  exchangeUsername: null,
  status: "CREATED",
  roleSince: at,
  source: "FORM",
  createdBy: "admin@corp.example.org",
  createdAt: at,
  updatedAt: at,
});

describe("the Add user form", () => {
  it("has the six inputs, labelled as the product says, with the email prefilled", () => {
    expect(renderModal(addUserForm({ email: "jane@corp.example.org", metadata: "{}" }))).toEqual({
      type: "modal",
      callback_id: "hms_add_user",
      title: { type: "plain_text", text: "Add user" },
      submit: { type: "plain_text", text: "Add user" },
      close: { type: "plain_text", text: "Cancel" },
      private_metadata: "{}",
      blocks: [
        {
          type: "input",
          block_id: "email",
          label: { type: "plain_text", text: "Email ID" },
          hint: { type: "plain_text", text: "The Email ID is also the user's logon ID." },
          element: {
            type: "plain_text_input",
            action_id: "email",
            placeholder: { type: "plain_text", text: "jane.doe@example.com" },
            initial_value: "jane@corp.example.org",
          },
        },
        {
          type: "input",
          block_id: "name",
          label: { type: "plain_text", text: "Name" },
          element: { type: "plain_text_input", action_id: "name", placeholder: { type: "plain_text", text: "Jane Doe" } },
        },
        {
          type: "input",
          block_id: "group",
          label: { type: "plain_text", text: "Group" },
          hint: { type: "plain_text", text: "Type to search the groups." },
          element: {
            type: "external_select",
            action_id: "group",
            placeholder: { type: "plain_text", text: "Choose a group" },
            min_query_length: 0,
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
              {
                text: { type: "plain_text", text: "User" },
                value: "User",
                description: { type: "plain_text", text: "Uses the end-user portal only." },
              },
              {
                text: { type: "plain_text", text: "Administrator" },
                value: "Administrator",
                description: { type: "plain_text", text: "Manages the service, users and devices." },
              },
            ],
            initial_option: {
              text: { type: "plain_text", text: "User" },
              value: "User",
              description: { type: "plain_text", text: "Uses the end-user portal only." },
            },
          },
        },
        {
          type: "input",
          block_id: "exchangeDomain",
          label: { type: "plain_text", text: "Exchange domain" },
          optional: true,
          hint: {
            type: "plain_text",
            text: "Only for Exchange ActiveSync, with the username: a NetBIOS name (CORP) or a DNS domain (corp.example.com).",
          },
          element: { type: "plain_text_input", action_id: "exchangeDomain", placeholder: { type: "plain_text", text: "CORP" } },
        },
        {
          type: "input",
          block_id: "exchangeUsername",
          label: { type: "plain_text", text: "Exchange username" },
          optional: true,
          hint: { type: "plain_text", text: "Only for Exchange ActiveSync, with the domain." },
          element: { type: "plain_text_input", action_id: "exchangeUsername", placeholder: { type: "plain_text", text: "jdoe" } },
        },
      ],
    });
  });

  it("has no initial email when none is given", () => {
    const email = addUserForm().inputs[0]!;
    expect(email.type === "text" && email.initialValue).toBeFalsy();
  });

  it("places field issues next to their inputs, joining two on one input", () => {
    const issues = AppError.validation([
      fieldIssue("email", "EMAIL_INVALID", "jane@"),
      fieldIssue("exchangeDomain", "EXCHANGE_DOMAIN_MISSING"),
      fieldIssue("exchangeDomain", "EXCHANGE_DOMAIN_INVALID", "bad domain"),
    ]).fieldIssues;
    expect(addUserErrors(issues)).toEqual({
      email: "Email ID “jane@” is not a valid email address.",
      exchangeDomain:
        "Exchange domain is missing: give both Exchange domain and username for ActiveSync, or neither. Exchange domain “bad domain” is neither a NetBIOS name (like CORP) nor a DNS domain (like corp.example.com).",
    });
    expect(addUserErrors([{ field: "query", code: "VALIDATION_FAILED", message: "x" }])).toBeUndefined();
    expect(addUserErrors([])).toBeUndefined();
  });

  it("offers groups with their policy and user count, noting when more exist", () => {
    expect(groupOptions({ groups: [group("Finance", 1, "Strict BYOD"), group("Field Sales", 12)], total: 2 })).toEqual({
      options: [
        { value: "Finance", label: "Finance", description: "Policy Strict BYOD · 1 user" },
        { value: "Field Sales", label: "Field Sales", description: "Policy Default · 12 users" },
      ],
      note: undefined,
    });
    expect(groupOptions({ groups: [group("Finance", 1)], total: 150 }).note).toBe("First 1 of 150: type to narrow");
  });
});

describe("messages", () => {
  it("help: one line per subcommand", () => {
    // The commands as the chat layer spells them for Slack (a fixed list: new commands do not change this test).
    const commands = spelledCommands(SLACK).filter((c) =>
      ["add-user", "add-group", "groups", "users", "template", "import", "help"].includes(c.name),
    );
    expect(renderMessage(helpMessage({ commands }))).toEqual({
      text: "HMS userbot commands: add-user, add-group, groups, users, template, import, help",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "*HMS userbot* manages the users and groups of Hosted Mobile Security." } },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: [
              "• `/hms add-user [email]` — Open the Add user form (the email filled in when given).",
              "• `/hms add-group &lt;name&gt; [policy=&lt;policy name&gt;]` — Create a group; its policy is Default unless given.",
              "• `/hms groups [text]` — List the groups (those whose name contains the text, when given) with their policy and user count.",
              "• `/hms users &lt;text&gt;` — Find users whose email or name contains the text.",
              "• `/hms template` — Post the CSV template for importing users, with how to fill it in.",
              "• `/hms import` — Upload a CSV of users: see a summary first, then create the accounts (after an approver's click when policy asks) and invite the users.",
              "• `/hms help` — Show this help.",
            ].join("\n"),
          },
        },
        { type: "context", elements: [{ type: "plain_text", text: "Only HMS Administrators can use these commands." }] },
      ],
    });
    expect(renderMessage(helpMessage({ commands, unknown: "/hms frobnicate" })).blocks[0]).toEqual({
      type: "section",
      text: { type: "mrkdwn", text: "There is no `/hms frobnicate` command." },
    });
  });

  it("groups: name, policy and user count, and how many are not shown", () => {
    expect(
      renderMessage(
        groupsMessage({ groups: [group("Finance", 1, "Strict BYOD"), group("Warehouse", 0)], total: 60, spell: speller(SLACK) }),
      ),
    ).toEqual({
      text: "60 groups",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "*Groups* (60)" } },
        {
          type: "section",
          text: { type: "mrkdwn", text: "• *Finance* — policy Strict BYOD · 1 user\n• *Warehouse* — policy Default · 0 users" },
        },
        { type: "context", elements: [{ type: "plain_text", text: "Showing the first 2 of 60 groups." }] },
      ],
    });
    expect(renderMessage(groupsMessage({ groups: [], total: 0, spell: speller(SLACK) })).blocks).toEqual([
      { type: "section", text: { type: "mrkdwn", text: "There are no groups yet. Create one with `/hms add-group &lt;name&gt;`." } },
    ]);
  });

  it("users: at most what it is given, with a count of the rest", () => {
    const users = Array.from({ length: 2 }, (_, i) => user(i));
    expect(renderMessage(usersMessage({ users, total: 25, query: "user" }))).toEqual({
      text: "25 users matching “user”",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "*Users matching “user”* (25)" } },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "• *User 0* user0@corp.example.org · Finance · Administrator\n• *User 1* user1@corp.example.org · Finance · User",
          },
        },
        { type: "context", elements: [{ type: "plain_text", text: "…and 23 more. Narrow the search to see them." }] },
      ],
    });
    expect(renderMessage(usersMessage({ users: [], total: 0, query: "nobody" })).text).toBe("No user's email or name contains “nobody”.");
  });

  it("user added: names the user, the group and the role", () => {
    const u = { ...user(1), exchangeDomain: "CORP", exchangeUsername: "user1" };
    expect(renderMessage(userAddedMessage({ user: u, group: u.group }))).toEqual({
      text: "Added User 1 (user1@corp.example.org) to Finance as User.",
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: "Added *User 1* (user1@corp.example.org) to *Finance* as *User*." } },
        { type: "context", elements: [{ type: "plain_text", text: "Exchange ActiveSync account: CORP\\user1" }] },
        {
          type: "actions",
          elements: [
            {
              type: "button",
              action_id: "hms_user_invite",
              text: { type: "plain_text", text: "Invite to enroll" },
              value: "user1@corp.example.org",
              style: "primary",
            },
          ],
        },
      ],
    });
  });
});
