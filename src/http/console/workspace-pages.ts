import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { reachableWorkspaces } from '../../domain/tenancy/principal.js';
import * as tenancy from '../../services/tenancy-service.js';
import { requireOrg, requireWorkspace } from '../plugins/auth.js';
import type { ConsoleDeps } from './console-plugin.js';
import { sessionOf } from './console-request.js';
import { type DeploymentParams, OrgParams, PageQuery, type WorkspaceParams } from './console-schemas.js';
import { deploymentBase, page, pager, sendPage, workspaceBase } from './console-layout.js';
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

/** Choosing where to work: orgs (master key), their workspaces and deployments (each deployment's page is in deployment-pages.ts). */
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
  <h3>Privacy</h3>
  <ul class="links"><li><a href="${ws}/erasure">Erasure requests</a> (right to erasure: remove phone numbers from the whole workspace)</li></ul>
</section>`);
    }
    const body = html`<p>Pick a deployment to upload cohorts and look callers up, or a workspace's batches. Every write is in the <a href="${path`/console/orgs/${orgId}/audit`}">audit trail</a>.</p>${sections}${pager(path`/console/orgs/${orgId}`, {}, offset, limit, workspaces.total)}`;
    return sendPage(reply, page({ title: org.name, session, body }));
  });
}
