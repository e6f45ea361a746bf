import type { Kysely } from 'kysely';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import type { Database } from '../../storage/schema.js';
import { announce } from '../webhooks/webhook-service.js';
import { cohortView } from './cohort-service.js';

/**
 * Announces that a cohort has ended (`cohort.completed` or `cohort.failed`, by its status), in the
 * transaction that ended it, with the cohort as GET answers it then. Nothing when it is still
 * processing (its ending was not written: a deletion came first).
 */
export async function announceCohortEnd(trx: Kysely<Database>, cohortId: string, maxAttempts: number): Promise<void> {
  const row = await cohorts.findCohortById(trx, cohortId);
  if (!row || row.status === 'processing') return;
  const scope = { orgId: row.org_id, workspaceId: row.workspace_id, deploymentId: row.deployment_id };
  const serving =
    row.status === 'completed' ? await cohorts.countServingPhones(trx, scope, [Number(row.seq)]) : new Map();
  await announce(
    trx,
    {
      orgId: row.org_id,
      workspaceId: row.workspace_id,
      type: row.status === 'completed' ? 'cohort.completed' : 'cohort.failed',
      data: cohortView(row, serving.get(Number(row.seq)) ?? 0),
    },
    maxAttempts,
  );
}
