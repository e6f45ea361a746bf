import { randomUUID } from 'node:crypto';
import {
  sql,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  type Transaction,
  type UpdateObject,
} from 'kysely';
import type { Capabilities } from '../db.js';
import type { Database, JobsTable } from '../schema.js';

type Db = Kysely<Database> | Transaction<Database>;
export type JobRow = Selectable<JobsTable>;

/**
 * What an attempt holds while it runs a job: the job, the worker and the token its claim drew.
 * Every write made on behalf of the attempt names all three and changes nothing once the job has
 * been claimed again (a new token), finished or failed: that is what keeps a paused or partitioned
 * worker (a zombie) from overwriting the work of the job's new holder.
 */
export interface JobClaim {
  readonly jobId: string;
  readonly workerId: string;
  readonly token: string;
}

/** The attempt no longer holds its job (its lease expired or another worker claimed it): it must stop and change nothing. */
export class LeaseLostError extends Error {
  constructor(claim: JobClaim, doing: string) {
    super(`job ${claim.jobId}: lease lost (${doing}); its new holder, if any, finishes it`);
    this.name = 'LeaseLostError';
  }
}

export function claimOf(job: JobRow): JobClaim {
  if (!job.locked_by || !job.lease_token) throw new Error(`job ${job.job_id} is not claimed`);
  return { jobId: job.job_id, workerId: job.locked_by, token: job.lease_token };
}

export async function insertJob(db: Db, row: Omit<JobRow, 'lease_token' | 'lost_attempts'>): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
}

/**
 * Claims the first of `candidates` for `changes` with a fresh lease token. PostgreSQL skips rows
 * other workers hold (FOR UPDATE SKIP LOCKED); SQLite serialises writers, so its single
 * UPDATE … RETURNING is already exclusive.
 */
function claimFirst(
  db: Kysely<Database>,
  capabilities: Capabilities,
  candidates: SelectQueryBuilder<Database, 'jobs', { job_id: string }>,
  changes: UpdateObject<Database, 'jobs'>,
): Promise<JobRow | undefined> {
  const first = candidates.limit(1);
  const locked = capabilities.rowLocking ? first.forUpdate().skipLocked() : first;
  return db
    .updateTable('jobs')
    .set({ ...changes, lease_token: randomUUID() })
    .where('job_id', '=', (eb) => eb.selectFrom(locked.as('first')).select('first.job_id'))
    .returningAll()
    .executeTakeFirst();
}

/**
 * Claims the oldest due job for `workerId`: a queued job whose time has come, or a running job
 * whose lease expired (its process died or stalled) and that has attempts left — such an attempt
 * is counted as lost. A job that used all its attempts is never claimed here; `claimExhaustedJob`
 * fails it.
 */
export function claimDueJob(
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
        eb.and([
          eb('status', '=', 'running'),
          eb('locked_until', '<', now),
          eb('attempts', '<', eb.ref('max_attempts')),
        ]),
      ]),
    )
    .orderBy('run_at')
    .orderBy('created_at');
  return claimFirst(db, capabilities, due, {
    status: 'running',
    attempts: sql<number>`attempts + 1`,
    // SET reads the row as it was: a running job here is one whose previous attempt was lost.
    lost_attempts: sql<number>`lost_attempts + case when status = 'running' then 1 else 0 end`,
    locked_by: workerId,
    locked_until: lockedUntil,
    updated_at: now,
  });
}

/**
 * Claims, to fail it, a running job whose lease expired after it had used every attempt: its last
 * attempt's process died. The claim draws a new token, so the failure is fenced like any other
 * write, and a process that dies while failing it leaves it to the next one (lost attempts are
 * never counted past the attempts made).
 */
export function claimExhaustedJob(
  db: Kysely<Database>,
  capabilities: Capabilities,
  workerId: string,
  now: string,
  lockedUntil: string,
  kinds: readonly string[],
): Promise<JobRow | undefined> {
  const exhausted = db
    .selectFrom('jobs')
    .select('job_id')
    .where('kind', 'in', kinds)
    .where('status', '=', 'running')
    .where('locked_until', '<', now)
    .where((eb) => eb('attempts', '>=', eb.ref('max_attempts')))
    .orderBy('run_at');
  return claimFirst(db, capabilities, exhausted, {
    lost_attempts: sql<number>`case when lost_attempts < attempts then lost_attempts + 1 else lost_attempts end`,
    locked_by: workerId,
    locked_until: lockedUntil,
    updated_at: now,
  });
}

/**
 * Renews a lease that has not yet expired; false when the attempt no longer holds the job (another
 * claim, a finished job, or a lease that ran out: an attempt that stalled past its lease stops).
 * A lease only moves forward: a heartbeat that waited behind the attempt's own long write (which
 * holds the job's row and renews the lease when it commits) arrives with an older end and must not
 * pull the lease back into the past, where the next heartbeat would find it expired.
 */
