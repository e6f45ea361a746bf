import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { Capabilities } from '../storage/db.js';
import type { Database } from '../storage/schema.js';
import * as jobs from '../storage/repositories/jobs-repository.js';
import { newHex24Id } from '../domain/tenancy/ids.js';
import type { TaskKind, TaskPayloads, TaskRegistry } from './tasks.js';

export interface RunnerOptions {
  concurrency: number;
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

/** Adds a job; run inside the transaction that creates what the job works on. */
export async function enqueue<K extends TaskKind>(db: Db, kind: K, payload: TaskPayloads[K], maxAttempts: number, now = new Date()): Promise<string> {
  const jobId = newHex24Id();
  const at = now.toISOString();
  await jobs.insertJob(db, {
    job_id: jobId,
    kind,
    payload: JSON.stringify(payload),
    status: 'queued',
    attempts: 0,
    max_attempts: maxAttempts,
    run_at: at,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: at,
    updated_at: at,
  });
  return jobId;
}

/**
 * Claims due jobs and runs them, up to `concurrency` at once. The runner owns leases, heartbeats,
 * retries with backoff and the final failure; tasks only do their work.
 */
export class JobRunner {
  readonly workerId = `worker-${randomUUID()}`;
  private running = new Map<string, { promise: Promise<void>; abort: AbortController }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private polling = false;
  private readonly now: () => Date;

  constructor(
    private readonly db: Db,
    private readonly capabilities: Capabilities,
    private readonly tasks: TaskRegistry,
    private readonly options: RunnerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async start(): Promise<void> {
    if (!this.capabilities.multiProcess) {
      const released = await jobs.releaseAllRunningJobs(this.db, this.now().toISOString());
      if (released > 0) this.options.log.warn({ released }, 'resuming jobs interrupted by the last stop');
    }
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a poll now (after an enqueue in this process) instead of at the next tick. */
  notify(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** Stops claiming; running jobs are aborted at their next batch boundary and left for a retry. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const job of this.running.values()) job.abort.abort(new Error('worker stopping'));
    await Promise.allSettled([...this.running.values()].map((j) => j.promise));
  }

  get activeJobs(): number {
    return this.running.size;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.stopped || this.polling) return;
    this.polling = true;
    try {
      while (!this.stopped && this.running.size < this.options.concurrency) {
        const now = this.now();
        const job = await jobs.claimDueJob(this.db, this.capabilities, this.workerId, now.toISOString(), this.leaseEnd(now), Object.keys(this.tasks));
        if (!job) break;
        this.launch(job);
      }
    } catch (error) {
      this.options.log.error({ err: error }, 'claiming jobs failed');
    } finally {
      this.polling = false;
      if (!this.stopped) this.schedule(this.options.pollMs);
    }
  }

  private leaseEnd(from: Date): string {
    return new Date(from.getTime() + this.options.leaseMs).toISOString();
  }

  private launch(job: jobs.JobRow): void {
    const abort = new AbortController();
    const promise = this.execute(job, abort).finally(() => {
      this.running.delete(job.job_id);
      this.notify();
    });
    this.running.set(job.job_id, { promise, abort });
  }

  private async execute(job: jobs.JobRow, abort: AbortController): Promise<void> {
    const kind = job.kind as TaskKind;
    const task = this.tasks[kind];
    const payload = JSON.parse(job.payload) as TaskPayloads[typeof kind];
    const heartbeat = setInterval(() => {
      jobs.extendJobLease(this.db, job.job_id, this.workerId, this.leaseEnd(this.now())).then(
        (held) => {
          if (!held) abort.abort(new Error('lease lost'));
        },
        (error: unknown) => this.options.log.warn({ err: error, jobId: job.job_id }, 'heartbeat failed'),
      );
    }, Math.max(50, Math.floor(this.options.leaseMs / 3)));
    heartbeat.unref();
    try {
      await task.run(payload, { signal: abort.signal, attempt: job.attempts });
      await jobs.markJobDone(this.db, job.job_id, this.workerId, this.now().toISOString());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (abort.signal.aborted && this.stopped) {
        // Our own stop: give the attempt back so the next start runs it without counting it.
        await jobs.markJobRetry(this.db, job.job_id, this.workerId, this.now().toISOString(), `interrupted: ${message}`, this.now().toISOString()).catch(() => undefined);
        return;
      }
      if (job.attempts >= job.max_attempts) {
        this.options.log.error({ err: error, jobId: job.job_id, kind }, 'job failed for good');
        await jobs.markJobFailed(this.db, job.job_id, message, this.now().toISOString());
        await task.onFinalFailure(payload, error).catch((e: unknown) => this.options.log.error({ err: e }, 'final-failure handler failed'));
      } else {
        const delay = this.options.backoffMs * 2 ** (job.attempts - 1);
        this.options.log.warn({ err: error, jobId: job.job_id, kind, attempt: job.attempts, retryInMs: delay }, 'job failed; will retry');
        await jobs.markJobRetry(this.db, job.job_id, this.workerId, new Date(this.now().getTime() + delay).toISOString(), message, this.now().toISOString());
      }
    } finally {
      clearInterval(heartbeat);
    }
  }
}
