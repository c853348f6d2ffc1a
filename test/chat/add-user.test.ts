/** The Add user form's outcomes, the same on every platform. */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Chat } from "../../src/chat/index.ts";
import { AppError, ErrorCode } from "../../src/core/index.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { ADMIN, PLAIN_USER, seedDirectory } from "../helpers/fixtures.ts";
import { MemorySurface, PlatformDown } from "../helpers/memory-surface.ts";

describe.each(databaseKinds)("the Add user form (%s)", (kind) => {
  let t: TestDatabase;
  let chat: Chat;
  const surface = new MemorySurface();
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await seedDirectory(t);
    chat = new Chat({ core: t.core, logger: pino({ level: "silent" }) });
    chat.attach(surface);
  });
  afterAll(async () => {
    await chat?.stop(1000);
    await t?.close();
  });

  const valid = {
    email: "Ann.Lee@Corp.Example.org",
    name: "Ann Lee",
    group: "finance",
    role: "User",
    exchangeDomain: "",
    exchangeUsername: "",
  };

  it("added: the confirmation names the user, the group and the role", async () => {
    const outcome = await chat.addUser.submit(surface, surface.who(ADMIN), valid);
    expect(outcome).toMatchObject({ kind: "added", message: { summary: "Added Ann Lee (ann.lee@corp.example.org) to Finance as User." } });
  });

  it("field problems go next to their fields, all at once", async () => {
    const outcome = await chat.addUser.submit(surface, surface.who(ADMIN), {
      ...valid,
      email: "ann.lee@corp.example.org",
      group: "Nowhere",
      exchangeDomain: "CORP",
    });
    expect(outcome).toEqual({
      kind: "errors",
      errors: {
        email: "A user with Email ID ann.lee@corp.example.org already exists.",
        group: "There is no group named “Nowhere”.",
        exchangeUsername: expect.stringContaining("Exchange username is missing"),
      },
    });
  });

  it("a passing failure keeps the form open with a notice; a refusal explains", async () => {
    const busy = { ...t.core, addUser: () => Promise.reject(new AppError(ErrorCode.DATABASE_BUSY, "busy")) };
    const busyChat = new Chat({ core: busy, logger: pino({ level: "silent" }) });
    expect(await busyChat.addUser.submit(surface, surface.who(ADMIN), valid)).toEqual({
      kind: "retry",
      notice: "The HMS database was busy with other work. Try again in a moment.",
    });
    expect(await chat.addUser.submit(surface, surface.who(PLAIN_USER), valid)).toMatchObject({
      kind: "failed",
      message: { summary: "You need the Administrator role in HMS to do this." },
    });
  });

  it("who may open the form: allowed, refused with the reason, or unknown when the platform hiccups", async () => {
    expect(await chat.addUser.access(surface, surface.who(ADMIN))).toEqual({ allowed: true });
    expect(await chat.addUser.access(surface, surface.who(PLAIN_USER))).toEqual({
      allowed: false,
      text: "You need the Administrator role in HMS to do this.",
    });
    const hiccup = { ...surface.who(ADMIN), actor: () => Promise.reject(new PlatformDown("down")) };
    expect(await chat.addUser.access(surface, hiccup)).toEqual({ allowed: "unknown" });
  });
});
