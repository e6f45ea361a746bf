import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import { JobRunner } from './queue/runner.js';
import type { CohortDeps } from './services/cohorts/cohort-deps.js';
import { ingestCohortTask } from './services/cohorts/cohort-tasks.js';
import type { BlobStore } from './storage/blobs/blob-store.js';
import type { Storage } from './storage/db.js';

/** A job runner with every task registered; `roster serve` runs one in-process in embedded mode. */
export function createJobRunner(config: Config, storage: Storage, blobs: BlobStore, log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>): JobRunner {
  let runner: JobRunner | undefined;
  const deps: CohortDeps = { db: storage.db, capabilities: storage.capabilities, blobs, config, contacts: storage.contacts, notifyWorkers: () => runner?.notify() };
  runner = new JobRunner(storage.db, storage.capabilities, { ingest_cohort: ingestCohortTask(deps) }, {
    concurrency: config.jobs.concurrency,
    pollMs: config.jobs.pollMs,
    leaseMs: config.jobs.leaseMs,
    backoffMs: config.jobs.backoffMs,
    log,
  });
  return runner;
}
