// Webhooks (#17): a workspace subscribes a URL to events; each event becomes one delivery per
// subscribed webhook, written in the transaction that changed the state it announces, and sent by a
// deliver_webhook job of the runner (webhook-delivery.ts), so a delivery never holds up what made it.
import { randomBytes, randomUUID } from 'node:crypto';
import dns from 'node:dns/promises';
import net from 'node:net';
import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import { enqueue } from '../../queue/runner.js';
import type { PageRequest } from '../../storage/repositories/paging.js';
import * as hooks from '../../storage/repositories/webhooks-repository.js';
import { findWorkspace } from '../../storage/repositories/workspaces-repository.js';
import type { Database } from '../../storage/schema.js';
import { addressRefusal, hostOf } from '../public-address.js';

type Db = Kysely<Database>;

import { WEBHOOK_EVENTS, type WebhookEventType } from '../../domain/webhooks/webhook-events.js';

export { WEBHOOK_EVENTS, type WebhookEventType };
/** What `POST …/webhooks/{id}/test` sends, whatever the webhook subscribes to. */
export const TEST_EVENT = 'webhook.test';

export interface WebhookDeps {
  db: Db;
  config: Config;
  now: () => Date;
  /** Tells the in-process runner that a delivery is waiting (no-op with separate workers). */
  notifyWorkers: () => void;
}

export interface WebhookView {
  webhook_id: string;
  url: string;
  events: string[];
  created_at: string;
  /** The secret's last four characters, to tell secrets apart. */
  secret_hint: string;
}

export interface DeliveryView {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: Array<{
    attempt: number;
    started_at: string;
    duration_ms: number;
    status_code: number | null;
    error: string | null;
  }>;
  next_attempt_at: string | null;
  created_at: string;
  /** The event as sent: {id, type, created_at, data}. */
  event: unknown;
}

function webhookView(row: hooks.WebhookRow): WebhookView {
  return {
    webhook_id: row.webhook_id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    created_at: row.created_at,
    secret_hint: `…${row.secret.slice(-4)}`,
  };
}

function refusedUrl(reason: string): AppError {
  return new AppError('webhook_url_refused', `The webhook URL ${reason}.`, [{ field: '/body/url', message: reason }]);
}

/**
 * The rules of URL cohorts: http(s) only, and a host whose every address is public (after DNS), unless
 * the operator listed the host in ROSTER_URL_SOURCE_ALLOW_HOSTS. Checked again at each delivery.
 */
export async function checkWebhookUrl(text: string, allowHosts: readonly string[]): Promise<URL> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refusedUrl('is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refusedUrl(`uses ${url.protocol}; only http: and https: URLs are called`);
  if (url.username !== '' || url.password !== '') throw refusedUrl('holds a user name or password');
  const host = hostOf(url);
  if (allowHosts.includes(host)) return url;
  const addresses =
    net.isIP(host) !== 0
      ? [host]
      : await dns.lookup(host, { all: true }).then(
          (found) => found.map((a) => a.address),
          () => {
            throw refusedUrl(`names ${host}, which does not resolve`);
          },
        );
  for (const address of addresses) {
    const reason = addressRefusal(address);
    if (reason !== undefined)
      throw refusedUrl(
        `names ${reason}${address === host ? '' : ` (${host} resolves to ${address})`}; Roster only calls public addresses (an operator can list trusted hosts in ROSTER_URL_SOURCE_ALLOW_HOSTS)`,
      );
  }
  return url;
}

async function requireWorkspaceRow(deps: WebhookDeps, orgId: string, workspaceId: string): Promise<void> {
  if (!(await findWorkspace(deps.db, orgId, workspaceId)))
    throw new AppError('not_found', `Workspace '${workspaceId}' not found.`);
}

async function requireWebhook(deps: WebhookDeps, orgId: string, workspaceId: string, webhookId: string) {
  const row = await hooks.findWebhook(deps.db, orgId, workspaceId, webhookId);
  if (!row) throw new AppError('not_found', `Webhook '${webhookId}' not found in workspace '${workspaceId}'.`);
  return row;
}

/** Creates a webhook; the answer holds its secret, which is not shown again. */
export async function createWebhook(
  deps: WebhookDeps,
  orgId: string,
  workspaceId: string,
  input: { url: string; events: string[]; secret?: string | undefined },
): Promise<WebhookView & { secret: string }> {
  await requireWorkspaceRow(deps, orgId, workspaceId);
  const url = await checkWebhookUrl(input.url, deps.config.urlSource.allowHosts);
  const secret = input.secret ?? `whsec_${randomBytes(24).toString('base64url')}`;
  const row: hooks.WebhookRow = {
    webhook_id: `wh_${randomUUID().replaceAll('-', '')}`,
    org_id: orgId,
    workspace_id: workspaceId,
    url: url.toString(),
    events: JSON.stringify([...new Set(input.events)]),
    secret,
    created_at: deps.now().toISOString(),
  };
  await hooks.insertWebhook(deps.db, row);
  return { ...webhookView(row), secret };
}

export async function listWebhooks(deps: WebhookDeps, orgId: string, workspaceId: string): Promise<WebhookView[]> {
  await requireWorkspaceRow(deps, orgId, workspaceId);
  return (await hooks.listWebhooks(deps.db, orgId, workspaceId)).map(webhookView);
}

export async function getWebhook(deps: WebhookDeps, orgId: string, workspaceId: string, webhookId: string) {
  return webhookView(await requireWebhook(deps, orgId, workspaceId, webhookId));
}

export async function deleteWebhook(deps: WebhookDeps, orgId: string, workspaceId: string, webhookId: string) {
  if (!(await hooks.deleteWebhook(deps.db, orgId, workspaceId, webhookId)))
    throw new AppError('not_found', `Webhook '${webhookId}' not found in workspace '${workspaceId}'.`);
}

