/**
 * The workspace rule on the real app: a person of another workspace (T0OTHER, reaching the bot
 * through a Slack Connect channel) whose email is an HMS Administrator's is refused, whatever
 * the request, over HTTP and Socket Mode: logged at warn, acknowledged, nothing asked of Slack,
 * nothing done. The bot's own workspace, its Grid organization and SLACK_ALLOWED_TEAMS are served.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isServed, requesterOf } from "../../src/platforms/slack/workspace.ts";
import { IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import { databaseKinds } from "../helpers/db.ts";
import { DEFAULT_RESPONDERS, FAKE_TEAM } from "../helpers/fake-slack.ts";
import { ADMIN } from "../helpers/fixtures.ts";
import { type HarnessOptions, SLACK_USERS, type SlackHarness, startSlackHarness, stateValues } from "../helpers/slack-app.ts";
import { commandBody, eventBody, fixture, interactionBody, postSigned } from "../helpers/slack-requests.ts";

const OTHER_TEAM = "T0OTHER";
/** Another organization's member whose Slack email is an HMS Administrator's. */
const OUTSIDER = { id: "U0OTHER", teamId: OTHER_TEAM, email: ADMIN.email, name: "Ada Elsewhere" };
const REFUSAL = "HMS userbot only serves its own workspace.";

const settle = () => new Promise((r) => setTimeout(r, 400));

/** Once the fake has received nothing for a while (earlier work done), how many calls it holds. */
async function quietCount(h: SlackHarness): Promise<number> {
  for (let count = -1; ; await new Promise((r) => setTimeout(r, 250))) {
    if (count === h.fake.calls.length) return count;
    count = h.fake.calls.length;
  }
}

/** Request bodies as Slack sends them for a member of `team` (Slack Connect: the user's own team). */
const requests = {
  command(text: string, responseUrl: string, { team = OTHER_TEAM, user = OUTSIDER.id, enterprise }: Who = {}) {
    return {
      ...fixture<Record<string, string>>("slash-command"),
      text,
      team_id: team,
      team_domain: team.toLowerCase(),
      user_id: user,
      response_url: responseUrl,
      ...(enterprise ? { enterprise_id: enterprise, enterprise_name: "Org" } : {}),
    };
  },
  click(responseUrl: string, { team = OTHER_TEAM, user = OUTSIDER.id }: Who = {}) {
    const payload = fixture("block-actions");
    // In a Slack Connect channel the payload's team may be the host's; the user's team is theirs.
    payload.team = { id: FAKE_TEAM.id, domain: FAKE_TEAM.domain };
    payload.user = { ...(payload.user as object), id: user, team_id: team };
    payload.response_url = responseUrl;
    payload.actions = [
      { ...(payload.actions as object[])[0], action_id: IMPORT_ACTIONS.create, value: "00000000-0000-4000-8000-000000000000" },
    ];
    return payload;
  },
  suggest(value: string, { team = OTHER_TEAM, user = OUTSIDER.id }: Who = {}) {
    const payload = fixture("block-suggestion");
    payload.value = value;
    payload.team = { id: team, domain: team.toLowerCase() };
    payload.user = { ...(payload.user as object), id: user, team_id: team };
    return payload;
  },
  submit(view: Record<string, unknown>, email: string, { team = OTHER_TEAM, user = OUTSIDER.id }: Who = {}) {
    const payload = fixture("view-submission");
    payload.team = { id: team, domain: team.toLowerCase() };
    payload.user = { ...(payload.user as object), id: user, team_id: team };
    payload.view = {
      ...(payload.view as object),
      ...view,
      team_id: FAKE_TEAM.id,
      state: { values: stateValues({ email, name: "Connect Person", group: "Finance" }) },
    };
    return payload;
  },
  /** A DM to the bot from a Slack Connect member: delivered to the bot's workspace, carrying the user's team. */
  dm(eventId: string, { team = OTHER_TEAM, user = OUTSIDER.id }: Who = {}) {
    const payload = fixture("event-message-im");
    payload.event_id = eventId;
    payload.is_ext_shared_channel = team !== FAKE_TEAM.id;
    Object.assign(payload.event as object, { user, team, user_team: team, source_team: team, channel: "D0OTHER" });
    return payload;
  },
  mention(eventId: string, files: Record<string, unknown>[], { team = OTHER_TEAM, user = OUTSIDER.id }: Who = {}) {
    const payload = fixture("event-app-mention");
    payload.event_id = eventId;
    payload.is_ext_shared_channel = true;
    Object.assign(payload.event as object, { user, team, user_team: team, source_team: team, files, channel: "C0SHARED" });
    return payload;
  },
};
type Who = { team?: string; user?: string; enterprise?: string };

