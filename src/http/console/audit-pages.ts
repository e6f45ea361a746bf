import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { listOrgAuditEvents } from '../../services/audit-service.js';
import * as tenancy from '../../services/tenancy-service.js';
import { requireOrg } from '../plugins/auth.js';
import type { ConsoleDeps } from './console-plugin.js';
import { dateTime, page, pager, sendPage, statusBadge } from './console-layout.js';
import { sessionOf } from './console-request.js';
import { OrgParams, PageQuery } from './console-schemas.js';
import { html, path } from './html.js';
import { pageParams } from './workspace-pages.js';

const AuditQuery = Type.Composite([PageQuery, Type.Object({ outcome: Type.Optional(Type.String()) })]);

/** The org's audit trail: every write, newest first, as the API's GET …/audit-events shows it. */
export async function auditPages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const db = options.deps.cohorts.db;

  app.get('/orgs/:org_id/audit', { schema: { params: OrgParams, querystring: AuditQuery } }, async (request, reply) => {
    const session = sessionOf(request);
    const orgId = request.params.org_id;
    const principal = requireOrg(request, orgId);
    const org = await tenancy.getOrg(db, orgId);
    const { offset, limit } = pageParams(request.query);
    // An outcome the page does not know shows every event, as an old link would.
    const outcome =
      request.query.outcome === 'failure' || request.query.outcome === 'success' ? request.query.outcome : undefined;
    const events = await listOrgAuditEvents(db, principal, orgId, outcome ? { outcome } : {}, { offset, limit });
    const url = path`/console/orgs/${orgId}/audit`;
    const filter = (value: string | undefined, label: string) =>
      value === outcome
        ? html`<li><strong aria-current="page">${label}</strong></li>`
        : html`<li><a href="${url}${value ? `?outcome=${value}` : ''}">${label}</a></li>`;
    const body = html`<p>Every write made with this org's keys and console sessions, newest first. Phone numbers are masked.</p>
<ul class="links" aria-label="Show">${filter(undefined, 'All')}${filter('failure', 'Failures')}${filter('success', 'Successes')}</ul>
<div class="table-wrap"><table>
  <caption>Audit trail of ${org.name}</caption>
  <thead><tr><th scope="col">When</th><th scope="col">Outcome</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Resource</th></tr></thead>
  <tbody>${events.rows.map(
    (e) => html`<tr>
      <td>${dateTime(e.occurred_at)}</td>
      <td>${statusBadge(e.outcome)} ${String(e.status)}${e.error_code ? html` <code>${e.error_code}</code>` : ''}</td>
      <td>${e.actor === 'master' ? 'master key' : html`${e.user_email ?? ''} <code>${e.key_id ?? ''}</code>`} <span class="hint">${e.via}</span></td>
      <th scope="row"><code>${e.method} ${e.path}</code></th>
      <td>${e.resource_id === null ? '' : html`<code>${e.resource_id}</code>`}</td>
    </tr>`,
  )}</tbody>
</table></div>
${events.total === 0 ? html`<p>No writes recorded${outcome ? ' with this outcome' : ''}.</p>` : ''}
${pager(url, { outcome }, offset, limit, events.total)}`;
    return sendPage(reply, page({ title: 'Audit trail', session, body }));
  });
}
