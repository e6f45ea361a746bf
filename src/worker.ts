import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { buildOperationsApp } from './http/operations-app.js';
import { JobRunner } from './queue/runner.js';
import type { CohortDeps, CohortMetrics } from './services/cohorts/cohort-deps.js';
import { ingestCohortTask } from './services/cohorts/cohort-tasks.js';
import { eraseNumbersTask } from './services/erasure/erasure-task.js';
import { deliverWebhookTask } from './services/webhooks/webhook-delivery.js';
import type { BlobStore } from './storage/blobs/blob-store.js';
import { openStorage, type Storage } from './storage/db.js';
import { migrateToLatest } from './storage/migrate.js';

/**
 * A job runner with every task registered; `roster serve` runs one in-process in embedded mode.
 * `metrics` is where the process's /metrics counts what its runner ingests (absent: not counted).
 * `ingestThreads`: large files ingest on threads of their own (ingest-thread.ts), which open the
 * configured object storage themselves, so `blobs` must be that store (openBlobStore(config)).
 */
export function createJobRunner(
  config: Config,
  storage: Storage,
  blobs: BlobStore,
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>,
  metrics?: CohortMetrics,
  options: { ingestThreads?: boolean } = {},
): JobRunner {
  let runner: JobRunner | undefined;
  const deps: CohortDeps = {
    db: storage.db,
    capabilities: storage.capabilities,
    blobs,
    config,
    contacts: storage.contacts,
    callers: storage.callers,
    notifyWorkers: () => runner?.notify(),
    metrics,
    ingestThread: options.ingestThreads === true ? storage.options : undefined,
  };
  runner = new JobRunner(
    storage.db,
    storage.capabilities,
    {
      ingest_cohort: ingestCohortTask(deps),
      deliver_webhook: deliverWebhookTask({
        db: storage.db,
        config,
        now: () => new Date(),
        notifyWorkers: deps.notifyWorkers,
      }),
      erase_numbers: eraseNumbersTask(deps),
    },
    {
      concurrency: config.jobs.concurrency,
      // A receiver slow to answer holds a delivery slot, never one of ingest's.
      lanes: [{ kinds: ['deliver_webhook'], concurrency: config.webhooks.concurrency }],
      pollMs: config.jobs.pollMs,
      leaseMs: config.jobs.leaseMs,
      backoffMs: config.jobs.backoffMs,
      log,
    },
  );
  return runner;
}

export interface RunningWorker {
  runner: JobRunner;
  storage: Storage;
  /** Where /metrics, /healthz and /readyz answer, when a metrics port was given. */
  metricsUrl: string | undefined;
  /** Stops claiming; the job in hand stops at its next batch and is handed back for a retry. */
  close(): Promise<void>;
}

/**
 * `roster worker`: job processing only, beside API processes started with `serve --no-worker`.
 * Several workers share one PostgreSQL database: they claim jobs with FOR UPDATE SKIP LOCKED and
 * keep them with heartbeats. SQLite allows one process, so it is refused here.
 */
export async function startWorker(
  config: Config,
  blobs: BlobStore,
  log: FastifyBaseLogger,
  options: { metricsPort?: number } = {},
): Promise<RunningWorker> {
  const storage = openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    idleInTransactionMs: 2 * config.jobs.leaseMs,
  });
  if (!storage.capabilities.multiProcess) {
    await storage.close();
    throw new Error(
      'roster worker needs PostgreSQL (set ROSTER_DATABASE_URL): with embedded SQLite, `roster serve` processes jobs itself.',
    );
  }
  let operations: FastifyInstance | undefined;
  try {
    await migrateToLatest(storage);
    let metricsUrl: string | undefined;
    if (options.metricsPort !== undefined) {
      operations = await buildOperationsApp({ storage, blobs }, log);
      metricsUrl = await operations.listen({ host: config.host, port: options.metricsPort });
    }
    const runner = createJobRunner(config, storage, blobs, log, operations?.cohortMetrics, { ingestThreads: true });
    await runner.start();
    // The runner's timers do not hold the process open, and while the database is down nothing else
    // may: no HTTP server, the pool's sockets closed. The worker must wait the outage out, not exit.
    const keepAlive = setInterval(() => undefined, 60_000);
    log.info(
      {
        storage: storage.description,
        workerId: runner.workerId,
        concurrency: config.jobs.concurrency,
        metrics: metricsUrl,
      },
      'roster worker is processing jobs',
    );
    let closing: Promise<void> | undefined;
    const close = async () => {
      clearInterval(keepAlive);
      await runner.stop();
      await operations?.close();
      await storage.close();
    };
    return { runner, storage, metricsUrl, close: () => (closing ??= close()) };
  } catch (error) {
    await operations?.close();
    await storage.close();
    throw error;
  }
}
