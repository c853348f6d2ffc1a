import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/core/errors.ts";
import {
  check,
  EXCHANGE_USERNAME_MAX,
  groupInputSchema,
  groupKey,
  NAME_MAX,
  normalizeEmail,
  parseRole,
  type UserInput,
  userInputSchema,
  validateUserFields,
} from "../../src/core/schemas.ts";

/** The user field rules on raw input, shaped like check(): the value, or every issue. */
function checkUser(input: UserInput) {
  const { value, issues } = validateUserFields(userInputSchema.parse(input));
  return issues.length === 0 ? { ok: true as const, value } : { ok: false as const, issues };
}

const valid: UserInput = {
  email: "ann.lee@corp.example.org",
  name: "Ann Lee",
  group: "Finance",
  role: "User",
  exchangeDomain: "",
  exchangeUsername: "",
};

function codes(input: Partial<UserInput>) {
  const result = checkUser({ ...valid, ...input });
  return result.ok ? [] : result.issues.map((i) => `${i.field}:${i.code}`);
}

describe("user field rules", () => {
  it("accepts a complete valid input and normalizes it", () => {
    const result = checkUser({
      ...valid,
      email: "  Ann.Lee@CORP.example.org ",
      group: "  finance ",
      role: "administrator",
      exchangeDomain: " CORPNET ",
      exchangeUsername: "alee",
    });
    expect(result).toEqual({
      ok: true,
      value: {
        email: "ann.lee@corp.example.org",
        name: "Ann Lee",
        group: "finance",
        role: "ADMINISTRATOR",
        exchangeDomain: "CORPNET",
        exchangeUsername: "alee",
      },
    });
  });

  it.each([
    [{ email: "" }, "email:EMAIL_REQUIRED"],
    [{ email: "   " }, "email:EMAIL_REQUIRED"],
    [{ email: undefined }, "email:EMAIL_REQUIRED"],
    [{ email: "jane.doe@@corp.example.org" }, "email:EMAIL_INVALID"],
    [{ email: "no-at-sign.example.org" }, "email:EMAIL_INVALID"],
    [{ email: "a b@corp.example.org" }, "email:EMAIL_INVALID"],
    [{ email: "ann@localhost" }, "email:EMAIL_INVALID"],
    [{ email: `${"a".repeat(250)}@x.org` }, "email:EMAIL_INVALID"],
    [{ name: "" }, "name:NAME_REQUIRED"],
    [{ name: null }, "name:NAME_REQUIRED"],
    [{ name: "x".repeat(NAME_MAX + 1) }, "name:NAME_TOO_LONG"],
    [{ name: "Ann\tLee" }, "name:NAME_CONTROL_CHARS"],
    [{ name: "Ann\u0085Lee" }, "name:NAME_CONTROL_CHARS"],
    [{ group: "" }, "group:GROUP_REQUIRED"],
    [{ role: "Superuser" }, "role:ROLE_INVALID"],
    [{ role: "Owner" }, "role:ROLE_INVALID"],
    [{ exchangeDomain: "CORP", exchangeUsername: "" }, "exchangeUsername:EXCHANGE_USERNAME_MISSING"],
    [{ exchangeDomain: "", exchangeUsername: "jdoe" }, "exchangeDomain:EXCHANGE_DOMAIN_MISSING"],
    [{ exchangeDomain: "not a domain", exchangeUsername: "jdoe" }, "exchangeDomain:EXCHANGE_DOMAIN_INVALID"],
    [{ exchangeDomain: "WAYTOOLONGNETBIOSNAME", exchangeUsername: "jdoe" }, "exchangeDomain:EXCHANGE_DOMAIN_INVALID"],
    [{ exchangeDomain: "corp..example.com", exchangeUsername: "jdoe" }, "exchangeDomain:EXCHANGE_DOMAIN_INVALID"],
    [{ exchangeDomain: "CORP", exchangeUsername: "j doe" }, "exchangeUsername:EXCHANGE_USERNAME_INVALID"],
    [{ exchangeDomain: "CORP", exchangeUsername: "a".repeat(65) }, "exchangeUsername:EXCHANGE_USERNAME_INVALID"],
    [{ exchangeDomain: "CORP", exchangeUsername: "j\u0001doe" }, "exchangeUsername:EXCHANGE_USERNAME_INVALID"],
    [{ exchangeDomain: "CORP", exchangeUsername: "jdoe\u0085" }, "exchangeUsername:EXCHANGE_USERNAME_INVALID"],
  ])("%j → %s", (input, expected) => {
    expect(codes(input)).toEqual([expected]);
  });

  it("names of exactly the limit pass, counting characters not UTF-16 units", () => {
    expect(codes({ name: "小".repeat(NAME_MAX) })).toEqual([]);
    expect(codes({ name: "😀".repeat(NAME_MAX) })).toEqual([]);
  });

  it("Exchange usernames of exactly the limit pass, counting characters not UTF-16 units", () => {
    expect(codes({ exchangeDomain: "CORP", exchangeUsername: "𝒿".repeat(EXCHANGE_USERNAME_MAX) })).toEqual([]);
  });

  it("compares group names trimmed, with inner spaces collapsed, in any case (as groups are stored)", () => {
    expect(groupKey("  Field   Sales ")).toBe(groupKey("field sales"));
    expect(groupKey("Field\tSales")).toBe("field sales");
  });

  it.each(["CORP", "corp-eu", "corp.example.com", "EU.CORP.EXAMPLE.COM", "ad_1"])("accepts Exchange domain %s", (d) => {
    expect(codes({ exchangeDomain: d, exchangeUsername: "jdoe" })).toEqual([]);
  });

  it("collects every problem of the input, not only the first", () => {
    expect(codes({ email: "bad", name: "", group: "", role: "Root", exchangeDomain: "", exchangeUsername: "x" })).toEqual([
      "email:EMAIL_INVALID",
      "name:NAME_REQUIRED",
      "group:GROUP_REQUIRED",
      "role:ROLE_INVALID",
      "exchangeDomain:EXCHANGE_DOMAIN_MISSING",
    ]);
  });

  it("gives human messages that quote what was typed", () => {
    const result = checkUser({ ...valid, role: "Superuser" });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toBe("Role “Superuser” is not valid: use Administrator or User.");
  });

  it("treats a blank role as User and parses roles case-insensitively", () => {
    expect(parseRole("ADMIN")).toBe("ADMINISTRATOR");
    // Names every plain object inherits are not roles (one crashed an upload while staging).
    for (const word of ["constructor", "toString", "__proto__", "hasOwnProperty"]) expect(parseRole(word)).toBeUndefined();
    expect(parseRole(" administrator ")).toBe("ADMINISTRATOR");
    expect(parseRole("user")).toBe("USER");
    expect(parseRole("superuser")).toBeUndefined();
    const result = checkUser({ ...valid, role: "" });
    expect(result.ok && result.value.role).toBe("USER");
  });

  it("normalizes emails by trimming and lower-casing", () => {
    expect(normalizeEmail("  Ann@Corp.Example.ORG\t")).toBe("ann@corp.example.org");
  });
});

