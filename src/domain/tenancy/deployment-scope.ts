/** The deployment a request, a cohort or a lookup belongs to: cohorts and callers are per deployment. */
export interface DeploymentScope {
  orgId: string;
  workspaceId: string;
  deploymentId: string;
}
