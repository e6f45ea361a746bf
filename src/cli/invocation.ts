/**
 * How the user started roster, as a command they can paste to run it again: `npx roster` when npm
 * started it (`npx roster`, `npm exec roster`, an npm script: npm sets npm_execpath, npm_command and
 * npm_lifecycle_event), since a bare `roster` is then usually not on the shell's PATH; pnpm and yarn
 * are named by their user agent. Otherwise `roster`, as installed on the PATH.
 */
export function rosterInvocation(environment: NodeJS.ProcessEnv = process.env): string {
  const startedByPackageManager = Boolean(
    environment.npm_execpath || environment.npm_command || environment.npm_lifecycle_event,
  );
  if (!startedByPackageManager) return 'roster';
  const agent = environment.npm_config_user_agent ?? '';
  if (agent.startsWith('pnpm/')) return 'pnpm exec roster';
  if (agent.startsWith('yarn/')) return 'yarn roster';
  return 'npx roster';
}
