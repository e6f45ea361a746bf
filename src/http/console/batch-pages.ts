import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ATTEMPT_OUTCOMES, maxAttempts } from '../../domain/scheduling/retry-policy.js';
import type { Principal } from '../../domain/tenancy/principal.js';
import { AppError } from '../../errors.js';
import { reachableBatch } from '../../services/batches/batch-access.js';
import { batchCalls, changeBatchStatus, listBatches } from '../../services/batches/batch-service.js';
import { batchUploadPages, DAYS } from './batch-upload-pages.js';
import type { ConsoleDeps } from './console-plugin.js';
import {
  batchUrl,
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
import { oneOf, sessionOf } from './console-request.js';
import {
  BatchCallsQuery,
  BatchDetailsQuery,
  BatchParams,
  PageQuery,
  TokenBody,
  WorkspaceParams,
} from './console-schemas.js';
import { dncPages } from './dnc-pages.js';
import { html, query, type Html } from './html.js';
import { pageParams, workspaceOf } from './workspace-pages.js';

const CALL_STATUSES = ['pending', 'in_progress', ...ATTEMPT_OUTCOMES];
const CALL_SORTS = ['createdAt', 'phoneNumber', 'callStatus', 'attempts'] as const;
const CALL_SORT_LABELS: Record<(typeof CALL_SORTS)[number], string> = {
  createdAt: 'Added',
  phoneNumber: 'Phone number',
  callStatus: 'Status',
  attempts: 'Attempts',
};
type WorkspaceScope = { orgId: string; workspaceId: string };

/** The same principal seeing only this workspace, so lists hold this workspace's batches alone. */
function withinWorkspace(principal: Principal, scope: WorkspaceScope): Principal {
  return principal.kind === 'key'
    ? { ...principal, workspaces: [scope.workspaceId] }
    : {
        kind: 'key',
        keyId: 'console',
        orgId: scope.orgId,
        userId: '',
        userEmail: 'admin',
        workspaces: [scope.workspaceId],
      };
}

/** Previous / next by page number, as the vendor's batch details page. */
function numberPager(
  base: string,
  params: Record<string, string | undefined>,
  pageNumber: number,
  pages: number,
  total: number,
): Html {
  const link = (n: number) => `${base}${query({ ...params, page: n })}`;
  return html`<nav class="pager" aria-label="Pages"><span>Page ${Math.min(pageNumber, Math.max(pages, 1))} of ${Math.max(pages, 1)} · ${total} calls</span>
    ${pageNumber > 1 ? html`<a rel="prev" href="${link(pageNumber - 1)}">Previous</a>` : ''} ${pageNumber < pages ? html`<a rel="next" href="${link(pageNumber + 1)}">Next</a>` : ''}</nav>`;
}

/** A request for a batch's page: the batch, and which of its calls to show. */
type BatchRequest = FastifyRequest & { params: BatchParams; query: BatchCallsQuery };

async function detailsPage(
  request: BatchRequest,
  reply: FastifyReply,
  deps: ConsoleDeps,
  notice?: Html,
): Promise<FastifyReply> {
  const session = sessionOf(request);
  const scope = workspaceOf(request);
  const batchId = request.params.batch_id;
  const row = await reachableBatch(deps.batches, scope.principal, batchId);
  if (row.workspace_id !== scope.workspaceId || row.org_id !== scope.orgId)
    throw new AppError('not_found', `Batch '${batchId}' not found.`);
  const q = request.query;
  const pageNumber = Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1);
  const status = CALL_STATUSES.includes(q.status ?? '') ? q.status : undefined;
  const sortBy = oneOf(CALL_SORTS, q.sort_by, 'createdAt');
  const sortOrder = q.sort_order === 'desc' ? 'desc' : 'asc';
  const search = (q.search ?? '').slice(0, 100);
  const limit = 20;
  const details = await batchCalls(deps.batches, scope.principal, batchId, {
    page: pageNumber,
    limit,
    sortBy,
    sortOrder,
    ...(status ? { filter: JSON.stringify({ callStatus: status }) } : {}),
    ...(search ? { search } : {}),
  });
  const url = batchUrl(scope, batchId);
  const totalPages = Math.ceil(details.total / limit);
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
  const action = (name: 'pause' | 'resume', label: string, allowed: boolean) =>
    allowed
      ? html`<form method="post" action="${url}/${name}">${csrfField(session)}<button type="submit">${label}</button></form>`
      : '';
  const cancellable = row.status === 'running' || row.status === 'paused';
  const body = html`${notice ?? ''}
<section class="card" aria-labelledby="summary">
  <h2 id="summary">Summary</h2>
  ${definitionList([
    ['Status', statusBadge(row.status)],
    ['Calls', Number(row.total_calls)],
    ['Skipped', `${row.skipped_invalid} invalid, ${row.skipped_duplicate} repeated, ${row.skipped_dnc} do-not-call`],
    [
      'Window',
      `${row.calling_start}–${row.calling_end} ${row.timezone}, ${row.allowed_days.map((d) => DAYS[d]!.slice(0, 3)).join(' ')}`,
    ],
    [
      'Attempts',
      `at most ${maxAttempts(row.retry)} (${row.retry} ${row.retry === 1 ? 'retry' : 'retries'}), ${row.delay_seconds} s apart`,
    ],
    ['Created', dateTime(row.created_at)],
  ])}
  <div class="actions">${action('pause', 'Pause', row.status === 'running')}${action('resume', 'Resume', row.status === 'paused')}${cancellable ? html`<a class="button danger" href="${url}/cancel">Cancel batch…</a>` : ''}</div>
</section>
<form class="card filters" method="get" action="${url}" role="search">
  <div><label for="search">Phone or value contains</label><input id="search" name="search" type="search" value="${search}"></div>
  <div><label for="status">Call status</label><select id="status" name="status">${option('', 'Any', status ?? '')}${CALL_STATUSES.map((s) => option(s, s, status))}</select></div>
  <div><label for="sort_by">Sort by</label><select id="sort_by" name="sort_by">${CALL_SORTS.map((s) => option(s, CALL_SORT_LABELS[s], sortBy))}</select></div>
  <div><label for="sort_order">Order</label><select id="sort_order" name="sort_order">${option('asc', 'Ascending', sortOrder)}${option('desc', 'Descending', sortOrder)}</select></div>
  <div><button type="submit">Apply</button></div>
</form>
<div class="table-wrap"><table>
  <caption>Calls (${details.total})</caption>
  <thead><tr><th scope="col">Phone</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Values</th><th scope="col">Attempt log</th></tr></thead>
  <tbody>${details.calls.map((call) => {
    const values = Object.entries(call.variables);
    return html`<tr><th scope="row">${call.phone}</th><td>${statusBadge(call.status)}</td><td>${call.attempts}</td>
      <td>${values.map(([k, value]) => html`<code>${k}</code>: ${value}<br>`)}</td>
      <td>${call.logs.length === 0 ? 'none yet' : html`<ol class="attempts">${call.logs.map((log) => html`<li>${dateTime(log.created_at)} ${statusBadge(log.call_status)}${log.call_duration !== null ? ` ${log.call_duration} s` : ''}</li>`)}</ol>`}</td></tr>`;
  })}</tbody>
</table></div>
${numberPager(url, { search: search || undefined, status, sort_by: sortBy, sort_order: sortOrder }, pageNumber, totalPages, details.total)}`;
  return sendPage(reply, page({ title: `Batch ${row.batch_name}`, session, scope, body }));
}