async function start(kind: (typeof databaseKinds)[number], options: HarnessOptions = {}): Promise<SlackHarness> {
  const h = await startSlackHarness(kind, options);
  h.fake.addUser(OUTSIDER);
  return h;
}

/** What the fake recorded since `from` (the Web API, response_urls, downloads). */
const since = (h: SlackHarness, from: number) => h.fake.calls.slice(from).map((c) => `${c.method} ${c.path}`);

describe.each(databaseKinds)("the workspace rule over HTTP (%s)", (kind) => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await start(kind);
  });
  afterAll(async () => h?.close());

  function refusedLog(request: string) {
    return h.logs.lines.find((l) => l.request === request && l.team === OTHER_TEAM && l.slackUser === OUTSIDER.id);
  }

  it("a slash command: answered that the bot serves its own workspace, nothing looked up or run", async () => {
    const from = await quietCount(h);
    const responseUrl = h.fake.responseUrl();
    const answer = await postSigned(h.eventsUrl, commandBody(requests.command("add-group Connect Sales", responseUrl)));
    expect(answer).toMatchObject({ status: 200, json: { response_type: "ephemeral", text: REFUSAL } });
    await settle();
    expect(since(h, from)).toEqual([]);
    expect(await h.t.db.prisma.group.count({ where: { name: "Connect Sales" } })).toBe(0);
    expect(refusedLog("command")).toMatchObject({
      level: 40,
      installedTeam: FAKE_TEAM.id,
      msg: "slack request refused: from a workspace HMS userbot does not serve (see SLACK_ALLOWED_TEAMS)",
    });
  });

  it("a button (block_actions) in a shared channel: the user's team counts, not the channel's", async () => {
    const from = await quietCount(h);
    const answer = await postSigned(h.eventsUrl, interactionBody(requests.click(h.fake.responseUrl())));
    expect(answer).toMatchObject({ status: 200, text: "" });
    await settle();
    expect(since(h, from)).toEqual([]);
    expect(refusedLog("block_actions")).toMatchObject({ level: 40 });
  });

  it("the Group select (block_suggestion): no options, the group names stay private", async () => {
    const from = await quietCount(h);
    const answer = await postSigned(h.eventsUrl, interactionBody(requests.suggest("fin")));
    expect(answer).toMatchObject({ status: 200, json: { options: [] } });
    expect(since(h, from)).toEqual([]);
    expect(refusedLog("block_suggestion")).toMatchObject({ level: 40 });
  });

  it("a modal submission (view_submission): the modal closes, nobody is added", async () => {
    const { view } = await h.openAddUser();
    const from = await quietCount(h); // after the admin's own lookups for the modal
    const answer = await postSigned(h.eventsUrl, interactionBody(requests.submit(view, "connect.person@corp.example.org")));
    expect(answer).toMatchObject({ status: 200, text: "" });
    await settle();
    expect(since(h, from)).toEqual([]);
    expect(await h.t.db.prisma.user.count({ where: { email: "connect.person@corp.example.org" } })).toBe(0);
    expect(refusedLog("view_submission")).toMatchObject({ level: 40 });
  });

  it("a direct message (message.im): no help posted, the delivery not even claimed", async () => {
    const from = await quietCount(h);
    const answer = await postSigned(h.eventsUrl, eventBody(requests.dm("Ev0OTHERDM01")));
    expect(answer).toMatchObject({ status: 200 });
    await settle();
    expect(since(h, from)).toEqual([]);
    expect(refusedLog("event message")).toMatchObject({ level: 40 });
    // The same event id from the bot's own workspace is then processed: nothing was remembered for the refused one.
    await postSigned(h.eventsUrl, eventBody(requests.dm("Ev0OTHERDM01", { team: FAKE_TEAM.id, user: SLACK_USERS.admin.id })));
    expect((await h.fake.waitFor("chat.postMessage")).at(-1)!.args).toMatchObject({ channel: "D0OTHER" });
  });

  it("a mention with a file (app_mention): the file is neither described nor downloaded", async () => {
    const file = h.fake.addFile({ id: "F0OTHER1", name: "connect.csv", content: "Email ID,Name,Group\nx@corp.example.org,X,Finance\n" });
    const from = await quietCount(h);
    const answer = await postSigned(h.eventsUrl, eventBody(requests.mention("Ev0OTHERMN01", [file])));
    expect(answer).toMatchObject({ status: 200 });
    await settle();
    expect(since(h, from)).toEqual([]);
    expect(await h.t.db.prisma.importBatch.count({ where: { fileName: "connect.csv" } })).toBe(0);
    expect(refusedLog("event app_mention")).toMatchObject({ level: 40 });
  });

  it("the bot's own workspace is served as before", async () => {
    const sent = await h.command("groups");
    expect(sent.status).toBe(200);
    const [answer] = await h.waitForResponse(sent.responseUrl);
    expect((answer!.args as { text: string }).text).toMatch(/^\d+ groups$/);
    expect((await h.suggest("fin")).json).toMatchObject({ options: [{ value: "Finance" }] });
  });
});

