import { Option } from 'commander';

/** The environment variables that stand in for the scope flags, so a shell names its tenant once. */
export const SCOPE_VARIABLES = {
  org: 'ROSTER_ORG',
  workspace: 'ROSTER_WORKSPACE',
  deployment: 'ROSTER_DEPLOYMENT',
} as const;

/** `--org`, `--workspace` or `--deployment` defaulting to its variable; a flag on the command line wins. */
export function scopeOption(scope: keyof typeof SCOPE_VARIABLES, flags: string, description: string): Option {
  return new Option(flags, description).env(SCOPE_VARIABLES[scope]);
}

/**
 * A scope variable set to nothing (`ROSTER_ORG= roster …`, a compose file's `${ROSTER_ORG:-}`) counts
 * as unset, so the key's own org and workspace (GET /v1/me) still apply rather than an empty id.
 */
export function dropEmptyScopeVariables(environment: NodeJS.ProcessEnv = process.env): void {
  for (const name of Object.values(SCOPE_VARIABLES)) if (environment[name] === '') delete environment[name];
}
