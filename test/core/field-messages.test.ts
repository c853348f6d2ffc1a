import { describe, expect, it } from "vitest";
import { fieldMessages } from "../../src/core/schemas.ts";

describe("field messages", () => {
  it("replace every control character of the value they echo, not only the first", () => {
    expect(fieldMessages.ROLE_INVALID("Ad\tmin\r\nX\u0085")).toBe("Role “Ad?min??X?” is not valid: use Administrator or User.");
    expect(fieldMessages.GROUP_UNKNOWN("Fin\u0000an\u007fce")).toBe("There is no group named “Fin?an?ce”.");
  });
});
