import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { request as send } from 'undici';
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
  ) {
    super(message);
  }
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiClient {
  request<T = unknown>(method: Method, path: string, body?: unknown): Promise<T>;
  /** Posts a multipart form, streaming its files; `onFileBytes` hears of each chunk of file sent. */
  upload<T = unknown>(path: string, parts: FormPart[], onFileBytes?: (bytes: number) => void): Promise<T>;
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

function errorFrom(status: number, parsed: unknown): ApiError {
  const envelope = (parsed as { error?: { code?: string; message?: string; data?: { details?: unknown } } } | null)?.error;
  return new ApiError(status, envelope?.code ?? 'http_error', envelope?.message ?? `HTTP ${status}`, envelope?.data?.details ?? null, typeof parsed === 'object' ? parsed : null);
}

/** Reads --url/--api-key from the command (or its parents), then ROSTER_URL/ROSTER_API_KEY. */
export function clientFrom(command: Command): ApiClient {
  const options = command.optsWithGlobals<ClientOptions>();
  const base = (options.url ?? process.env.ROSTER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const apiKey = options.apiKey ?? process.env.ROSTER_API_KEY;

  async function call(method: Method, path: string, headers: Record<string, string>, body?: string | Readable) {
    if (!apiKey) throw new ApiError(0, 'missing_api_key', 'No API key: set ROSTER_API_KEY or pass --api-key.', null);
    try {
      return await send(`${base}${path}`, { method, headers: { 'x-api-key': apiKey, ...headers }, body });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause;
      throw new ApiError(0, 'connection_failed', `Cannot reach ${base}: ${cause?.message ?? (error as Error).message}`, null);
    }
  }

  async function answer<T>(response: Awaited<ReturnType<typeof call>>): Promise<T> {
    const parsed = parseJson(await response.body.text());
    if (response.statusCode >= 400) throw errorFrom(response.statusCode, parsed);
    return parsed as T;
  }

  return {
    async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
      const json = body === undefined ? undefined : JSON.stringify(body);
      return answer<T>(await call(method, path, json === undefined ? {} : { 'content-type': 'application/json' }, json));
    },

    async upload<T>(path: string, parts: FormPart[], onFileBytes?: (bytes: number) => void): Promise<T> {
      const form = await multipartBody(parts, onFileBytes);
      return answer<T>(await call('POST', path, { 'content-type': form.contentType, 'content-length': String(form.length) }, form.stream));
    },

    async download(path: string): Promise<Readable> {
      const response = await call('GET', path, {});
      if (response.statusCode >= 400) throw errorFrom(response.statusCode, parseJson(await response.body.text()));
      return response.body;
    },
  };
}
