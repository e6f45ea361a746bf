import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Capabilities } from '../storage/db.js';
import { isDatabaseUnavailable, isDiskFull } from '../storage/db-errors.js';
import type { Database } from '../storage/schema.js';
import * as jobs from '../storage/repositories/jobs-repository.js';
import { LeaseLostError, type JobClaim } from '../storage/repositories/jobs-repository.js';
import { newHex24Id } from '../domain/tenancy/ids.js';
import type { FinalFailure, JobFence, TaskDefinition, TaskKind, TaskPayloads, TaskRegistry } from './tasks.js';
import { readPayload } from './tasks.js';

export interface RunnerOptions {
  /** Jobs run at once of every kind that no lane names. */
  concurrency: number;
  /**
   * Kinds that run beside the others with slots of their own: a lane's jobs never wait for the
   * others' slots, nor hold them (webhook deliveries, whose receivers may take 10 s to answer, never
   * delay an ingest).
   */
  lanes?: ReadonlyArray<{ kinds: readonly TaskKind[]; concurrency: number }>;
  pollMs: number;
  /** How long a claim lasts without a heartbeat; a dead worker's job is picked up after this. */
  leaseMs: number;
  /** Delay before retry n is `backoffMs * 2^(n-1)`. */
  backoffMs: number;
  log: Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>;
  /** Injected clock for tests. */
  now?: () => Date;
}

type Db = Kysely<Database>;

/** The longest pause between polls while the database is unreachable. */
const MAX_OUTAGE_BACKOFF_MS = 10_000;
/** Exhausted jobs failed per poll, so a backlog of them cannot starve the claims. */
const FAILS_PER_POLL = 10;
/** Tasks' sweeps run every this many poll intervals (10 s at the default 500 ms). */
const SWEEP_EVERY_POLLS = 20;

/** Adds a job; run inside the transaction that creates what the job works on. */
export async function enqueue<K extends TaskKind>(
  db: Db,
  kind: K,
  payload: TaskPayloads[K],
  maxAttempts: number,
  now = new Date(),
  /** When it may run first (a delivery's next retry); now by default. */
  runAt = now,
): Promise<string> {
  const jobId = newHex24Id();
  const at = now.toISOString();
  await jobs.insertJob(db, {
    job_id: jobId,
    kind,
    payload: JSON.stringify(payload),
    status: 'queued',
    attempts: 0,
    max_attempts: maxAttempts,
    run_at: runAt.toISOString(),
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: at,
    updated_at: at,
  });
  return jobId;
}

