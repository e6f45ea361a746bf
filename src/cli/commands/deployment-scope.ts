import type { Command } from 'commander';
import { ApiError, clientFrom } from '../http-client.js';
import type { OutputOptions } from '../output.js';
import { scopeOption } from './scope-env.js';

/** Where cohorts and callers live: a deployment of a workspace of an org. */
export interface DeploymentOptions extends OutputOptions {
  org: string;
  workspace: string;
  deployment: string;
}

/** The scope flags in the help's examples, as the demo tenant of a first start names them. */
export const EXAMPLE_DEPLOYMENT = '--org demo --workspace default --deployment demo';

/**
 * --org and --workspace, each from its flag, its variable (ROSTER_ORG, ROSTER_WORKSPACE) or else the
 * API key (GET /v1/me): for commands on a workspace (webhooks), and under --deployment for the rest.
 */
export function addWorkspaceOptions(command: Command): Command {
  return command
    .addOption(
      scopeOption(
        'org',
        '--org <org_id>',
        "the org; with neither the flag nor its variable, the API key's own (GET /v1/me)",
      ),
    )
    .addOption(
      scopeOption(
        'workspace',
        '--workspace <workspace_id>',
        'the workspace in the org; with neither the flag nor its variable, the one the API key reaches when it reaches only one',
      ),
    )
    .hook('preAction', fillScopeFromKey);
}

export function addDeploymentOptions(command: Command): Command {
  return addWorkspaceOptions(command).addOption(
    scopeOption('deployment', '--deployment <deployment_id>', 'the deployment in the workspace').makeOptionMandatory(),
  );
}

interface KeyIdentity {
  org_id: string | null;
  workspaces: Array<{ workspace_id: string }>;
}

/**
 * Fills --org and --workspace left out (flag and variable) from the key (GET /v1/me): its org, and its
 * workspace when it reaches exactly one. Otherwise exits 1 saying which flag to pass, before the command's request.
 */
async function fillScopeFromKey(command: Command): Promise<void> {
  const options = command.opts<Partial<DeploymentOptions>>();
  if (options.org !== undefined && options.workspace !== undefined) return;
  let me: KeyIdentity;
  try {
    me = await clientFrom(command).request<KeyIdentity>('GET', '/v1/me');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return command.error(`error: ${error.message} (${error.code})`, { exitCode: 1 });
  }
  if (me.org_id === null)
    return command.error(
      'error: the master key belongs to no org: pass --org and --workspace (or set ROSTER_ORG and ROSTER_WORKSPACE).',
      { exitCode: 1 },
    );
  const org = options.org ?? me.org_id;
  command.setOptionValue('org', org);
  if (options.workspace !== undefined) return;
  const [only, ...others] = me.workspaces;
  if (org !== me.org_id || only === undefined || others.length > 0) {
    const reached = me.workspaces.map((w) => w.workspace_id).join(', ');
    return command.error(
      `error: pass --workspace or set ROSTER_WORKSPACE${org === me.org_id && reached ? ` (the API key reaches ${reached})` : ''}.`,
      { exitCode: 1 },
    );
  }
  command.setOptionValue('workspace', only.workspace_id);
}

/** `/v1/orgs/{org}/workspaces/{ws}/deployments/{d}`: every cohort and caller route starts here. */
export function deploymentPath(options: DeploymentOptions): string {
  return `/v1/orgs/${encodeURIComponent(options.org)}/workspaces/${encodeURIComponent(options.workspace)}/deployments/${encodeURIComponent(options.deployment)}`;
}

/** The scope flags as they were given, to print a follow-up command a person can paste. */
export function deploymentArgs(options: DeploymentOptions): string {
  return [
    `--org ${shellWord(options.org)}`,
    `--workspace ${shellWord(options.workspace)}`,
    `--deployment ${shellWord(options.deployment)}`,
  ].join(' ');
}

/** A word as a POSIX shell reads it back: as is when it is plain, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_.,:/=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
