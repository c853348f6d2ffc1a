import { requireAdministrator } from "./authorize.ts";
import type { CoreDeps } from "./deps.ts";
import { AppError, ErrorCode } from "./errors.ts";
import { isEmail, normalizeEmail } from "./schemas.ts";
import type { Actor, AuditEvent } from "./types.ts";

export const AUDIT_SHOWN = 20;

export interface ListAuditOptions {
  actor: Actor;
  /** An email, an import code (IMP-7K3Q), or nothing for the whole trail. */
  about?: string;
  limit?: number;
}

export interface AuditListing {
  /** What the events are about, as asked. */
  about: { kind: "all" } | { kind: "user"; email: string } | { kind: "import"; code: string };
  events: AuditEvent[];
}

const IMPORT_CODE = /^imp-[a-z0-9]{4,}$/i;

/**
 * The latest events of the audit trail (newest first): of one user (including the import that
 * created them), of one import, or of everything.
 */
export async function listAudit(deps: CoreDeps, { actor, about, limit = AUDIT_SHOWN }: ListAuditOptions): Promise<AuditListing> {
  await requireAdministrator(deps.store, actor);
  const text = about?.trim() ?? "";
  if (!text) return { about: { kind: "all" }, events: await deps.store.audit.latest({ limit }) };
  if (IMPORT_CODE.test(text)) {
    const code = text.toUpperCase();
    return { about: { kind: "import", code }, events: await deps.store.audit.latest({ subjects: [`import:${code}`], limit }) };
  }
  const email = normalizeEmail(text);
  if (!isEmail(email)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, `“${text}” is neither an email address nor an import code (like IMP-7K3Q).`);
  }
  // An imported user's own events, and the creation by the import that made them.
  const user = await deps.store.users.details(email);
  const [own, created] = await Promise.all([
    deps.store.audit.latest({ subjects: [email], limit }),
    user?.importBatch
      ? deps.store.audit.latest({ subjects: [`import:${user.importBatch.code}`], actions: ["import.create"], limit: 1 })
      : [],
  ]);
  const events = [...own, ...created].sort((a, b) => b.at.getTime() - a.at.getTime() || Number(b.id) - Number(a.id)).slice(0, limit);
  return { about: { kind: "user", email }, events };
}
