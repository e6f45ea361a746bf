import type { FastifyRequest } from 'fastify';
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { requireWorkspace } from '../plugins/auth.js';

/**
 * The deployment a request's path names, once the key is known to reach its workspace (404
 * otherwise). Shared by the cohort and caller routes, whose paths both end in a deployment.
 */
export function scopeOf(request: FastifyRequest): DeploymentScope {
  const {
    org_id: orgId,
    workspace_id: workspaceId,
    deployment_id: deploymentId,
  } = request.params as { org_id: string; workspace_id: string; deployment_id: string };
  requireWorkspace(request, orgId, workspaceId);
  return { orgId, workspaceId, deploymentId };
}
