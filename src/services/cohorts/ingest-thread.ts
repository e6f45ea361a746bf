import type { Config } from '../../config.js';
import type { TaskContext } from '../../queue/tasks.js';
import type { StorageOptions } from '../../storage/db.js';
import { LeaseLostError, type JobClaim } from '../../storage/repositories/jobs-repository.js';
import { startWorkerThread } from '../worker-thread.js';
import type { CohortDeps } from './cohort-deps.js';

/** What an ingest thread is started with: enough to open the same storage and hold the same job. */
export interface IngestThreadData {
  config: Config;
  storage: StorageOptions;
  cohortId: string;
  claim: JobClaim;
}

/** An error as it crosses threads: what the runner reads of it (name, message, code, causes). */
export interface CrossingError {
  name: string;
  message: string;
  stack: string | undefined;
  code: unknown;
  cause: CrossingError | undefined;
}

/** What an ingest thread tells the thread that started it. */
export type IngestThreadMessage =
  | { type: 'completed' }
  | { type: 'ingested'; valid: number; rejected: number }
  | { type: 'finished' }
  | { type: 'failed'; error: CrossingError };

/** What the starting thread tells an ingest thread: stop (the attempt was aborted), and why. */
export interface IngestThreadAbort {
  type: 'abort';
  reason: CrossingError;
}

export function crossingError(error: unknown, depth = 0): CrossingError {
  const e = (error instanceof Error ? error : new Error(String(error))) as Error & { code?: unknown };
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
    cause: e.cause !== undefined && depth < 4 ? crossingError(e.cause, depth + 1) : undefined,
  };
}

/** The error again on this side: a LeaseLostError stays one (the runner treats it apart), codes and causes kept. */
export function arrivedError(crossed: CrossingError, claim: JobClaim): Error {
  const error: Error & { code?: unknown } =
    crossed.name === 'LeaseLostError' ? new LeaseLostError(claim, 'in the ingest thread') : new Error(crossed.message);
  error.message = crossed.message;
  error.name = crossed.name;
  if (crossed.stack !== undefined) error.stack = crossed.stack;
  if (crossed.code !== undefined) error.code = crossed.code;
  if (crossed.cause) error.cause = arrivedError(crossed.cause, claim);
  return error;
}

/**
 * Runs one attempt of a cohort's ingest (ingestCohort) on a thread of its own, at a lower CPU
 * priority, with its own connection to `storage` and its own fence over the same claim. Parsing,
 * the rows' trips to the transform workers and the database writes then never hold up the event
 * loop that answers calls, and their garbage is collected on the thread's own heap. An abort of
 * the attempt reaches the thread; what it reports (the job completed, rows ingested, the error it
 * stopped with) reaches the runner as if the attempt had run here.
 */
export function ingestInThread(
  deps: CohortDeps,
  storage: StorageOptions,
  cohortId: string,
  context: TaskContext,
): Promise<void> {
  const claim = context.fence.claim;
  const workerData: IngestThreadData = { config: deps.config, storage, cohortId, claim };
  // The thread holds a few units of rows and the parser's chunk: its heap is kept well below the server's.
  const worker = startWorkerThread(import.meta.url, 'ingest-thread-main', {
    workerData,
    resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 },
  });
  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let finished = false;
    const onAbort = () =>
      worker.postMessage({ type: 'abort', reason: crossingError(context.signal.reason) } satisfies IngestThreadAbort);
    if (context.signal.aborted) onAbort();
    else context.signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: IngestThreadMessage) => {
      if (message.type === 'completed') context.fence.completedElsewhere();
      else if (message.type === 'ingested') deps.metrics?.rowsIngested(message.valid, message.rejected);
      else if (message.type === 'finished') finished = true;
      else failure = arrivedError(message.error, claim);
    });
    // An error the thread did not catch (out of memory: ERR_WORKER_OUT_OF_MEMORY) fails the attempt.
    worker.on('error', (error) => (failure ??= error));
    worker.on('exit', (code) => {
      context.signal.removeEventListener('abort', onAbort);
      if (failure) reject(failure);
      else if (finished) resolve();
      else reject(new Error(`the ingest thread of cohort ${cohortId} stopped (exit code ${code}) before it finished`));
    });
  });
}
