import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";

const load = (env: Record<string, string>) => loadConfig(env);
const message = (env: Record<string, string>) => {
  try {
    load(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("config", () => {
  it("defaults to the embedded database in ./data on port 3000", () => {
    expect(load({})).toEqual({
      port: 3000,
      database: { kind: "pglite", dataDir: "./data" },
      bootstrapAdmins: [],
      logLevel: "info",
      slack: undefined,
      teams: undefined,
      imports: {
        approvalPolicy: { kind: "always" },
        approvers: [],
        approvalTtlHours: 72,
        approverMinRoleAgeHours: 24,
        trustedAdministrators: [],
      },
      mail: { smtpUrl: undefined, from: undefined, enrollUrl: undefined },
    });
  });

  it("treats empty variables as unset", () => {
    expect(load({ PORT: "", DATABASE_URL: " ", DATA_DIR: "", LOG_LEVEL: "" }).database).toEqual({ kind: "pglite", dataDir: "./data" });
  });

  it("uses PostgreSQL when DATABASE_URL is set, and parses the rest", () => {
    expect(
      load({
        PORT: "8080",
        DATABASE_URL: "postgresql://hms@db:5432/hms",
        BOOTSTRAP_ADMINS: " Ann@Corp.example.org, bob@corp.example.org ,",
        LOG_LEVEL: "debug",
      }),
    ).toMatchObject({
      port: 8080,
      database: { kind: "postgresql", url: "postgresql://hms@db:5432/hms" },
      bootstrapAdmins: ["ann@corp.example.org", "bob@corp.example.org"],
      logLevel: "debug",
    });
  });

  it.each([
    [{ PORT: "http" }, "invalid configuration: PORT must be a whole number"],
    [{ PORT: "70000" }, "invalid configuration: PORT must be at most 65535"],
    [
      { DATABASE_URL: "mysql://x/y" },
      "invalid configuration: DATABASE_URL must be a postgresql:// URL (unset it to use the embedded database)",
    ],
    [{ BOOTSTRAP_ADMINS: "ann@corp.example.org,bob" }, 'invalid configuration: BOOTSTRAP_ADMINS "bob" is not an email address'],
    [{ LOG_LEVEL: "loud" }, "invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent"],
    [{ SLACK_BOT_TOKEN: "xoxp-user" }, "invalid configuration: SLACK_BOT_TOKEN must be a bot token (xoxb-…)"],
    [
      { SLACK_BOT_TOKEN: "xoxb-1" },
      "invalid configuration: SLACK_SIGNING_SECRET is required with SLACK_BOT_TOKEN (or set SLACK_APP_TOKEN for Socket Mode)",
    ],
    [
      { SLACK_SIGNING_SECRET: "s" },
      "invalid configuration: SLACK_BOT_TOKEN is required when SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set",
    ],
    [
      { SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xoxb-2" },
      "invalid configuration: SLACK_APP_TOKEN must be an app-level token (xapp-…)",
    ],
    [
      { SLACK_ALLOWED_TEAMS: "T0123ABCD,hms-test" },
      'invalid configuration: SLACK_ALLOWED_TEAMS "hms-test" is not a Slack workspace id (T…) or organization id (E…)',
    ],
    [{ SLACK_API_URL: "localhost:9" }, "invalid configuration: SLACK_API_URL must be an http:// or https:// URL"],
    [
      { APPROVAL_POLICY: "sometimes" },
      "invalid configuration: APPROVAL_POLICY must be always, never, admins, or a number of accounts (1 or more)",
    ],
    [{ APPROVAL_POLICY: "0" }, "invalid configuration: APPROVAL_POLICY must be always, never, admins, or a number of accounts (1 or more)"],
    [{ APPROVERS: "x" }, 'invalid configuration: APPROVERS "x" is not an email address'],
    [{ APPROVAL_TTL_HOURS: "soon" }, "invalid configuration: APPROVAL_TTL_HOURS must be a number of hours"],
    [{ APPROVAL_TTL_HOURS: "0" }, "invalid configuration: APPROVAL_TTL_HOURS must be more than 0"],
    [{ SMTP_URL: "mail.example.com" }, "invalid configuration: SMTP_URL must be an smtp:// or smtps:// URL"],
    [
      { SMTP_URL: "smtp://mail:25", ENROLL_URL: "https://hms.example.com/enroll" },
      "invalid configuration: INVITE_FROM is required with SMTP_URL (the sender of invitations)",
    ],
    [
      { TEAMS_APP_ID: "00000000-0000-0000-0000-0000000000b0" },
      "invalid configuration: TEAMS_APP_PASSWORD and TEAMS_TENANT_ID are required with the other TEAMS_* credentials (or set TEAMS_AUTH=off for local tries)",
    ],
    [
      { TEAMS_APP_ID: "a", TEAMS_APP_PASSWORD: "p" },
      "invalid configuration: TEAMS_TENANT_ID is required with the other TEAMS_* credentials (or set TEAMS_AUTH=off for local tries)",
    ],
    [{ TEAMS_AUTH: "maybe" }, "invalid configuration: TEAMS_AUTH must be on or off"],
    [{ TEAMS_AUTH: "on" }, "invalid configuration: TEAMS_AUTH=on needs TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID"],
    [
      { TEAMS_AUTH: "off", NODE_ENV: "production" },
      "invalid configuration: TEAMS_AUTH=off is refused with NODE_ENV=production (it accepts unauthenticated requests)",
    ],
    [
      { TEAMS_AUTH: "off", TEAMS_FILE_HOSTS: "localhost,http://x" },
      'invalid configuration: TEAMS_FILE_HOSTS "http://x" is not a host name',
    ],
  ])("%j stops start-up with one line naming the variable", (env, expected) => {
    expect(message(env)).toBe(expected);
  });

  it("enables Slack with a bot token and a signing secret, or Socket Mode with an app token", () => {
    expect(load({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "sec", SLACK_API_URL: "http://127.0.0.1:9/api/" }).slack).toEqual({
      botToken: "xoxb-1",
      signingSecret: "sec",
      appToken: undefined,
      apiUrl: "http://127.0.0.1:9/api/",
      approvalChannel: undefined,
      allowedTeams: [],
    });
    expect(load({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1" }).slack?.appToken).toBe("xapp-1");
  });

  it("enables Teams with Bot Framework authentication from the app id, password and tenant", () => {
    const teams = load({
      TEAMS_APP_ID: "00000000-0000-0000-0000-0000000000b0",
      TEAMS_APP_PASSWORD: "secret",
      TEAMS_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      TEAMS_APPROVAL_CONVERSATION: "19:approvals@thread.tacv2",
    }).teams;
    expect(teams).toEqual({
      auth: {
        kind: "bot-framework",
        appId: "00000000-0000-0000-0000-0000000000b0",
        password: "secret",
        tenantId: "11111111-2222-3333-4444-555555555555",
      },
      tenantId: "11111111-2222-3333-4444-555555555555",
      approvalConversation: "19:approvals@thread.tacv2",
      fileHosts: undefined,
    });
  });

  it("TEAMS_AUTH=off runs Teams without authentication (outside production), the tenant still restricted when set", () => {
    expect(
      load({ TEAMS_AUTH: "off", NODE_ENV: "development", TEAMS_TENANT_ID: "t-1", TEAMS_FILE_HOSTS: " LocalHost ,127.0.0.1" }).teams,
    ).toEqual({
      auth: { kind: "off" },
      tenantId: "t-1",
      approvalConversation: undefined,
      fileHosts: ["localhost", "127.0.0.1"],
    });
    expect(load({ TEAMS_AUTH: "off" }).teams?.auth).toEqual({ kind: "off" });
    expect(load({ TEAMS_TENANT_ID: "t-1", TEAMS_AUTH: "on", TEAMS_APP_ID: "a", TEAMS_APP_PASSWORD: "p" }).teams?.auth.kind).toBe(
      "bot-framework",
    );
  });

  it("SLACK_ALLOWED_TEAMS: workspace and organization ids, comma-separated", () => {
    const env = { SLACK_BOT_TOKEN: "xoxb-1", SLACK_APP_TOKEN: "xapp-1" };
    expect(load({ ...env, SLACK_ALLOWED_TEAMS: " T0123ABCD, e0456EFGH ,,T0123ABCD" }).slack?.allowedTeams).toEqual([
      "T0123ABCD",
      "E0456EFGH",
    ]);
  });

  it.each([
    ["always", { kind: "always" }],
    ["NEVER", { kind: "never" }],
    ["admins", { kind: "admins" }],
    ["25", { kind: "atLeast", count: 25 }],
  ])("APPROVAL_POLICY=%s", (value, expected) => {
    expect(load({ APPROVAL_POLICY: value }).imports.approvalPolicy).toEqual(expected);
  });

  it("returns a frozen object", () => {
    expect(Object.isFrozen(load({}))).toBe(true);
  });
});
