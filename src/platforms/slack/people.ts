/**
 * Emails → Slack users, to mention approvers: users.lookupByEmail (users:read.email), cached.
 * Someone Slack does not know (or a lookup that fails) is shown by their email.
 */
import type { webApi } from "@slack/bolt";
import type { Person } from "../../render/import-views.ts";
import { callSlack } from "./web.ts";

export class SlackPeople {
  private readonly cache = new Map<string, { id?: string; expires: number }>();

  constructor(
    /** Logs a failed lookup (the person is then shown by email). */
    private readonly onFailure: (error: unknown, where: Record<string, unknown>) => void,
    private readonly ttlMs = 60 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async person(client: webApi.WebClient, email: string): Promise<Person> {
    const hit = this.cache.get(email);
    if (hit && hit.expires > this.now()) return { name: email, platformId: hit.id };
    let id: string | undefined;
    try {
      const result = (await callSlack("users.lookupByEmail", () => client.users.lookupByEmail({ email }))) as { user?: { id?: string } };
      id = result.user?.id;
    } catch (error) {
      const notFound = (error as { detail?: { slackError?: string } }).detail?.slackError === "users_not_found";
      if (!notFound) {
        this.onFailure(error, { while: "looking up an approver", email });
        return { name: email };
      }
    }
    if (this.cache.size > 5_000) this.cache.clear();
    this.cache.set(email, { id, expires: this.now() + this.ttlMs });
    return { name: email, platformId: id };
  }

  people(client: webApi.WebClient, emails: readonly string[]): Promise<Person[]> {
    return Promise.all(emails.map((e) => this.person(client, e)));
  }
}
