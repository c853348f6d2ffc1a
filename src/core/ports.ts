/**
 * Repository ports: what the use cases need from storage. src/db implements them with
 * Prisma; the core never sees Prisma, SQL or a driver.
 */
import type { ImportRepository, InvitationRepository } from "./import/ports.ts";
import type { AuditEvent, AuditEventInput, Group, GroupSummary, Role, User, UserDetails, UserWithGroup } from "./types.ts";

/** The fields a new user is created with; the rest (id, status, timestamps) the store sets. */
export type NewUser = Pick<User, "email" | "name" | "role" | "groupId" | "exchangeDomain" | "exchangeUsername" | "source" | "createdBy"> &
  Partial<Pick<User, "roleSince">>;

export interface UserRepository {
  findByEmail(email: string): Promise<UserWithGroup | null>;
  /** Only the role of a user, and since when they hold it (one cheap lookup, for authorization). */
  roleOf(email: string): Promise<{ role: Role; roleSince: Date } | null>;
  /** Throws AppError EMAIL_TAKEN when the email exists (including a concurrent insert). */
  create(user: NewUser): Promise<User>;
  setRole(id: string, role: Role, since: Date): Promise<User>;
  /** Changes these fields of a user. */
  update(
    id: string,
    fields: Pick<User, "name" | "groupId" | "role" | "exchangeDomain" | "exchangeUsername"> & { roleSince?: Date },
  ): Promise<UserWithGroup>;
  remove(id: string): Promise<void>;
  /** Emails of every user with this role. */
  emailsWithRole(role: Role): Promise<string[]>;
  /** Every Administrator, with since when they are one. */
  administrators(): Promise<{ email: string; roleSince: Date }[]>;
  /** The Administrators' emails, their rows locked until the transaction ends. */
  lockAdministrators(): Promise<string[]>;
  /** Users whose email or name contains `fragment` (case-insensitive), by email; and the total. */
  search(fragment: string, limit: number): Promise<{ users: UserWithGroup[]; total: number }>;
  /** A user with the import that created them and their invitation. */
  details(email: string): Promise<UserDetails | null>;
  /** Users by email after `afterEmail`, `limit` at a time, optionally of one group (for exports). */
  page(options: { groupId?: string; afterEmail?: string; limit: number }): Promise<UserWithGroup[]>;
}

export interface GroupRepository {
  /** Case-insensitive match on the trimmed name. */
  findByName(name: string): Promise<Group | null>;
  /** Throws AppError GROUP_NAME_TAKEN when the name exists in any case. */
  create(group: { name: string; policy: string }): Promise<Group>;
  /** Groups by name, with how many users each has; `fragment` filters by name. */
  list(options?: { fragment?: string; limit?: number }): Promise<GroupSummary[]>;
  count(fragment?: string): Promise<number>;
}

export interface AuditRepository {
  record(event: AuditEventInput): Promise<void>;
  /** The latest events (newest first), of these subjects and actions only when given. */
  latest(options: { subjects?: readonly string[]; actions?: readonly string[]; limit: number }): Promise<AuditEvent[]>;
}

export interface ProcessedEventRepository {
  /** True the first time `key` is claimed, false ever after (atomic across processes). */
  claim(key: string): Promise<boolean>;
  /** Forgets keys claimed before `before`; returns how many. */
  prune(before: Date): Promise<number>;
}

export interface Repositories {
  users: UserRepository;
  groups: GroupRepository;
  audit: AuditRepository;
  events: ProcessedEventRepository;
  imports: ImportRepository;
  invitations: InvitationRepository;
}

/** The repositories plus a unit of work: writes made through `tx` commit or roll back together. */
export interface Store extends Repositories {
  /**
   * How many bulk statements (or transactions, like account creation's chunks) may usefully
   * run at once: more than 1 on a connection pool (PostgreSQL), 1 on a single connection (PGlite).
   */
  readonly concurrentStatements: number;
  /** `timeoutMs` bounds long bulk transactions (default: the store's, 60 s). */
  transaction<T>(work: (tx: Repositories) => Promise<T>, options?: { timeoutMs?: number }): Promise<T>;
}
