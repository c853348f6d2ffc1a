/**
 * The directory from Slack, end to end on the real Bolt app against the fake Slack: `/hms user`
 * and its card's buttons (Edit and Move open modals, Make Administrator asks an approver, Remove
 * asks first with Slack's confirm, Invite mails through the fake SMTP), `/hms export` uploaded
 * with files.uploadV2 and imported back (the round trip), `/hms audit`, `/hms invites`,
 * `/hms imports`, and the fixes in place on an import summary (Create group X, Fix a row).
 * Messages and modals are checked by what they say; the database and mail at the source.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { RESEND_ACTION, USER_ACTIONS } from "../../src/render/directory-views.ts";
import { IMPORT_ACTIONS } from "../../src/render/import-views.ts";
import { csvFile, validRows } from "../helpers/csv.ts";
import { databaseKinds } from "../helpers/db.ts";
import { FakeSlack, type RecordedCall } from "../helpers/fake-slack.ts";
import { OTHER_ADMIN, PLAIN_USER } from "../helpers/fixtures.ts";
import { SLACK_USERS, type SlackHarness, type StateValues, startSlackHarness, stateValues as stateValuesOf } from "../helpers/slack-app.ts";
import { buttonsOf, fieldsOf, initialOf, inputsOf, type SlackButton, textOf, tsOf, uploadedText } from "../helpers/slack-blocks.ts";
import { type FakeSmtp, startFakeSmtp } from "../helpers/smtp.ts";

const admin = SLACK_USERS.admin;
const WHEN = /\d{4}-\d\d-\d\d \d\d:\d\d UTC/;

describe.each(databaseKinds)("the directory from Slack (%s)", (kind) => {
  let h: SlackHarness;
  let smtp: FakeSmtp;
  let people = 0;
  let files = 0;

  beforeAll(async () => {
    smtp = await startFakeSmtp();
    // APPROVAL_POLICY=admins: only what grants the Administrator role waits for another Administrator.
    h = await startSlackHarness(kind, { imports: { approvalPolicy: { kind: "admins" } }, smtpUrl: smtp.url });
  }, 180_000);
  afterAll(async () => {
    await h?.close();
    await smtp?.close();
  });
  beforeEach(() => {
    smtp.failing = false;
  });

  const userRow = (email: string) => h.t.db.prisma.user.findUnique({ where: { email }, include: { group: true } });

  /** `/hms <text>` as `user`; the ephemeral answer that came back through the response_url. */
  async function ask(text: string, user: string = admin.id) {
    const sent = await h.command(text, { user });
    expect(sent).toMatchObject({ status: 200, text: "" });
    const [answer] = await h.waitForResponse(sent.responseUrl);
    expect(answer!.args.response_type).toBe("ephemeral");
    return answer!;
  }

  /** Clicks a button and waits for `count` posts to the click's response_url (the card replaced, a notice). */
  async function click(button: Pick<SlackButton, "id" | "value">, count: number, options: Parameters<SlackHarness["click"]>[2] = {}) {
    const sent = await h.click(button.id, button.value ?? "", options);
    expect(sent.status).toBe(200);
    return count === 0 ? [] : (await h.waitForResponse(sent.responseUrl, count)).slice(0, count);
  }

  /** Clicks a button that opens a modal; the view it opened. */
  async function modalOf(button: Pick<SlackButton, "id" | "value">, options: Parameters<SlackHarness["click"]>[2] = {}) {
    const before = h.fake.callsTo("views.open").length;
    const sent = await h.click(button.id, button.value ?? "", options);
    expect(sent.status).toBe(200);
    const open = (await h.fake.waitFor("views.open", before + 1))[before]!;
    expect(new URLSearchParams(open.raw.toString()).get("trigger_id")).toMatch(/^1234567890123\.1111111111\./);
    return { view: open.args.view as Record<string, unknown>, responseUrl: sent.responseUrl };
  }

  const button = (call: RecordedCall, id: string) => {
    const found = buttonsOf(call).find((b) => b.id === id);
    if (!found) throw new Error(`no button ${id} in ${JSON.stringify(buttonsOf(call))}`);
    return found;
  };

  /** A fresh user (of Finance unless told) and their card. */
  async function newUser(input: { group?: string; role?: "Administrator" | "User"; exchange?: [string, string] } = {}) {
    const email = `dir${++people}@corp.example.org`;
    await h.core.addUser({
      actor: { email: admin.email, platform: "slack" },
      input: {
        email,
        name: `Dir User ${people}`,
        group: input.group ?? "Finance",
        role: "User",
        exchangeDomain: input.exchange?.[0],
        exchangeUsername: input.exchange?.[1],
      },
    });
    // Granting the role would wait for an approver here; the bootstrap promotes at once.
    if (input.role === "Administrator") await h.core.ensureBootstrapAdmins({ emails: [email] });
    return { email, name: `Dir User ${people}`, card: await ask(`user ${email}`) };
  }

  /** The first chat.postMessage after the `before`-th that `match` accepts. */
  async function postedAfter(before: number, match: (c: RecordedCall) => boolean, what: string, timeoutMs = 10_000) {
    const posts = () => h.fake.callsTo("chat.postMessage").slice(before);
    await h.fake.waitForCalls((c) => c.method === "chat.postMessage" && posts().includes(c) && match(c), 1, timeoutMs, what);
    return posts().find(match)!;
  }

  /** The audit trail of `about` as `/hms audit` shows it. */
  const auditOf = async (about: string) => textOf(await ask(`audit ${about}`));

  describe("/hms user and the card's buttons", () => {
    it("the card: name, group, role, Exchange account, created when and by whom, invitation state; its buttons, Remove with Slack's confirm", async () => {
      const card = await ask(`user ${PLAIN_USER.email.toUpperCase()}`);
      expect(card.args.text).toBe("Plain User (plain.user@corp.example.org): Finance, User.");
      expect(textOf(card)).toContain("*Plain User* plain.user@corp.example.org");
      const fields = fieldsOf(card);
      expect(fields).toMatchObject({ Group: "Finance", Role: "User", "Exchange account": "None", Enrollment: "Not invited yet" });
      expect(fields.Created).toMatch(new RegExp(`^${WHEN.source} by admin@corp\\.example\\.org$`));
      expect(buttonsOf(card)).toEqual([
        { id: USER_ACTIONS.edit, label: "Edit", value: PLAIN_USER.email },
        { id: USER_ACTIONS.move, label: "Move to group", value: PLAIN_USER.email },
        { id: USER_ACTIONS.role, label: "Make Administrator", value: PLAIN_USER.email },
        { id: USER_ACTIONS.invite, label: "Invite to enroll", value: PLAIN_USER.email, style: "primary" },
        {
          id: USER_ACTIONS.remove,
          label: "Remove",
          value: PLAIN_USER.email,
          style: "danger",
          confirm: {
            title: { type: "plain_text", text: "Remove user?" },
            text: {
              type: "plain_text",
              text: "Remove Plain User (plain.user@corp.example.org) from HMS? Their devices lose the Finance policies.",
            },
            confirm: { type: "plain_text", text: "Remove" },
            deny: { type: "plain_text", text: "Keep" },
            style: "danger",
          },
        },
      ]);
      // An Exchange account shows as DOMAIN\user; an Administrator's card offers Make User.
      const { card: other } = await newUser({ role: "Administrator", exchange: ["CORP", "diruser"] });
      expect(fieldsOf(other)).toMatchObject({ Role: "Administrator", "Exchange account": "CORP\\diruser" });
      expect(buttonsOf(other).map((b) => b.label)).toContain("Make User");

      expect(textOf(await ask("user nobody@corp.example.org"))).toBe("There is no user with Email ID nobody@corp.example.org.");
      expect(textOf(await ask(`user ${admin.email}`, SLACK_USERS.plain.id))).toBe("You need the Administrator role in HMS to do this.");
    });

    it("Edit: the Add user modal, filled; saved, the change is told where the card is, and audited with the old and new values", async () => {
      const { email, name, card } = await newUser({ exchange: ["CORP", "before"] });
      const { view, responseUrl } = await modalOf(button(card, USER_ACTIONS.edit));
      expect(view).toMatchObject({
        type: "modal",
        callback_id: "hms_edit_user",
        title: { text: "Edit user" },
        submit: { text: "Save" },
        close: { text: "Cancel" },
      });
      const inputs = inputsOf(view);
      expect(Object.keys(inputs)).toEqual(["email", "name", "group", "role", "exchangeDomain", "exchangeUsername"]);
      expect(Object.fromEntries(Object.entries(inputs).map(([id, input]) => [id, initialOf(input)]))).toEqual({
        email,
        name,
        group: "Finance",
        role: "User",
        exchangeDomain: "CORP",
        exchangeUsername: "before",
      });
      // Whom it changes and where to answer travel with the modal.
      expect(JSON.parse(String(view.private_metadata))).toEqual({ email, channel: "C0ITADMINS", responseUrl });

      const saved = await h.submit(view, { email, name: "Renamed Person", group: "Engineering", role: "User" });
      expect(saved).toMatchObject({ status: 200, text: "" });
      const [told] = await h.waitForResponse(responseUrl);
      expect(told!.args.text).toBe(
        `Saved ${email}: Name: ${name} → Renamed Person; Group: Finance → Engineering; Exchange account: CORP\\before → none.`,
      );
      expect(await userRow(email)).toMatchObject({
        name: "Renamed Person",
        group: { name: "Engineering" },
        exchangeDomain: null,
        exchangeUsername: null,
      });
      const audit = await auditOf(email);
      expect(audit).toContain(`Audit trail of ${email}`);
      expect(audit).toMatch(
        new RegExp(
          `${WHEN.source} · \\*admin@corp\\.example\\.org\\* via Slack changed the user · ${email.replace(/\./g, "\\.")} \\(name: ${name} → Renamed Person; group: Finance → Engineering; exchange: CORP\\\\before → none\\)`,
        ),
      );
      expect(audit).toMatch(/via Slack added the user/);
    });

    it.each<[string, StateValues, Record<string, string>]>([
      ["a group that does not exist", { group: "Nowhere" }, { group: "There is no group named “Nowhere”." }],
      ["no name", { name: " " }, { name: "Name is required." }],
      [
        "another Email ID",
        { email: "someone.else@corp.example.org" },
        { email: "The Email ID is the logon ID and cannot be changed; add someone.else@corp.example.org as a new user instead." },
      ],
      [
        "the Administrator role",
        { role: "Administrator" },
        { role: "Use Make Administrator on the user's card: granting the Administrator role follows the approval policy." },
      ],
      [
        "an Exchange domain without a username",
        { exchangeDomain: "CORP" },
        { exchangeUsername: "Exchange username is missing: give both Exchange domain and username for ActiveSync, or neither." },
      ],
    ])("Edit with %s: the modal stays open with the problem next to the field; nothing saved", async (_, change, errors) => {
      const { email, name, card } = await newUser();
      const { view, responseUrl } = await modalOf(button(card, USER_ACTIONS.edit));
      const answer = await h.submit(view, { email, name, group: "Finance", role: "User", ...change });
      expect(answer.json).toEqual({ response_action: "errors", errors });
      expect(await userRow(email)).toMatchObject({ name, group: { name: "Finance" }, role: "USER" });
      await new Promise((r) => setTimeout(r, 50));
      expect(h.responses(responseUrl)).toEqual([]);
    });

    it("Move to group: a modal with the Group select only; saved, the user is in the new group, audited", async () => {
      const { email, name, card } = await newUser();
      const { view, responseUrl } = await modalOf(button(card, USER_ACTIONS.move));
      expect(view).toMatchObject({ callback_id: "hms_move_user", title: { text: "Move to group" }, submit: { text: "Move" } });
      expect(Object.keys(inputsOf(view))).toEqual(["group"]);
      expect(inputsOf(view).group?.element).toMatchObject({ type: "external_select", action_id: "group" });
      expect(textOf(view)).toContain(`Move *${name}* (${email}) from *Finance* to:`);
      // The Group select is fed like the Add user modal's.
      expect(JSON.stringify((await h.suggest("ware")).json)).toContain('"value":"Warehouse"');

      const group = (value: string) => ({
        group: { group: { type: "external_select", selected_option: { text: { type: "plain_text", text: value }, value } } },
      });
      expect((await h.submitState(view, group("Nowhere"))).json).toEqual({
        response_action: "errors",
        errors: { group: "There is no group named “Nowhere”." },
      });
      expect((await h.submitState(view, group("Warehouse"))).text).toBe("");
      const [told] = await h.waitForResponse(responseUrl);
      expect(told!.args.text).toBe(`Saved ${email}: Group: Finance → Warehouse.`);
      expect((await userRow(email))?.group.name).toBe("Warehouse");
      expect(await auditOf(email)).toContain(`changed the user · ${email} (group: Finance → Warehouse)`);
    });

    it("Make Administrator asks another Administrator (APPROVAL_POLICY=admins): the requester may not approve; approved, the role is granted", async () => {
      const { email, card } = await newUser();
      const before = h.fake.callsTo("chat.postMessage").length;
      const [replaced, notice] = await click(button(card, USER_ACTIONS.role), 2);
      // The card stays as it is (still a User), the notice says what happens next.
      expect(replaced!.args).toMatchObject({ replace_original: true });
      expect(fieldsOf(replaced!)).toMatchObject({ Role: "User" });
      expect(String(notice!.args.text)).toMatch(
        new RegExp(
          `^“Make ${email.replace(/\./g, "\\.")} an Administrator” needs another Administrator's approval: request IMP-\\w+ is posted for (.+, )?second\\.admin@corp\\.example\\.org[ ,]`,
        ),
      );
      const request = await postedAfter(before, (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.approve), "the approval request");
      expect(request.args.channel).toBe("C0ITADMINS");
      expect(textOf(request)).toContain(email);
      const approve = button(request, IMPORT_ACTIONS.approve);

      const [refused] = await click(approve, 1);
      expect(String(refused!.args.text)).toMatch(
        /^You requested IMP-\w+ \(“Make .+ an Administrator”\); another Administrator must approve or reject it\.$/,
      );
      expect((await userRow(email))?.role).toBe("USER");

      await click(approve, 0, { user: SLACK_USERS.otherAdmin.id, messageTs: await tsOf(request) });
      await vi.waitFor(async () => expect((await userRow(email))?.role).toBe("ADMINISTRATOR"), { timeout: 10_000 });
      expect(fieldsOf(await ask(`user ${email}`))).toMatchObject({ Role: "Administrator" });
      // The requester hears of it in their DM with the bot.
      await postedAfter(
        before,
        (c) => c.args.channel === "D0ADMIN" && String(c.args.text).includes("was approved by second.admin@corp.example.org"),
        "the requester told",
      );
      const audit = await auditOf(email);
      expect(audit).toContain(`changed the user · ${email} (role: User → Administrator`);
    });

    it("Make User is immediate and audited", async () => {
      const { email, card } = await newUser({ role: "Administrator" });
      const [replaced, notice] = await click(button(card, USER_ACTIONS.role), 2);
      expect(notice!.args.text).toBe(`Saved ${email}: Role: Administrator → User.`);
      expect(replaced!.args).toMatchObject({ replace_original: true });
      expect(fieldsOf(replaced!)).toMatchObject({ Role: "User" });
      expect(buttonsOf(replaced!).find((b) => b.id === USER_ACTIONS.role)?.label).toBe("Make Administrator");
      expect((await userRow(email))?.role).toBe("USER");
      expect(await auditOf(email)).toContain(`changed the user · ${email} (role: Administrator → User)`);
    });

    it("Remove: the user is gone and the card says so, audited; an Administrator cannot remove themselves", async () => {
      const { email, name, card } = await newUser();
      const [replaced] = await click(button(card, USER_ACTIONS.remove), 1);
      expect(replaced!.args).toMatchObject({ replace_original: true, text: `Removed ${name} (${email}) from Finance.` });
      expect(buttonsOf(replaced!)).toEqual([]);
      expect(await userRow(email)).toBeNull();
      expect(await auditOf(email)).toContain(`removed the user · ${email} (group Finance; role User)`);

      const own = await ask(`user ${admin.email}`);
      const [refused] = await click(button(own, USER_ACTIONS.remove), 1);
      expect(refused!.args.text).toBe("You cannot remove yourself; another Administrator can.");
      expect(await userRow(admin.email)).not.toBeNull();
    });

    it("Invite to enroll mails the user (fake SMTP); the card then offers Resend invitation; a failed send is told and shown", async () => {
      const { email, card } = await newUser();
      const [replaced, notice] = await click(button(card, USER_ACTIONS.invite), 2);
      expect(notice!.args.text).toBe(`Invitation sent to ${email}.`);
      expect(fieldsOf(replaced!).Enrollment).toMatch(new RegExp(`^Invited \\(email sent ${WHEN.source}\\)$`));
      const resend = button(replaced!, USER_ACTIONS.invite);
      expect(resend).toMatchObject({ label: "Resend invitation", value: email });
      expect(smtp.received.filter((m) => m.to.includes(email))).toHaveLength(1);

      // Resend while the mail server refuses: told it is retried, the card shows the failure.
      smtp.failing = true;
      const [failedCard, failedNotice] = await click(resend, 2);
      expect(failedNotice!.args.text).toBe(`The invitation to ${email} could not be sent yet; it is retried automatically.`);
      expect(fieldsOf(failedCard!).Enrollment).toMatch(/^Not delivered after 1 attempt: .*451/);
      smtp.failing = false;
      const [, sentAgain] = await click(resend, 2);
      expect(sentAgain!.args.text).toBe(`Invitation sent to ${email}.`);
      expect(smtp.received.filter((m) => m.to.includes(email))).toHaveLength(2);
      const audit = await auditOf(email);
      expect(audit).toContain(`invited the user to enroll · ${email}`);
      expect(audit).toContain(`sent the invitation again · ${email}`);
    });
  });

  // ------------------------------------------------------------------ export and the round trip

  /**
   * Shares `content` in the admin's DM (the summary in the conversation), or in a channel mentioning
   * the bot (the summary in the message's thread); the summary once the batch knows its ts, and
   * where a click on it comes from.
   */
  async function summaryOf(name: string, content: Uint8Array | string | Buffer, { mention = false } = {}) {
    const file = h.fake.addFile({ id: `F0DIR${String(++files).padStart(4, "0")}`, name, content: Buffer.from(content as Uint8Array) });
    const ts = `1701${String(files).padStart(6, "0")}.000100`;
    const before = h.fake.calls.length;
    expect((await h.shareFiles([file], { ts, mention })).status).toBe(200);
    const channel = mention ? "C0ITADMINS" : "D0ADMIN";
    const [post] = await h.fake.waitForCalls(
      (c) =>
        c.method === "chat.postMessage" &&
        h.fake.calls.indexOf(c) >= before &&
        c.args.channel === channel &&
        c.args.thread_ts === (mention ? ts : undefined) &&
        String(c.args.text).startsWith(`Import IMP-`) &&
        String(c.args.blocks ? JSON.stringify(c.args.blocks) : "").includes(name),
      1,
      15_000,
      `the summary of ${name}`,
    );
    const code = /IMP-[0-9A-Z]{4}/.exec(String(post!.args.text))![0];
    const summaryTs = await tsOf(post!);
    await vi.waitFor(async () => {
      const { batch } = await h.core.getImport({ batchId: code });
      expect((batch.conversation as { slack?: { summary?: unknown } }).slack?.summary).toBeDefined();
    });
    const { batch } = await h.core.getImport({ batchId: code });
    const thread = mention ? ts : undefined;
    /** A click on the summary: from its channel (and thread), on its message. */
    const on = { channel, messageTs: summaryTs, ...(thread ? { threadTs: thread } : {}) };
    return { ts, thread, channel, on, post: post!, summaryTs, code, batch };
  }

  /** The permalink Slack gives the message `ts` of `channel` (a reply in `thread`: with its thread), as mrkdwn shows it. */
  const permalink = (channel: string, ts: string, thread?: string) =>
    `https://hms-test.slack.com/archives/${channel}/p${ts.replace(".", "")}${thread ? `?thread_ts=${thread}&amp;cid=${channel}` : ""}`;

  /** The latest chat.update of the message `ts` that `match` accepts. */
  const waitForUpdate = (ts: string, match: (c: RecordedCall) => boolean, what: string) =>
    h.fake.waitForCalls((c) => c.method === "chat.update" && c.args.ts === ts && match(c), 1, 15_000, what).then((calls) => calls.at(-1)!);

  /** `/hms export [group]`: the completeUploadExternal call and the file's text. */
  async function exported(group?: string, channel?: string) {
    const before = h.fake.callsTo("files.completeUploadExternal").length;
    const sent = await h.command(group ? `export ${group}` : "export", { channel });
    expect(sent.status).toBe(200);
    const complete = (await h.fake.waitFor("files.completeUploadExternal", before + 1, 10_000))[before]!;
    const [file] = complete.args.files as { id: string; title: string }[];
    const getUrl = h.fake.callsTo("files.getUploadURLExternal").find((c) => (c.reply as { file_id?: string }).file_id === file!.id)!;
    return {
      complete,
      file: file!,
      fileName: String(getUrl.args.filename),
      text: uploadedText(h.fake.uploads.get(file!.id)!),
      responseUrl: sent.responseUrl,
    };
  }

  describe("/hms export and the round trip", () => {
    const rt = (i: number | string) => `rt${i}@corp.example.org`;

    beforeAll(async () => {
      const actor = { email: admin.email, platform: "slack" as const };
      await h.core.addGroup({ actor, input: { name: "Round Trip" } });
      const users: [string, string, string?, string?][] = [
        [rt(0), "Rt Zero"],
        [rt(1), "Rt One"],
        [rt(2), "Rt Two", "CORP", "rttwo"],
        // A name a spreadsheet would read as a formula.
        [rt(3), "=Formula Person", "CORP", "rtthree"],
      ];
      for (const [email, name, exchangeDomain, exchangeUsername] of users)
        await h.core.addUser({ actor, input: { email, name, group: "Round Trip", role: "User", exchangeDomain, exchangeUsername } });
    });

    it("/hms export <group> in a channel: the CSV goes to the admin's DM, not the channel (UTF-8 BOM, CRLF, the template's columns, formula-safe)", async () => {
      const { complete, file, fileName, text, responseUrl } = await exported("round trip");
      expect(fileName).toBe("hms-users-round-trip-2026-11-24.csv");
      expect(complete.args.channel_id).toBe("D0ADMIN");
      expect(h.fake.callsTo("conversations.open").at(-1)!.args.users).toBe(SLACK_USERS.admin.id);
      expect(file.title).toBe(`4 users of the Round Trip group: ${fileName}`);
      expect(String(complete.args.initial_comment)).toBe(
        `*Export of the Round Trip group*: 4 users in \`${fileName}\`.\nEdit it in a spreadsheet and send it back (\`/hms import\`) to update the users: the summary shows every change before anything is saved.`,
      );
      expect(text.startsWith("\uFEFF")).toBe(true);
      expect(text.endsWith("\r\n")).toBe(true);
      expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
      expect(text.slice(1).split("\r\n")).toEqual([
        "Email ID,Name,Group,Role,Exchange Domain,Exchange Username",
        `${rt(0)},Rt Zero,Round Trip,User,,`,
        `${rt(1)},Rt One,Round Trip,User,,`,
        `${rt(2)},Rt Two,Round Trip,User,CORP,rttwo`,
        `${rt(3)},'=Formula Person,Round Trip,User,CORP,rtthree`,
        "",
      ]);
      // Where the command ran, only the admin is told where the file went.
      const [told] = await h.waitForResponse(responseUrl);
      expect(told!.args).toMatchObject({
        response_type: "ephemeral",
        text: `The export (4 users of the Round Trip group: ${fileName}) is in your direct conversation with the bot: it holds people's details, so it is not posted here.`,
      });
      expect(await auditOf("")).toMatch(/via Slack exported · group:Round Trip \(group Round Trip; users 4\)/);
    });

    it("/hms export: the whole directory; an unknown group is told; a plain User is refused", async () => {
      // Run in the DM with the bot: the file is the answer, nothing else is said.
      const { text, complete, responseUrl } = await exported(undefined, "D0ADMIN");
      expect(complete.args.channel_id).toBe("D0ADMIN");
      await new Promise((r) => setTimeout(r, 50));
      expect(h.responses(responseUrl)).toEqual([]);
      expect(text.slice(1).trim().split("\r\n").length - 1).toBe(await h.t.db.prisma.user.count());
      expect(text).toContain(`${PLAIN_USER.email},Plain User,Finance,User,,`);
      expect(textOf(await ask("export Nowhere"))).toBe("There is no group named “Nowhere”.");
      expect(textOf(await ask("export", SLACK_USERS.plain.id))).toBe("You need the Administrator role in HMS to do this.");
    });

    it("the exported file sent back unchanged: nothing to change; edited, the changes field by field; Create 1 and update 3 applies them after approval, audited", async () => {
      const { text, fileName } = await exported("Round Trip");
      const same = await summaryOf(fileName, text, { mention: true });
      expect(fieldsOf(same.post)).toEqual({ "Data rows": "4", Ready: "0", Unchanged: "4", "Need attention": "0", Blank: "0" });
      expect(textOf(same.post)).toContain("Nothing to change: every user in the file is already as it says.");
      expect(buttonsOf(same.post).map((b) => b.label)).toEqual(["Close"]);

      // Moved to Finance, made an Administrator, Exchange cleared with "-", Exchange left blank (no change), one new user.
      const edited = text
        .replace(`${rt(0)},Rt Zero,Round Trip,`, `${rt(0)},Rt Zero,Finance,`)
        .replace(`${rt(1)},Rt One,Round Trip,User,`, `${rt(1)},Rt One,Round Trip,Administrator,`)
        .replace(",CORP,rttwo", ",-,-")
        .replace(",CORP,rtthree", ",,")
        .concat(`${rt("new")},Rt New,Round Trip,User,,\r\n`);
      const changed = await summaryOf("edited.csv", edited, { mention: true });
      expect(fieldsOf(changed.post)).toEqual({
        "Data rows": "5",
        Ready: "1",
        "To update": "3",
        Unchanged: "1",
        "Need attention": "0",
        Blank: "0",
      });
      const summaryText = textOf(changed.post);
      expect(summaryText).toContain("*Changes to existing users* (3)");
      expect(summaryText).toContain(`• *Row 2* (${rt(0)}): Group: Round Trip → Finance`);
      expect(summaryText).toContain(`• *Row 3* (${rt(1)}): Role: User → Administrator (grants the Administrator role)`);
      expect(summaryText).toContain(`• *Row 4* (${rt(2)}): Exchange account: CORP\\rttwo → none`);
      expect(summaryText).toContain("1 row grants the Administrator role.");
      expect(summaryText).toContain("1 row matches the directory already: nothing to change for them.");
      expect(buttonsOf(changed.post).map((b) => [b.id, b.label])).toEqual([
        [IMPORT_ACTIONS.create, "Create 1 account"],
        [IMPORT_ACTIONS.createAndUpdate, "Create 1 and update 3"],
        [IMPORT_ACTIONS.cancel, "Cancel"],
      ]);

      // The grant asks another Administrator; the request names it and links to the summary.
      const before = h.fake.callsTo("chat.postMessage").length;
      await click(button(changed.post, IMPORT_ACTIONS.createAndUpdate), 0, changed.on);
      const request = await postedAfter(
        before,
        (c) => String(c.args.text).startsWith(`Approval needed: import ${changed.code}`),
        "the request",
      );
      expect(request.args.text).toBe(
        `Approval needed: import ${changed.code} (1 account and 3 updates) requested by admin@corp.example.org.`,
      );
      const requestText = textOf(request);
      expect(requestText).toContain("1 account to create and 3 users to update, 1 of them Administrators");
      expect(requestText).toContain(`*Granted the Administrator role* (1)\n• ${rt(1)}`);
      // In the thread: the summary's permalink opens that thread.
      expect(request.args).toMatchObject({ channel: "C0ITADMINS", thread_ts: changed.ts });
      expect(requestText).toContain(`<${permalink("C0ITADMINS", changed.summaryTs, changed.ts)}|the summary>`);
      expect(await userRow(rt(0))).toMatchObject({ group: { name: "Round Trip" } });

      await click(button(request, IMPORT_ACTIONS.approve), 0, {
        user: SLACK_USERS.otherAdmin.id,
        channel: "C0ITADMINS",
        messageTs: await tsOf(request),
        threadTs: changed.ts,
      });
      const done = await waitForUpdate(changed.summaryTs, (c) => fieldsOf(c).Updated === "3", "the summary with the updates applied");
      expect(fieldsOf(done)).toMatchObject({ Created: "1", Updated: "3", Skipped: "0", Failed: "0" });
      expect(await userRow(rt(0))).toMatchObject({ group: { name: "Finance" } });
      expect(await userRow(rt(1))).toMatchObject({ role: "ADMINISTRATOR" });
      expect(await userRow(rt(2))).toMatchObject({ exchangeDomain: null, exchangeUsername: null });
      expect(await userRow(rt(3))).toMatchObject({ name: "=Formula Person", exchangeDomain: "CORP", exchangeUsername: "rtthree" });
      expect(await userRow(rt("new"))).toMatchObject({ name: "Rt New", group: { name: "Round Trip" }, source: "IMPORT" });

      // Audited with the old and new values, and the import's own trail.
      expect(await auditOf(rt(0))).toContain(`changed the user · ${rt(0)} (group: Round Trip → Finance)`);
      expect(await auditOf(rt(2))).toContain(`changed the user · ${rt(2)} (exchange: CORP\\rttwo → none)`);
      const trail = await auditOf(changed.code);
      expect(trail).toContain(`*Audit trail of import ${changed.code}*`);
      for (const what of ["uploaded the file", "asked for approval", "approved", "created the accounts"]) expect(trail).toContain(what);
      expect(trail).toContain("*second.admin@corp.example.org* via Slack approved");

      // The new user's card says which import made them.
      expect(fieldsOf(await ask(`user ${rt("new")}`)).Created).toMatch(new RegExp(`^${WHEN.source} by import ${changed.code}$`));
    });
  });

  // ------------------------------------------------------------------ audit, invitations, imports

  /** A summary of `rows` fresh rows, Create clicked (no approval needed): the accounts are created. */
  async function createdImport(name: string, rows: string[][]) {
    const summary = await summaryOf(name, csvFile(rows));
    await click(button(summary.post, IMPORT_ACTIONS.create), 0, summary.on);
    const created = await waitForUpdate(
      summary.summaryTs,
      (c) => buttonsOf(c).some((b) => b.id === IMPORT_ACTIONS.invite),
      "the summary with Invite",
    );
    return { ...summary, created };
  }

  describe("/hms audit, /hms invites and /hms imports", () => {
    it("/hms audit: the latest 20 events overall, of a user, of an import; a plain User is refused; anything else is explained", async () => {
      // More than 20 events, the newest a group added just now.
      for (let i = 1; i <= 21; i++)
        await h.core.addGroup({ actor: { email: admin.email, platform: "slack" }, input: { name: `Audit ${i}` } });
      const all = await ask("audit");
      expect(textOf(all)).toMatch(/^\*Audit trail\* — the latest 20 events, newest first\n/);
      const lines = textOf(all)
        .split("\n")
        .filter((l) => l.startsWith("• "));
      expect(lines).toHaveLength(20);
      expect(lines[0]).toContain("via Slack created the group · group:Audit 21 (policy Default)");
      for (const line of lines) expect(line).toMatch(new RegExp(`^• ${WHEN.source} · \\*[^*]+\\*( via (Slack|Teams|the bot))? `));

      expect(textOf(await ask(`audit ${PLAIN_USER.email}`))).toMatch(
        new RegExp(
          `• ${WHEN.source} · \\*admin@corp\\.example\\.org\\* via Slack added the user · plain\\.user@corp\\.example\\.org \\(group Finance; role User\\)`,
        ),
      );
      expect(textOf(await ask("audit nobody@corp.example.org"))).toBe("Audit trail of nobody@corp.example.org: no events.");
      expect(textOf(await ask("audit not-an-email"))).toBe(
        "“not-an-email” is neither an email address nor an import code (like IMP-7K3Q).",
      );
      for (const about of ["", ` ${PLAIN_USER.email}`, " IMP-ABCD"])
        expect(textOf(await ask(`audit${about}`, SLACK_USERS.plain.id))).toBe("You need the Administrator role in HMS to do this.");
    });

    it("/hms invites [IMP-x]: sent, pending and failed counts, the failed ones with their last error, and Resend for them", async () => {
      const { batch, code, summaryTs, on } = await createdImport("invites.csv", validRows(2, { prefix: "inv" }));
      smtp.failing = true;
      await click({ id: IMPORT_ACTIONS.invite, value: batch.id }, 0, on);
      await waitForUpdate(summaryTs, (c) => textOf(c).includes("2 failed"), "the summary with the failed invitations");
      smtp.failing = false;

      const status = await ask(`invites ${code}`);
      const text = textOf(status);
      expect(text).toContain(`*Invitations of import ${code}*`);
      expect(text).toContain(`• *${code}* · invites.csv: 0 sent, 0 pending, 2 failed`);
      expect(text).toContain("*Not delivered* (2)");
      expect(text).toMatch(new RegExp(`• \\*inv0@corp\\.example\\.org\\* \\(${code}\\): .*451.* · 1 attempt, retried automatically`));
      expect(buttonsOf(status)).toEqual([{ id: RESEND_ACTION, label: `Resend 2 failed invitations of ${code}`, value: batch.id }]);
      // Without a code: the recent imports, this one among them.
      expect(textOf(await ask("invites"))).toContain(`• *${code}* · invites.csv: 0 sent, 0 pending, 2 failed`);
      expect(textOf(await ask(`invites ${code}`, SLACK_USERS.plain.id))).toBe("You need the Administrator role in HMS to do this.");

      const [replaced, notice] = await click(buttonsOf(status)[0]!, 2);
      expect(replaced!.args).toMatchObject({ replace_original: true });
      expect(textOf(replaced!)).toContain(`• *${code}* · invites.csv: 2 sent, 0 pending, 0 failed`);
      expect(buttonsOf(replaced!)).toEqual([]);
      expect(notice!.args.text).toBe("2 invitations sent again: 2 sent, 0 pending, 0 failed.");
      expect(smtp.received.filter((m) => m.to[0]?.startsWith("inv"))).toHaveLength(2);
      // The import's summary shows the counts as they are now.
      await waitForUpdate(summaryTs, (c) => textOf(c).includes("*2 sent*, 0 pending, 0 failed."), "the summary with the invitations sent");
      expect(await auditOf(code)).toContain("sent failed invitations again");
    });

    it("/hms imports: code, file, requester, state, counts, when, and a permalink to the summary in its thread", async () => {
      const open = await summaryOf("listed.csv", csvFile(validRows(3, { prefix: "listed" })), { mention: true });
      const done = await createdImport("listed-created.csv", validRows(1, { prefix: "listedc" }));
      const text = textOf(await ask("imports"));
      expect(text).toMatch(/^\*Imports\* — \d+ open imports?, \d+ closed in the last 7 days\n/);
      const line = (code: string) => text.split("\n").find((l) => l.includes(`*${code}*`)) ?? "";
      const link = (s: { channel: string; summaryTs: string; thread?: string }) =>
        `<${permalink(s.channel, s.summaryTs, s.thread)}|summary>`;
      expect(line(open.code)).toMatch(
        new RegExp(
          `^• \\*${open.code}\\* · listed\\.csv · admin@corp\\.example\\.org · [^·]+ · 3 ready, 0 need attention · ${WHEN.source} · `,
        ),
      );
      expect(line(open.code).endsWith(link(open))).toBe(true);
      expect(line(done.code)).toContain(" · 1 created · ");
      expect(line(done.code).endsWith(link(done))).toBe(true);
      // A reply in a thread (the channel's summary) links with its thread; the DM's summary without.
      expect(link(open)).toContain(`?thread_ts=${open.ts}&amp;cid=C0ITADMINS|`);
      expect(link(done)).not.toContain("thread_ts");
      expect(h.fake.callsTo("chat.getPermalink").some((c) => c.args.message_ts === open.summaryTs && c.args.channel === "C0ITADMINS")).toBe(
        true,
      );
      // Asked of Slack once per message: listed again, no new chat.getPermalink.
      const asked = h.fake.callsTo("chat.getPermalink").length;
      await ask("imports");
      expect(h.fake.callsTo("chat.getPermalink").length).toBe(asked);
      // A summary whose permalink Slack does not give: listed without a link, the failure logged.
      const unlinked = await summaryOf("unlinked.csv", csvFile(validRows(1, { prefix: "unlinked" })));
      h.fake.once("chat.getPermalink", FakeSlack.error("message_not_found"), (c) => c.args.message_ts === unlinked.summaryTs);
      const listed = textOf(await ask("imports"));
      expect(listed.split("\n").find((l) => l.includes(`*${unlinked.code}*`))).toMatch(/ · \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
      expect(h.logs.find({ method: "chat.getPermalink", slackError: "message_not_found" })).toBeDefined();
      expect(textOf(await ask("imports", SLACK_USERS.plain.id))).toBe("You need the Administrator role in HMS to do this.");
    });
  });

  // ------------------------------------------------------------------ fixes in place on a summary

  describe("fixes in place on an import summary", () => {
    it("Create group X: the group is made, its rows are ready, and the summary's counts are updated in place (chat.update)", async () => {
      const rows = [...validRows(1, { prefix: "legal" }), ["legal.new@corp.example.org", "Lee Gal", "Legal Dept", "User", "", ""]];
      const { post, batch, code, summaryTs, on } = await summaryOf("legal.csv", csvFile(rows));
      expect(fieldsOf(post)).toMatchObject({ Ready: "1", "Need attention": "1" });
      expect(textOf(post)).toContain("*Unknown group “Legal Dept”* — 1 row (3)");
      const create = button(post, IMPORT_ACTIONS.createGroup);
      expect(create).toEqual({
        id: IMPORT_ACTIONS.createGroup,
        label: "Create group Legal Dept",
        value: JSON.stringify({ b: batch.id, g: "Legal Dept" }),
      });

      // Not for a plain User.
      const [refused] = await click(create, 1, { ...on, user: SLACK_USERS.plain.id });
      expect(refused!.args.text).toBe("You need the Administrator role in HMS to do this.");
      expect(await h.t.db.prisma.group.findFirst({ where: { name: "Legal Dept" } })).toBeNull();

      const [notice] = await click(create, 1, on);
      expect(notice!.args.text).toBe(
        "Created group Legal Dept with policy Default. 1 of the rows naming it is ready now; the summary shows the new counts.",
      );
      const updated = await waitForUpdate(summaryTs, (c) => fieldsOf(c)["Need attention"] === "0", "the summary with the new counts");
      expect(updated.args.channel).toBe("D0ADMIN");
      expect(fieldsOf(updated)).toMatchObject({ "Data rows": "2", Ready: "2", "Need attention": "0" });
      expect(buttonsOf(updated).map((b) => b.label)).toEqual(["Create 2 accounts", "Cancel"]);
      expect(await h.t.db.prisma.group.findFirst({ where: { name: "Legal Dept" } })).not.toBeNull();
      const row = await h.t.db.prisma.importRow.findFirst({ where: { batchId: batch.id, email: "legal.new@corp.example.org" } });
      expect(row?.status).toBe("READY");
      expect(await auditOf("")).toContain("via Slack created the group · group:Legal Dept");
      expect(await auditOf(code)).toContain(`via Slack created a missing group and checked its rows again · ${code} (group Legal Dept)`);
    });

    it("Fix a row: pick the row, the Add user modal opens with its values and problems; saved fixed, the row is ready and the summary updated in place", async () => {
      const rows = [
        ...validRows(1, { prefix: "fix" }),
        ["not-an-email", "Bad Row", "Finance", "User", "", ""],
        ["fix.exchange@corp.example.org", "Half Exchange", "Finance", "User", "CORP", ""],
      ];
      const { post, batch, code, summaryTs, on } = await summaryOf("fix.csv", csvFile(rows));
      expect(fieldsOf(post)).toMatchObject({ Ready: "1", "Need attention": "2" });
      const { view: pick, responseUrl } = await modalOf(button(post, IMPORT_ACTIONS.fixRow), on);
      expect(pick).toMatchObject({ callback_id: "hms_import_fix_pick", title: { text: "Fix a row" }, submit: { text: "Next" } });
      expect(textOf(pick)).toContain(`Import ${code}: pick a row to fix.`);
      const options = (inputsOf(pick).row!.element as { options: { text: { text: string }; value: string }[] }).options;
      expect(options.map((o) => [o.text.text, o.value])).toEqual([
        ["Row 3: not-an-email", "3"],
        ["Row 4: fix.exchange@corp.example.org", "4"],
      ]);

      const chosen = (value?: string) => ({
        row: {
          row: { type: "static_select", selected_option: value ? { text: { type: "plain_text", text: `Row ${value}` }, value } : null },
        },
      });
      // Nothing chosen: asked again in the modal.
      expect((await h.submitState(pick, chosen())).json).toEqual({ response_action: "errors", errors: { row: "Choose a row." } });
      const next = await h.submitState(pick, chosen("3"));
      const { response_action, view: form } = next.json as { response_action: string; view: Record<string, unknown> };
      expect(response_action).toBe("update");
      expect(form).toMatchObject({ callback_id: "hms_import_fix_row_form", title: { text: "Fix row 3" }, submit: { text: "Save row" } });
      const inputs = inputsOf(form);
      expect(Object.fromEntries(Object.entries(inputs).map(([id, input]) => [id, initialOf(input)]))).toEqual({
        email: "not-an-email",
        name: "Bad Row",
        group: "Finance",
        role: "User",
        exchangeDomain: undefined,
        exchangeUsername: undefined,
      });
      // The row's problem next to its field.
      expect(inputs.email?.hint?.text).toMatch(/^⚠ Email ID “not-an-email” is not a valid email address\./);
      expect(inputs.name?.hint).toBeUndefined();

      const typed: StateValues = { email: "also@bad", name: "Bad Row", group: "Finance", role: "User" };
      // Still wrong: the modal stays open with the new problem.
      expect((await h.submitState(form, stateValuesOf(typed))).json).toEqual({
        response_action: "errors",
        errors: { email: "Email ID “also@bad” is not a valid email address." },
      });
      const saved = await h.submitState(form, stateValuesOf({ ...typed, email: "fixed.row@corp.example.org", name: "Fixed Row" }));
      expect(saved).toMatchObject({ status: 200, text: "" });
      const [told] = await h.waitForResponse(responseUrl);
      expect(told!.args.text).toBe(`Row 3 of import ${code} is ready now; the summary shows the new counts.`);
      const updated = await waitForUpdate(summaryTs, (c) => fieldsOf(c).Ready === "2", "the summary with the fixed row");
      expect(fieldsOf(updated)).toMatchObject({ Ready: "2", "Need attention": "1" });
      expect(buttonsOf(updated).map((b) => b.label)).toEqual(["Create 2 accounts", "Fix a row", "Cancel"]);
      const row = await h.t.db.prisma.importRow.findFirst({ where: { batchId: batch.id, rowNumber: 3 } });
      expect(row).toMatchObject({ status: "READY", email: "fixed.row@corp.example.org", name: "Fixed Row" });
      expect(await auditOf(code)).toContain(`via Slack fixed a row · ${code} (row 3 (fixed.row@corp.example.org))`);
    });
  });

  // Last: it leaves one Administrator.
  describe("the last Administrator", () => {
    it("two Administrators removing each other at once: one goes, the last one stays; the last Administrator cannot be made a User", async () => {
      const actor = { email: admin.email, platform: "slack" as const };
      const admins = await h.t.db.prisma.user.findMany({ where: { role: "ADMINISTRATOR" } });
      for (const other of admins)
        if (![admin.email, OTHER_ADMIN.email].includes(other.email)) await h.core.removeUser({ actor, email: other.email });
      const pair = [SLACK_USERS.admin, SLACK_USERS.otherAdmin];
      const cards = await Promise.all(pair.map((me, i) => ask(`user ${pair[1 - i]!.email}`, me.id)));
      // Each confirmed Remove on the other's card.
      const answers = await Promise.all(pair.map((me, i) => click(button(cards[i]!, USER_ACTIONS.remove), 1, { user: me.id })));
      const left = await h.t.db.prisma.user.findMany({ where: { role: "ADMINISTRATOR" } });
      expect(left).toHaveLength(1);
      const survivor = pair.find((p) => p.email === left[0]!.email)!;
      const survivorAnswer = answers[pair.indexOf(survivor)]![0]!;
      const goneAnswer = answers[1 - pair.indexOf(survivor)]![0]!;
      const gone = pair[1 - pair.indexOf(survivor)]!;
      expect(String(survivorAnswer.args.text)).toMatch(new RegExp(`^Removed .+ \\(${gone.email.replace(/\./g, "\\.")}\\) from `));
      // Refused: as the only Administrator left, or (the other removal done first) as no Administrator any more.
      expect([
        `${survivor.email} is the only HMS Administrator: make someone else an Administrator first.`,
        "You need the Administrator role in HMS to do this.",
      ]).toContain(goneAnswer.args.text);

      const own = await ask(`user ${survivor.email}`, survivor.id);
      expect(button(own, USER_ACTIONS.role).label).toBe("Make User");
      const [refused] = await click(button(own, USER_ACTIONS.role), 1, { user: survivor.id });
      expect(refused!.args.text).toBe(`${survivor.email} is the only HMS Administrator: make someone else an Administrator first.`);
      expect((await userRow(survivor.email))?.role).toBe("ADMINISTRATOR");
    });
  });
});