describe("the workspace rule over Socket Mode", () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await start("pglite", { slack: { appToken: "xapp-1-A0HMSAPP-1-abcdef" } });
    await h.fake.waitForSocket();
  });
  afterAll(async () => h?.close());

  it("refuses a command, a suggestion, a submission and an event from another workspace", async () => {
    const from = await quietCount(h);
    expect(await h.fake.socketSend("slash_commands", requests.command("groups", h.fake.responseUrl()))).toEqual({
      response_type: "ephemeral",
      text: REFUSAL,
    });
    expect(await h.fake.socketSend("interactive", requests.suggest("fin"))).toEqual({ options: [] });
    await h.fake.socketSend("interactive", requests.click(h.fake.responseUrl()));
    const submission = requests.submit({ callback_id: "hms_add_user", private_metadata: "{}" }, "sock.connect@corp.example.org");
    await h.fake.socketSend("interactive", submission);
    await h.fake.socketSend("events_api", requests.dm("Ev0OTHERSOCK1"));
    await settle();
    expect(since(h, from).filter((c) => !c.startsWith("apps.connections.open"))).toEqual([]);
    expect(await h.t.db.prisma.user.count({ where: { email: "sock.connect@corp.example.org" } })).toBe(0);
    expect(h.logs.lines.filter((l) => l.team === OTHER_TEAM && l.level === 40).map((l) => l.request)).toEqual([
      "command",
      "block_suggestion",
      "block_actions",
      "view_submission",
      "event message",
    ]);
    // Its own workspace still gets answers.
    expect(
      await h.fake.socketSend("interactive", requests.suggest("fin", { team: FAKE_TEAM.id, user: SLACK_USERS.admin.id })),
    ).toMatchObject({ options: [{ value: "Finance" }] });
  });
});

