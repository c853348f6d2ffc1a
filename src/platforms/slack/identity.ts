/**
 * Who is acting: the Slack user → their email (the HMS identity) with users.info, which needs
 * the users:read.email scope. Cached for a few minutes per team and user, so a command and the
 * modal it opens cost one lookup; concurrent lookups of the same person share one call.
 */
import type { webApi } from "@slack/bolt";
import type { Actor } from "../../core/index.ts";
import { callSlack } from "./web.ts";

/** The person has no email Slack will tell us (scope missing, a bot, a guest without one). */
export class SlackNoEmailError extends Error {
  constructor(readonly userId: string) {
    super(`users.info returned no email for ${userId}`);
    this.name = "SlackNoEmailError";
  }
}

export interface IdentityOptions {
  /** How long a resolved email is trusted, in ms (default five minutes). */
  ttlMs?: number;
  now?: () => number;
  /** Entries kept at most; the oldest go first. */
  maxEntries?: number;
}

interface UsersInfoResult {
  user?: { id?: string; is_bot?: boolean; deleted?: boolean; profile?: { email?: string } };
}

export class SlackIdentities {
  private readonly cache = new Map<string, { actor: Actor; expires: number }>();
  private readonly pending = new Map<string, Promise<Actor>>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: IdentityOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** The actor for a Slack user; throws SlackApiError (users.info failed) or SlackNoEmailError. */
  async resolve(client: webApi.WebClient, teamId: string | undefined, userId: string): Promise<Actor> {
    const key = `${teamId ?? ""}:${userId}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return hit.actor;
    if (hit) this.cache.delete(key);

    let lookup = this.pending.get(key);
    if (!lookup) {
      lookup = this.lookUp(client, userId).finally(() => this.pending.delete(key));
      this.pending.set(key, lookup);
    }
    const actor = await lookup;
    this.remember(key, actor);
    return actor;
  }

  private async lookUp(client: webApi.WebClient, userId: string): Promise<Actor> {
    const result = (await callSlack("users.info", () => client.users.info({ user: userId }))) as UsersInfoResult;
    const email = result.user?.deleted || result.user?.is_bot ? undefined : result.user?.profile?.email?.trim();
    if (!email) throw new SlackNoEmailError(userId);
    return { email: email.toLowerCase(), platform: "slack", platformUserId: userId };
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