/** Batches of one workspace: list, upload (CSV or Excel, every vendor field), details with attempts, pause/resume/cancel. */
export async function batchPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const base = '/orgs/:org_id/workspaces/:workspace_id';
  const batchRoute = { schema: { params: BatchParams, querystring: BatchCallsQuery } };

  app.get(
    `${base}/batches`,
    { schema: { params: WorkspaceParams, querystring: PageQuery } },
    async (request, reply) => {
      const session = sessionOf(request);
      const scope = workspaceOf(request);
      const { offset, limit } = pageParams(request.query);
      const list = await listBatches(deps.batches, withinWorkspace(scope.principal, scope), scope.orgId, {
        offset,
        limit,
      });
      const listUrl = `${workspaceBase(scope)}/batches`;
      const body = html`<p class="actions"><a class="button" href="${listUrl}/new">Upload a batch</a></p>
<div class="table-wrap"><table>
  <caption>Batches of workspace ${scope.workspaceId}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Calls</th><th scope="col">Window</th><th scope="col">Created</th></tr></thead>
  <tbody>${list.items.map(
    (
      b,
    ) => html`<tr><th scope="row"><a href="${batchUrl(scope, b._id)}">${b.batchName}</a></th><td>${statusBadge(b.batchStatus)}</td><td>${b.totalCalls}</td>
      <td>${b.callingHour.start}–${b.callingHour.end} ${b.timezone}</td><td>${dateTime(b.createdAt)}</td></tr>`,
  )}</tbody>
</table></div>
${list.total === 0 ? html`<p>No batches yet.</p>` : ''}
${pager(listUrl, {}, offset, limit, list.total)}`;
      return sendPage(reply, page({ title: 'Batches', session, scope, body }));
    },
  );

  const detailsRoute = { schema: { params: BatchParams, querystring: BatchDetailsQuery } };
  app.get(`${base}/batches/:batch_id`, detailsRoute, async (request, reply) => {
    const q = request.query;
    const count = (value: string | undefined) => String(Number.parseInt(value ?? '0', 10) || 0);
    const notice = q.created
      ? html`<div class="notice" role="status">Batch created with ${count(q.created)} calls (skipped: ${count(q.invalid)} invalid, ${count(q.duplicate)} repeated, ${count(q.dnc)} do-not-call).</div>`
      : ['running', 'paused', 'cancelled'].includes(q.now ?? '')
        ? html`<div class="notice" role="status">The batch is now ${q.now}.</div>`
        : undefined;
    return detailsPage(request, reply, deps, notice);
  });

  app.get(`${base}/batches/:batch_id/cancel`, batchRoute, async (request, reply) => {
    const session = sessionOf(request);
    const scope = workspaceOf(request);
    const batchId = request.params.batch_id;
    const row = await reachableBatch(deps.batches, scope.principal, batchId);
    if (row.workspace_id !== scope.workspaceId) throw new AppError('not_found', `Batch '${batchId}' not found.`);
    const url = batchUrl(scope, batchId);
    const body = html`<form class="card narrow" method="post" action="${url}/cancel">
  ${csrfField(session)}
  <p>Cancel batch <strong>${row.batch_name}</strong>? Its calls not yet made are cancelled and no dialer gets them again. This cannot be undone.</p>
  <p class="actions"><button class="danger" type="submit">Cancel the batch</button> <a class="button secondary" href="${url}">Keep it</a></p>
</form>`;
    return sendPage(reply, page({ title: 'Cancel batch?', session, scope, body }));
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `${base}/batches/:batch_id/${action}`,
      { schema: { ...batchRoute.schema, body: TokenBody } },
      async (request, reply) => {
        const scope = workspaceOf(request);
        const batchId = request.params.batch_id;
        const row = await reachableBatch(deps.batches, scope.principal, batchId);
        if (row.workspace_id !== scope.workspaceId) throw new AppError('not_found', `Batch '${batchId}' not found.`);
        try {
          const summary = await changeBatchStatus(deps.batches, scope.principal, batchId, action);
          return reply.redirect(`${batchUrl(scope, batchId)}${query({ now: summary.batchStatus })}`, 303);
        } catch (error) {
          if (!(error instanceof AppError) || error.code !== 'invalid_state') throw error;
          return detailsPage(request, reply, deps, errorBox(error.message));
        }
      },
    );
  }

  await app.register(batchUploadPages, { deps });
  await app.register(dncPages, { deps });
}
