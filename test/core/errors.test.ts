import { describe, expect, it } from "vitest";
import { errorSummary } from "../../src/core/errors.ts";

describe("errorSummary", () => {
  const prismaLike = (message: string, code?: string) =>
    Object.assign(new Error(message), { name: "PrismaClientKnownRequestError", ...(code ? { code } : {}) });

  it.each([
    [
      "a Prisma message that starts with a newline and an introduction",
      prismaLike("\nInvalid `prisma.$queryRaw()` invocation:\n\n\nTransaction API error: Transaction already closed.", "P2028"),
      "Transaction API error: Transaction already closed.",
    ],
    [
      "a message with only an introduction",
      prismaLike("\nInvalid `prisma.user.create()` invocation:\n"),
      "Invalid `prisma.user.create()` invocation:",
    ],
    ["a blank message: the code", prismaLike("\n  \n", "P2010"), "P2010"],
    ["a blank message and no code: the name", prismaLike(""), "PrismaClientKnownRequestError"],
    ["a one-line message", new Error("disk full"), "disk full"],
    ["a thrown string", "stopped", "stopped"],
    ["nothing at all", undefined, "unknown error"],
  ])("%s", (_, error, said) => {
    expect(errorSummary(error)).toBe(said);
  });
});
