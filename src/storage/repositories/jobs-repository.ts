import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Capabilities } from '../db.js';
import type { Database, JobsTable } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;
export type JobRow = Selectable<JobsTable>;

export async function insertJob(db: Db, row: JobRow): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
}

/**
 * Claims the oldest due job (queued and due, or running with an expired lease) for `workerId`.
 * PostgreSQL skips rows other workers hold (FOR UPDATE SKIP LOCKED); SQLite serialises writers,
 * so its single UPDATE … RETURNING is already exclusive.
 */
export async function claimDueJob(
  db: Kysely<Database>,
  capabilities: Capabilities,
  workerId: string,
  now: string,
  lockedUntil: string,
  kinds: readonly string[],
): Promise<JobRow | undefined> {
  const due = db
    .selectFrom('jobs')
    .select('job_id')
    .where('kind', 'in', kinds)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_at', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
      ]),
    )
    .orderBy('run_at')
    .orderBy('created_at')
    .limit(1);
  const lockedDue = capabilities.rowLocking ? due.forUpdate().skipLocked() : due;
  return db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      attempts: eb('attempts', '+', 1),
      locked_by: workerId,
      locked_until: lockedUntil,
      updated_at: now,
    }))
    .where('job_id', '=', (eb) => eb.selectFrom(lockedDue.as('due')).select('due.job_id'))
    .returningAll()
    .executeTakeFirst();
}

/** Extends a running job's lease; false when the job is no longer this worker's. */
export async function extendJobLease(db: Db, jobId: string, workerId: string, lockedUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ locked_until: lockedUntil })
    .where('job_id', '=', jobId)
    .where('locked_by', '=', workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function markJobDone(db: Db, jobId: string, workerId: string, now: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'done', locked_by: null, locked_until: null, updated_at: now })
    .where('job_id', '=', jobId)
    .where('locked_by', '=', workerId)
    .execute();
}

export async function markJobRetry(db: Db, jobId: string, workerId: string, runAt: string, error: string, now: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'queued', run_at: runAt, locked_by: null, locked_until: null, last_error: error, updated_at: now })
    .where('job_id', '=', jobId)
    .where('locked_by', '=', workerId)
    .execute();
}

export async function markJobFailed(db: Db, jobId: string, error: string, now: string): Promise<void> {
  await db.updateTable('jobs').set({ status: 'failed', locked_by: null, locked_until: null, last_error: error, updated_at: now }).where('job_id', '=', jobId).execute();
}

/** Embedded mode only: at start no other process can hold a job, so every running job is due again. */
export async function releaseAllRunningJobs(db: Db, now: string): Promise<number> {
  const result = await db
    .updateTable('jobs')
    .set({ status: 'queued', locked_by: null, locked_until: null, run_at: now, updated_at: now })
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function findJob(db: Db, jobId: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

export async function countJobsByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db.selectFrom('jobs').select(['status', sql<number>`count(*)`.as('n')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
