// Downloads a cohort's CSV from a URL the client hosts (a pre-signed S3, GCS or Azure link, say).
// The server fetches on the client's behalf, so every hop is held to the same rules: http(s) only,
// public addresses only, at most MAX_REDIRECTS redirects, a size cap and a deadline. The address
// check runs inside the socket's own DNS lookup, so the address checked is the address connected
// to: a name cannot resolve to a public address for the check and a private one for the connection.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { BlockingCohortError, type CohortDeps } from './cohort-deps.js';
import { EncodingSniffer, type FileEncoding } from './csv-source.js';
import { addressRefusal, guardedLookup, hostOf } from '../public-address.js';

export { addressRefusal };

export const MAX_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
// Answers a later attempt may not get again: the runner retries these, the rest fail the cohort.
const TRANSIENT_STATUSES = new Set([408, 425, 429]);
// Certificate problems do not heal on a retry: the cohort fails with a message instead.
const TLS_ERROR =
  /^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/;

/** scheme://host/path: all of a URL that logs and messages may show (a pre-signed URL's query is its signature). */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Why a URL's scheme is refused, or undefined for http and https. */
export function schemeRefusal(url: URL): string | undefined {
  return url.protocol === 'http:' || url.protocol === 'https:'
    ? undefined
    : `uses ${url.protocol}; only http: and https: URLs are downloaded`;
}

function refused(message: string): BlockingCohortError {
  return new BlockingCohortError('source_url_refused', message);
}

/**
 * A download that may work if tried again (a timeout, a reset, a 5xx): a cohort's job retries it; a
 * dry run, which cannot wait, reports `problem` as source_download_failed.
 */
export class TransientDownloadError extends Error {
  constructor(readonly problem: string) {
    super(`${problem}; will retry.`);
    this.name = 'TransientDownloadError';
  }
}

function failed(message: string, details: unknown = null): BlockingCohortError {
  return new BlockingCohortError('source_download_failed', message, details);
}

const ALLOWLIST_HINT =
  'Roster only downloads from public addresses (an operator can list trusted hosts in ROSTER_URL_SOURCE_ALLOW_HOSTS).';

/** Refuses a hop before any connection: a scheme other than http(s), or an IP literal that is not public. */
function checkTarget(url: URL, allowHosts: readonly string[], hop: number): void {
  const where = hop === 0 ? 'The source URL' : `The source URL redirects to ${redactUrl(url)}, which`;
  const badScheme = schemeRefusal(url);
  if (badScheme !== undefined) throw refused(`${where} ${badScheme}.`);
  const host = hostOf(url);
  if (net.isIP(host) === 0 || allowHosts.includes(host)) return;
  const reason = addressRefusal(host);
  if (reason !== undefined) throw refused(`${where} names ${reason}; ${ALLOWLIST_HINT}`);
}

/** One GET, answered once the status line and headers are in. */
function get(url: URL, trusted: boolean, signal: AbortSignal): Promise<IncomingMessage> {
  const options: http.RequestOptions = {
    method: 'GET',
    agent: false,
    signal,
    headers: {
      accept: 'text/csv, text/plain;q=0.9, */*;q=0.5',
      'accept-encoding': 'gzip, deflate, br',
      'user-agent': 'Roster cohort download',
    },
    ...(trusted
      ? {}
      : {
          lookup: guardedLookup((hostname, reason) =>
            refused(`The source URL's host ${hostname} resolves to ${reason}; ${ALLOWLIST_HINT}`),
          ),
        }),
  };
  return new Promise((resolve, reject) => {
    const request =
      url.protocol === 'https:' ? https.request(url, options, resolve) : http.request(url, options, resolve);
    request.on('error', reject);
    request.end();
  });
}

/** Follows redirects by hand, re-checking every hop; answers the first 2xx response. */
async function follow(
  start: URL,
  allowHosts: readonly string[],
  signal: AbortSignal,
  onHop: (url: URL) => void,
): Promise<IncomingMessage> {
  let url = start;
  for (let hop = 0; ; hop++) {
    onHop(url);
    checkTarget(url, allowHosts, hop);
    const response = await get(url, allowHosts.includes(hostOf(url)), signal);
    const status = response.statusCode ?? 0;
    if (status >= 200 && status < 300) return response;
    response.destroy();
    if (REDIRECT_STATUSES.has(status)) {
      if (hop === MAX_REDIRECTS)
        throw refused(
          `The source URL redirects more than ${MAX_REDIRECTS} times (the last hop was ${redactUrl(url)}); give the file's final URL.`,
        );
      const location = response.headers.location;
      try {
        if (location === undefined) throw new Error('no Location');
        url = new URL(location, url);
      } catch {
        throw failed(`${redactUrl(url)} answered HTTP ${status} without a usable Location header.`, { status });
      }
      continue;
    }
    const answer = `${redactUrl(url)} answered HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`;
    if (status >= 500 || TRANSIENT_STATUSES.has(status))
      throw new TransientDownloadError(`Downloading the cohort file failed: ${answer}`);
    throw failed(
      `Downloading the cohort file failed: ${answer}. Check that the URL is complete and has not expired (pre-signed URLs do), then create the cohort again.`,
      { status },
    );
  }
}

/** Counts bytes through and stops the stream once there are more than `max`. */
class ByteLimit extends Transform {
  private seen = 0;