describe("who else is served", () => {
  let h: SlackHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function groupsAs(harness: SlackHarness, who: Who): Promise<{ status: number; json: unknown; answers: () => string[] }> {
    const responseUrl = harness.fake.responseUrl();
    const answer = await postSigned(harness.eventsUrl, commandBody(requests.command("groups", responseUrl, who)));
    return {
      ...answer,
      answers: () => harness.responses(responseUrl).map((c) => String((c.args as { text?: string }).text)),
    };
  }

  it("SLACK_ALLOWED_TEAMS admits the teams it lists; on Grid, the bot's organization is served; nobody else", async () => {
    const enterpriseId = "E0HMSORG";
    h = await start("pglite", {
      slack: { allowedTeams: [OTHER_TEAM] },
      beforeStart: (fake) =>
        fake.on("auth.test", async (call, f) => {
          const reply = (await DEFAULT_RESPONDERS["auth.test"]!(call, f)) as { body: Record<string, unknown> };
          return { body: { ...reply.body, enterprise_id: enterpriseId } };
        }),
    });
    h.fake.addUser({ id: "U0SISTER", teamId: "T0SISTER", email: ADMIN.email });
    h.fake.addUser({ id: "U0THIRD", teamId: "T0THIRD", email: ADMIN.email });

    const listed = await groupsAs(h, {});
    expect(listed.status).toBe(200);
    await h.fake.waitForCalls((c) => c.method === "response_url", 1);
    expect(listed.answers()[0]).toMatch(/^\d+ groups$/);
    expect((await postSigned(h.eventsUrl, interactionBody(requests.suggest("fin")))).json).toMatchObject({
      options: [{ value: "Finance" }],
    });
    // Another workspace of the same Grid organization.
    const sister = await groupsAs(h, { team: "T0SISTER", user: "U0SISTER", enterprise: enterpriseId });
    expect(sister.status).toBe(200);
    await h.fake.waitForCalls((c) => c.method === "response_url", 2);
    expect(sister.answers()[0]).toMatch(/^\d+ groups$/);
    // Neither listed nor in the organization.
    expect((await groupsAs(h, { team: "T0THIRD", user: "U0THIRD" })).json).toEqual({ response_type: "ephemeral", text: REFUSAL });
    expect((await groupsAs(h, { team: "T0THIRD", user: "U0THIRD", enterprise: "E0OTHERORG" })).json).toEqual({
      response_type: "ephemeral",
      text: REFUSAL,
    });
  });

  it("Slack unreachable at start: nobody gets through until auth.test answers, and then only the bot's workspace", async () => {
    h = await start("pglite", { beforeStart: (fake) => fake.once("auth.test", "network-error").once("auth.test", "network-error") });
    expect(h.fake.callsTo("auth.test").length).toBe(1);
    // An event Bolt does not authorize arrives while Slack is still unreachable: refused, not let through.
    const revoked = {
      ...fixture("event-message-im"),
      event_id: "Ev0REVOKED01",
      event: { type: "tokens_revoked", tokens: { bot: ["U0HMSBOT"] } },
    };
    expect((await postSigned(h.eventsUrl, eventBody(revoked))).status).toBe(200);
    await settle();
    expect(h.logs.find({ msg: "slack request refused: could not ask Slack which workspace the bot is installed in" })).toMatchObject({
      level: 40,
      request: "event tokens_revoked",
      method: "auth.test",
    });
    expect(h.fake.calls.map((c) => c.method)).toEqual(["auth.test", "auth.test"]);
    // Slack answers again: auth.test is asked on the next request, which another workspace still cannot pass.
    expect((await groupsAs(h, {})).json).toEqual({ response_type: "ephemeral", text: REFUSAL });
    expect(h.fake.callsTo("auth.test").length).toBe(3);
    expect(h.fake.callsTo("users.info")).toEqual([]);
  });
});

describe("requesterOf", () => {
  const installation = { teamId: FAKE_TEAM.id, enterpriseId: "E0HMSORG" };
  const none = new Set<string>();
  it("takes the user's team from an event, the installation's only when nothing names the user's", () => {
    const dm = fixture("event-message-im");
    expect(requesterOf(dm)).toEqual({ kind: "event message", team: FAKE_TEAM.id, enterprise: undefined, user: "U0ADMIN" });
    delete (dm.event as Record<string, unknown>).team;
    expect(requesterOf(dm).team).toBe(FAKE_TEAM.id);
    // In a channel shared with another organization, a user without a team is nobody the bot knows.
    dm.is_ext_shared_channel = true;
    expect(isServed(requesterOf(dm), installation, none)).toBe(false);
  });

  it("counts the organization of an event only outside channels shared with other organizations", () => {
    const mention = fixture("event-app-mention");
    mention.authorizations = [{ enterprise_id: "E0HMSORG", team_id: FAKE_TEAM.id, user_id: "U0HMSBOT", is_bot: true }];
    Object.assign(mention.event as object, { team: "T0SISTER", user_team: "T0SISTER" });
    expect(isServed(requesterOf(mention), installation, none)).toBe(true);
    mention.is_ext_shared_channel = true;
    expect(isServed(requesterOf(mention), installation, none)).toBe(false);
  });

  it("ignores the payload's organization when it is another side's than the user's", () => {
    const click = fixture("block-actions");
    click.team = { id: FAKE_TEAM.id, enterprise_id: "E0HMSORG" };
    click.enterprise = { id: "E0HMSORG" };
    click.user = { id: OUTSIDER.id, team_id: OTHER_TEAM };
    expect(requesterOf(click)).toEqual({ kind: "block_actions", team: OTHER_TEAM, enterprise: undefined, user: OUTSIDER.id });
    expect(isServed(requesterOf(click), installation, none)).toBe(false);
    expect(isServed(requesterOf(click), installation, new Set([OTHER_TEAM]))).toBe(true);
  });
});
