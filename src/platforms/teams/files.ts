/**
 * Files in a personal chat: a CSV someone attached is fetched from its pre-authenticated
 * `content.downloadUrl` (never `contentUrl`, a SharePoint page: teams-ai's own downloader reads
 * that one, upstream microsoft/teams-sdk#1202), from an allowed host only, with a bounded read and
 * an idle timeout, and an HTML page (a sharing link from an iOS client) refused. The bot's files go
 * out through a FileConsentCard: on Allow the bytes are PUT to the uploadUrl Teams hands over.
 */
import { TeamsApiError } from "./connector.ts";

/** An attachment that is a file sent to the bot (personal chat only). */
export const FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info";
export const FILE_CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent";
export const FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info";

/** Where Teams keeps people's files (and their subdomains): SharePoint and OneDrive, in every cloud. */
export const DEFAULT_FILE_HOSTS: readonly string[] = [
  "sharepoint.com",
  "sharepoint-df.com",
  "sharepoint.us",
  "sharepoint-mil.us",
  "sharepoint.cn",
  "sharepoint.de",
  "onedrive.com",
  "onedrive.live.com",
  "1drv.com",
];

/** Bytes read at most: a little over the importer's 35 MB, so that it can say the file is too large. */
export const DOWNLOAD_LIMIT_BYTES = 36 * 1024 * 1024;
/** How long a download may go without receiving anything before it is given up as stalled. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 15_000;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether the bot may fetch from (or upload to) this URL: https on an allowed host or one of its
 * subdomains (plain http only for a loopback host listed in TEAMS_FILE_HOSTS, for tests).
 */
export function isAllowedFileUrl(url: string, hosts: readonly string[] = DEFAULT_FILE_HOSTS): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  const host = target.hostname.toLowerCase();
  const listed = hosts.some((h) => host === h || host.endsWith(`.${h}`));
  if (!listed) return false;
  return target.protocol === "https:" || (target.protocol === "http:" && LOOPBACK.has(host));
}

export interface DownloadOptions {
  hosts?: readonly string[];
  timeoutMs?: number;
  idleTimeoutMs?: number;
  limit?: number;
}

/** Fetches a file someone sent the bot. Failures are TeamsApiError("file download", …). */
export async function downloadFile(
  url: string,
  { hosts, timeoutMs = 60_000, idleTimeoutMs = DOWNLOAD_IDLE_TIMEOUT_MS, limit = DOWNLOAD_LIMIT_BYTES }: DownloadOptions = {},
): Promise<Uint8Array> {
  const operation = "file download";
  if (!isAllowedFileUrl(url, hosts))
    throw new TeamsApiError(operation, "refused", { reason: "the file is not stored in OneDrive or SharePoint" });
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
    // The URL is pre-authenticated: no token goes with it. Redirects stay on allowed hosts.
    res = await fetch(url, { signal, redirect: "manual" });
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 5; hops++) {
      const next = res.headers.get("location");
      await res.body?.cancel();
      if (!next || !isAllowedFileUrl(new URL(next, url).toString(), hosts))
        throw new TeamsApiError(operation, "refused", { reason: "the download was redirected away from OneDrive or SharePoint" });
      res = await fetch(new URL(next, url), { signal, redirect: "manual" });
    }
  } catch (error) {
    clearTimeout(idleTimer);
    if (error instanceof TeamsApiError) throw error;
    const within = idle.signal.aborted ? idleTimeoutMs : overall.aborted ? timeoutMs : undefined;
    throw new TeamsApiError(
      operation,
      "network",
      { reason: within === undefined ? undefined : `no answer within ${within / 1000} s` },
      { cause: error },
    );
  }
  if (!res.ok) {
    clearTimeout(idleTimer);
    await res.body?.cancel();
    const failure =
      res.status === 404 || res.status === 410 ? "not_found" : res.status === 401 || res.status === 403 ? "forbidden" : "platform";
    throw new TeamsApiError(operation, res.status === 429 ? "ratelimited" : failure, { status: res.status });
  }
  if ((res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html")) {
    clearTimeout(idleTimer);
    await res.body?.cancel();
    throw new TeamsApiError(operation, "refused", { reason: "a web page instead of the file" });
  }
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
      const bytes = `${size.toLocaleString("en-US")} bytes`;
      const reason = idle.signal.aborted
        ? `no data for ${idleTimeoutMs / 1000} s after ${bytes}`
        : overall.aborted
          ? `not complete within ${timeoutMs / 1000} s (${bytes})`
          : `connection closed after ${bytes}`;
      throw new TeamsApiError(operation, "stalled", { reason }, { cause: error });
    } finally {
      clearTimeout(idleTimer);
    }
  }
  clearTimeout(idleTimer);
  const bytes = new Uint8Array(Buffer.concat(chunks));
  // A page served as something else (octet-stream): a CSV never starts like this.
  if (/^\s*<(!doctype html|html)[\s>]/i.test(Buffer.from(bytes.subarray(0, 64)).toString("latin1")))
    throw new TeamsApiError(operation, "refused", { reason: "a web page instead of the file" });
  return bytes;
}

/** Uploads the bot's file to the OneDrive location Teams gave on Allow (one PUT: the files here are small). */
export async function uploadFile(
  uploadUrl: string,
  bytes: Uint8Array,
  { hosts, timeoutMs = 30_000 }: { hosts?: readonly string[]; timeoutMs?: number } = {},
): Promise<void> {
  const operation = "file upload";
  if (!isAllowedFileUrl(uploadUrl, hosts))
    throw new TeamsApiError(operation, "refused", { reason: "the upload location is not in OneDrive or SharePoint" });
  let res: Response;
  try {
    res = await fetch(uploadUrl, {
      method: "PUT",
      headers: {
        "content-type": "application/octet-stream",
        "content-range": `bytes 0-${Math.max(bytes.byteLength - 1, 0)}/${bytes.byteLength}`,
      },
      body: Buffer.from(bytes),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new TeamsApiError(operation, "network", { reason: error instanceof Error ? error.message : String(error) }, { cause: error });
  }
  await res.body?.cancel();
  if (!res.ok) throw new TeamsApiError(operation, res.status === 429 ? "ratelimited" : "platform", { status: res.status });
}
