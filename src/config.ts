/**
 * Configuration: the only module that reads process.env. Parsed once at boot with zod; a
 * missing or malformed variable stops start-up with one line naming it.
 */
import { z } from "zod/v4";
import type { ApprovalPolicy } from "./core/import/types.ts";
import { isEmail } from "./core/schemas.ts";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

// An unset variable and an empty one mean the same: "use the default".
const optionalText = z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), z.string().trim().optional());

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL");

const emailList = optionalText.transform((v, ctx) => {
  const emails = (v ?? "")
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  for (const email of emails) {
    if (!isEmail(email)) ctx.addIssue({ code: "custom", message: `"${email}" is not an email address`, input: v });
  }
  return emails;
});

// Slack workspace (T…) and Enterprise Grid organization (E…) ids, as Slack shows them.
const slackTeamList = optionalText.transform((v, ctx) => {
  const given = (v ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter(Boolean);
  for (const id of given) {
    if (!/^[TE][A-Z0-9]{2,20}$/i.test(id))
      ctx.addIssue({ code: "custom", message: `"${id}" is not a Slack workspace id (T…) or organization id (E…)`, input: v });
  }
  return [...new Set(given.map((id) => id.toUpperCase()))];
});

// Host names, comma-separated (TEAMS_FILE_HOSTS): letters, digits, dots and dashes.
const hostList = optionalText.transform((v, ctx) => {
  const hosts = (v ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  for (const host of hosts) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host))
      ctx.addIssue({ code: "custom", message: `"${host}" is not a host name`, input: v });
  }
  return [...new Set(hosts)];
});

