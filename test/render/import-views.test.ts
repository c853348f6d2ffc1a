/**
 * The import views rendered to Block Kit, compared by exact equality: the summary in its
 * states, the approval request (pending and decided), the forms, and the renderer's handling of
 * long lists (Slack's 50 blocks and 3,000 characters per section, then "and N more").
 */
import { describe, expect, it } from "vitest";
import type { ImportBatch, ImportRowRecord } from "../../src/core/index.ts";
import { LIMITS, renderMessage, renderModal, renderText } from "../../src/render/blockkit.ts";
import {
  approvalRequestMessage,
  approvalValue,
  EXAMPLE_ROWS,
  importFileForm,
  importMessage,
  importReportMessage,
  importResultsMessage,
  importTemplateMessage,
  parseApprovalValue,
  rejectReasonForm,
} from "../../src/render/import-views.ts";
import type { Message } from "../../src/render/model.ts";

const at = new Date("2026-11-24T12:00:00Z");
const batch = (over: Partial<ImportBatch> = {}): ImportBatch => ({
  id: "b-1",
  code: "IMP-7K3Q",
  fileName: "users.csv",
  sha256: "abcdef0123456789".padEnd(64, "0"),
  sizeBytes: 100,
  requesterEmail: "admin@corp.example.org",
  requesterPlatformId: "U0ADMIN",
  submitterEmail: null,
  submitterPlatformId: null,
  platform: "slack",
  conversation: {},
  fileInfo: {},
  status: "VALIDATED",
  approvalRequired: true,
  approvalRequestedAt: null,
  approvalExpiresAt: null,
  decidedBy: null,
  decidedAt: null,
  reason: null,
  leaseOwner: null,
  leaseUntil: null,
  createdAt: at,
  updatedAt: at,
  dataRows: 120,
  readyRows: 114,
  attentionRows: 2,
  blankRows: 1,
  adminRows: 3,
  updateRows: 0,
  unchangedRows: 0,
  adminUpdateRows: 0,
  updatedRows: 0,
  kind: "import",
  includeUpdates: false,
  approvalRemindedAt: null,
  createdRows: 0,
  skippedRows: 0,
  failedRows: 0,
  ...over,
});
const row = (
  rowNumber: number,
  message: string,
  status: ImportRowRecord["status"] = "NEEDS_ATTENTION",
  email = `r${rowNumber}@corp.example.org`,
): ImportRowRecord => ({
  rowNumber,
  status,
  email,
  name: "N",
  groupName: "Finance",
  role: "USER",
  exchangeDomain: "",
  exchangeUsername: "",
  issues: [{ field: "email", code: "VALIDATION_FAILED", message }],
  changes: null,
});
const plain = (text: string) => ({ type: "plain_text", text });
const md = (text: string) => ({ type: "mrkdwn", text });
const header = (extra: string[] = []) => ({
  type: "section",
  text: md("*Import IMP-7K3Q* · `users.csv`"),
  fields: [md("*Data rows*\n120"), md("*Ready*\n114"), md("*Need attention*\n2"), md("*Blank*\n1"), ...extra.map(md)],
});

