/** The command grammar and the answers, the same on every platform and spelled for each. */
import { describe, expect, it } from "vitest";
import { answerFor, parseCommand, spelledCommands, speller } from "../../src/chat/index.ts";
import { AppError, ErrorCode } from "../../src/core/index.ts";

const SLACK = { prefix: "/hms ", joiner: "-" } as const;
const TEAMS = { prefix: "", joiner: " " } as const;

describe("the command grammar", () => {
  it.each([
    ["", { name: "help" }],
    ["   ", { name: "help" }],
    ["HELP me", { name: "help" }],
    ["frobnicate now", { name: "unknown", word: "frobnicate" }],
    ["add-user", { name: "add-user", email: undefined }],
    ["add user", { name: "add-user", email: undefined }],
    ["Add User  jane@corp.example.org ", { name: "add-user", email: "jane@corp.example.org" }],
    ["add-group Field Sales policy=Strict BYOD", { name: "add-group", group: "Field Sales", policy: "Strict BYOD" }],
    ["ADD GROUP Field Sales POLICY=Strict BYOD", { name: "add-group", group: "Field Sales", policy: "Strict BYOD" }],
    ["add group Repolicy=x", { name: "add-group", group: "Repolicy=x" }],
    ["add users", { name: "unknown", word: "add" }],
    ["groups fin", { name: "groups", filter: "fin" }],
    ["users jane doe", { name: "users", query: "jane doe" }],
    ["user Jane@corp.example.org", { name: "user", email: "Jane@corp.example.org" }],
    ["export", { name: "export", group: undefined }],
    ["export Field Sales", { name: "export", group: "Field Sales" }],
    ["imports", { name: "imports" }],
    ["invites IMP-7K3Q", { name: "invites", batch: "IMP-7K3Q" }],
    ["audit", { name: "audit", about: undefined }],
    ["audit jane@corp.example.org", { name: "audit", about: "jane@corp.example.org" }],
    ["Template", { name: "template" }],
    ["import", { name: "import" }],
  ])("%j", (text, parsed) => {
    expect(parseCommand(text)).toEqual(parsed);
  });

  it("spells commands as each platform types them", () => {
    expect(speller(SLACK)("add-group", "<name>")).toBe("/hms add-group <name>");
    expect(speller(TEAMS)("add-group", "<name>")).toBe("add group <name>");
    expect(spelledCommands(TEAMS).map((c) => c.usage)).toEqual([
      "add user [email]",
      "add group <name> [policy=<policy name>]",
      "groups [text]",
      "users <text>",
      "user <email>",
      "export [group]",
      "template",
      "import",
      "imports",
      "invites [IMP-code]",
      "audit [email | IMP-code]",
      "help",
    ]);
    expect(spelledCommands(SLACK).map((c) => c.name)).toEqual([
      "add-user",
      "add-group",
      "groups",
      "users",
      "user",
      "export",
      "template",
      "import",
      "imports",
      "invites",
      "audit",
      "help",
    ]);
  });
});

describe("answers", () => {
  it("say how to add an Administrator in the platform's own words when nobody could approve", () => {
    const error = new AppError(ErrorCode.NO_ELIGIBLE_APPROVER, "Nobody can approve import IMP-2345: you are the only HMS Administrator.", {
      details: { onlyAdministrator: true },
    });
    expect(answerFor(error, { spell: speller(SLACK) }).text).toBe(
      "Nobody can approve import IMP-2345: you are the only HMS Administrator. Add another Administrator (/hms add-user with Role Administrator, or BOOTSTRAP_ADMINS), or set APPROVAL_POLICY.",
    );
    expect(answerFor(error, { spell: speller(TEAMS) }).text).toContain("(add user with Role Administrator, or BOOTSTRAP_ADMINS)");
  });

  it("use the platform's answer for its own errors, and a generic one for bugs", () => {
    const own = new Error("socket hang up");
    const explain = (e: unknown) =>
      e === own ? { text: "Could not reach the platform.", level: "warn" as const, retry: true as const } : undefined;
    expect(answerFor(own, { spell: speller(SLACK), explain }).text).toBe("Could not reach the platform.");
    expect(answerFor(new TypeError("x is undefined"), { spell: speller(SLACK), explain })).toMatchObject({ level: "error", retry: true });
    expect(answerFor(new AppError(ErrorCode.NOT_ADMINISTRATOR, "no"), { spell: speller(SLACK) }).text).toBe(
      "You need the Administrator role in HMS to do this.",
    );
  });
});
