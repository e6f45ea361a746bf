import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import {
  type DeliveryView,
  getWebhook,
  listDeliveries,
  listWebhooks,
  resendDelivery,
  sendTestEvent,
  TEST_EVENT,
} from '../../services/webhooks/webhook-service.js';
import type { ConsoleDeps } from './console-plugin.js';
import {
  csrfField,
  dateTime,
  definitionList,
  errorBox,
  page,
  pager,
  sendPage,
  statusBadge,
  workspaceBase,
} from './console-layout.js';
import { sessionOf } from './console-request.js';
import { PageQuery, TokenBody, WorkspaceParams } from './console-schemas.js';
import { html, path, query, type Html } from './html.js';
import { pageParams, workspaceOf } from './workspace-pages.js';

const WebhookParams = Type.Composite([WorkspaceParams, Type.Object({ webhook_id: Type.String() })]);
const DeliveryParams = Type.Composite([WebhookParams, Type.Object({ delivery_id: Type.String() })]);
/** What sending a test event redirects to the list with, for its notice. */
const WebhooksQuery = Type.Object({ tested: Type.Optional(Type.String()) });
/** What a resend redirects to the deliveries with, for its notice. */
const DeliveriesQuery = Type.Composite([PageQuery, Type.Object({ resent: Type.Optional(Type.String()) })]);
type DeliveriesQuery = Static<typeof DeliveriesQuery>;

type WorkspaceScope = { orgId: string; workspaceId: string };

function webhooksUrl(scope: WorkspaceScope): string {
  return `${workspaceBase(scope)}/webhooks`;
}

function deliveriesUrl(scope: WorkspaceScope, webhookId: string): string {
  return `${webhooksUrl(scope)}${path`/${webhookId}/deliveries`}`;
}

/** One attempt: its time, and the receiver's status or why it failed (whose text already holds a non-2xx status). */
function attemptLine(attempt: DeliveryView['attempts'][number]): Html {
  const outcome = attempt.error ?? (attempt.status_code === null ? '' : `HTTP ${attempt.status_code}`);
  return html`<li value="${attempt.attempt}">${dateTime(attempt.started_at)} ${outcome} <span class="hint">${attempt.duration_ms} ms</span></li>`;
}