describe("group rules", () => {
  it.each([
    [{ name: "" }, "name:GROUP_NAME_REQUIRED"],
    [{ name: "x".repeat(65) }, "name:GROUP_NAME_TOO_LONG"],
    [{ name: "Sales\nEU" }, "name:GROUP_NAME_CONTROL_CHARS"],
    [{ name: "Sales", policy: "p".repeat(65) }, "policy:POLICY_TOO_LONG"],
    [{ name: "Sales", policy: "Strict\u0007" }, "policy:POLICY_CONTROL_CHARS"],
  ])("%j → %s", (input, expected) => {
    const result = check(groupInputSchema, input);
    expect(result.ok ? [] : result.issues.map((i) => `${i.field}:${i.code}`)).toEqual([expected]);
  });

  it("defaults the policy and folds inner spaces of the name", () => {
    expect(check(groupInputSchema, { name: "  Field   Sales " })).toEqual({ ok: true, value: { name: "Field Sales", policy: "Default" } });
  });

  it("every field code used by the schemas is a declared ErrorCode", () => {
    const result = checkUser({ email: "x", name: "\t", role: "?", exchangeDomain: "!", exchangeUsername: "" });
    expect(result.ok).toBe(false);
    if (!result.ok) for (const issue of result.issues) expect(Object.values(ErrorCode)).toContain(issue.code);
  });
});
