import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildApp, type LoggerSetting, loggerOptions } from './http/app.js';
import { bootstrapDemoTenant, demoBanner } from './services/bootstrap-service.js';
import { openStorage, type Storage } from './storage/db.js';
import { migrateToLatest } from './storage/migrate.js';
import { openBlobStore } from './storage/blobs/open-blob-store.js';
import type { JobRunner } from './queue/runner.js';
import { createJobRunner } from './worker.js';

export interface RunningServer {
  app: FastifyInstance;
  storage: Storage;
  runner: JobRunner;
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes storage. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: LoggerSetting;
  /** Where the one-time first-start banner goes; stdout by default. */
  print?: (text: string) => void;
  /** false: API only (`roster serve --no-worker`); jobs are left to `roster worker` processes. */
  worker?: boolean;
}

/** Opens storage, applies migrations, creates the demo tenant on a first start, and listens. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const storage = openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    idleInTransactionMs: 2 * config.jobs.leaseMs,
  });
  try {
    await migrateToLatest(storage);
    const demo =
      config.masterKey === undefined && !config.production ? await bootstrapDemoTenant(storage.db) : undefined;
    const blobs = await openBlobStore(config);
    let runner: JobRunner | undefined;
    const app = await buildApp(
      config,
      { storage, blobs, notifyWorkers: () => runner?.notify() },
      options.logger ?? loggerOptions(config),
    );
    runner = createJobRunner(config, storage, blobs, app.log, app.cohortMetrics, { ingestThreads: true });
    if (options.worker !== false) await runner.start();
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    app.log.info({ storage: storage.description, url }, 'roster is serving');
    if (demo) (options.print ?? ((text) => process.stdout.write(text)))(demoBanner(demo, url));
    let closing: Promise<void> | undefined;
    const jobs = runner;
    return {
      app,
      storage,
      runner: jobs,
      url,
      // Stop taking requests and jobs; a job in flight is left for the next start to resume.
      close: () => (closing ??= Promise.all([app.close(), jobs.stop()]).then(() => storage.close())),
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
