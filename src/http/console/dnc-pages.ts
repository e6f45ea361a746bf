import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../errors.js';
import { addDncNumbers, dncScope, listDncNumbers, removeDncNumber } from '../../services/batches/dnc-service.js';
import { requireWorkspace } from '../plugins/auth.js';
import type { ConsoleDeps } from './console-plugin.js';
import { formText } from './console-forms.js';
import { DncAddBody, DncRemoveBody, PageQuery, WorkspaceParams } from './console-schemas.js';
import {
  csrfField,
  dateTime,
  describedBy,
  errorBox,
  fieldError,
  page,
  pager,
  sendPage,
  workspaceBase,
} from './console-layout.js';
import { sessionOf } from './console-request.js';
import { html, type Html } from './html.js';
import { pageParams } from './workspace-pages.js';

/** The workspace's do-not-call list: page through it, add numbers, remove one. */
export async function dncPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const deps = options.deps.batches;
  const base = '/orgs/:org_id/workspaces/:workspace_id/dnc';
  type DncRequest = FastifyRequest & { params: WorkspaceParams; query: PageQuery };

  async function scopeOf(request: DncRequest) {
    const { org_id: orgId, workspace_id: workspaceId } = request.params;
    const principal = requireWorkspace(request, orgId, workspaceId);
    return { principal, scope: await dncScope(deps, principal, { org_id: orgId, workspace_id: workspaceId }) };
  }

  async function listPage(
    request: DncRequest,
    reply: FastifyReply,
    notice: Html = html``,
    problem?: string,
    status = 200,
  ): Promise<FastifyReply> {
    const session = sessionOf(request);
    const { scope } = await scopeOf(request);
    const { offset, limit } = pageParams(request.query);
    const list = await listDncNumbers(deps, scope, { offset, limit });
    const url = `${workspaceBase(scope)}/dnc`;
    const body = html`${notice}
<form class="card" method="post" action="${url}">
  ${csrfField(session)}
  <label for="numbers">Numbers to add</label>
  <textarea id="numbers" name="numbers" rows="4" required${describedBy('numbers', true)}${problem ? html` aria-invalid="true"` : ''}></textarea>
  <p class="hint" id="numbers-hint">One per line (or separated by commas), in + form or national with a country below.</p>
  ${fieldError('numbers', problem)}
  <div class="row">
    <div><label for="country">Country for national numbers</label><input id="country" name="country" maxlength="2" size="3" autocomplete="off"></div>
    <div><label for="reason">Reason (optional)</label><input id="reason" name="reason" maxlength="500"></div>
  </div>
  <button type="submit">Add to the list</button>
</form>
<div class="table-wrap"><table>
  <caption>Do-not-call numbers of workspace ${scope.workspaceId}</caption>
  <thead><tr><th scope="col">Number</th><th scope="col">Reason</th><th scope="col">Added</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
  <tbody>${list.items.map(
    (
      item,
    ) => html`<tr><th scope="row">${item.phoneNumber}</th><td>${item.reason ?? ''}</td><td>${dateTime(item.createdAt)}</td>
      <td><form method="post" action="${url}/remove">${csrfField(session)}<input type="hidden" name="phone" value="${item.phoneNumber}"><button type="submit" class="secondary" aria-label="Remove ${item.phoneNumber}">Remove</button></form></td></tr>`,
  )}</tbody>
</table></div>
${list.total === 0 ? html`<p>The list is empty.</p>` : ''}
${pager(url, {}, offset, limit, list.total)}`;
    return sendPage(reply, page({ title: 'Do-not-call list', session, scope, body }), status);
  }

  const listRoute = { schema: { params: WorkspaceParams, querystring: PageQuery } };
  app.get(base, listRoute, async (request, reply) => listPage(request, reply));

  app.post(base, { schema: { ...listRoute.schema, body: DncAddBody } }, async (request, reply) => {
    const { scope } = await scopeOf(request);
    const body = request.body ?? {};
    const numbers = formText(body.numbers)
      .split(/[\s,;]+/)
      .filter(Boolean)
      .slice(0, 10_000);
    const country = formText(body.country).trim().toUpperCase();
    if (numbers.length === 0) return listPage(request, reply, html``, 'Enter at least one number.', 422);
    if (country && !/^[A-Z]{2}$/.test(country))
      return listPage(request, reply, html``, 'The country must be two letters, like IN or US.', 422);
    const reason = formText(body.reason).trim().slice(0, 500);
    const result = await addDncNumbers(deps, scope, numbers, country || undefined, reason || null);
    const notice = html`<div class="notice" role="status">Added ${result.added}; ${result.alreadyListed} already listed.</div>
${result.invalid.length > 0 ? errorBox(`Not added, not phone numbers: ${result.invalid.map((i) => `${i.value} (${i.reason})`).join('; ')}`) : ''}`;
    return listPage(request, reply, notice);
  });

  app.post(`${base}/remove`, { schema: { ...listRoute.schema, body: DncRemoveBody } }, async (request, reply) => {
    const { scope } = await scopeOf(request);
    const phone = formText(request.body?.phone);
    try {
      const removed = await removeDncNumber(deps, scope, phone, undefined);
      return listPage(request, reply, html`<div class="notice" role="status">Removed ${removed}.</div>`);
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode >= 500) throw error;
      return listPage(request, reply, errorBox(error.message));
    }
  });
}
