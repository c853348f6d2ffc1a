/**
 * The workspace rule: HMS userbot serves the people of the workspace it is installed in (the
 * auth.test team), of its Enterprise Grid organization (the auth.test enterprise), and of the
 * teams SLACK_ALLOWED_TEAMS names. Anyone else, such as a member of another organization in a
 * Slack Connect channel whose email happens to match an Administrator, is refused before any
 * listener runs. The refusal is logged at warn, acknowledged so that Slack does not retry, and
 * nothing else happens: no users.info lookup, no core call, no message.
 *
 * The rule looks at the acting user's team. In Slack Connect a payload names the user's side:
 * `user.team_id` in interactivity, `team_id` in a slash command, and `user_team` or `team` in an
 * event, whose outer `team_id` and `authorizations` name the installation instead.
 */
import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Logger } from "pino";
import { toSlackApiError } from "./web.ts";

/** Who installed the bot, as auth.test reports it. */
export interface Installation {
  teamId?: string;
  enterpriseId?: string;
  /** The workspace's web address (https://acme.slack.com/): message links start with it. */
  url?: string;
}

/** The acting user's side of a request, as far as the payload says. */
export interface Requester {
  /** "command", an interactivity type ("block_actions"…), or "event <type>". */
  kind: string;
  team?: string;
  /** Only when the payload ties it to the user (see requesterOf). */
  enterprise?: string;
  user?: string;
}

/** What a refused slash command is told (interactions and events get an empty acknowledgement). */
export const OTHER_WORKSPACE_ANSWER = "HMS userbot only serves its own workspace.";

type Fields = Record<string, unknown>;
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const fields = (v: unknown): Fields | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Fields) : undefined);

/** The acting user's team and enterprise from any request body Bolt handles. */
export function requesterOf(body: unknown): Requester {
  const b = fields(body) ?? {};
  const event = fields(b.event);
  if (event) {
    const user = fields(event.user);
    const authorization = Array.isArray(b.authorizations) ? fields(b.authorizations[0]) : undefined;
    // A channel shared with another organization may hold anyone: only the user's own team counts there.
    const shared = b.is_ext_shared_channel === true;
    const userTeam =
      text(event.user_team) ?? text(event.team) ?? text(user?.team_id) ?? text(fields(event.user_profile)?.team) ?? text(event.source_team);
    return {
      kind: `event ${text(event.type) ?? "?"}`,
      team: userTeam ?? (shared ? undefined : (text(authorization?.team_id) ?? text(b.team_id))),
      enterprise: shared ? undefined : (text(authorization?.enterprise_id) ?? text(b.enterprise_id)),
      user: text(event.user) ?? text(user?.id) ?? text(event.user_id),
    };
  }
  if (b.command !== undefined) {
    // A slash command describes where the person was: their own workspace and organization.
    return { kind: "command", team: text(b.team_id), enterprise: text(b.enterprise_id), user: text(b.user_id) };
  }
  const user = fields(b.user);
  const team = fields(b.team);
  const userTeam = text(user?.team_id);
  // The payload's team (and its enterprise) may be another side than the user's: then it says nothing of them.
  const sameSide = !userTeam || !team || text(team.id) === userTeam;
  return {
    kind: text(b.type) ?? "interaction",
    team: userTeam ?? text(team?.id),
    enterprise: sameSide ? (text(fields(b.enterprise)?.id) ?? text(team?.enterprise_id)) : undefined,
    user: text(user?.id),
  };
}

/** Whether the bot serves this requester. */
export function isServed(requester: Requester, installation: Installation, allowedTeams: ReadonlySet<string>): boolean {
  const { team, enterprise } = requester;
  if (team && (team === installation.teamId || allowedTeams.has(team))) return true;
  return Boolean(enterprise && (enterprise === installation.enterpriseId || allowedTeams.has(enterprise)));
}

export interface WorkspaceGuardOptions {
  /** auth.test's answer; awaited per request (Bolt's authorize has already asked for it). */
  installation: () => Promise<Installation>;
  /** SLACK_ALLOWED_TEAMS. */
  allowedTeams?: readonly string[];
  logger: Logger;
}

/** Bolt global middleware (HTTP and Socket Mode alike): requests from teams the bot does not serve go no further. */
export function workspaceGuard(options: WorkspaceGuardOptions): Middleware<AnyMiddlewareArgs> {
  const allowed = new Set(options.allowedTeams ?? []);
  return async (args) => {
    const requester = requesterOf(args.body);
    const who = { request: requester.kind, team: requester.team, enterprise: requester.enterprise, slackUser: requester.user };
    let installation: Installation;
    try {
      installation = await options.installation();
    } catch (error) {
      // Only events Bolt does not authorize get here without auth.test's answer: without it nobody is known.
      const failure = toSlackApiError("auth.test", error);
      options.logger.warn(
        { ...who, method: "auth.test", slackError: failure?.detail.slackError ?? String(error) },
        "slack request refused: could not ask Slack which workspace the bot is installed in",
      );
      await refuse(args, requester);
      return;
    }
    if (isServed(requester, installation, allowed)) {
      await args.next();
      return;
    }
    options.logger.warn(
      { ...who, installedTeam: installation.teamId },
      "slack request refused: from a workspace HMS userbot does not serve (see SLACK_ALLOWED_TEAMS)",
    );
    await refuse(args, requester);
  };
}

/** Events were acknowledged by Bolt already; everything else is acknowledged here so that Slack does not retry. */
async function refuse(args: AnyMiddlewareArgs, requester: Requester): Promise<void> {
  const { ack } = args as { ack?: (response?: unknown) => Promise<void> };
  if (!ack) return;
  if (requester.kind === "command") await ack({ response_type: "ephemeral", text: OTHER_WORKSPACE_ANSWER });
  else if (requester.kind === "block_suggestion") await ack({ options: [] });
  else await ack();
}
