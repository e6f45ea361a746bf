import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { safeCsvLine } from '../../domain/ingest/csv-cells.js';
import { reachableWorkspaces } from '../../domain/tenancy/principal.js';
import * as tenancy from '../../services/tenancy-service.js';
import { requireOrg, requireWorkspace } from '../plugins/auth.js';
import type { ConsoleDeps } from './console-plugin.js';
import { sessionOf } from './console-request.js';
import { DeploymentParams, OrgParams, PageQuery, type WorkspaceParams } from './console-schemas.js';
import { definitionList, deploymentBase, page, pager, sendPage, workspaceBase } from './console-layout.js';
import { html, path } from './html.js';

/** offset and limit from a page's query string, within 0… and 1–100 (20 by default). */
export function pageParams(q: PageQuery): { offset: number; limit: number } {
  const offset = Math.max(0, Number.parseInt(q.offset ?? '0', 10) || 0);
  const limit = Math.min(100, Math.max(1, Number.parseInt(q.limit ?? '20', 10) || 20));
  return { offset, limit };
}

/** The workspace a console URL names, with the session's principal, once its key reaches it (404 otherwise). */
export function workspaceOf(request: FastifyRequest & { params: WorkspaceParams }) {
  const { org_id: orgId, workspace_id: workspaceId } = request.params;
  return { orgId, workspaceId, principal: requireWorkspace(request, orgId, workspaceId) };
}

/** The deployment a console URL names, with its agent, once the session's key reaches its workspace. */
export async function deploymentOf(request: FastifyRequest & { params: DeploymentParams }, deps: ConsoleDeps) {
  const { org_id: orgId, workspace_id: workspaceId, deployment_id: deploymentId } = request.params;
  requireWorkspace(request, orgId, workspaceId);
  const deployment = await tenancy.getDeployment(deps.cohorts.db, orgId, workspaceId, deploymentId);
  const agent = await tenancy.getAgent(deps.cohorts.db, orgId, workspaceId, deployment.agent_id);
  return { scope: { orgId, workspaceId, deploymentId }, deployment, agent };
}

