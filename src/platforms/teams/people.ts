/**
 * Emails → Teams user ids (MRIs, 29:…), to @mention approvers and to give them their own view of
 * an approval request. Teams has no lookup by email across the tenant for a bot: the bot knows
 * whoever it resolved (anyone who used it), and asks the members API of the approvals conversation
 * (a member can be looked up by UPN there). Someone unknown is named by email.
 */
import type { Person } from "../../render/import-views.ts";

/** Looks a person up by email (UPN) where that is possible; undefined when they are not found. */
export type MemberLookup = (email: string) => Promise<string | undefined>;

export class TeamsPeople {
  private readonly known = new Map<string, { id?: string; expires: number }>();

  constructor(
    /** Logs a failed lookup (the person is then named by email). */
    private readonly onFailure: (error: unknown, where: Record<string, unknown>) => void,
    private readonly ttlMs = 60 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Someone the bot resolved: their email and Teams id. */
  learn(email: string, teamsId: string): void {
    if (this.known.size > 10_000) this.known.clear();
    this.known.set(email.toLowerCase(), { id: teamsId, expires: Number.POSITIVE_INFINITY });
  }

  /** The Teams id of someone the bot knows, without asking anyone. */
  idOf(email: string): string | undefined {
    return this.known.get(email.toLowerCase())?.id;
  }

  async person(email: string, lookup?: MemberLookup): Promise<Person> {
    const key = email.toLowerCase();
    const hit = this.known.get(key);
    if (hit && hit.expires > this.now()) return { name: email, platformId: hit.id };
    if (!lookup) return { name: email };
    let id: string | undefined;
    try {
      id = await lookup(email);
    } catch (error) {
      this.onFailure(error, { while: "looking up an approver", email });
      return { name: email };
    }
    this.known.set(key, id ? { id, expires: Number.POSITIVE_INFINITY } : { expires: this.now() + this.ttlMs });
    return { name: email, platformId: id };
  }

  people(emails: readonly string[], lookup?: MemberLookup): Promise<Person[]> {
    return Promise.all(emails.map((e) => this.person(e, lookup)));
  }
}
