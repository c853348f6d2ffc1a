/**
 * Who is acting: the Teams user → their email (else their UPN), the HMS identity, from the Bot
 * Connector's members API (GET v3/conversations/{id}/members/{userId}). Cached a few minutes per
 * tenant and user, so a command and the card it posts cost one lookup; concurrent lookups of the
 * same person share one call. Whoever is resolved is remembered by email, so that approval
 * requests can mention them.
 */
import type { Logger } from "pino";
import type { Actor } from "../../core/index.ts";
import type { BotConnector, TeamsMember } from "./connector.ts";
import type { TeamsPeople } from "./people.ts";

/** Teams tells no email or UPN for this person (a guest, an anonymous meeting member, a bot). */
export class TeamsNoEmailError extends Error {
  constructor(readonly userId: string) {
    super(`the members API returned no email or UPN for ${userId}`);
    this.name = "TeamsNoEmailError";
  }
}

export interface IdentityOptions {
  /** How long a resolved email is trusted, in ms (default five minutes). */
  ttlMs?: number;
  now?: () => number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
}

/** Where to ask: the conversation the person acted in. */
export interface MemberQuery {
  serviceUrl: string;
  conversationId: string;
  tenantId?: string;
  userId: string;
  /** The activity's from.aadObjectId, when Teams sent it. */
  aadObjectId?: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export class TeamsIdentities {
  private readonly cache = new Map<string, { actor: Actor; expires: number }>();
  private readonly pending = new Map<string, Promise<Actor>>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(
    private readonly connector: BotConnector,
    private readonly people: TeamsPeople,
    options: IdentityOptions = {},
    private readonly logger?: Logger,
  ) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** The actor for a Teams user; throws TeamsApiError (the lookup failed) or TeamsNoEmailError. */
  async resolve(query: MemberQuery): Promise<Actor> {
    const key = `${query.tenantId ?? ""}:${query.userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.actor;
    if (hit) this.cache.delete(key);

    let lookup = this.pending.get(key);
    if (!lookup) {
      lookup = this.lookUp(query).finally(() => this.pending.delete(key));
      this.pending.set(key, lookup);
    }
    const actor = await lookup;
    this.remember(key, actor);
    return actor;
  }

  private async lookUp(query: MemberQuery): Promise<Actor> {
    const member: TeamsMember = await this.connector.member(query.serviceUrl, query.conversationId, query.userId);
    const email = [member.email, member.userPrincipalName].map((e) => e?.trim()).find((e) => e && EMAIL.test(e));
    if (!email || member.userRole === "anonymous") throw new TeamsNoEmailError(query.userId);
    const actor: Actor = {
      email: email.toLowerCase(),
      platform: "teams",
      platformUserId: query.aadObjectId ?? member.aadObjectId ?? member.objectId ?? query.userId,
    };
    this.people.learn(actor.email, member.id || query.userId);
    // Says which email a Teams user is (LOG_LEVEL=debug), e.g. to find the Playground user's for BOOTSTRAP_ADMINS.
    this.logger?.debug({ teamsUser: query.userId, email: actor.email }, "teams user resolved from the members API");
    return actor;
  }

  private remember(key: string, actor: Actor): void {
    this.cache.delete(key);
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, { actor, expires: this.now() + this.ttlMs });
  }
}
