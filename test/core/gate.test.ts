import { describe, expect, it } from "vitest";
import { createGate } from "../../src/core/gate.ts";

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("gate", () => {
  it("admits one holder at a time, first come first served, and passes results and errors through", async () => {
    const gate = createGate(1);
    const log: string[] = [];
    const job = (name: string, fail = false) =>
      gate.run(async () => {
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([job("a"), job("b", true), job("c")]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual(["a", "b", "c"]);
  });

  it("admits up to its limit at once", async () => {
    const gate = createGate(2);
    let active = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        gate.run(async () => {
          most = Math.max(most, ++active);
          await tick();
          active--;
        }),
      ),
    );
    expect(most).toBe(2);
  });
});
