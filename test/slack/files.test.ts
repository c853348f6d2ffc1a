import { describe, expect, it } from "vitest";
import { downloadFile, isSlackFileUrl } from "../../src/platforms/slack/files.ts";
import { SlackApiError } from "../../src/platforms/slack/web.ts";

describe("Slack file downloads", () => {
  it.each([
    ["https://files.slack.com/files-pri/T1-F1/download/users.csv", undefined, true],
    ["https://files.slack-gov.com/files-pri/T1-F1/download/users.csv", undefined, true],
    ["https://slack.com/x", undefined, true],
    ["http://files.slack.com/files-pri/T1-F1/download/users.csv", undefined, false],
    ["https://files.slack.com.evil.example/x.csv", undefined, false],
    ["https://evilslack.com/x.csv", undefined, false],
    ["https://attacker.example/steal", undefined, false],
    ["http://127.0.0.1:4000/files/F1", "http://127.0.0.1:4000/api/", true],
    ["http://127.0.0.1:4001/files/F1", "http://127.0.0.1:4000/api/", false],
    ["not a url", undefined, false],
  ])("%s (API %s) may receive the token: %s", (url, apiUrl, expected) => {
    expect(isSlackFileUrl(url, apiUrl)).toBe(expected);
  });

  it("refuses a file outside Slack before sending anything", async () => {
    const error = await downloadFile("https://attacker.example/users.csv", "xoxb-secret").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackApiError);
    expect((error as SlackApiError).detail.slackError).toBe("the file is not stored on Slack");
  });
});
