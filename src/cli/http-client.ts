import type { Command } from 'commander';

export interface ClientOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** An error answer from the server, carrying its envelope. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }
}

export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Reads --url/--api-key from the command (or its parents), then ROSTER_URL/ROSTER_API_KEY. */
export function clientFrom(command: Command): ApiClient {
  const options = command.optsWithGlobals<ClientOptions>();
  const base = (options.url ?? process.env.ROSTER_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const apiKey = options.apiKey ?? process.env.ROSTER_API_KEY;
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      if (!apiKey) throw new ApiError(0, 'missing_api_key', 'No API key: set ROSTER_API_KEY or pass --api-key.', null);
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { 'x-api-key': apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).catch((error: unknown) => {
        throw new ApiError(0, 'connection_failed', `Cannot reach ${base}: ${(error as Error).cause ? String((error as Error & { cause: Error }).cause.message) : String(error)}`, null);
      });
      const text = await response.text();
      const parsed: unknown = text ? JSON.parse(text) : null;
      if (!response.ok) {
        const envelope = (parsed as { error?: { code?: string; message?: string; data?: { details?: unknown } } } | null)?.error;
        throw new ApiError(response.status, envelope?.code ?? 'http_error', envelope?.message ?? `HTTP ${response.status}`, envelope?.data?.details ?? null);
      }
      return parsed as T;
    },
  };
}
