import { describe, expect, it } from "vitest";
import { runShutdown } from "../src/shutdown.ts";

describe("runShutdown", () => {
  it("runs the steps in order, each after the one before it failed, and reports the failures", async () => {
    const ran: string[] = [];
    const report = await runShutdown(
      [
        { name: "a", work: () => void ran.push("a") },
        {
          name: "b",
          work: async () => {
            ran.push("b");
            throw new Error("b broke");
          },
        },
        { name: "c", work: () => void ran.push("c") },
      ],
      { budgetMs: 5_000, reserveMs: 1_000 },
    );
    expect(ran).toEqual(["a", "b", "c"]);
    expect(report.cut).toEqual([]);
    expect(report.failed.map((f) => [f.step, (f.error as Error).message])).toEqual([["b", "b broke"]]);
  });

  it("leaves a step behind when its time is up, and still runs the last step to its end", async () => {
    const ran: string[] = [];
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const started = Date.now();
    const report = await runShutdown(
      [
        { name: "jobs", work: () => stuck },
        { name: "http", work: () => void ran.push("http") },
        {
          name: "database",
          work: async () => {
            await new Promise((r) => setTimeout(r, 300)); // longer than the reserve: never cut
            ran.push("database");
          },
        },
      ],
      { budgetMs: 400, reserveMs: 200 },
    );
    expect(report.cut).toEqual(["jobs"]);
    expect(ran).toEqual(["http", "database"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    release();
  });

  it("a step that fails after it was cut is not an unhandled rejection", async () => {
    let fail: (e: Error) => void = () => {};
    const late = new Promise<void>((_, reject) => (fail = reject));
    const report = await runShutdown(
      [
        { name: "jobs", work: () => late },
        { name: "database", work: () => {} },
      ],
      {
        budgetMs: 50,
        reserveMs: 0,
      },
    );
    expect(report.cut).toEqual(["jobs"]);
    fail(new Error("too late"));
    await new Promise((r) => setTimeout(r, 20)); // vitest fails the run on an unhandled rejection
  });
});
