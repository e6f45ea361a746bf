import type { Command } from 'commander';
import type { OutputOptions } from '../output.js';

/** Where cohorts and callers live: a deployment of a workspace of an org. */
export interface DeploymentOptions extends OutputOptions {
  org: string;
  workspace: string;
  deployment: string;
}

/** The scope flags in the help's examples, as the demo tenant of a first start names them. */
export const EXAMPLE_DEPLOYMENT = '--org demo --workspace default --deployment demo';

export function addDeploymentOptions(command: Command): Command {
  return command
    .requiredOption('--org <org_id>', 'the org')
    .requiredOption('--workspace <workspace_id>', 'the workspace in the org')
    .requiredOption('--deployment <deployment_id>', 'the deployment in the workspace');
}

/** `/v1/orgs/{org}/workspaces/{ws}/deployments/{d}`: every cohort and caller route starts here. */
export function deploymentPath(options: DeploymentOptions): string {
  return `/v1/orgs/${encodeURIComponent(options.org)}/workspaces/${encodeURIComponent(options.workspace)}/deployments/${encodeURIComponent(options.deployment)}`;
}

/** The scope flags as they were given, to print a follow-up command a person can paste. */
export function deploymentArgs(options: DeploymentOptions): string {
  return [`--org ${shellWord(options.org)}`, `--workspace ${shellWord(options.workspace)}`, `--deployment ${shellWord(options.deployment)}`].join(' ');
}

/** A word as a POSIX shell reads it back: as is when it is plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_.,:/=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
