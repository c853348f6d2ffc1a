import { randomBytes } from "node:crypto";
import type { AuditRepository, GroupRepository, ProcessedEventRepository, Repositories, Store, UserRepository } from "../core/ports.ts";
import { tidyGroupName } from "../core/schemas.ts";
import type { Group, GroupSummary } from "../core/types.ts";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { Database, DatabaseKind } from "./database.ts";
import { translated, translating } from "./errors.ts";
import { importRepository, invitationRepository } from "./import-store.ts";

// 192 random bits, URL-safe: the enrollment link carries it.
const newInvitationToken = () => randomBytes(24).toString("base64url");

type Client = PrismaClient | Prisma.TransactionClient;

// Prisma's `contains` and insensitive `equals` pass LIKE wildcards through: escape them so "50%" means those characters.
function literal(fragment: string): string {
  return fragment.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function userRepository(db: Client): UserRepository {
  return {
    findByEmail: (email) => db.user.findUnique({ where: { email }, include: { group: true } }),
    roleOf: (email) => db.user.findUnique({ where: { email }, select: { role: true, roleSince: true } }),
    create: (user) => db.user.create({ data: user }),
    setRole: (id, role, since) => db.user.update({ where: { id }, data: { role, roleSince: since } }),
    // The role as a literal: Prisma's parameter (a text cast to the enum, not folded when planned)
    // cannot use the partial index on the Administrators, and every user was scanned.
    administrators: () =>
      db.$queryRaw<
        { email: string; roleSince: Date }[]
      >`SELECT "email", "roleSince" FROM "User" WHERE "role" = 'ADMINISTRATOR' ORDER BY "email"`,
    lockAdministrators: async () =>
      (await db.$queryRaw<{ email: string }[]>`SELECT "email" FROM "User" WHERE "role" = 'ADMINISTRATOR' ORDER BY "email" FOR UPDATE`).map(
        (r) => r.email,
      ),
    update: (id, fields) => db.user.update({ where: { id }, data: fields, include: { group: true } }),
    async remove(id) {
      await db.user.delete({ where: { id } });
    },
    emailsWithRole: async (role) =>
      (await db.user.findMany({ where: { role }, select: { email: true }, orderBy: { email: "asc" } })).map((u) => u.email),
    async search(fragment, limit) {
      const where: Prisma.UserWhereInput = {
        OR: [{ email: { contains: literal(fragment.toLowerCase()) } }, { name: { contains: literal(fragment), mode: "insensitive" } }],
      };
      const [users, total] = await Promise.all([
        db.user.findMany({ where, include: { group: true }, orderBy: { email: "asc" }, take: limit }),
        db.user.count({ where }),
      ]);
      return { users, total };
    },
    async details(email) {
      const user = await db.user.findUnique({
        where: { email },
        include: {
          group: true,
          importBatch: { select: { id: true, code: true } },
          invitation: { select: { status: true, attempts: true, sentAt: true, lastError: true, createdAt: true } },
        },
      });
      return user;
    },
    page: ({ groupId, afterEmail, limit }) =>
      db.user.findMany({
        where: { ...(groupId ? { groupId } : {}), ...(afterEmail !== undefined ? { email: { gt: afterEmail } } : {}) },
        include: { group: true },
        orderBy: { email: "asc" },
        take: limit,
      }),
  };
}

function groupRepository(db: Client): GroupRepository {
  const nameFilter = (fragment?: string): Prisma.GroupWhereInput =>
    fragment ? { name: { contains: literal(fragment), mode: "insensitive" } } : {};
  return {
    // Insensitive `equals` is an ILIKE: escaped, so "Fin%" does not find "Finance".
    findByName: (name) => db.group.findFirst({ where: { name: { equals: literal(tidyGroupName(name)), mode: "insensitive" } } }),
    create: (group) => db.group.create({ data: group }),
    async list({ fragment, limit } = {}): Promise<GroupSummary[]> {
      const groups = await db.group.findMany({
        where: nameFilter(fragment),
        include: { _count: { select: { users: true } } },
        orderBy: { name: "asc" },
        take: limit,
      });
      return groups.map(({ _count, ...group }: Group & { _count: { users: number } }) => ({ ...group, userCount: _count.users }));
    },
    count: (fragment) => db.group.count({ where: nameFilter(fragment) }),
  };
}

function auditRepository(db: Client): AuditRepository {
  return {
    async record(event) {
      await db.auditEvent.create({
        data: { actor: event.actor, action: event.action, subject: event.subject, details: (event.details ?? {}) as Prisma.InputJsonValue },
      });
    },
    async latest({ subjects, actions, limit }) {
      const events = await db.auditEvent.findMany({
        where: { ...(subjects ? { subject: { in: [...subjects] } } : {}), ...(actions ? { action: { in: [...actions] } } : {}) },
        orderBy: { id: "desc" },
        take: limit,
      });
      return events.map((e) => ({ ...e, id: String(e.id), details: (e.details ?? {}) as Record<string, unknown> }));
    },
  };
}

function processedEventRepository(db: Client): ProcessedEventRepository {
  return {
    async claim(key) {
      const inserted = await db.$executeRaw`INSERT INTO "ProcessedEvent" ("key") VALUES (${key}) ON CONFLICT ("key") DO NOTHING`;
      return inserted === 1;
    },
    async prune(before) {
      return (await db.processedEvent.deleteMany({ where: { at: { lt: before } } })).count;
    },
  };
}

/** The repositories over `db`; `bulk` (COPY, plain SQL) only outside transactions, where it cannot break their atomicity. */
function repositories(db: Client, kind: DatabaseKind, bulk?: Pick<Database, "copy" | "sql">): Repositories {
  return {
    users: translated(userRepository(db)),
    groups: translated(groupRepository(db)),
    audit: translated(auditRepository(db)),
    events: translated(processedEventRepository(db)),
    imports: translated(importRepository(db, kind, bulk)),
    invitations: translated(invitationRepository(db, newInvitationToken)),
  };
}

export interface StoreOptions {
  /**
   * How long a transaction may last unless the caller says otherwise (default 60 s; a chunk of
   * account creation takes well under a second). One that waited longer on the database is
   * rolled back and fails as DATABASE_UNAVAILABLE once the database answers.
   */
  transactionTimeoutMs?: number;
}

/** The core's Store over an open database. */
export function createStore(
  db: Pick<Database, "prisma" | "kind" | "copy" | "sql">,
  { transactionTimeoutMs = 60_000 }: StoreOptions = {},
): Store {
  const { prisma } = db;
  return {
    ...repositories(prisma, db.kind, db),
    // Two: measured ~40% faster than one for staging 150,000 rows; more gains little on 2 cores.
    concurrentStatements: db.kind === "postgresql" ? 2 : 1,
    transaction: (work, options) =>
      translating(() =>
        prisma.$transaction((tx) => work(repositories(tx, db.kind)), {
          timeout: options?.timeoutMs ?? transactionTimeoutMs,
          maxWait: 30_000,
        }),
      ),
  };
}
