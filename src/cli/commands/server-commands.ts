import type { Command } from 'commander';

// The server's modules (Fastify, the storage drivers, the job runner) are imported only when a command
// here runs: every other command talks HTTP, and loading them all would add about two seconds to each.
async function configOrExit() {
  const { ConfigError, loadConfig } = await import('../../config.js');
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/**
 * What `serve` and `worker` do before they open storage: the process-level guard (a programming error
 * is logged on one `fatal:` line and exits 70), a stop when the npm that started them is gone, and the
 * sweep of what killed uploads left in the data folder (temp-files.ts says what may be removed).
 */
async function prepareProcess(dataDir: string) {
  const [{ installProcessGuard }, { stopWhenLauncherExits }, { sweepTemporaryFiles }] = await Promise.all([
    import('../../process-guard.js'),
    import('../launcher-watch.js'),
    import('../../storage/blobs/temp-files.js'),
  ]);
  const guard = installProcessGuard();
  stopWhenLauncherExits();
  const swept = await sweepTemporaryFiles(dataDir).catch((error: unknown) => {
    // Leftovers cost disk space, not correctness: never a reason not to start.
    process.stderr.write(`roster: could not sweep temporary files in ${dataDir}: ${(error as Error).message}\n`);
    return { removed: [] };
  });
  return { guard, swept };
}

export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the HTTP API (and, in embedded mode, the job runner).\n\n' +
        'Storage is SQLite under ROSTER_DATA_DIR (./data) unless ROSTER_DATABASE_URL is set.\n' +
        'Migrations are applied at start. On a first start with an empty database and no\n' +
        'ROSTER_MASTER_KEY (and NODE_ENV not production) a master key and a demo tenant are\n' +
        'created and their keys printed once. Temporary files that killed processes\n' +
        'left in ROSTER_DATA_DIR are removed at start.\n\n' +
        'SIGTERM or SIGINT stops it: in-flight requests finish, then exit 0 (a second\n' +
        'signal or ROSTER_SHUTDOWN_TIMEOUT_MS forces exit 1). Started by npm\n' +
        '(`npm exec roster serve`), it also stops once that npm process is gone.\n' +
        'In your own scripts start it with `exec roster serve`.',
    )
    .option('--port <port>', 'port to listen on (overrides ROSTER_PORT)')
    .option('--host <host>', 'address to listen on (overrides ROSTER_HOST)')
    .option('--no-worker', 'serve the API only; jobs are processed by `roster worker` processes (PostgreSQL only)')
    .addHelpText(
      'after',
      '\nExample:\n  ROSTER_PORT=9090 roster serve\n  roster serve --host 0.0.0.0 --port 8080\n  ROSTER_DATABASE_URL=postgres://… roster serve --no-worker',
    )
    .action(async (options: { port?: string; host?: string; worker: boolean }) => {
      if (options.port !== undefined) process.env.ROSTER_PORT = options.port;
      if (options.host !== undefined) process.env.ROSTER_HOST = options.host;
      const config = await configOrExit();
      if (!options.worker && config.databaseUrl === undefined) {
        process.stderr.write(
          '--no-worker needs PostgreSQL (ROSTER_DATABASE_URL): with embedded SQLite nothing else could process the jobs.\n',
        );
        process.exit(2);
      }
      const { guard, swept } = await prepareProcess(config.dataDir);
      const [{ startServer }, { startStoppable }] = await Promise.all([
        import('../../server.js'),
        import('../../stop-on-signals.js'),
      ]);
      // SIGTERM/SIGINT: stop accepting, finish in-flight requests, then exit.
      // A start that fails (port taken, database unreachable) is an operational error: said plainly, exit 1.
      const server = await startStoppable(() => startServer(config, { worker: options.worker }), {
        timeoutMs: config.shutdownTimeoutMs,
        stopping: 'shutting down: finishing in-flight requests',
        log: (started) => started.app.log,
      }).catch((error: unknown) => {
        process.stderr.write(`roster serve could not start: ${(error as Error).message}\n`);
        process.exit(1);
      });
      guard.useLogger(server.app.log);
      if (swept.removed.length > 0)
        server.app.log.info({ removed: swept.removed }, 'removed temporary files left by stopped processes');
    });

  program
    .command('worker')
    .description(
      'Process background jobs (cohort ingest) without serving HTTP, beside API processes started\n' +
        'with `roster serve --no-worker`. Needs PostgreSQL; run as many as you like: each claims jobs\n' +
        'with FOR UPDATE SKIP LOCKED, and a job whose worker died is taken over after ROSTER_JOB_LEASE_MS.\n' +
        'SIGTERM stops claiming and hands the job in progress back at its next batch.',
    )
    .option(
      '--metrics-port <port>',
      'serve /metrics, /healthz and /readyz on this port (on ROSTER_HOST); 0 picks a free one',
    )
    .addHelpText(
      'after',
      '\nExample:\n  ROSTER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/roster ROSTER_JOB_CONCURRENCY=2 roster worker --metrics-port 9464',
    )
    .action(async (options: { metricsPort?: string }) => {
      const config = await configOrExit();
      const { guard, swept } = await prepareProcess(config.dataDir);
      const [{ default: pino }, { openBlobStore }, { startWorker }, { startStoppable }] = await Promise.all([
        import('pino'),
        import('../../storage/blobs/open-blob-store.js'),
        import('../../worker.js'),
        import('../../stop-on-signals.js'),
      ]);
      const log = pino({ level: config.logLevel, base: { role: 'worker' } });
      guard.useLogger(log);
      if (swept.removed.length > 0)
        log.info({ removed: swept.removed }, 'removed temporary files left by stopped processes');
      const metricsPort = options.metricsPort === undefined ? undefined : Number(options.metricsPort);
      if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort <= 65535)) {
        process.stderr.write(`--metrics-port must be a port number (0-65535), got "${options.metricsPort}"\n`);
        process.exit(2);
      }
      // SIGTERM/SIGINT: stop claiming, hand the job in progress back, then exit.
      await startStoppable(
        async () =>
          startWorker(config, await openBlobStore(config), log, metricsPort === undefined ? {} : { metricsPort }),
        {
          timeoutMs: config.shutdownTimeoutMs,
          stopping: 'worker stopping: handing back the job in progress',
          log: () => log,
        },
      ).catch((error: unknown) => {
        process.stderr.write(`${(error as Error).message}\n`);
        process.exit(2);
      });
    });

  program
    .command('migrate')
    .description('Apply pending database migrations and exit. Safe to run while servers start: a lock serialises it.')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExample:\n  ROSTER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/roster roster migrate')
    .action(async (options: { json?: boolean }) => {
      const config = await configOrExit();
      const [{ openStorage }, { migrateToLatest }] = await Promise.all([
        import('../../storage/db.js'),
        import('../../storage/migrate.js'),
      ]);
      const storage = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const report = await migrateToLatest(storage);
        if (options.json)
          process.stdout.write(`${JSON.stringify({ storage: storage.description, applied: report.applied })}\n`);
        else if (report.applied.length === 0) process.stdout.write(`${storage.description}: up to date\n`);
        else process.stdout.write(`${storage.description}: applied ${report.applied.join(', ')}\n`);
      } finally {
        await storage.close();
      }
    });
}
