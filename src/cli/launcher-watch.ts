/** How often a server started by npm checks that its launcher is still there. */
export const LAUNCHER_CHECK_MS = 500;

/**
 * `npx roster serve` / `npm exec roster serve` run roster as `sh -c "'roster' serve"`: a SIGTERM to
 * npm is forwarded to that shell only, which dies without passing it on (dash does not exec its last
 * command), and roster would run on as an orphan. So a process started by npm (npm sets
 * npm_lifecycle_event for scripts and `npm exec`) stops as on SIGTERM, draining first, once the
 * process that started it is gone. Started any other way (a shell, systemd, a container) it keeps
 * running if its parent exits, as a server should.
 */
export function stopWhenLauncherExits(environment: NodeJS.ProcessEnv = process.env): void {
  if (!environment.npm_lifecycle_event) return;
  const launcher = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === launcher) return;
    clearInterval(timer);
    process.stderr.write(`roster: the npm process that started it (pid ${launcher}) is gone; stopping as on SIGTERM\n`);
    process.kill(process.pid, 'SIGTERM');
  }, LAUNCHER_CHECK_MS);
  timer.unref();
}
