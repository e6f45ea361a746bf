import type { TaskDefinition } from '../../queue/tasks.js';
import { pruneAuditEvents, pruneDeliveries } from '../housekeeping.js';
import { applyDueRetention } from './cohort-retention.js';
import { findCohortById } from '../../storage/repositories/cohorts-repository.js';
import type { CohortDeps } from './cohort-deps.js';
import { cleanUpAfterRetries, failCohortAfterRetries, ingestCohort, sweepFailedCohorts } from './ingest-cohort.js';
import { ingestThreads } from './ingest-thread.js';
import { WORKER_THRESHOLD_BYTES } from './row-transformer.js';

/**
 * The ingest_cohort task: the runner retries it; after the last attempt the cohort fails. With
 * `deps.ingestThread`, an attempt at a file of 1 MB or more (or one still to download) runs on an
 * ingest thread (ingest-thread.ts), so the event loop answering calls stays free.
 */
export function ingestCohortTask(deps: CohortDeps): TaskDefinition<'ingest_cohort'> {
  const threads = deps.ingestThread !== undefined ? ingestThreads(deps, deps.ingestThread) : undefined;
  return {
    run: async (payload, context) => {
      if (threads !== undefined && (await worthAThread(deps, payload.cohortId)))
        return threads.run(payload.cohortId, context);
      return ingestCohort(deps, payload.cohortId, context);
    },
    stop: () => threads?.close() ?? Promise.resolve(),
    fail: (trx, payload, failure) =>
      failCohortAfterRetries(trx, payload.cohortId, failure, deps.config.jobs.maxAttempts),
    afterFailure: (payload) => cleanUpAfterRetries(deps, payload.cohortId),
    // Now and then: what failed cohorts left behind, the retention runs that are due, and audit
    // events and webhook deliveries past their settings.
    sweep: async () => {
      const now = new Date();
      await sweepFailedCohorts(deps);
      await applyDueRetention(deps, now, deps.config.retention.intervalMs);
      await pruneAuditEvents(deps.db, deps.config.retention.auditDays, now);
      await pruneDeliveries(deps.db, deps.config.retention.deliveryDays, now);
    },
  };
}

/** Whether a cohort's file is large enough for threads (as for transform workers, which it then starts). */
async function worthAThread(deps: CohortDeps, cohortId: string): Promise<boolean> {
  if (deps.config.cohorts.workers === 0) return false;
  const cohort = await findCohortById(deps.db, cohortId);
  if (cohort?.status !== 'processing') return false;
  return cohort.file_bytes === null || Number(cohort.file_bytes) >= WORKER_THRESHOLD_BYTES;
}