function deliveryView(row: hooks.DeliveryRow, attempts: hooks.AttemptRow[]): DeliveryView {
  return {
    delivery_id: row.delivery_id,
    webhook_id: row.webhook_id,
    event_id: row.event_id,
    event_type: row.event_type,
    status: row.status,
    attempts: attempts.map((a) => ({
      attempt: Number(a.attempt),
      started_at: a.started_at,
      duration_ms: Number(a.duration_ms),
      status_code: a.status_code === null ? null : Number(a.status_code),
      error: a.error,
    })),
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
    created_at: row.created_at,
    event: JSON.parse(row.body) as unknown,
  };
}

/** A webhook's deliveries, newest first, each with its attempts. */
export async function listDeliveries(
  deps: WebhookDeps,
  orgId: string,
  workspaceId: string,
  webhookId: string,
  page: PageRequest,
): Promise<{ items: DeliveryView[]; total: number }> {
  await requireWebhook(deps, orgId, workspaceId, webhookId);
  const found = await hooks.listDeliveries(deps.db, webhookId, page);
  const attempts = await hooks.attemptsOf(
    deps.db,
    found.rows.map((row) => row.delivery_id),
  );
  return {
    items: found.rows.map((row) =>
      deliveryView(
        row,
        attempts.filter((a) => a.delivery_id === row.delivery_id),
      ),
    ),
    total: found.total,
  };
}

interface NewEvent {
  orgId: string;
  workspaceId: string;
  type: string;
  /** The resource as its GET answers it. */
  data: unknown;
}

/** One delivery of an event to a webhook, and the job that sends it, in the caller's transaction. */
async function queueDelivery(
  trx: Db,
  webhookId: string,
  event: { id: string; type: string; body: string; at: string },
  maxAttempts: number,
): Promise<string> {
  const deliveryId = `whd_${randomUUID().replaceAll('-', '')}`;
  await hooks.insertDelivery(trx, {
    delivery_id: deliveryId,
    webhook_id: webhookId,
    event_id: event.id,
    event_type: event.type,
    body: event.body,
    status: 'pending',
    attempts: 0,
    first_attempt_at: null,
    next_attempt_at: new Date().toISOString(),
    last_status_code: null,
    last_error: null,
    created_at: event.at,
    updated_at: event.at,
  });
  // Jobs run by the runner's clock, which is the real one.
  await enqueue(trx, 'deliver_webhook', { deliveryId }, maxAttempts);
  return deliveryId;
}

function eventBody(type: string, data: unknown, at: string): { id: string; type: string; body: string; at: string } {
  const id = `evt_${randomUUID().replaceAll('-', '')}`;
  return { id, type, at, body: JSON.stringify({ id, type, created_at: at, data }) };
}

/**
 * Announces an event to every webhook of its workspace that subscribes to it, inside `trx`: the
 * state change and its deliveries are one write, so an event is neither lost nor announced for a
 * change that rolled back. Answers how many deliveries were queued.
 */
export async function announce(trx: Db, event: NewEvent, maxAttempts: number, now = new Date()): Promise<number> {
  const subscribed = (await hooks.listWebhooks(trx, event.orgId, event.workspaceId)).filter((row) =>
    (JSON.parse(row.events) as string[]).includes(event.type),
  );
  if (subscribed.length === 0) return 0;
  const body = eventBody(event.type, event.data, now.toISOString());
  for (const row of subscribed) await queueDelivery(trx, row.webhook_id, body, maxAttempts);
  return subscribed.length;
}

/** Sends a `webhook.test` event to one webhook now, whatever it subscribes to. */
export async function sendTestEvent(deps: WebhookDeps, orgId: string, workspaceId: string, webhookId: string) {
  const row = await requireWebhook(deps, orgId, workspaceId, webhookId);
  const event = eventBody(
    TEST_EVENT,
    { webhook_id: row.webhook_id, message: 'A test event sent from Roster.' },
    deps.now().toISOString(),
  );
  const deliveryId = await deps.db
    .transaction()
    .execute((trx) => queueDelivery(trx, row.webhook_id, event, deps.config.jobs.maxAttempts));
  deps.notifyWorkers();
  return { delivery_id: deliveryId, event_id: event.id };
}

/** Sends a delivery again now (a new attempt, and retries from there); refused while it is still pending. */
export async function resendDelivery(
  deps: WebhookDeps,
  orgId: string,
  workspaceId: string,
  webhookId: string,
  deliveryId: string,
) {
  await requireWebhook(deps, orgId, workspaceId, webhookId);
  const now = deps.now().toISOString();
  const resent = await deps.db.transaction().execute(async (trx) => {
    const row = await hooks.findDelivery(trx, deliveryId);
    if (!row || row.webhook_id !== webhookId)
      throw new AppError('not_found', `Delivery '${deliveryId}' not found for webhook '${webhookId}'.`);
    if (row.status === 'pending')
      throw new AppError(
        'delivery_pending',
        `Delivery '${deliveryId}' is still pending: its next attempt is at ${row.next_attempt_at}.`,
      );
    const updated = await trx
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', first_attempt_at: null, next_attempt_at: new Date().toISOString(), updated_at: now })
      .where('delivery_id', '=', deliveryId)
      .where('status', '=', row.status)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0)
      throw new AppError('delivery_pending', `Delivery '${deliveryId}' is already being sent again.`);
    await enqueue(trx, 'deliver_webhook', { deliveryId }, deps.config.jobs.maxAttempts);
    return row;
  });
  deps.notifyWorkers();
  return { delivery_id: resent.delivery_id, status: 'pending' as const };
}
