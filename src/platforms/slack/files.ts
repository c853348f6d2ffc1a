/**
 * Files to and from Slack: an uploaded file is fetched from its url_private_download with the
 * bot token (files:read); files are posted with files.uploadV2 (getUploadURLExternal → upload →
 * completeUploadExternal, files:write). Failures come out as SlackApiError naming the method.
 */
import type { webApi } from "@slack/bolt";
import { callSlack, SlackApiError } from "./web.ts";

/** A file as Slack describes it in events, file inputs and files.info (the fields used here). */
export interface SlackFileRef {
  id: string;
  name?: string;
  url_private_download?: string;
  size?: number;
}

/** What downloading files needs: the bot token, and the Web API's host when it is not Slack's own. */
export interface SlackFileAccess {
  botToken: string;
  apiUrl?: string;
  /** How long a download may go without a byte before it is given up (downloadFile's default unless set). */
  idleTimeoutMs?: number;
}

/** Bytes read at most: a little over the importer's 35 MB, so that it can say the file is too large. */
export const DOWNLOAD_LIMIT_BYTES = 36 * 1024 * 1024;

/** The file's name and download URL, asking files.info when the reference lacks them. */
export async function describeFile(
  client: webApi.WebClient,
  file: SlackFileRef,
): Promise<Required<Pick<SlackFileRef, "id" | "name" | "url_private_download">>> {
  if (file.url_private_download && file.name) return { id: file.id, name: file.name, url_private_download: file.url_private_download };
  const info = (await callSlack("files.info", () => client.files.info({ file: file.id }))) as { file?: SlackFileRef };
  const url = info.file?.url_private_download;
  if (!url) throw new SlackApiError("files.info", "platform", { slackError: "no url_private_download" });
  return { id: file.id, name: info.file?.name ?? file.name ?? file.id, url_private_download: url };
}

/**
 * Whether the bot token may be sent to this URL: Slack's own hosts (https, slack.com or
 * slack-gov.com and their subdomains) or the configured Web API's host. A file reference
 * comes from a payload and could point anywhere (remote files, a forged event).
 */
export function isSlackFileUrl(url: string, apiUrl?: string): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  if (apiUrl) {
    const api = new URL(apiUrl);
    if (target.protocol === api.protocol && target.host === api.host) return true;
  }
  return target.protocol === "https:" && /(^|\.)slack(-gov)?\.com$/i.test(target.hostname);
}

/** How long a download may go without receiving anything before it is given up as stalled. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 15_000;

/**
 * Downloads a file with the bot token, from Slack's hosts only. Slack answers a token without
 * files:read (or a file the bot may not see) with its HTML sign-in page rather than an error:
 * that is a missing scope. A download that stops part-way (nothing for `idleTimeoutMs`, the
 * connection closed, or not done within `timeoutMs`) fails as "stalled".
 */
export async function downloadFile(
  url: string,
  token: string,
  {
    timeoutMs = 60_000,
    idleTimeoutMs = DOWNLOAD_IDLE_TIMEOUT_MS,
    limit = DOWNLOAD_LIMIT_BYTES,
    apiUrl,
  }: { timeoutMs?: number; idleTimeoutMs?: number; limit?: number; apiUrl?: string } = {},
): Promise<Uint8Array> {
  if (!isSlackFileUrl(url, apiUrl)) {
    throw new SlackApiError("files.download", "platform", { slackError: "the file is not stored on Slack" });
  }
  // Aborted when nothing arrives for idleTimeoutMs (the timer restarts with every chunk) or after timeoutMs in all.
  const idle = new AbortController();
  let idleTimer: NodeJS.Timeout | undefined;
  const waitForData = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(), idleTimeoutMs);
  };
  const overall = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([idle.signal, overall]);
  let res: Response;
  try {
    waitForData();
    // Redirects are followed (fetch drops the token when one leaves Slack's host); a sign-in page is caught below.
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
  } catch (error) {
    const within = idle.signal.aborted ? idleTimeoutMs : overall.aborted ? timeoutMs : undefined;
    throw new SlackApiError(
      "files.download",
      "network",
      { slackError: within === undefined ? undefined : `no answer within ${within / 1000} s` },
      { cause: error },
    );
  } finally {
    clearTimeout(idleTimer);
  }
  if (res.status === 404 || res.status === 410)
    throw new SlackApiError("files.download", "platform", { slackError: "file_not_found", status: res.status });
  if (res.status === 401 || res.status === 403) {
    throw new SlackApiError("files.download", "missing_scope", {
      slackError: `HTTP ${res.status}`,
      needed: "files:read",
      status: res.status,
    });
  }
  if (res.status === 429)
    throw new SlackApiError("files.download", "ratelimited", {
      slackError: "ratelimited",
      retryAfter: Number(res.headers.get("retry-after")) || undefined,
    });
  if (!res.ok) throw new SlackApiError("files.download", "platform", { slackError: `HTTP ${res.status}`, status: res.status });
  if ((res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html")) {
    await res.body?.cancel();
    throw new SlackApiError("files.download", "missing_scope", { slackError: "sign-in page instead of the file", needed: "files:read" });
  }
  // Read up to the limit (and one byte more, so the importer can tell the file is too large).
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (reader) {
    try {
      for (;;) {
        waitForData();
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        size += value.byteLength;
        if (size > limit) {
          await reader.cancel();
          break;
        }
      }
    } catch (error) {
      // Slack stopped part-way: say how, and how far it got.
      const bytes = `${size.toLocaleString("en-US")} bytes`;
      const slackError = idle.signal.aborted
        ? `no data for ${idleTimeoutMs / 1000} s after ${bytes}`
        : overall.aborted
          ? `not complete within ${timeoutMs / 1000} s (${bytes})`
          : `connection closed after ${bytes}`;
      throw new SlackApiError("files.download", "stalled", { slackError }, { cause: error });
    } finally {
      clearTimeout(idleTimer);
    }
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Posts a file in a conversation (in a thread when given), with a comment. */
export async function uploadFile(
  client: webApi.WebClient,
  {
    channel,
    threadTs,
    fileName,
    bytes,
    comment,
    title,
  }: { channel: string; threadTs?: string; fileName: string; bytes: Uint8Array; comment?: string; title?: string },
): Promise<void> {
  const common = {
    channel_id: channel,
    file: Buffer.from(bytes),
    filename: fileName,
    title: title ?? fileName,
    ...(comment ? { initial_comment: comment } : {}),
  };
  await callSlack("files.uploadV2", () =>
    threadTs ? client.files.uploadV2({ ...common, thread_ts: threadTs }) : client.files.uploadV2(common),
  );
}
