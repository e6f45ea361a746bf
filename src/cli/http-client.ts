import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { type FormPart, multipartBody } from './multipart-body.js';

export interface ClientOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** An error answer from the server, carrying its envelope; status 0 when no answer came. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
    /** The server's answer as sent, for `--json`; null when there was none. */
    readonly body: unknown = null,
    /** How long the server asked to wait before trying again (its Retry-After), when it said. */
    readonly retryAfterMs: number | undefined = undefined,
  ) {
    super(message);
  }
}

/** Retry-After as milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** Give up on an answer that has not come (headers, then each gap in the body) within this long: status 0. */
  timeoutMs?: number;
}

export interface ApiClient {
  request<T = unknown>(method: Method, path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** Posts a multipart form, streaming its files; `onFileBytes` hears of each chunk of file sent. */
  upload<T = unknown>(
    path: string,
    parts: FormPart[],
    onFileBytes?: (bytes: number) => void,
    headers?: Record<string, string>,
  ): Promise<T>;
  /** Starts a GET whose body is a file, answering the body unread; an error answer throws before any byte is handed over. */
  download(path: string): Promise<Readable>;
}

/** `?a=1&b=2` from the values that are set, or '' when none is. */
export function queryString(values: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) query.set(name, String(value));
  return query.size > 0 ? `?${query.toString()}` : '';
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/** The code, message and details of either envelope: the cohort vendor's `{error}`, or the batch vendor's on /api/call. */
function envelopeOf(parsed: unknown): { code?: string; message?: string; details?: unknown } | undefined {
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const cohort = (parsed as { error?: { code?: string; message?: string; data?: { details?: unknown } } }).error;
  if (cohort) return { code: cohort.code, message: cohort.message, details: cohort.data?.details };
  const batch = parsed as { status?: unknown; errorMessage?: string; data?: { code?: string; details?: unknown } };
  if (batch.status === false && batch.data?.code)
    return { code: batch.data.code, message: batch.errorMessage, details: batch.data.details };
  return undefined;
}

function errorFrom(status: number, parsed: unknown, headers: Record<string, string | string[] | undefined>): ApiError {
  const envelope = envelopeOf(parsed);
  return new ApiError(
    status,
    envelope?.code ?? 'http_error',
    envelope?.message ?? `HTTP ${status}`,
    envelope?.details ?? null,
    typeof parsed === 'object' ? parsed : null,
    retryAfterMs(headers['retry-after']),
  );
}

/** Reads --url/--api-key from the command (or its parents), then ROSTER_URL/ROSTER_API_KEY. */
export function clientFrom(command: Command): ApiClient {
  const options = command.optsWithGlobals<ClientOptions>();
  const base = (options.url ?? process.env.ROSTER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const apiKey = options.apiKey ?? process.env.ROSTER_API_KEY;

  async function call(
    method: Method,
    path: string,
    headers: Record<string, string>,
    body?: string | Readable,
    options: RequestOptions = {},
  ) {
    if (!apiKey) throw new ApiError(0, 'missing_api_key', 'No API key: set ROSTER_API_KEY or pass --api-key.', null);
    const timeouts =
      options.timeoutMs === undefined ? {} : { headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs };
    // undici (~5 MB of heap) loads with the first call: `roster serve` and `roster worker` never make one.
    const { request: send } = await import('undici');
    try {
      return await send(`${base}${path}`, { method, headers: { 'x-api-key': apiKey, ...headers }, body, ...timeouts });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause;
      throw new ApiError(
        0,
        'connection_failed',
        `Cannot reach ${base}: ${cause?.message ?? (error as Error).message}`,
        null,
      );
    }
  }

  async function answer<T>(response: Awaited<ReturnType<typeof call>>): Promise<T> {
    // A server that stops while it sends its answer is as unreachable as one that never answered.
    const text = await response.body.text().catch((error: Error) => {
      throw new ApiError(
        0,
        'connection_failed',
        `Lost the connection to ${base} while reading its answer: ${error.message}`,
        null,
      );
    });
    const parsed = parseJson(text);
    if (response.statusCode >= 400) throw errorFrom(response.statusCode, parsed, response.headers);
    return parsed as T;
  }

  return {
    async request<T>(method: Method, path: string, body?: unknown, options?: RequestOptions): Promise<T> {
      const json = body === undefined ? undefined : JSON.stringify(body);
      return answer<T>(
        await call(method, path, json === undefined ? {} : { 'content-type': 'application/json' }, json, options),
      );
    },

    async upload<T>(
      path: string,
      parts: FormPart[],
      onFileBytes?: (bytes: number) => void,
      headers: Record<string, string> = {},
    ): Promise<T> {
      const form = await multipartBody(parts, onFileBytes);
      return answer<T>(
        await call(
          'POST',
          path,
          { ...headers, 'content-type': form.contentType, 'content-length': String(form.length) },
          form.stream,
        ),
      );
    },

    async download(path: string): Promise<Readable> {
      const response = await call('GET', path, {});
      if (response.statusCode >= 400)
        throw errorFrom(response.statusCode, parseJson(await response.body.text()), response.headers);
      return response.body;
    },
  };
}
