import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppError, ErrorCode } from "../../src/core/errors.ts";
import { createCore } from "../../src/core/index.ts";
import type { UserInput } from "../../src/core/schemas.ts";
import { csvImportFormat } from "../../src/csv/index.ts";
import { databaseKinds, openTestDatabase, type TestDatabase } from "../helpers/db.ts";
import { appErrorOf } from "../helpers/errors.ts";
import { ADMIN, OTHER_ADMIN, PLAIN_USER, seedDirectory } from "../helpers/fixtures.ts";

/** The user an addUser added (not a request for approval). */
function added<T extends { kind: string }>(result: T): Extract<T, { kind: "added" }> {
  if (result.kind !== "added") throw new Error(`expected the user to be added, got ${result.kind}`);
  return result as Extract<T, { kind: "added" }>;
}

describe.each(databaseKinds)("use cases on %s", (kind) => {
  let t: TestDatabase;
  const counts = async () => ({
    users: await t.db.prisma.user.count(),
    groups: await t.db.prisma.group.count(),
    audit: await t.db.prisma.auditEvent.count(),
  });

  beforeAll(async () => {
    t = await openTestDatabase(kind);
    await seedDirectory(t);
  });
  afterAll(() => t.close());

  const input = (over: Partial<UserInput> = {}): UserInput => ({
    email: "new.person@corp.example.org",
    name: "New Person",
    group: "Finance",
    role: "User",
    ...over,
  });

  describe("addUser", () => {
    it("adds a user, normalizing the email and resolving the group case-insensitively, with an audit event", async () => {
      // APPROVAL_POLICY=never: an Administrator is added at once (four-eyes has its own tests).
      const never = createCore({
        files: csvImportFormat,
        store: t.store,
        now: () => t.clock.now,
        imports: { approvalPolicy: { kind: "never" }, approvers: [], approvalTtlHours: 72 },
      });
      const { user, group } = added(
        await never.addUser({
          actor: ADMIN,
          input: input({
            email: "  Kim.Park@CORP.example.org ",
            group: " engineering ",
            role: "admin",
            exchangeDomain: "CORPNET",
            exchangeUsername: "kpark",
          }),
        }),
      );
      expect(user).toMatchObject({
        email: "kim.park@corp.example.org",
        role: "ADMINISTRATOR",
        status: "CREATED",
        source: "FORM",
        createdBy: ADMIN.email,
        exchangeDomain: "CORPNET",
        exchangeUsername: "kpark",
        groupId: group.id,
      });
      expect(group.name).toBe("Engineering");
      const audit = await t.db.prisma.auditEvent.findFirst({ where: { action: "user.add", subject: user.email } });
      expect(audit).toMatchObject({
        actor: ADMIN.email,
        details: { platform: "slack", platformUserId: "U0ADMIN", group: "Engineering", role: "ADMINISTRATOR" },
      });
    });

    it("records the acting admin's email as the directory stores it, whatever case the platform gave", async () => {
      const { user } = added(
        await t.core.addUser({
          actor: { ...ADMIN, email: `  ${ADMIN.email.toUpperCase()} ` },
          input: input({ email: "cased.actor@corp.example.org", group: "Warehouse" }),
        }),
      );
      expect(user.createdBy).toBe(ADMIN.email);
      const audit = await t.db.prisma.auditEvent.findFirstOrThrow({ where: { action: "user.add", subject: user.email } });
      expect(audit.actor).toBe(ADMIN.email);
    });

    it("refuses an email that differs from an existing one only in case and spaces, writing nothing", async () => {
      const before = await counts();
      const error = await appErrorOf(t.core.addUser({ actor: ADMIN, input: input({ email: "  KIM.PARK@corp.EXAMPLE.org  " }) }));
      expect(error.code).toBe(ErrorCode.VALIDATION_FAILED);
      expect(error.fieldIssues).toEqual([
        { field: "email", code: "EMAIL_TAKEN", message: "A user with Email ID kim.park@corp.example.org already exists." },
      ]);
      expect(await counts()).toEqual(before);
    });

    it.each([
      [{ group: "Legal" }, "group:GROUP_UNKNOWN"],
      [{ role: "Superuser" }, "role:ROLE_INVALID"],
      [{ exchangeDomain: "CORPNET" }, "exchangeUsername:EXCHANGE_USERNAME_MISSING"],
    ])("refuses %j with %s and writes nothing", async (over, expected) => {
      const before = await counts();
      const error = await appErrorOf(t.core.addUser({ actor: ADMIN, input: input(over) }));
      expect(error.fieldIssues.map((i) => `${i.field}:${i.code}`)).toEqual([expected]);
      expect(await counts()).toEqual(before);
    });

    it("reports field rules and directory checks together", async () => {
      const error = await appErrorOf(t.core.addUser({ actor: ADMIN, input: input({ email: PLAIN_USER.email, group: "Nope", name: "" }) }));
      expect(error.fieldIssues.map((i) => i.code).sort()).toEqual(["EMAIL_TAKEN", "GROUP_UNKNOWN", "NAME_REQUIRED"]);
    });

    it("refuses a non-administrator and an unknown actor, writing nothing", async () => {
      const before = await counts();
      for (const actor of [PLAIN_USER, { email: "stranger@elsewhere.example", platform: "slack" as const }]) {
        const error = await appErrorOf(t.core.addUser({ actor, input: input({ email: "x1@corp.example.org" }) }));
        expect(error.code).toBe(ErrorCode.NOT_ADMINISTRATOR);
        expect(error.message).toBe("You need the Administrator role in HMS to do this.");
      }
      expect(await counts()).toEqual(before);
    });

    it("creates exactly one user when the same email is added concurrently", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => t.core.addUser({ actor: ADMIN, input: input({ email: "race@corp.example.org" }) })),
      );
      const ok = results.filter((r) => r.status === "fulfilled");
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(ok).toHaveLength(1);
      for (const f of failed) expect((f.reason as AppError).fieldIssues[0]?.code).toBe("EMAIL_TAKEN");
      expect(await t.db.prisma.user.count({ where: { email: "race@corp.example.org" } })).toBe(1);
      expect(await t.db.prisma.auditEvent.count({ where: { subject: "race@corp.example.org" } })).toBe(1);
    });
  });

  describe("addGroup / listGroups", () => {
    it("creates a group with a policy and audits it", async () => {
      const group = await t.core.addGroup({ actor: ADMIN, input: { name: "Field Sales", policy: "Strict BYOD" } });
      expect(group).toMatchObject({ name: "Field Sales", policy: "Strict BYOD" });
      expect(await t.db.prisma.auditEvent.count({ where: { action: "group.add", subject: "group:Field Sales" } })).toBe(1);
    });

    it("finds a group however the admin spaces its name: “north   region ” is North Region", async () => {
      await t.core.addGroup({ actor: ADMIN, input: { name: "North  Region" } });
      const { group } = added(
        await t.core.addUser({
          actor: ADMIN,
          input: input({ email: "spaced@corp.example.org", group: " north   region " }),
        }),
      );
      expect(group.name).toBe("North Region");
    });

    it("refuses a name that exists in another case", async () => {
      const error = await appErrorOf(t.core.addGroup({ actor: ADMIN, input: { name: "FIELD sales" } }));
      expect(error.fieldIssues.map((i) => i.code)).toEqual(["GROUP_NAME_TAKEN"]);
    });

    it("enforces case-insensitive uniqueness in the database itself", async () => {
      await expect(t.db.prisma.group.create({ data: { name: "field SALES" } })).rejects.toThrow();
    });

    it("resolves group names literally: wildcards match nothing", async () => {
      expect(await t.store.groups.findByName("Fin%")).toBeNull();
      expect(await t.store.groups.findByName("fin_nce")).toBeNull();
      expect((await t.store.groups.findByName("  FINANCE "))?.name).toBe("Finance");
      const error = await appErrorOf(t.core.addUser({ actor: ADMIN, input: input({ email: "w@corp.example.org", group: "Fin%" }) }));
      expect(error.fieldIssues.map((i) => i.code)).toEqual(["GROUP_UNKNOWN"]);
    });

    it("refuses a non-administrator", async () => {
      expect((await appErrorOf(t.core.addGroup({ actor: PLAIN_USER, input: { name: "X" } }))).code).toBe("NOT_ADMINISTRATOR");
    });

    it("lists groups by name with policy and user count, and filters by fragment", async () => {
      const { groups } = await t.core.listGroups({ actor: OTHER_ADMIN });
      const finance = groups.find((g) => g.name === "Finance");
      expect(finance).toMatchObject({ policy: "Default", userCount: 2 });
      expect(groups.map((g) => g.name)).toEqual([...groups.map((g) => g.name)].sort((a, b) => (a < b ? -1 : 1)));
      const filtered = await t.core.listGroups({ actor: ADMIN, fragment: "sal", limit: 1 });
      expect(filtered.groups.map((g) => g.name)).toEqual(["Field Sales"]);
      expect(filtered.total).toBe(1);
    });
  });

  describe("findUsers", () => {
    it("finds by email fragment and by name fragment, case-insensitively", async () => {
      expect((await t.core.findUsers({ actor: ADMIN, query: "KIM.PA" })).users.map((u) => u.email)).toEqual(["kim.park@corp.example.org"]);
      const byName = await t.core.findUsers({ actor: ADMIN, query: "plain us" });
      expect(byName.users.map((u) => u.email)).toEqual([PLAIN_USER.email]);
      expect(byName.users[0]?.group.name).toBe("Finance");
    });

    it("treats LIKE wildcards literally", async () => {
      expect((await t.core.findUsers({ actor: ADMIN, query: "%" })).total).toBe(0);
      expect((await t.core.findUsers({ actor: ADMIN, query: "_" })).total).toBe(0);
    });

    it("returns at most the limit, with the total", async () => {
      for (let i = 0; i < 25; i++) {
        await t.core.addUser({
          actor: ADMIN,
          input: input({ email: `bulk${String(i).padStart(2, "0")}@corp.example.org`, name: `Bulk ${i}` }),
        });
      }
      const found = await t.core.findUsers({ actor: ADMIN, query: "bulk" });
      expect(found.users).toHaveLength(20);
      expect(found.total).toBe(25);
      expect(found.users[0]?.email).toBe("bulk00@corp.example.org");
    });

    it("asks for a search text when given blanks", async () => {
      expect((await appErrorOf(t.core.findUsers({ actor: ADMIN, query: "  " }))).code).toBe("VALIDATION_FAILED");
    });
  });

  describe("ensureBootstrapAdmins", () => {
    it("creates missing admins in Administrators, promotes existing users, and is idempotent", async () => {
      const first = await t.core.ensureBootstrapAdmins({ emails: [" New.Admin@corp.example.org", PLAIN_USER.email, ADMIN.email] });
      expect(first).toEqual({ created: ["new.admin@corp.example.org"], promoted: [PLAIN_USER.email], unchanged: [ADMIN.email] });
      const promoted = await t.db.prisma.user.findUnique({ where: { email: PLAIN_USER.email }, include: { group: true } });
      expect(promoted).toMatchObject({ role: "ADMINISTRATOR", group: { name: "Finance" } });
      const created = await t.db.prisma.user.findUnique({ where: { email: "new.admin@corp.example.org" }, include: { group: true } });
      expect(created).toMatchObject({ role: "ADMINISTRATOR", group: { name: "Administrators" }, createdBy: "system:bootstrap" });
      const again = await t.core.ensureBootstrapAdmins({ emails: ["new.admin@corp.example.org", PLAIN_USER.email] });
      expect(again).toEqual({ created: [], promoted: [], unchanged: ["new.admin@corp.example.org", PLAIN_USER.email] });
      expect(await t.db.prisma.group.count({ where: { name: "Administrators" } })).toBe(1);
    });
  });

  describe("claimDelivery", () => {
    it("claims a key once, even when claimed concurrently", async () => {
      const claims = await Promise.all(Array.from({ length: 10 }, () => t.core.claimDelivery("slack:event:Ev0001")));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await t.core.claimDelivery("slack:event:Ev0001")).toBe(false);
      expect(await t.core.claimDelivery("slack:event:Ev0002")).toBe(true);
    });

    it("prunes old keys", async () => {
      expect(await t.store.events.prune(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(2);
      expect(await t.core.claimDelivery("slack:event:Ev0001")).toBe(true);
    });
  });

  describe("database outage", () => {
    it("surfaces as DATABASE_UNAVAILABLE, not as an unexplained failure", async () => {
      const other = await openTestDatabase(kind);
      await seedDirectory(other);
      await other.db.close();
      try {
        const error = await appErrorOf(other.core.listGroups({ actor: ADMIN }));
        expect(error.code).toBe("DATABASE_UNAVAILABLE");
        const write = await appErrorOf(other.core.addGroup({ actor: ADMIN, input: { name: "Never" } }));
        expect(write.code).toBe("DATABASE_UNAVAILABLE");
      } finally {
        await other.close().catch(() => {});
      }
    });
  });

  describe("database constraints", () => {
    it("rejects half an Exchange account even when written around the core", async () => {
      const group = await t.db.prisma.group.findFirstOrThrow();
      await expect(
        t.db.prisma.user.create({
          data: { email: "half@corp.example.org", name: "Half", groupId: group.id, createdBy: "test", exchangeDomain: "CORP" },
        }),
      ).rejects.toThrow();
    });
  });
});