/** A workspace's webhooks (as the API lists them), a test event on demand, and each webhook's deliveries with resend. */
export async function webhookPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const deps = options.deps.webhooks;
  const base = '/orgs/:org_id/workspaces/:workspace_id/webhooks';
  type DeliveriesRequest = FastifyRequest & { params: Static<typeof WebhookParams>; query: DeliveriesQuery };

  app.get(base, { schema: { params: WorkspaceParams, querystring: WebhooksQuery } }, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const webhooks = await listWebhooks(deps, scope.orgId, scope.workspaceId);
    const url = webhooksUrl(scope);
    // Only a webhook of this list is named in the notice: an old or made-up link shows none.
    const tested = webhooks.find((w) => w.webhook_id === request.query.tested);
    const notice = tested
      ? html`<div class="notice" role="status">A ${TEST_EVENT} event is on its way to <code>${tested.url}</code>: see <a href="${deliveriesUrl(scope, tested.webhook_id)}">its deliveries</a>.</div>`
      : '';
    const body = html`${notice}
<p>Each event a webhook subscribes to is POSTed to its URL, signed with its secret, and retried until the receiver answers with a 2xx or the retry window ends. Webhooks are created and deleted through the API (<code>POST /v1/orgs/${scope.orgId}/workspaces/${scope.workspaceId}/webhooks</code>).</p>
<div class="table-wrap"><table>
  <caption>Webhooks of workspace ${scope.workspaceId}</caption>
  <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Created</th><th scope="col">Secret</th><th scope="col">Actions</th></tr></thead>
  <tbody>${webhooks.map(
    (
      w,
    ) => html`<tr><th scope="row"><code>${w.url}</code></th><td>${w.events.join(', ')}</td><td>${dateTime(w.created_at)}</td><td><code>${w.secret_hint}</code></td>
      <td><div class="actions"><a href="${deliveriesUrl(scope, w.webhook_id)}" aria-label="Deliveries to ${w.url}">Deliveries</a>
      <form method="post" action="${url}${path`/${w.webhook_id}/test`}">${csrfField(session)}<button type="submit" class="secondary" aria-label="Send test event to ${w.url}">Send test event</button></form></div></td></tr>`,
  )}</tbody>
</table></div>
${webhooks.length === 0 ? html`<p>No webhooks yet.</p>` : ''}`;
    return sendPage(reply, page({ title: 'Webhooks', session, scope, body }));
  });

  async function deliveriesPage(
    request: DeliveriesRequest,
    reply: FastifyReply,
    notice: Html = html``,
    status = 200,
  ): Promise<FastifyReply> {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const webhookId = request.params.webhook_id;
    const { offset, limit } = pageParams(request.query);
    // A webhook of another workspace is not found, as in the API.
    const webhook = await getWebhook(deps, scope.orgId, scope.workspaceId, webhookId);
    const deliveries = await listDeliveries(deps, scope.orgId, scope.workspaceId, webhookId, { offset, limit });
    const url = deliveriesUrl(scope, webhookId);
    const body = html`${notice}
${definitionList([
  ['URL', html`<code>${webhook.url}</code>`],
  ['Events', webhook.events.join(', ')],
  ['Secret', html`<code>${webhook.secret_hint}</code>`],
  ['Created', dateTime(webhook.created_at)],
])}
<p><a href="${webhooksUrl(scope)}">All webhooks of the workspace</a></p>
<div class="table-wrap"><table>
  <caption>Deliveries, newest first</caption>
  <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Next attempt</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
  <tbody>${deliveries.items.map(
    (d) => html`<tr><th scope="row">${d.event_type} <code>${d.event_id}</code></th><td>${statusBadge(d.status)}</td>
      <td>${d.attempts.length === 0 ? 'none yet' : html`<ol class="attempts">${d.attempts.map(attemptLine)}</ol>`}</td>
      <td>${d.next_attempt_at === null ? '' : dateTime(d.next_attempt_at)}</td><td>${dateTime(d.created_at)}</td>
      <td>${
        d.status === 'pending'
          ? ''
          : html`<form method="post" action="${url}${path`/${d.delivery_id}/resend`}">${csrfField(session)}<button type="submit" class="secondary" aria-label="Resend ${d.event_type} ${d.event_id}">Resend</button></form>`
      }</td></tr>`,
  )}</tbody>
</table></div>
${deliveries.total === 0 ? html`<p>No deliveries yet: send a test event from the <a href="${webhooksUrl(scope)}">webhooks</a> page.</p>` : ''}
${pager(url, {}, offset, limit, deliveries.total)}`;
    return sendPage(reply, page({ title: 'Webhook deliveries', session, scope, body }), status);
  }

  app.get(
    `${base}/:webhook_id/deliveries`,
    { schema: { params: WebhookParams, querystring: DeliveriesQuery } },
    async (request, reply) => {
      // Only a delivery id is echoed in the notice, so a made-up link cannot put words in the page.
      const resent = /^whd_[0-9a-f]{32}$/.test(request.query.resent ?? '') ? request.query.resent : undefined;
      const notice = resent
        ? html`<div class="notice" role="status">Delivery <code>${resent}</code> is being sent again.</div>`
        : undefined;
      return deliveriesPage(request, reply, notice);
    },
  );

  app.post(
    `${base}/:webhook_id/test`,
    { schema: { params: WebhookParams, body: TokenBody } },
    async (request, reply) => {
      const scope = workspaceOf(request);
      const webhookId = request.params.webhook_id;
      await sendTestEvent(deps, scope.orgId, scope.workspaceId, webhookId);
      return reply.redirect(`${webhooksUrl(scope)}${query({ tested: webhookId })}`, 303);
    },
  );

  app.post(
    `${base}/:webhook_id/deliveries/:delivery_id/resend`,
    { schema: { params: DeliveryParams, querystring: DeliveriesQuery, body: TokenBody } },
    async (request, reply) => {
      const scope = workspaceOf(request);
      const { webhook_id: webhookId, delivery_id: deliveryId } = request.params;
      try {
        await resendDelivery(deps, scope.orgId, scope.workspaceId, webhookId, deliveryId);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'delivery_pending') throw error;
        return deliveriesPage(request, reply, errorBox(error.message), error.statusCode);
      }
      return reply.redirect(`${deliveriesUrl(scope, webhookId)}${query({ resent: deliveryId })}`, 303);
    },
  );
}
