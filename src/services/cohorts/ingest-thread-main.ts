// An ingest thread (see ingest-thread.ts): attempts at cohorts' ingests, one at a time, until told to end.
import { parentPort, workerData } from 'node:worker_threads';
import { jobFence } from '../../queue/runner.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import { openBlobStore } from '../../storage/blobs/open-blob-store.js';
import { openStorage } from '../../storage/db.js';
import type { JobClaim } from '../../storage/repositories/jobs-repository.js';
import { lowerThreadPriority } from '../worker-thread.js';
import type { CohortDeps } from './cohort-deps.js';
import { ingestCohort } from './ingest-cohort.js';
import {
  arrivedError,
  crossingError,
  type IngestThreadData,
  type IngestThreadMessage,
  type IngestThreadRequest,
} from './ingest-thread.js';
import { type TransformPool, transformPool } from './row-transformer.js';

lowerThreadPriority();
const data = workerData as IngestThreadData;
const port = parentPort!;
const post = (message: IngestThreadMessage) => port.postMessage(message);

const storage = openStorage(data.storage);
let blobs: BlobStore | undefined;
// The transform workers, kept for the next cohort; a pool a worker died in is replaced.
let pool: TransformPool | undefined;
const warmPool = (): TransformPool => {
  if (pool?.broken) {
    void pool.close();
    pool = undefined;
  }
  pool ??= transformPool(data.config.cohorts.workers);
  return pool;
};
let running: { claim: JobClaim; abort: AbortController } | undefined;

async function runAttempt(cohortId: string, claim: JobClaim): Promise<void> {
  const abort = new AbortController();
  running = { claim, abort };
  try {
    blobs ??= await openBlobStore(data.config);
    const deps: CohortDeps = {
      db: storage.db,
      capabilities: storage.capabilities,
      blobs,
      config: data.config,
      contacts: storage.contacts,
      callers: storage.callers,
      // Ingest enqueues nothing; the runner that started this thread is told of new work by its own callers.
      notifyWorkers: () => undefined,
      metrics: {
        rowsIngested: (valid, rejected) => post({ type: 'ingested', valid, rejected }),
        lookupSeconds: () => undefined,
      },
      transformPool: warmPool,
    };
    const lease = { now: () => new Date(), leaseMs: data.config.jobs.leaseMs };
    const fence = jobFence(storage.db, claim, lease, () => post({ type: 'completed' }));
    await ingestCohort(deps, cohortId, { signal: abort.signal, fence });
    post({ type: 'finished' });
  } catch (error) {
    post({ type: 'failed', error: crossingError(error) });
  } finally {
    running = undefined;
  }
}

async function end(): Promise<void> {
  await pool?.close();
  (blobs as { close?: () => void } | undefined)?.close?.();
  await storage.close().catch(() => undefined);
  port.close();
}

port.on('message', (request: IngestThreadRequest) => {
  if (request.type === 'run') void runAttempt(request.cohortId, request.claim);
  else if (request.type === 'abort') running?.abort.abort(arrivedError(request.reason, running.claim));
  else void end();
});
