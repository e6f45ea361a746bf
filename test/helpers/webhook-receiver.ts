import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyRosterSignature } from '../../examples/verify-webhook.mjs';

export interface Received {
  method: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Whether the documented snippet (examples/verify-webhook.mjs) verifies its signature. */
  verified: boolean;
}

/** A delivery as `GET …/webhooks/{id}/deliveries` lists it. */
export interface Delivery {
  delivery_id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: Array<{ attempt: number; status_code: number | null; error: string | null }>;
  next_attempt_at: string | null;
  event: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

/**
 * A webhook receiver on 127.0.0.1 that keeps every request and answers each with the next status of
 * `answers`, then 200; `secret()` is the webhook's secret when the request comes.
 */
export async function webhookReceiver(secret: () => string = () => '', answers: number[] = []) {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({
        method: request.method,
        headers: request.headers,
        body,
        verified: verifyRosterSignature(secret(), request.headers['roster-signature'], body),
      });
      response.writeHead(answers.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `read` until it answers something, for at most `timeoutMs`. */
export async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
