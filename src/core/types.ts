/** Domain types shared by the use cases, the repositories and the edges. */

export const ROLES = ["ADMINISTRATOR", "USER"] as const;
export type Role = (typeof ROLES)[number];

export const USER_STATUSES = ["CREATED", "INVITED", "ENROLLED"] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

export const USER_SOURCES = ["FORM", "IMPORT"] as const;
export type UserSource = (typeof USER_SOURCES)[number];

/** How roles read in the product (the console says Administrator / User). */
export const ROLE_LABELS: Record<Role, string> = { ADMINISTRATOR: "Administrator", USER: "User" };

export const DEFAULT_POLICY = "Default";
export const ADMINISTRATORS_GROUP = "Administrators";

export interface Group {
  id: string;
  name: string;
  policy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupSummary extends Group {
  userCount: number;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  groupId: string;
  exchangeDomain: string | null;
  exchangeUsername: string | null;
  status: UserStatus;
  /** Since when they have their role. */
  roleSince: Date;
  source: UserSource;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserWithGroup extends User {
  group: Group;
}

/** Who is acting: an email (the HMS identity) and where the request came from. */
export interface Actor {
  email: string;
  platform: "slack" | "teams" | "system";
  /** The platform's own id of the person (Slack user id, AAD object id), for the audit trail. */
  platformUserId?: string;
}

export interface AuditEventInput {
  actor: string;
  action: string;
  subject: string;
  details?: Record<string, unknown>;
}

/** What changes in a user, field by field, as people read it ("Sales" → "Field Ops"). */
export type UserChanges = Partial<Record<"name" | "group" | "role" | "exchange", { from: string; to: string }>>;

const CHANGE_LABELS = { name: "Name", group: "Group", role: "Role", exchange: "Exchange account" } as const;

/** "Group: Sales → Field Ops; Role: User → Administrator" ("" for no change). */
export function describeChanges(changes: UserChanges | null | undefined): string {
  return (Object.keys(CHANGE_LABELS) as (keyof typeof CHANGE_LABELS)[])
    .filter((field) => changes?.[field])
    .map((field) => `${CHANGE_LABELS[field]}: ${changes![field]!.from} → ${changes![field]!.to}`)
    .join("; ");
}

/** A user's changeable fields as stored, to check nothing changed them meanwhile. */
export interface UserSnapshot {
  name: string;
  groupId: string;
  role: Role;
  exchangeDomain: string | null;
  exchangeUsername: string | null;
}

/** A recorded event of the audit trail. */
export interface AuditEvent extends Required<AuditEventInput> {
  id: string;
  at: Date;
}

export const INVITATION_STATUSES = ["PENDING", "SENT", "FAILED"] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

/** One user as their card shows them: where they came from, and their enrollment invitation. */
export interface UserDetails extends UserWithGroup {
  /** The import that created them, if any. */
  importBatch: { id: string; code: string } | null;
  invitation: { status: InvitationStatus; attempts: number; sentAt: Date | null; lastError: string | null; createdAt: Date } | null;
}