export async function extendJobLease(db: Db, claim: JobClaim, now: string, lockedUntil: string): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({
      locked_until: sql<string>`case when locked_until > ${lockedUntil} then locked_until else ${lockedUntil} end`,
    })
    .where('job_id', '=', claim.jobId)
    .where('locked_by', '=', claim.workerId)
    .where('lease_token', '=', claim.token)
    .where('status', '=', 'running')
    .where('locked_until', '>=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Runs `write` in one transaction that first renews the attempt's unexpired lease — taking the
 * job's row lock (PostgreSQL) or the write lock (SQLite) — and throws LeaseLostError when the
 * attempt no longer holds the job. Claimers skip a locked row, so the lease cannot pass to anyone
 * while `write` runs; the lease is renewed again at the end, since `write` may take a while.
 */
export async function withHeldJob<T>(
  db: Kysely<Database>,
  claim: JobClaim,
  lease: { now: () => Date; leaseMs: number },
  doing: string,
  write: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  const until = () => new Date(lease.now().getTime() + lease.leaseMs).toISOString();
  return db.transaction().execute(async (trx) => {
    if (!(await extendJobLease(trx, claim, lease.now().toISOString(), until()))) throw new LeaseLostError(claim, doing);
    const result = await write(trx);
    await trx
      .updateTable('jobs')
      .set({ locked_until: until() })
      .where('job_id', '=', claim.jobId)
      .where('lease_token', '=', claim.token)
      .execute();
    return result;
  });
}

/**
 * The same check and renewal as `withHeldJob`, as SQL text for a bulk loader's own connection
 * (`$n` placeholders, in order; `?` for SQLite). Run it first inside the loader's transaction with
 * `holdJobParams`; no row updated means the lease was lost and nothing may be written.
 */
export const HOLD_JOB_SQL =
  "update jobs set locked_until = $1 where job_id = $2 and locked_by = $3 and lease_token = $4 and status = 'running' and locked_until >= $5";

/** Renews the lease at the end of such a transaction (its row lock kept every claimer away meanwhile): ($1 new lease end, $2 job, $3 token). */
export const RENEW_HELD_JOB_SQL = 'update jobs set locked_until = $1 where job_id = $2 and lease_token = $3';

export function holdJobParams(
  claim: JobClaim,
  leaseMs: number,
  now = new Date(),
): [string, string, string, string, string] {
  return [new Date(now.getTime() + leaseMs).toISOString(), claim.jobId, claim.workerId, claim.token, now.toISOString()];
}

/** Marks the attempt's job done; false when the attempt no longer held it. */
export async function markJobDone(db: Db, claim: JobClaim, now: string): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ status: 'done', locked_by: null, locked_until: null, updated_at: now })
    .where('job_id', '=', claim.jobId)
    .where('locked_by', '=', claim.workerId)
    .where('lease_token', '=', claim.token)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Queues the job again after a failed attempt (counted); false when the attempt no longer held it. */
export async function markJobRetry(
  db: Db,
  claim: JobClaim,
  runAt: string,
  error: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ status: 'queued', run_at: runAt, locked_by: null, locked_until: null, last_error: error, updated_at: now })
    .where('job_id', '=', claim.jobId)
    .where('locked_by', '=', claim.workerId)
    .where('lease_token', '=', claim.token)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Hands an attempt back without counting it (our own shutdown): due at once, attempts as before
 * the claim. False when the attempt no longer held the job.
 */
export async function releaseJob(db: Db, claim: JobClaim, reason: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      attempts: eb('attempts', '-', 1),
      run_at: now,
      locked_by: null,
      locked_until: null,
      last_error: reason,
      updated_at: now,
    }))
    .where('job_id', '=', claim.jobId)
    .where('locked_by', '=', claim.workerId)
    .where('lease_token', '=', claim.token)
    .where('status', '=', 'running')
    .where('attempts', '>', 0)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Fails the attempt's job for good; false when the attempt no longer held it. */
export async function markJobFailed(db: Db, claim: JobClaim, error: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ status: 'failed', locked_by: null, locked_until: null, last_error: error, updated_at: now })
    .where('job_id', '=', claim.jobId)
    .where('locked_by', '=', claim.workerId)
    .where('lease_token', '=', claim.token)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Embedded mode only, at start: no other process can hold a job, so every running job's attempt
 * was lost with the last process. Their leases end now; the runner then claims those with attempts
 * left and fails those without (a job that crashed the process on its last attempt is not re-run).
 */
export async function expireAllRunningJobs(db: Db, now: string): Promise<number> {
  const result = await db
    .updateTable('jobs')
    .set({ locked_until: new Date(0).toISOString(), updated_at: now })
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export function findJob(db: Db, jobId: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

export async function countJobsByStatus(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('jobs')
    .select(['status', sql<number>`count(*)`.as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