describe("the import summary", () => {
  it("validated: counts, the rows needing attention with their row numbers, Create N and Cancel", () => {
    const attention = [
      row(4, "Email ID is not a valid email address.", "NEEDS_ATTENTION", "jane@@corp"),
      row(13, "Group Nope does not exist."),
    ];
    const problems = [
      { code: "EMAIL_INVALID", field: "email", rows: 1, firstRows: [4] },
      { code: "GROUP_UNKNOWN", field: "group", value: "Nope", rows: 1, firstRows: [13] },
    ];
    expect(renderMessage(importMessage({ batch: batch(), attention, problems, unknownColumns: ["Notes"] }))).toEqual({
      text: "Import IMP-7K3Q: 114 accounts ready, 2 rows need attention.",
      blocks: [
        header(),
        {
          type: "section",
          text: plain(
            "Fix the rows below (the report lists them all) and upload the corrected file for a new summary, or go ahead with the 114 ready rows now.",
          ),
        },
        { type: "context", elements: [plain("3 rows grant the Administrator role.")] },
        // The buttons and counts first; 114 accounts are asked about first.
        {
          type: "actions",
          elements: [
            {
              type: "button",
              action_id: "hms_import_create",
              text: plain("Create 114 accounts"),
              value: "b-1",
              style: "primary",
              confirm: {
                title: plain("Create 114 accounts?"),
                text: plain("Create 114 accounts in HMS, some of them Administrators. This cannot be undone from the summary."),
                confirm: plain("Go ahead"),
                deny: plain("Not yet"),
              },
            },
            { type: "button", action_id: "hms_import_create_group", text: plain("Create group Nope"), value: '{"b":"b-1","g":"Nope"}' },
            { type: "button", action_id: "hms_import_fix_row", text: plain("Fix a row"), value: "b-1" },
            { type: "button", action_id: "hms_import_cancel", text: plain("Cancel"), value: "b-1" },
          ],
        },
        { type: "section", text: md("*Rows needing attention* (2)") },
        // Grouped by kind, with the first rows of each; then a few rows in full.
        { type: "section", text: md("• *Email ID not a valid address* — 1 row (4)\n• *Unknown group “Nope”* — 1 row (13)") },
        { type: "context", elements: [plain("For example:")] },
        {
          type: "section",
          text: md(
            "• *Row 4* (jane@@corp): Email ID is not a valid email address.\n• *Row 13* (r13@corp.example.org): Group Nope does not exist.",
          ),
        },
        { type: "context", elements: [plain("Ignored columns: Notes.")] },
      ],
    });
  });

  it("no row ready: no Create button", () => {
    const message = renderMessage(
      importMessage({
        batch: batch({ readyRows: 0, attentionRows: 1, dataRows: 1, adminRows: 0 }),
        attention: [row(2, "Name is required.")],
      }),
    );
    expect(message.blocks.find((b) => b.type === "actions")).toEqual({
      type: "actions",
      elements: [
        { type: "button", action_id: "hms_import_fix_row", text: plain("Fix a row"), value: "b-1" },
        { type: "button", action_id: "hms_import_cancel", text: plain("Cancel"), value: "b-1" },
      ],
    });
  });

  it("waiting for approval: the approvers mentioned, Cancel only", () => {
    const message = renderMessage(
      importMessage({
        batch: batch({ status: "AWAITING_APPROVAL", approvalExpiresAt: new Date("2026-11-27T12:00:00Z") }),
        attention: [],
        approvers: [{ name: "second.admin@corp.example.org", platformId: "U0ADMIN2" }, { name: "x@corp.example.org" }],
      }),
    );
    expect(message.text).toBe("Import IMP-7K3Q is waiting for approval.");
    expect(message.blocks[1]).toEqual({
      type: "section",
      text: md("Waiting for approval by <@U0ADMIN2>, x@corp.example.org (until 2026-11-27 12:00 UTC)."),
    });
    expect(message.blocks.find((b) => b.type === "actions")).toEqual({
      type: "actions",
      elements: [{ type: "button", action_id: "hms_import_cancel", text: plain("Cancel"), value: "b-1" }],
    });
  });

  it("creating: the progress, no buttons", () => {
    const view = importMessage({
      batch: batch({ status: "CREATING", decidedBy: "second.admin@corp.example.org", decidedAt: at }),
      attention: [],
      progress: { done: 40_000, total: 150_000 },
    });
    expect(renderMessage(view)).toEqual({
      text: "Import IMP-7K3Q: creating accounts… 40,000 / 150,000",
      blocks: [
        header(["*Created*\n0", "*Skipped*\n0", "*Failed*\n0"]),
        { type: "context", elements: [plain("Approved by second.admin@corp.example.org at 2026-11-24 12:00 UTC.")] },
        { type: "section", text: plain("Creating accounts… 40,000 / 150,000") },
        { type: "context", elements: [plain("▓▓▓▓▓░░░░░░░░░░░░░░░ 26%")] },
      ],
    });
  });

  it("created: created / skipped / failed, the skipped rows, Invite and Finish", () => {
    const view = importMessage({
      batch: batch({ status: "CREATED", createdRows: 112, skippedRows: 1, failedRows: 1 }),
      attention: [row(4, "Bad."), row(9, "Created meanwhile by someone else.", "SKIPPED"), row(11, "Group was deleted.", "FAILED")],
    });
    expect(renderMessage(view)).toEqual({
      text: "Import IMP-7K3Q: 112 accounts created, 1 skipped, 1 failed.",
      blocks: [
        header(["*Created*\n112", "*Skipped*\n1", "*Failed*\n1"]),
        {
          type: "section",
          text: md(
            "Accounts created: *112 created*, 1 skipped, 1 failed. Invite the new users to enroll their devices, or finish without inviting.",
          ),
        },
        {
          type: "actions",
          elements: [
            {
              type: "button",
              action_id: "hms_import_invite",
              text: plain("Invite the imported users to enroll"),
              value: "b-1",
              style: "primary",
            },
            { type: "button", action_id: "hms_import_finish", text: plain("Finish"), value: "b-1" },
          ],
        },
        { type: "section", text: md("*Rows skipped or failed* (2)") },
        { type: "context", elements: [plain("Rows:")] },
        {
          type: "section",
          text: md(
            "• *Row 9* (r9@corp.example.org): Created meanwhile by someone else.\n• *Row 11* (r11@corp.example.org): Group was deleted.",
          ),
        },
      ],
    });
  });

  it("finished: how many invitations were sent, pending or failed; Resend for the failed", () => {
    const finished = batch({ status: "FINISHED", createdRows: 114 });
    const sent = renderMessage(
      importMessage({ batch: finished, attention: [], invitations: { sent: 110, pending: 3, failed: 1 }, mailConfigured: true }),
    );
    expect(sent.text).toBe("Import IMP-7K3Q finished: 110 invitations sent, 3 pending, 1 failed.");
    expect(sent.blocks.slice(1)).toEqual([
      { type: "section", text: md("Finished. Invitations: *110 sent*, 3 pending, 1 failed.") },
      { type: "context", elements: [plain("Pending and failed invitations are retried automatically.")] },
      // The failed one can be sent again at once.
      {
        type: "actions",
        elements: [{ type: "button", action_id: "hms_import_resend_failed", text: plain("Resend 1 failed invitation"), value: "b-1" }],
      },
    ]);
    const noMail = renderMessage(
      importMessage({ batch: finished, attention: [], invitations: { sent: 0, pending: 114, failed: 0 }, mailConfigured: false }),
    );
    expect(noMail.blocks.at(-1)).toEqual({
      type: "context",
      elements: [plain("No mail server is configured (SMTP_URL): invitations stay pending until one is.")],
    });
    expect(renderMessage(importMessage({ batch: finished, attention: [], invitations: { sent: 0, pending: 0, failed: 0 } })).text).toBe(
      "Import IMP-7K3Q finished: 114 accounts created, no invitations sent.",
    );
  });

  it("a creation that failed part-way: what was created and what was not, and Invite / Finish for the accounts made", () => {
    const failed = renderMessage(
      importMessage({
        batch: batch({ status: "FAILED", reason: "account creation stopped: boom", createdRows: 100, skippedRows: 2, failedRows: 1 }),
        attention: [],
      }),
    );
    expect(failed.text).toBe("Import IMP-7K3Q failed.");
    expect(failed.blocks.slice(1, 3)).toEqual([
      { type: "section", text: plain("Failed: account creation stopped: boom") },
      {
        type: "section",
        text: plain(
          "Created before it stopped: 100 accounts. Not reached: 11 ready rows; upload the file again to create them (the accounts made already will show as existing). Invite the new users to enroll, or finish.",
        ),
      },
    ]);
    expect(failed.blocks.find((b) => b.type === "actions")).toMatchObject({
      type: "actions",
      elements: [{ action_id: "hms_import_invite" }, { action_id: "hms_import_finish" }],
    });
    const nothing = renderMessage(importMessage({ batch: batch({ status: "FAILED", reason: "boom" }), attention: [] }));
    expect(nothing.blocks[2]).toEqual({
      type: "section",
      text: plain(
        "Nothing was created. Not reached: 114 ready rows; upload the file again to create them (the accounts made already will show as existing).",
      ),
    });
  });

  it("a summary that expired unconfirmed says so, and how to check the file afresh", () => {
    const expired = renderMessage(
      importMessage({ batch: batch({ status: "EXPIRED", reason: "Not confirmed within 72 hours." }), attention: [] }),
    );
    expect(expired.text).toBe("Import IMP-7K3Q expired before anyone clicked Create.");
    expect(expired.blocks[1]).toEqual({
      type: "section",
      text: plain(
        "Not confirmed within 72 hours. Nothing was created; upload the file again to check it against the directory as it is now.",
      ),
    });
    expect(expired.blocks.some((b) => b.type === "actions")).toBe(false);
  });

  it("the same file uploaded again while its batch is open: the summary says it is the earlier check", () => {
    const again = renderMessage(importMessage({ batch: batch(), attention: [], reused: true }));
    expect(again.blocks.at(-1)).toEqual({
      type: "context",
      elements: [
        plain(
          "The same file was checked at 2026-11-24 12:00 UTC: this is that check. To check it against the directory as it is now, Cancel and upload it again.",
        ),
      ],
    });
    expect(
      renderMessage(importMessage({ batch: batch(), attention: [] })).blocks.some(
        (b) => b.type === "context" && JSON.stringify(b).includes("checked at"),
      ),
    ).toBe(false);
  });

  it("closed states carry no buttons", () => {
    for (const over of [
      { status: "CANCELLED", decidedBy: "admin@corp.example.org" },
      { status: "REJECTED", decidedBy: "second.admin@corp.example.org", reason: "Wrong groups" },
      { status: "EXPIRED" },
      { status: "FAILED", reason: "boom" },
    ] as Partial<ImportBatch>[]) {
      const message = renderMessage(importMessage({ batch: batch(over), attention: [] }));
      expect(message.blocks.some((b) => b.type === "actions")).toBe(false);
    }
    expect(
      renderMessage(
        importMessage({
          batch: batch({ status: "REJECTED", decidedBy: "second.admin@corp.example.org", reason: "Wrong groups" }),
          attention: [],
        }),
      ).blocks[1],
    ).toEqual({
      type: "section",
      text: plain("Rejected by second.admin@corp.example.org: “Wrong groups”. Nothing was created."),
    });
  });

  it("a few example rows in full and the count of the rest, within Slack's limits; the buttons before the lists", () => {
    const long = "x".repeat(400);
    const attention = Array.from({ length: 200 }, (_, i) => row(i + 2, long));
    const rendered = renderMessage(importMessage({ batch: batch({ attentionRows: 5000 }), attention }));
    expect(rendered.blocks.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    for (const b of rendered.blocks) if (b.type === "section") expect(b.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
    const actions = rendered.blocks.findIndex((b) => b.type === "actions");
    const rowsAt = rendered.blocks.findIndex((b) => b.type === "section" && b.text.text.includes("*Row 2*"));
    expect(actions).toBeGreaterThan(0);
    expect(actions).toBeLessThan(rowsAt);
    const shown = rendered.blocks.flatMap((b) => (b.type === "section" ? [...b.text.text.matchAll(/\*Row (\d+)\*/g)] : [])).length;
    expect(shown).toBe(EXAMPLE_ROWS);
    expect(rendered.blocks.at(-1)).toEqual({
      type: "context",
      elements: [plain(`…and ${(5000 - EXAMPLE_ROWS).toLocaleString("en-US")} more.`)],
    });
  });
});

describe("the approval request", () => {
  const waiting = batch({ status: "AWAITING_APPROVAL", approvalExpiresAt: new Date("2026-11-27T12:00:00Z") });
  const requester = { name: "admin@corp.example.org", platformId: "U0ADMIN" };
  const approvers = [{ name: "second.admin@corp.example.org", platformId: "U0ADMIN2" }, { name: "x@corp.example.org" }];

  it("mentions the approvers and the requester; Approve and Reject carry the batch and its SHA-256 prefix", () => {
    expect(renderMessage(approvalRequestMessage({ batch: waiting, requester, approvers }))).toEqual({
      text: "Approval needed: import IMP-7K3Q (114 accounts) requested by admin@corp.example.org.",
      blocks: [
        { type: "section", text: md("*Import IMP-7K3Q* · `users.csv` · 114 accounts to create, 3 of them Administrators") },
        { type: "section", text: md("<@U0ADMIN2>, x@corp.example.org: <@U0ADMIN> asks for approval to create these accounts.") },
        { type: "context", elements: [plain("1 KB · SHA-256 abcdef012345… · expires 2026-11-27 12:00 UTC")] },
        {
          type: "actions",
          elements: [
            {
              type: "button",
              action_id: "hms_import_approve",
              text: plain("Approve"),
              value: "b-1:abcdef012345",
              style: "primary",
              confirm: {
                title: plain("Approve import IMP-7K3Q?"),
                text: plain("114 accounts to create, 3 of them Administrators, from users.csv."),
                confirm: plain("Approve"),
                deny: plain("Not yet"),
              },
            },
            { type: "button", action_id: "hms_import_reject", text: plain("Reject"), value: "b-1:abcdef012345", style: "danger" },
          ],
        },
      ],
    });
    expect(parseApprovalValue(approvalValue(waiting))).toEqual({ batchId: "b-1", sha256Prefix: "abcdef012345" });
  });

  it("names the uploader and, when someone else clicked Create, them too", () => {
    const submitter = { name: "bob@corp.example.org", platformId: "U0BOB" };
    const rendered = renderMessage(approvalRequestMessage({ batch: waiting, requester, submitter, approvers }));
    expect(rendered.text).toBe(
      "Approval needed: import IMP-7K3Q (114 accounts) requested by admin@corp.example.org (uploaded the file) and bob@corp.example.org (clicked Create).",
    );
    expect(rendered.blocks[1]).toEqual({
      type: "section",
      text: md(
        "<@U0ADMIN2>, x@corp.example.org: <@U0ADMIN> uploaded the file and <@U0BOB> clicked Create; they ask for approval to create these accounts.",
      ),
    });
    // The uploader clicked Create themselves: named once.
    expect(renderMessage(approvalRequestMessage({ batch: waiting, requester, submitter: requester, approvers }))).toEqual(
      renderMessage(approvalRequestMessage({ batch: waiting, requester, approvers })),
    );
  });

  it("once decided or expired: the outcome, without buttons", () => {
    const outcome = (over: Partial<ImportBatch>) => renderMessage(approvalRequestMessage({ batch: batch(over), requester, approvers }));
    expect(outcome({ status: "CREATING", decidedBy: "second.admin@corp.example.org", decidedAt: at })).toEqual({
      text: "Import IMP-7K3Q was approved by second.admin@corp.example.org.",
      blocks: [
        { type: "section", text: md("*Import IMP-7K3Q* · `users.csv` · 114 accounts to create, 3 of them Administrators") },
        { type: "context", elements: [plain("Approved by second.admin@corp.example.org at 2026-11-24 12:00 UTC.")] },
      ],
    });
    expect(outcome({ status: "EXPIRED", approvalExpiresAt: new Date("2026-11-27T12:00:00Z") }).blocks[1]).toEqual({
      type: "context",
      elements: [plain("Expired at 2026-11-27 12:00 UTC: nobody approved it in time.")],
    });
    expect(outcome({ status: "REJECTED", decidedBy: "second.admin@corp.example.org", decidedAt: at, reason: "No" }).blocks[1]).toEqual({
      type: "context",
      elements: [plain("Rejected by second.admin@corp.example.org at 2026-11-24 12:00 UTC: “No”")],
    });
  });
});

describe("the files the bot sends about an import", () => {
  it("the error report: what it holds, that Row is the file's row number, and that the added columns are ignored when it comes back", () => {
    const { title, comment } = importReportMessage({ batch: batch(), rows: 1_204 });
    expect(title).toBe("Rows needing attention in import IMP-7K3Q");
    const text =
      "The 1,204 rows of import IMP-7K3Q that need attention, with the problems in the last column. Row is the row number in users.csv, as the summary gives it. Fix them and upload the file again: the Row and Problems columns are ignored then.";
    expect(renderMessage(comment)).toEqual({ text, blocks: [{ type: "section", text: plain(text) }] });
    expect(importReportMessage({ batch: batch(), rows: 1 }).comment.summary).toMatch(/^The row of import IMP-7K3Q that needs attention,/);
  });

  it("the results: counted, updates and unchanged only when there are some, and what the columns say", () => {
    const { title, comment } = importResultsMessage({
      batch: batch(),
      rows: 120,
      counts: { created: 110, updated: 0, unchanged: 0, skipped: 8, failed: 2 },
    });
    expect(title).toBe("Results of import IMP-7K3Q");
    expect(renderMessage(comment)).toEqual({
      text: "Results of import IMP-7K3Q: 110 created, 8 skipped, 2 failed.",
      blocks: [
        {
          type: "section",
          text: md(
            "*Results of import IMP-7K3Q*: what happened to each of the 120 rows of `users.csv` — 110 created, 8 skipped, 2 failed.",
          ),
        },
        {
          type: "context",
          elements: [
            plain(
              "Row is the row number in the uploaded file; Result says created, updated, unchanged, skipped or failed, and Details why.",
            ),
          ],
        },
      ],
    });
    const all = importResultsMessage({
      batch: batch(),
      rows: 1,
      counts: { created: 0, updated: 1_500, unchanged: 2, skipped: 0, failed: 0 },
    });
    expect(all.comment.summary).toBe("Results of import IMP-7K3Q: 0 created, 1,500 updated, 2 unchanged, 0 skipped, 0 failed.");
  });
});

describe("forms and the template", () => {
  it("the upload form: one CSV file input", () => {
    expect(renderModal(importFileForm({ metadata: "{}", spell: (c) => `/hms ${c}` }))).toEqual({
      type: "modal",
      callback_id: "hms_import_upload",
      title: plain("Import users"),
      close: plain("Cancel"),
      submit: plain("Check file"),
      private_metadata: "{}",
      blocks: [
        {
          type: "section",
          text: plain("Choose the CSV file of users. Nothing is created yet: you get a summary first, with the rows that need attention."),
        },
        {
          type: "input",
          block_id: "file",
          label: plain("CSV file"),
          element: { type: "file_input", action_id: "file", filetypes: ["csv"], max_files: 1 },
          hint: plain("Saved from the template (/hms template), one row per user."),
        },
      ],
    });
  });

  it("the reject form: a multi-line reason", () => {
    expect(renderModal(rejectReasonForm({ code: "IMP-7K3Q", metadata: "{}" }))).toEqual({
      type: "modal",
      callback_id: "hms_import_reject",
      title: plain("Reject import"),
      close: plain("Back"),
      submit: plain("Reject"),
      private_metadata: "{}",
      blocks: [
        { type: "section", text: md("Reject import *IMP-7K3Q*? The requester will see the reason.") },
        {
          type: "input",
          block_id: "reason",
          label: plain("Reason"),
          element: {
            type: "plain_text_input",
            action_id: "reason",
            placeholder: plain("Why the accounts should not be created"),
            max_length: 500,
            multiline: true,
          },
        },
      ],
    });
  });

  it("the template message, as the text of the file's comment", () => {
    const message: Message = importTemplateMessage({
      fileName: "hms-users-template.csv",
      howTo: "Fill in one row per user.",
      sendHint: [
        "Then run ",
        { code: "/hms import" },
        ", or share the file in a direct message to the bot (or mention the bot on it in a channel).",
      ],
    });
    expect(renderText(message)).toBe(
      [
        "*The HMS import template* is attached: `hms-users-template.csv`.",
        "Fill in one row per user.",
        "Then run `/hms import`, or share the file in a direct message to the bot (or mention the bot on it in a channel).",
      ].join("\n"),
    );
  });
});

describe("the import summary: how the file was read", () => {
  const info = (over: Record<string, unknown> = {}) => ({
    encoding: "windows-1250",
    bom: false,
    delimiter: ";",
    header: ["Email ID", "Name", "Group"],
    unknownColumns: [],
    encodingConfident: true,
    invalidUtf8Bytes: 0,
    sampleNames: ["Łukasz Żółć", "Jędrzej Stępień", "Małgorzata Wiśniewska"],
    ...over,
  });
  const readLine = (text: string) => ({ type: "context", elements: [md(text)] });
  const summaryOf = (over: Partial<ImportBatch>) => renderMessage(importMessage({ batch: batch(over), attention: [] }));

  it("validated: the encoding by its name, the delimiter and the names as read, under the counts", () => {
    const message = summaryOf({ fileInfo: info() });
    expect(message.blocks[1]).toEqual(
      readLine(
        "Read as *Windows-1250 (Central European)*, semicolon-separated. Names as read: Łukasz Żółć · Jędrzej Stępień · Małgorzata Wiśniewska.",
      ),
    );
    expect(JSON.stringify(message.blocks)).not.toContain("could not be told");
  });

  it("unsure: says which encoding was assumed and how to save the file as CSV UTF-8 in Excel and LibreOffice", () => {
    const message = summaryOf({
      fileInfo: info({ encoding: "windows-1254", delimiter: ",", encodingConfident: false, sampleNames: ["Ayşe Yılmaz"] }),
    });
    expect(message.blocks[1]).toEqual(readLine("Read as *Windows-1254 (Turkish)*, comma-separated. Names as read: Ayşe Yılmaz."));
    expect(message.blocks[2]).toEqual({
      type: "section",
      text: md(
        "*Check the names above.* The file's encoding could not be told for sure: it was read as Windows-1254 (Turkish). If the names look wrong, save the file as CSV UTF-8 and upload it again: in Excel, File › Save As › CSV UTF-8 (Comma delimited); in LibreOffice, File › Save As › Text CSV with Edit filter settings, Character set Unicode (UTF-8).",
      ),
    });
  });

  it("UTF-8 with invalid bytes: how many, and that their rows need attention", () => {
    const message = summaryOf({
      fileInfo: info({ encoding: "utf-8", delimiter: "\t", invalidUtf8Bytes: 4, sampleNames: ["王伟", "Ayşe Yılmaz"] }),
    });
    expect(message.blocks[1]).toEqual(
      readLine(
        "Read as *UTF-8*, tab-separated. Names as read: 王伟 · Ayşe Yılmaz. 4 bytes are not valid UTF-8: the rows holding them need attention.",
      ),
    );
  });

  it("shown while nothing is created (validated, waiting for approval); not once accounts are made, nor for batches stored without it", () => {
    const hasLine = (over: Partial<ImportBatch>) => JSON.stringify(summaryOf(over).blocks).includes("Read as");
    expect(hasLine({ status: "AWAITING_APPROVAL", fileInfo: info() })).toBe(true);
    expect(hasLine({ status: "CREATED", fileInfo: info(), createdRows: 114 })).toBe(false);
    expect(hasLine({ status: "CANCELLED", fileInfo: info() })).toBe(false);
    expect(hasLine({ fileInfo: { encoding: "utf-8", bom: false, delimiter: ",", header: [], unknownColumns: [] } })).toBe(true);
    expect(hasLine({ fileInfo: {} })).toBe(false);
  });
});