  constructor(
    private readonly max: number,
    private readonly tooLarge: () => Error,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) done(this.tooLarge());
    else done(null, chunk);
  }
}

function decoderFor(contentEncoding: string | undefined, url: URL): Transform | undefined {
  const name = (contentEncoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity' || name === '') return undefined;
  if (name === 'gzip' || name === 'x-gzip') return zlib.createGunzip();
  if (name === 'deflate') return zlib.createInflate();
  if (name === 'br') return zlib.createBrotliDecompress();
  throw failed(
    `${redactUrl(url)} is served with Content-Encoding "${name}", which Roster cannot read; serve the CSV uncompressed or gzip-encoded.`,
  );
}

/** Where a download goes: the blob store for a cohort, a private temporary file for a dry run. */
export type DownloadSink<T extends { bytes: number }> = (body: Readable) => Promise<T>;

/** Streams a 2xx body (decompressed, size-capped, encoding sniffed) into the sink. */
async function store<T extends { bytes: number }>(
  deps: CohortDeps,
  response: IncomingMessage,
  url: URL,
  sink: DownloadSink<T>,
): Promise<{ stored: T; encoding: FileEncoding }> {
  const max = deps.config.cohorts.maxUploadBytes;
  const tooLarge = () =>
    new BlockingCohortError(
      'file_too_large',
      `The file at ${redactUrl(url)} is larger than ${max} bytes (ROSTER_MAX_UPLOAD_BYTES); split it into several cohorts.`,
      { max_bytes: max },
    );
  let decoder: Transform | undefined;
  try {
    decoder = decoderFor(response.headers['content-encoding'], url);
  } catch (error) {
    response.destroy();
    throw error;
  }
  const declared = Number(response.headers['content-length'] ?? Number.NaN);
  if (decoder === undefined && Number.isFinite(declared) && declared > max) {
    response.destroy();
    throw tooLarge();
  }
  const sniffer = new EncodingSniffer();
  const stages = decoder
    ? [response, decoder, new ByteLimit(max, tooLarge), sniffer]
    : [response, new ByteLimit(max, tooLarge), sniffer];
  const [piped, stored] = await Promise.allSettled([pipeline(stages), sink(sniffer)]);
  // The download's own failure (too large, cut off) explains more than the store's "premature close".
  if (piped.status === 'rejected' && !(stored.status === 'rejected' && isPrematureClose(piped.reason)))
    throw piped.reason;
  if (stored.status === 'rejected') throw stored.reason;
  return { stored: stored.value, encoding: sniffer.encoding };
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** Turns what went wrong into a cohort failure (BlockingCohortError) or a plain Error the job runner retries. */
function classify(
  error: unknown,
  url: URL,
  deadline: AbortSignal,
  job: AbortSignal | undefined,
  timeoutMs: number,
): unknown {
  // Already said in full where it happened (a refusal, an answer's status).
  if (error instanceof BlockingCohortError || error instanceof TransientDownloadError) return error;
  if (job?.aborted) return job.reason instanceof Error ? job.reason : error;
  if (deadline.aborted)
    return new TransientDownloadError(
      `Downloading ${redactUrl(url)} took longer than ${timeoutMs} ms (ROSTER_URL_SOURCE_TIMEOUT_MS)`,
    );
  const code = (error as { code?: string } | null)?.code;
  if (code === 'ENOTFOUND')
    return failed(`The source URL's host ${hostOf(url)} does not resolve (DNS: not found); check the URL.`);
  if (code !== undefined && TLS_ERROR.test(code))
    return failed(
      `The TLS certificate of ${hostOf(url)} is not accepted (${code}); serve the file with a valid certificate.`,
      { tls_error: code },
    );
  // Only the code and the redacted URL: a system error's message may quote the request.
  return new TransientDownloadError(
    `Downloading ${redactUrl(url)} failed (${code ?? (error as Error | null)?.name ?? 'network error'})`,
  );
}

/**
 * Downloads `url` into `sink`, streaming (never holding the file), and reports what the sink kept and
 * the text encoding. Refusals, 4xx answers and oversize files throw BlockingCohortError (the cohort
 * fails); timeouts, resets and 5xx answers throw a TransientDownloadError so the job runner retries.
 */
export async function downloadTo<T extends { bytes: number }>(
  deps: CohortDeps,
  url: string,
  sink: DownloadSink<T>,
  signal?: AbortSignal,
): Promise<{ stored: T; encoding: FileEncoding }> {
  const { timeoutMs, allowHosts } = deps.config.urlSource;
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw refused('The source URL is not a valid absolute URL.');
  }
  const deadline = AbortSignal.timeout(timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  try {
    const response = await follow(current, allowHosts, abort, (hop) => (current = hop));
    return await store(deps, response, current, sink);
  } catch (error) {
    throw classify(error, current, deadline, signal, timeoutMs);
  }
}

/** Downloads `url` into the blob `key` (a cohort's file): its size and text encoding. */
export async function downloadToBlob(
  deps: CohortDeps,
  url: string,
  key: string,
  signal?: AbortSignal,
): Promise<{ bytes: number; encoding: FileEncoding }> {
  const { stored, encoding } = await downloadTo(deps, url, (body) => deps.blobs.put(key, body), signal);
  return { bytes: stored.bytes, encoding };
}