const envSchema = z.object({
  NODE_ENV: optionalText,
  PORT: z.preprocess(
    (v) => (v === undefined || v === "" ? "3000" : v),
    z
      .string()
      .regex(/^\d+$/, { error: "must be a whole number", abort: true })
      .transform(Number)
      .pipe(z.number().int().min(0).max(65535, "must be at most 65535")),
  ),
  DATABASE_URL: optionalText.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgresql:// URL (unset it to use the embedded database)")
      .optional(),
  ),
  DATA_DIR: optionalText.transform((v) => v ?? "./data"),
  BOOTSTRAP_ADMINS: emailList,
  LOG_LEVEL: optionalText.pipe(z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`).optional()).transform((v) => v ?? "info"),

  // Slack
  SLACK_BOT_TOKEN: optionalText.pipe(z.string().startsWith("xoxb-", "must be a bot token (xoxb-…)").optional()),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_APP_TOKEN: optionalText.pipe(z.string().startsWith("xapp-", "must be an app-level token (xapp-…)").optional()),
  SLACK_API_URL: optionalText.pipe(httpUrl.optional()),
  SLACK_APPROVAL_CHANNEL: optionalText,
  SLACK_ALLOWED_TEAMS: slackTeamList,

  // Microsoft Teams
  TEAMS_APP_ID: optionalText,
  TEAMS_APP_PASSWORD: optionalText,
  TEAMS_TENANT_ID: optionalText,
  TEAMS_AUTH: optionalText.pipe(z.enum(["on", "off"], "must be on or off").optional()),
  TEAMS_APPROVAL_CONVERSATION: optionalText,
  TEAMS_FILE_HOSTS: hostList,

  // Imports and invitations
  APPROVAL_POLICY: optionalText.transform((v, ctx): ApprovalPolicy => {
    const value = (v ?? "always").toLowerCase();
    if (value === "always" || value === "never" || value === "admins") return { kind: value };
    if (/^\d+$/.test(value) && Number(value) >= 1) return { kind: "atLeast", count: Number(value) };
    ctx.addIssue({ code: "custom", message: "must be always, never, admins, or a number of accounts (1 or more)", input: v });
    return { kind: "always" };
  }),
  APPROVERS: emailList,
  APPROVAL_TTL_HOURS: optionalText.pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, { error: "must be a number of hours", abort: true })
      .transform(Number)
      .pipe(z.number().positive("must be more than 0"))
      .optional(),
  ),
  APPROVER_MIN_ROLE_AGE_HOURS: optionalText.pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, { error: "must be a number of hours (0 for no wait)", abort: true })
      .transform(Number)
      .optional(),
  ),
  SMTP_URL: optionalText.pipe(
    z
      .string()
      .regex(/^smtps?:\/\/\S+$/, "must be an smtp:// or smtps:// URL")
      .optional(),
  ),
  INVITE_FROM: optionalText,
  ENROLL_URL: optionalText.pipe(httpUrl.optional()),
});

/** The validated configuration. */
export interface Config {
  port: number;
  database: { kind: "postgresql"; url: string } | { kind: "pglite"; dataDir: string };
  bootstrapAdmins: string[];
  logLevel: (typeof LOG_LEVELS)[number];
  /** Present when Slack is configured. */
  slack?: SlackConfig;
  /** Present when Microsoft Teams is configured. */
  teams?: TeamsConfig;
  imports: {
    approvalPolicy: ApprovalPolicy;
    /** Narrows who may approve (still never a requester: the uploader or whoever clicked Create); empty: every other Administrator. */
    approvers: string[];
    approvalTtlHours: number;
    /** An Administrator for less than this may not approve (APPROVER_MIN_ROLE_AGE_HOURS; APPROVERS and BOOTSTRAP_ADMINS exempt). */
    approverMinRoleAgeHours: number;
    /** Exempt from that wait: BOOTSTRAP_ADMINS. */
    trustedAdministrators: string[];
  };
  /** Enrollment invitations by email; `smtpUrl` unset: invitations stay pending. */
  mail: { smtpUrl?: string; from?: string; enrollUrl?: string };
}

export interface SlackConfig {
  botToken: string;
  /** Verifies HTTP requests; not needed in Socket Mode. */
  signingSecret?: string;
  /** Socket Mode when set: no public URL needed. */
  appToken?: string;
  /** Web API base URL (GovSlack, tests); Slack's own when unset. */
  apiUrl?: string;
  /** Channel for approval requests; unset: the thread of the import. */
  approvalChannel?: string;
  /** Workspaces (T…) and Grid organizations (E…) served besides the installed one (SLACK_ALLOWED_TEAMS). */
  allowedTeams?: string[];
}

export interface TeamsConfig {
  /**
   * Bot Framework authentication (TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID; a single-tenant
   * app registration), or none (TEAMS_AUTH=off, local tries only).
   */
  auth: { kind: "bot-framework"; appId: string; password: string; tenantId: string } | { kind: "off" };
  /** Only activities from this tenant are served (with authentication off too, when set). */
  tenantId?: string;
  /** Where approval requests go (a channel or chat the bot is installed in); unset: the import's conversation. */
  approvalConversation?: string;
  /** Hosts the bot downloads and uploads files from (and their subdomains); unset: SharePoint and OneDrive. */
  fileHosts?: string[];
}

/** A configuration problem, worded as the one line an operator reads. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function teamsConfig(e: z.infer<typeof envSchema>): TeamsConfig | undefined {
  const common = {
    tenantId: e.TEAMS_TENANT_ID,
    approvalConversation: e.TEAMS_APPROVAL_CONVERSATION,
    fileHosts: e.TEAMS_FILE_HOSTS.length > 0 ? e.TEAMS_FILE_HOSTS : undefined,
  };
  if (e.TEAMS_AUTH === "off") return { auth: { kind: "off" }, ...common };
  if (e.TEAMS_APP_ID && e.TEAMS_APP_PASSWORD && e.TEAMS_TENANT_ID)
    return {
      auth: { kind: "bot-framework", appId: e.TEAMS_APP_ID, password: e.TEAMS_APP_PASSWORD, tenantId: e.TEAMS_TENANT_ID },
      ...common,
    };
  return undefined;
}

/** Parses the environment (process.env by default) into a frozen Config, or throws ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    // One message per variable: the first problem found with it.
    const byVariable = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      if (!byVariable.has(name)) byVariable.set(name, `${name} ${issue.message}`);
    }
    throw new ConfigError(`invalid configuration: ${[...byVariable.values()].join("; ")}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.SLACK_BOT_TOKEN && !e.SLACK_SIGNING_SECRET && !e.SLACK_APP_TOKEN) {
    problems.push("SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for Socket Mode)");
  }
  if (!e.SLACK_BOT_TOKEN && (e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN)) {
    problems.push("SLACK_BOT_TOKEN is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set");
  }
  const teamsCredentials = [e.TEAMS_APP_ID, e.TEAMS_APP_PASSWORD, e.TEAMS_TENANT_ID];
  if (e.TEAMS_AUTH === "off") {
    if (e.NODE_ENV === "production")
      problems.push("TEAMS_AUTH=off is refused with NODE_ENV=production (it accepts unauthenticated requests)");
  } else if (teamsCredentials.some(Boolean) && !teamsCredentials.every(Boolean)) {
    const missing = ["TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID"].filter((_, i) => !teamsCredentials[i]);
    problems.push(
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} required with the other TEAMS_* credentials (or set TEAMS_AUTH=off for local tries)`,
    );
  } else if (e.TEAMS_AUTH === "on" && !e.TEAMS_APP_ID) {
    problems.push("TEAMS_AUTH=on needs TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID");
  }
  if (e.SMTP_URL && !e.INVITE_FROM) problems.push("INVITE_FROM is required with SMTP_URL (the sender of invitations)");
  if (e.SMTP_URL && !e.ENROLL_URL) problems.push("ENROLL_URL is required with SMTP_URL (the enrollment link in invitations)");
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);

  return Object.freeze({
    port: e.PORT,
    database: e.DATABASE_URL ? { kind: "postgresql", url: e.DATABASE_URL } : { kind: "pglite", dataDir: e.DATA_DIR },
    bootstrapAdmins: e.BOOTSTRAP_ADMINS,
    logLevel: e.LOG_LEVEL,
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          appToken: e.SLACK_APP_TOKEN,
          apiUrl: e.SLACK_API_URL,
          approvalChannel: e.SLACK_APPROVAL_CHANNEL,
          allowedTeams: e.SLACK_ALLOWED_TEAMS,
        }
      : undefined,
    teams: teamsConfig(e),
    imports: {
      approvalPolicy: e.APPROVAL_POLICY,
      approvers: e.APPROVERS,
      approvalTtlHours: e.APPROVAL_TTL_HOURS ?? 72,
      approverMinRoleAgeHours: e.APPROVER_MIN_ROLE_AGE_HOURS ?? 24,
      trustedAdministrators: e.BOOTSTRAP_ADMINS,
    },
    mail: { smtpUrl: e.SMTP_URL, from: e.INVITE_FROM, enrollUrl: e.ENROLL_URL },
  } satisfies Config);
}
