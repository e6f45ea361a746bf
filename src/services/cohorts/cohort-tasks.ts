import type { TaskDefinition } from '../../queue/tasks.js';
import type { CohortDeps } from './cohort-deps.js';
import { cleanUpAfterRetries, failCohortAfterRetries, ingestCohort, sweepFailedCohorts } from './ingest-cohort.js';

/** The ingest_cohort task: the runner retries it; after the last attempt the cohort fails. */
export function ingestCohortTask(deps: CohortDeps): TaskDefinition<'ingest_cohort'> {
  return {
    run: (payload, context) => ingestCohort(deps, payload.cohortId, context),
    fail: (trx, payload, failure) => failCohortAfterRetries(trx, payload.cohortId, failure),
    afterFailure: (payload) => cleanUpAfterRetries(deps, payload.cohortId),
    sweep: async () => void (await sweepFailedCohorts(deps)),
  };
}