/** Choosing where to work: orgs (master key), their workspaces and deployments; the agent's variables and templates. */
export async function workspacePages(appBase: FastifyInstance, options: { deps: ConsoleDeps }): Promise<void> {
  const app = appBase.withTypeProvider<TypeBoxTypeProvider>();
  const { deps } = options;
  const db = deps.cohorts.db;

  app.get('/', { schema: { querystring: PageQuery } }, async (request, reply) => {
    const session = sessionOf(request);
    if (session.principal.kind === 'key') return reply.redirect(path`/console/orgs/${session.principal.orgId}`, 303);
    const { offset, limit } = pageParams(request.query);
    const orgs = await tenancy.listOrgs(db, { offset, limit });
    const body = html`<p>Signed in with the master key: pick an org.</p>
<ul class="links">${orgs.items.map((org) => html`<li><a href="${path`/console/orgs/${org.org_id}`}">${org.name}</a> <code>${org.org_id}</code></li>`)}</ul>
${pager('/console/', {}, offset, limit, orgs.total)}`;
    return sendPage(reply, page({ title: 'Orgs', session, body }));
  });

  app.get('/orgs/:org_id', { schema: { params: OrgParams, querystring: PageQuery } }, async (request, reply) => {
    const session = sessionOf(request);
    const orgId = request.params.org_id;
    const principal = requireOrg(request, orgId);
    const org = await tenancy.getOrg(db, orgId);
    const { offset, limit } = pageParams(request.query);
    const workspaces = await tenancy.listWorkspaces(db, orgId, reachableWorkspaces(principal), { offset, limit });
    const sections = [];
    for (const workspace of workspaces.items) {
      const deployments = await tenancy.listDeployments(db, orgId, workspace.workspace_id, { offset: 0, limit: 100 });
      const ws = workspaceBase({ orgId, workspaceId: workspace.workspace_id });
      sections.push(html`<section class="card" aria-labelledby="ws-${workspace.workspace_id}">
  <h2 id="ws-${workspace.workspace_id}">${workspace.name} <code>${workspace.workspace_id}</code></h2>
  <h3>Deployments (cohorts and caller lookup)</h3>
  ${
    deployments.items.length === 0
      ? html`<p>No deployments yet.</p>`
      : html`<ul class="links">${deployments.items.map(
          (d) =>
            html`<li><a href="${deploymentBase({ orgId, workspaceId: workspace.workspace_id, deploymentId: d.deployment_id })}">${d.name}</a> <code>${d.deployment_id}</code> · agent <code>${d.agent_id}</code></li>`,
        )}</ul>`
  }
  <h3>Outbound</h3>
  <ul class="links"><li><a href="${ws}/batches">Batches</a></li><li><a href="${ws}/batches/new">Upload a batch</a></li><li><a href="${ws}/dnc">Do-not-call list</a></li></ul>
  <h3>Integrations</h3>
  <ul class="links"><li><a href="${ws}/webhooks">Webhooks</a></li></ul>
</section>`);
    }
    const body = html`<p>Pick a deployment to upload cohorts and look callers up, or a workspace's batches. Every write is in the <a href="${path`/console/orgs/${orgId}/audit`}">audit trail</a>.</p>${sections}${pager(path`/console/orgs/${orgId}`, {}, offset, limit, workspaces.total)}`;
    return sendPage(reply, page({ title: org.name, session, body }));
  });

  const deploymentPath = '/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id';

  const deploymentRoute = { schema: { params: DeploymentParams } };

  app.get(deploymentPath, deploymentRoute, async (request, reply) => {
    const session = sessionOf(request);
    const { scope, deployment, agent } = await deploymentOf(request, deps);
    const base = deploymentBase(scope);
    const body = html`
<section class="card" aria-labelledby="agent">
  <h2 id="agent">Agent ${agent.name} <code>${agent.agent_id}</code></h2>
  ${definitionList([
    ['Deployment', html`${deployment.name} <code>${deployment.deployment_id}</code>`],
    ['Default country', deployment.default_country ?? 'none (numbers need a country code)'],
    ['Languages', agent.languages.join(', ') || 'none'],
  ])}
  <div class="table-wrap"><table>
    <caption>Declared variables</caption>
    <thead><tr><th scope="col">Variable</th><th scope="col">Required</th><th scope="col">Default</th><th scope="col">Description</th></tr></thead>
    <tbody>${agent.variables.map(
      (v) =>
        html`<tr><th scope="row"><code>${v.name}</code></th><td>${v.required ? 'yes' : 'no'}</td><td>${v.default ?? ''}</td><td>${v.description ?? ''}</td></tr>`,
    )}</tbody>
  </table></div>
  <p class="actions"><a class="button" href="${base}/template.csv" download>Download CSV template</a>
  <a class="button secondary" href="${base}/transformation.json" download>Download matching transformation config</a></p>
  <p class="hint">The template's header is <code>phone_number</code> and the agent's variables; the config maps each column to the variable of the same name.</p>
</section>
<p class="actions"><a class="button" href="${base}/cohorts/new">Upload a cohort</a> <a class="button secondary" href="${base}/cohorts">Cohorts</a> <a class="button secondary" href="${base}/callers">Look a caller up</a></p>`;
    return sendPage(reply, page({ title: `Deployment ${deployment.name}`, session, scope, body }));
  });

  app.get(`${deploymentPath}/template.csv`, deploymentRoute, async (request, reply) => {
    const { scope, agent } = await deploymentOf(request, deps);
    const header = ['phone_number', ...agent.variables.map((v) => v.name)];
    const line = safeCsvLine(header);
    // A BOM so spreadsheets read the file as UTF-8.
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${scope.deploymentId.replace(/[^A-Za-z0-9_-]/g, '_')}-template.csv"`,
      )
      .header('cache-control', 'no-store')
      .send(`\uFEFF${line}\r\n`);
  });

  app.get(`${deploymentPath}/transformation.json`, deploymentRoute, async (request, reply) => {
    const { scope, agent } = await deploymentOf(request, deps);
    const config = {
      phone_number: { column_name: 'phone_number' },
      app_variables: Object.fromEntries(
        agent.variables.map((v) => [v.name, { column_name: v.name, format: ['trim'] }]),
      ),
    };
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header(
        'content-disposition',
        `attachment; filename="${scope.deploymentId.replace(/[^A-Za-z0-9_-]/g, '_')}-transformation.json"`,
      )
      .header('cache-control', 'no-store')
      .send(`${JSON.stringify(config, null, 2)}\n`);
  });
}