/** Errors that pass with time (a database restarting, a disk being freed): the runner waits them out. */
function isTransient(error: unknown): boolean {
  return isDatabaseUnavailable(error) || isDiskFull(error);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Claims due jobs and runs them, up to `concurrency` at once. The runner owns leases, heartbeats,
 * retries with backoff and the final failure; tasks only do their work, through a fence that
 * writes nothing once the attempt has lost its job. Nothing here throws out of a timer: a database
 * outage slows the polls down and is logged, and the runner carries on when the database is back.
 */
export class JobRunner {
  readonly workerId = `worker-${randomUUID()}`;
  private running = new Map<string, { promise: Promise<void>; abort: AbortController; lane: number }>();
  /** Lane 0 holds the kinds no lane names; each lane claims only its kinds, up to its concurrency. */
  private readonly lanes: Array<{ kinds: string[]; concurrency: number }>;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private polling: Promise<void> | undefined;
  private outagePolls = 0;
  private lastSweep = 0;
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    private readonly capabilities: Capabilities,
    private readonly tasks: TaskRegistry,
    private readonly options: RunnerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    const laned = new Set<string>((options.lanes ?? []).flatMap((lane) => lane.kinds));
    this.lanes = [
      { kinds: Object.keys(tasks).filter((kind) => !laned.has(kind)), concurrency: options.concurrency },
      ...(options.lanes ?? []).map((lane) => ({
        kinds: lane.kinds.filter((kind) => kind in tasks),
        concurrency: lane.concurrency,
      })),
    ].filter((lane) => lane.kinds.length > 0);
  }

  private runningIn(lane: number): number {
    let n = 0;
    for (const job of this.running.values()) if (job.lane === lane) n++;
    return n;
  }

  async start(): Promise<void> {
    if (!this.capabilities.multiProcess) {
      const expired = await jobs.expireAllRunningJobs(this.db, this.now().toISOString());
      if (expired > 0)
        this.options.log.warn(
          { jobs: expired },
          'jobs interrupted by the last stop: resuming those with attempts left, failing the rest',
        );
    }
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a poll now (after an enqueue in this process) instead of at the next tick. */
  notify(): void {
    if (!this.stopped && this.outagePolls === 0) this.schedule(0);
  }

  /** Stops claiming; running jobs are aborted at their next batch boundary and handed back uncounted. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    for (const job of this.running.values()) job.abort.abort(new Error('worker stopping'));
    await Promise.allSettled([...this.running.values()].map((j) => j.promise));
    await Promise.allSettled(Object.values(this.tasks).map((task) => task.stop?.()));
  }

  get activeJobs(): number {
    return this.running.size;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.polling || this.stopped) return;
      this.polling = this.poll().finally(() => (this.polling = undefined));
    }, delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    let delay = this.options.pollMs;
    try {
      await this.failExhaustedJobs();
      await this.sweep();
      for (const [lane, { kinds, concurrency }] of this.lanes.entries()) {
        while (!this.stopped && this.runningIn(lane) < concurrency) {
          const now = this.now();
          const job = await jobs.claimDueJob(
            this.db,
            this.capabilities,
            this.workerId,
            now.toISOString(),
            this.leaseEnd(now),
            kinds,
          );
          if (!job) break;
          this.launch(job, lane);
        }
      }
      if (this.outagePolls > 0)
        this.options.log.info({ polls: this.outagePolls }, 'job runner: the database answers again');
      this.outagePolls = 0;
    } catch (error) {
      this.outagePolls++;
      delay = Math.min(MAX_OUTAGE_BACKOFF_MS, this.options.pollMs * 2 ** Math.min(this.outagePolls, 10));
      // Once per outage at warn; an error that is not an outage is a bug and stays loud.
      if (!isTransient(error)) this.options.log.error({ err: error }, 'claiming jobs failed');
      else if (this.outagePolls === 1)
        this.options.log.warn(
          { err: messageOf(error), retryInMs: delay },
          'job runner: database unreachable or disk full; polling more slowly until it recovers',
        );
    } finally {
      if (!this.stopped) this.schedule(delay);
    }
  }

  private leaseEnd(from: Date): string {
    return new Date(from.getTime() + this.options.leaseMs).toISOString();
  }

  private launch(job: jobs.JobRow, lane: number): void {
    const abort = new AbortController();
    if (this.stopped) abort.abort(new Error('worker stopping'));
    // execute() settles every outcome itself; the catch is the last guard against an unhandled rejection.
    const promise = this.execute(job, abort)
      .catch((error: unknown) =>
        this.options.log.error({ err: error, jobId: job.job_id }, 'job runner: unexpected failure settling a job'),
      )
      .finally(() => {
        this.running.delete(job.job_id);
        this.notify();
      });
    this.running.set(job.job_id, { promise, abort, lane });
  }

  /** The clock and lease length every fenced write of this runner renews its lease with. */
  private get lease(): { now: () => Date; leaseMs: number } {
    return { now: this.now, leaseMs: this.options.leaseMs };
  }

  private fence(claim: JobClaim, onComplete: () => void): JobFence {
    return jobFence(this.db, claim, this.lease, onComplete);
  }

  private async execute(job: jobs.JobRow, abort: AbortController): Promise<void> {
    const claim = jobs.claimOf(job);
    const kind = job.kind as TaskKind;
    const task = this.tasks[kind] as TaskDefinition<TaskKind>;
    // One beat at a time: a beat that waits behind the attempt's own long write must not be joined
    // by one more each interval, each holding a pooled connection.
    let beating = false;
    const heartbeat = setInterval(
      () => {
        if (beating) return;
        beating = true;
        const now = this.now();
        jobs
          .extendJobLease(this.db, claim, now.toISOString(), this.leaseEnd(now))
          .then(
            (held) => {
              if (!held) abort.abort(new LeaseLostError(claim, 'renewing its lease'));
            },
            (error: unknown) => this.options.log.warn({ err: messageOf(error), jobId: job.job_id }, 'heartbeat failed'),
          )
          .finally(() => (beating = false));
      },
      // Four beats a lease: on a busy machine a beat or two can come late without losing the job.
      Math.max(50, Math.floor(this.options.leaseMs / 4)),
    );
    heartbeat.unref();
    let payload: TaskPayloads[TaskKind] | undefined;
    let completed = false;
    try {
      payload = readPayload(kind, job.payload);
      await task.run(payload, {
        signal: abort.signal,
        attempt: job.attempts,
        fence: this.fence(claim, () => (completed = true)),
      });
      if (!completed && !(await jobs.markJobDone(this.db, claim, this.now().toISOString())))
        throw new LeaseLostError(claim, 'marking it done');
    } catch (error) {
      await this.settleFailedAttempt(job, claim, task, payload, error, abort.signal);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** What happens after an attempt threw: stop quietly if the job is lost, hand it back on our own stop, else retry or fail it. */
  private async settleFailedAttempt(
    job: jobs.JobRow,
    claim: JobClaim,
    task: TaskDefinition<TaskKind>,
    payload: TaskPayloads[TaskKind] | undefined,
    error: unknown,
    signal: AbortSignal,
  ): Promise<void> {
    const log = this.options.log;
    const context = { jobId: job.job_id, kind: job.kind, attempt: job.attempts };
    if (error instanceof LeaseLostError || signal.reason instanceof LeaseLostError) {
      log.warn(
        { ...context, reason: messageOf(error) },
        'job lost to another attempt: stopped without changing anything',
      );
      return;
    }
    const now = this.now().toISOString();
    try {
      await this.whileDatabaseRecovers(() => this.recordFailedAttempt(job, claim, task, payload, error, signal, now));
    } catch (settleError) {
      // Still unreachable: the lease runs out and the job is claimed again (or failed) later.
      log.error(
        { ...context, err: messageOf(error), settleErr: messageOf(settleError) },
        'could not record a failed attempt; the job is picked up again when its lease expires',
      );
    }
  }

  /**
   * Runs `write` again while the database is unreachable or the disk full, for about two leases:
   * an attempt that failed because the database restarted is then recorded as a failed attempt
   * once it is back, not mistaken later for one whose process died.
   */
  private async whileDatabaseRecovers(write: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + 2 * this.options.leaseMs;
    for (let pause = 250; ; pause = Math.min(pause * 2, 2000)) {
      try {
        return await write();
      } catch (error) {
        if (!isTransient(error) || this.stopped || Date.now() + pause > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  private async recordFailedAttempt(
    job: jobs.JobRow,
    claim: JobClaim,
    task: TaskDefinition<TaskKind>,
    payload: TaskPayloads[TaskKind] | undefined,
    error: unknown,
    signal: AbortSignal,
    now: string,
  ): Promise<void> {
    const log = this.options.log;
    const context = { jobId: job.job_id, kind: job.kind, attempt: job.attempts };
    if (signal.aborted && this.stopped) {
      // Our own stop: the attempt is handed back uncounted, due at once for the next start.
      const released = await jobs.releaseJob(this.db, claim, `interrupted: ${messageOf(error)}`, now);
      log.info({ ...context, released }, 'job handed back for the next start');
      return;
    }
    if (job.attempts >= job.max_attempts || payload === undefined) {
      await this.failForGood(job, claim, task, payload, {
        attempts: job.attempts,
        lostAttempts: job.lost_attempts,
        error,
        lastError: messageOf(error),
      });
      return;
    }
    const delay = this.options.backoffMs * 2 ** (job.attempts - 1);
    const queued = await jobs.markJobRetry(
      this.db,
      claim,
      new Date(this.now().getTime() + delay).toISOString(),
      messageOf(error),
      now,
    );
    if (queued) log.warn({ ...context, err: error, retryInMs: delay }, 'job failed; will retry');
    else
      log.warn({ ...context, err: messageOf(error) }, 'job failed after losing its lease; its new holder carries on');
  }

  /** Runs the tasks' sweeps now and then; a failing sweep is logged and tried again next time. */
  private async sweep(): Promise<void> {
    if (Date.now() - this.lastSweep < SWEEP_EVERY_POLLS * this.options.pollMs) return;
    this.lastSweep = Date.now();
    for (const [kind, task] of Object.entries(this.tasks) as Array<[TaskKind, TaskDefinition<TaskKind>]>) {
      await task
        .sweep?.()
        .catch((error: unknown) =>
          this.options.log.warn({ kind, err: messageOf(error) }, 'clean-up sweep failed; it runs again later'),
        );
    }
  }

  /** Fails claimed jobs whose last attempt's process died (their leases expired with no attempts left). */
  private async failExhaustedJobs(): Promise<void> {
    for (let i = 0; i < FAILS_PER_POLL && !this.stopped; i++) {
      const now = this.now();
      const job = await jobs.claimExhaustedJob(
        this.db,
        this.capabilities,
        this.workerId,
        now.toISOString(),
        this.leaseEnd(now),
        Object.keys(this.tasks),
      );
      if (!job) return;
      const task = this.tasks[job.kind as TaskKind] as TaskDefinition<TaskKind>;
      let payload: TaskPayloads[TaskKind] | undefined;
      try {
        payload = readPayload(job.kind as TaskKind, job.payload);
      } catch {
        payload = undefined;
      }
      await this.failForGood(job, jobs.claimOf(job), task, payload, {
        attempts: job.attempts,
        lostAttempts: job.lost_attempts,
        error: undefined,
        lastError: job.last_error,
      });
    }
  }

  /**
   * The final failure: the task records it and the job is failed in one fenced transaction, so it
   * happens once whichever process gets there. If it cannot be written (database down, disk full),
   * the job stays claimed until its lease expires and the next poll anywhere tries again.
   */
  private async failForGood(
    job: jobs.JobRow,
    claim: JobClaim,
    task: TaskDefinition<TaskKind>,
    payload: TaskPayloads[TaskKind] | undefined,
    failure: FinalFailure,
  ): Promise<void> {
    const log = this.options.log;
    const reason =
      failure.error !== undefined
        ? messageOf(failure.error)
        : `the process running attempt ${failure.attempts} stopped without reporting`;
    try {
      await this.whileDatabaseRecovers(() =>
        jobs.withHeldJob(this.db, claim, this.lease, 'failing it', async (trx) => {
          if (payload !== undefined) await task.fail(trx, payload, failure);
          if (!(await jobs.markJobFailed(trx, claim, reason, this.now().toISOString())))
            throw new LeaseLostError(claim, 'failing it');
        }),
      );
      log.error(
        {
          jobId: job.job_id,
          kind: job.kind,
          attempts: failure.attempts,
          lostAttempts: failure.lostAttempts,
          err: reason,
        },
        'job failed for good',
      );
    } catch (error) {
      if (error instanceof LeaseLostError)
        log.warn({ jobId: job.job_id, reason: error.message }, 'job lost while failing it: left to its holder');
      else
        log.error(
          { jobId: job.job_id, err: messageOf(error) },
          'could not record the final failure; it is tried again when the lease expires',
        );
      return;
    }
    if (payload !== undefined)
      await task
        .afterFailure?.(payload)
        .catch((error: unknown) =>
          log.warn({ jobId: job.job_id, err: messageOf(error) }, 'clean-up after the final failure failed'),
        );
  }
}

/**
 * The fence of one attempt (see JobFence): every write in a transaction that first checks and
 * renews the attempt's lease. `onComplete` runs once `complete` (or `completedElsewhere`) has ended
 * the job. The runner makes one per attempt; an ingest thread makes its own over its own connection.
 */
export function jobFence(
  db: Kysely<Database>,
  claim: JobClaim,
  lease: { now: () => Date; leaseMs: number },
  onComplete: () => void,
): JobFence {
  const hold: JobFence['hold'] = (doing, write) => jobs.withHeldJob(db, claim, lease, doing, write);
  return {
    claim,
    hold,
    complete: async (doing, write) => {
      const result = await hold(doing, async (trx) => {
        const value = await write(trx);
        if (!(await jobs.markJobDone(trx, claim, lease.now().toISOString()))) throw new LeaseLostError(claim, doing);
        return value;
      });
      onComplete();
      return result;
    },
    completedElsewhere: onComplete,
  };
}
