// The deliver_webhook task: one POST of one delivery per job. A failed POST (not 2xx, a timeout, a
// refused address) is recorded and a new job is queued for the next try, with exponential backoff,
// until ROSTER_WEBHOOK_RETRY_HOURS after the first; the attempt, the delivery's state and the next
// job are one write. A process that dies mid-POST leaves its job to the runner, which tries again:
// deliveries are at least once, and receivers tell repeats apart by the event id.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { enqueue } from '../../queue/runner.js';
import type { TaskDefinition } from '../../queue/tasks.js';
import * as hooks from '../../storage/repositories/webhooks-repository.js';
import { guardedLookup, hostOf } from '../public-address.js';
import type { WebhookDeps } from './webhook-service.js';

/** How long a receiver has to answer (headers), after which the attempt counts as failed. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** The longest wait between two tries. */
const MAX_RETRY_WAIT_MS = 3_600_000;
/** How much of a receiver's answer an attempt keeps in its error. */
const KEPT_ANSWER_CHARS = 200;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook's secret>`. */
export function signature(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

interface PostResult {
  statusCode: number | null;
  error: string | null;
}

/** One POST, public addresses only unless the host is allowed; never follows a redirect. */
function post(url: URL, body: string, headers: Record<string, string>, allowHosts: readonly string[]) {
  return new Promise<PostResult>((resolve) => {
    const trusted = allowHosts.includes(hostOf(url));
    const options: http.RequestOptions = {
      method: 'POST',
      agent: false,
      timeout: DELIVERY_TIMEOUT_MS,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      ...(trusted
        ? {}
        : {
            lookup: guardedLookup(
              (hostname, reason) => new Error(`${hostname} resolves to ${reason}; Roster only calls public addresses`),
            ),
          }),
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      let answer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (answer.length < KEPT_ANSWER_CHARS) answer += chunk;
      });
      response.on('error', () => undefined);
      response.on('end', () => {
        const code = response.statusCode ?? 0;
        const ok = code >= 200 && code < 300;
        resolve({
          statusCode: code,
          error: ok ? null : `the receiver answered ${code}${answer ? `: ${answer.slice(0, KEPT_ANSWER_CHARS)}` : ''}`,
        });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${DELIVERY_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => resolve({ statusCode: null, error: error.message }));
    request.end(body);
  });
}

/** The wait before try `attempt + 1`: the base, doubling, at most an hour. */
export function retryWait(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempt - 1, 30), MAX_RETRY_WAIT_MS);
}

export function deliverWebhookTask(deps: WebhookDeps): TaskDefinition<'deliver_webhook'> {
  return {
    run: async ({ deliveryId }, context) => {
      const delivery = await hooks.findDelivery(deps.db, deliveryId);
      if (delivery?.status !== 'pending') return;
      const webhook = await hooks.findWebhookById(deps.db, delivery.webhook_id);
      if (!webhook) return;
      const started = deps.now();
      const timestamp = Math.floor(started.getTime() / 1000);
      const result = await post(
        new URL(webhook.url),
        delivery.body,
        {
          'content-type': 'application/json',
          'user-agent': 'Roster-Webhooks/1',
          'roster-event-id': delivery.event_id,
          'roster-event-type': delivery.event_type,
          'roster-delivery-id': delivery.delivery_id,
          'roster-signature': signature(webhook.secret, timestamp, delivery.body),
        },
        deps.config.urlSource.allowHosts,
      );
      const finished = deps.now();
      const attempt = Number(delivery.attempts) + 1;
      const firstAt = delivery.first_attempt_at ?? started.toISOString();
      const succeeded = result.error === null;
      const nextAt = new Date(finished.getTime() + retryWait(deps.config.webhooks.retryBaseMs, attempt));
      const retry = !succeeded && nextAt.getTime() - Date.parse(firstAt) <= deps.config.webhooks.retryWindowMs;
      await context.fence.complete('recording the webhook delivery attempt', async (trx) => {
        await hooks.insertAttempt(trx, {
          delivery_id: deliveryId,
          attempt,
          started_at: started.toISOString(),
          duration_ms: finished.getTime() - started.getTime(),
          status_code: result.statusCode,
          error: result.error,
        });
        await hooks.updateDelivery(trx, deliveryId, {
          status: succeeded ? 'succeeded' : retry ? 'pending' : 'failed',
          attempts: attempt,
          first_attempt_at: firstAt,
          next_attempt_at: retry ? nextAt.toISOString() : null,
          last_status_code: result.statusCode,
          last_error: result.error,
          updated_at: finished.toISOString(),
        });
        if (retry)
          await enqueue(trx, 'deliver_webhook', { deliveryId }, deps.config.jobs.maxAttempts, finished, nextAt);
      });
    },
    // Every attempt of the job died with its process: the delivery ends failed, and can be resent.
    fail: async (trx, { deliveryId }, failure) => {
      await hooks.updateDelivery(trx, deliveryId, {
        status: 'failed',
        next_attempt_at: null,
        last_error: failure.lastError ?? 'the delivery job failed',
        updated_at: new Date().toISOString(),
      });
    },
  };
}
