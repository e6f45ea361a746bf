// An ingest thread (see ingest-thread.ts): one attempt of one cohort's ingest, then it ends.
import { parentPort, workerData } from 'node:worker_threads';
import { jobFence } from '../../queue/runner.js';
import { openBlobStore } from '../../storage/blobs/open-blob-store.js';
import { openStorage } from '../../storage/db.js';
import { lowerThreadPriority } from '../worker-thread.js';
import type { CohortDeps } from './cohort-deps.js';
import { ingestCohort } from './ingest-cohort.js';
import {
  arrivedError,
  crossingError,
  type IngestThreadAbort,
  type IngestThreadData,
  type IngestThreadMessage,
} from './ingest-thread.js';

lowerThreadPriority();
const data = workerData as IngestThreadData;
const port = parentPort!;
const post = (message: IngestThreadMessage) => port.postMessage(message);
const abort = new AbortController();
port.on('message', (message: IngestThreadAbort) => abort.abort(arrivedError(message.reason, data.claim)));

const storage = openStorage(data.storage);
let closeBlobs: (() => void) | undefined;
try {
  const blobs = await openBlobStore(data.config);
  closeBlobs = (blobs as { close?: () => void }).close?.bind(blobs);
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
  };
  const lease = { now: () => new Date(), leaseMs: data.config.jobs.leaseMs };
  const fence = jobFence(storage.db, data.claim, lease, () => post({ type: 'completed' }));
  await ingestCohort(deps, data.cohortId, { signal: abort.signal, fence });
  post({ type: 'finished' });
} catch (error) {
  post({ type: 'failed', error: crossingError(error) });
} finally {
  closeBlobs?.();
  await storage.close().catch(() => undefined);
  port.close();
}
