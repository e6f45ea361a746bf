import type { TaskDefinition } from '../../queue/tasks.js';
import type { CohortDeps } from './cohort-deps.js';
import { failCohortAfterRetries, ingestCohort } from './ingest-cohort.js';

/** The ingest_cohort task: the runner retries it; after the last attempt the cohort fails. */
export function ingestCohortTask(deps: CohortDeps): TaskDefinition<'ingest_cohort'> {
  return {
    maxAttempts: deps.config.jobs.maxAttempts,
    run: (payload, context) => ingestCohort(deps, payload.cohortId, context.signal),
    onFinalFailure: (payload) => failCohortAfterRetries(deps, payload.cohortId),
  };
}
