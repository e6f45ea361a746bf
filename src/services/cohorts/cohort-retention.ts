// Cohort retention (#17): a deployment may keep its cohorts for `cohort_retention_days`. A run,
// due every ROSTER_RETENTION_INTERVAL_MINUTES per deployment and started by the job runner's
// sweeps (any process that runs jobs), deletes the cohorts created before the cutoff with their
// contacts and files, except (unless strict) those still the newest cohort holding some phone, so
// retention never changes what a lookup answers.
import type { DeploymentScope } from '../../domain/tenancy/deployment-scope.js';
import { AppError } from '../../errors.js';
import * as cohorts from '../../storage/repositories/cohorts-repository.js';
import type { DeploymentRow } from '../../storage/repositories/deployments-repository.js';
import type { Updateable } from 'kysely';
import type { DeploymentsTable } from '../../storage/schema.js';
import type { CohortDeps } from './cohort-deps.js';
import { deleteCohort } from './cohort-service.js';

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  cohort_retention_days: number | null;
  cohort_retention_strict: boolean;
  cohort_retention_last_run_at: string | null;
  /** When the next run is due (null without a policy). */
  cohort_retention_next_run_at: string | null;
}

export function retentionPolicyOf(row: DeploymentRow): RetentionPolicy {
  return {
    cohort_retention_days: row.cohort_retention_days === null ? null : Number(row.cohort_retention_days),
    cohort_retention_strict: Number(row.cohort_retention_strict) === 1,
    cohort_retention_last_run_at: row.cohort_retention_last_run_at,
    cohort_retention_next_run_at: row.cohort_retention_next_run_at,
  };
}

/**
 * Sets or clears a deployment's policy. A new policy is due at once: its first run comes with the
 * runner's next sweep.
 */
export async function setRetentionPolicy(
  deps: Pick<CohortDeps, 'db'>,
  scope: DeploymentScope,
  policy: { days?: number | null | undefined; strict?: boolean | undefined },
  now: Date,
): Promise<void> {
  const changes: Updateable<DeploymentsTable> = {};
  if (policy.days !== undefined) {
    changes.cohort_retention_days = policy.days;
    changes.cohort_retention_next_run_at = policy.days === null ? null : now.toISOString();
  }
  if (policy.strict !== undefined) changes.cohort_retention_strict = policy.strict ? 1 : 0;
  if (Object.keys(changes).length === 0) return;
  const updated = await deps.db
    .updateTable('deployments')
    .set(changes)
    .where('org_id', '=', scope.orgId)
    .where('workspace_id', '=', scope.workspaceId)
    .where('deployment_id', '=', scope.deploymentId)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 0)
    throw new AppError('not_found', `Deployment '${scope.deploymentId}' not found.`);
}

export interface RetentionRun {
  deploymentId: string;
  deleted: string[];
  kept: string[];
}

/**
 * The cohorts of one deployment past its cutoff: those to delete and those kept because they are
 * still the newest cohort holding some phone (never, when strict). Processing cohorts are left alone.
 */
export async function retentionCandidates(
  deps: Pick<CohortDeps, 'db'>,
  scope: DeploymentScope,
  days: number,
  strict: boolean,
  now: Date,
): Promise<{ deleted: string[]; kept: string[] }> {
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const old = await deps.db
    .selectFrom('cohorts')
    .select(['seq', 'cohort_id', 'status'])
    .where('org_id', '=', scope.orgId)
    .where('workspace_id', '=', scope.workspaceId)
    .where('deployment_id', '=', scope.deploymentId)
    .where('status', '!=', 'processing')
    .where('created_at', '<', cutoff)
    .orderBy('seq')
    .execute();
  const serving = strict
    ? new Map<number, number>()
    : await cohorts.countServingPhones(
        deps.db,
        scope,
        old.filter((c) => c.status === 'completed').map((c) => Number(c.seq)),
      );
  const deleted: string[] = [];
  const kept: string[] = [];
  for (const cohort of old) ((serving.get(Number(cohort.seq)) ?? 0) > 0 ? kept : deleted).push(cohort.cohort_id);
  return { deleted, kept };
}

/**
 * Runs retention for every deployment whose run is due at `now`. Each run is claimed by moving the
 * deployment's next run on (compare-and-set), so of several processes sweeping at once one runs it;
 * its `cohort_retention_last_run_at` is written once its deletions are done. A process that dies
 * part-way leaves the rest to the next run.
 */
export async function applyDueRetention(deps: CohortDeps, now: Date, intervalMs: number): Promise<RetentionRun[]> {
  const nowIso = now.toISOString();
  const due = await deps.db
    .selectFrom('deployments')
    .selectAll()
    .where('cohort_retention_next_run_at', '<=', nowIso)
    .where('cohort_retention_days', 'is not', null)
    .orderBy('cohort_retention_next_run_at')
    .limit(50)
    .execute();
  const runs: RetentionRun[] = [];
  for (const deployment of due) {
    const claimed = await deps.db
      .updateTable('deployments')
      .set({ cohort_retention_next_run_at: new Date(now.getTime() + intervalMs).toISOString() })
      .where('org_id', '=', deployment.org_id)
      .where('workspace_id', '=', deployment.workspace_id)
      .where('deployment_id', '=', deployment.deployment_id)
      .where('cohort_retention_next_run_at', '=', deployment.cohort_retention_next_run_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) === 0) continue;
    const scope = {
      orgId: deployment.org_id,
      workspaceId: deployment.workspace_id,
      deploymentId: deployment.deployment_id,
    };
    const { deleted, kept } = await retentionCandidates(
      deps,
      scope,
      Number(deployment.cohort_retention_days),
      Number(deployment.cohort_retention_strict) === 1,
      now,
    );
    for (const cohortId of deleted) {
      // Deleted meanwhile by someone else: nothing left to do.
      await deleteCohort(deps, scope, cohortId).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === 'not_found')) throw error;
      });
    }
    // Shown once the run is over: a client that sees it finds the deletions done.
    await deps.db
      .updateTable('deployments')
      .set({ cohort_retention_last_run_at: nowIso })
      .where('org_id', '=', deployment.org_id)
      .where('workspace_id', '=', deployment.workspace_id)
      .where('deployment_id', '=', deployment.deployment_id)
      .execute();
    runs.push({ deploymentId: deployment.deployment_id, deleted, kept });
  }
  return runs;
}
