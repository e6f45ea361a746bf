import type { Worker } from 'node:worker_threads';
import type { Config } from '../../config.js';
import type { TaskContext } from '../../queue/tasks.js';
import type { StorageOptions } from '../../storage/db.js';
import { LeaseLostError, type JobClaim } from '../../storage/repositories/jobs-repository.js';
import { startWorkerThread } from '../worker-thread.js';
import type { CohortDeps } from './cohort-deps.js';

/** What an ingest thread is started with: enough to open the same storage. */
export interface IngestThreadData {
  config: Config;
  storage: StorageOptions;
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

/**
 * What the starting thread tells an ingest thread: run an attempt at a cohort's job (one at a time),
 * stop it (the attempt was aborted, and why), or end (it has waited long enough for the next one).
 */
export type IngestThreadRequest =
  | { type: 'run'; cohortId: string; claim: JobClaim }
  | { type: 'abort'; reason: CrossingError }
  | { type: 'end' };

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

/** How long an ingest thread waits for another attempt before it ends. */
export const INGEST_THREAD_IDLE_MS = 5000;
/** How long a thread told to end may take to close its storage before it is stopped. */
const ENDING_MS = 10_000;

/** Ingest threads, started as attempts need them and kept a while for the next (`ingestThreads`). */
export interface IngestThreads {
  run(cohortId: string, context: TaskContext): Promise<void>;
  /** Ends the idle threads, and each busy one once its attempt has ended. */
  close(): Promise<void>;
}

/**
 * Runs attempts at cohorts' ingests (ingestCohort) on threads of their own, at a lower CPU priority,
 * each with its own connection to `storage` and its own fence over the attempt's claim. Parsing, the
 * rows' trips to the transform workers and the database writes then never hold up the event loop
 * that answers calls, and their garbage is collected on the threads' own heaps. An abort of an
 * attempt reaches its thread; what the thread reports (the job completed, rows ingested, the error it
 * stopped with) reaches the runner as if the attempt had run here.
 *
 * A thread that finished an attempt waits INGEST_THREAD_IDLE_MS for the next, with its transform
 * workers: starting a thread and its workers costs about two thirds of a second (loading, compiling,
 * V8 warming up), as long as a 100k-row cohort's own ingest takes. A thread whose attempt failed is
 * not reused, and one that dies fails its attempt.
 */
export function ingestThreads(
  deps: CohortDeps,
  storage: StorageOptions,
  idleMs = INGEST_THREAD_IDLE_MS,
): IngestThreads {
  const idle = new Map<Worker, NodeJS.Timeout>();
  const ended = new Set<Promise<unknown>>();
  let closed = false;

  const start = (): Worker => {
    const workerData: IngestThreadData = { config: deps.config, storage };
    // The thread holds a few units of rows and the parser's chunk: its heap is kept well below the server's.
    const worker = startWorkerThread(import.meta.url, 'ingest-thread-main', {
      workerData,
      resourceLimits: { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 },
    });
    // What a thread reports between attempts (none is running) has no one to fail: it just ends.
    worker.on('error', () => undefined);
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    ended.add(exited);
    void exited.then(() => {
      ended.delete(exited);
      clearTimeout(idle.get(worker));
      idle.delete(worker);
    });
    return worker;
  };
  // A thread told to end closes its storage and exits; one that has not within ENDING_MS is stopped.
  const end = (worker: Worker) => {
    worker.postMessage({ type: 'end' } satisfies IngestThreadRequest);
    setTimeout(() => void worker.terminate(), ENDING_MS).unref();
  };
  const take = (): Worker => {
    for (const [worker, timer] of idle) {
      clearTimeout(timer);
      idle.delete(worker);
      worker.ref();
      return worker;
    }
    return start();
  };
  const keep = (worker: Worker) => {
    if (closed) return end(worker);
    // An idle thread holds no work: it never keeps the process alive.
    worker.unref();
    const timer = setTimeout(() => {
      idle.delete(worker);
      end(worker);
    }, idleMs);
    timer.unref();
    idle.set(worker, timer);
  };

  return {
    run(cohortId, context) {
      const claim = context.fence.claim;
      const worker = take();
      return new Promise((resolve, reject) => {
        const onAbort = () =>
          worker.postMessage({
            type: 'abort',
            reason: crossingError(context.signal.reason),
          } satisfies IngestThreadRequest);
        // A thread that finished its attempt is kept for the next; one that failed is not reused.
        const settle = (failure: Error | undefined) => {
          context.signal.removeEventListener('abort', onAbort);
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          if (failure) {
            end(worker);
            reject(failure);
          } else {
            keep(worker);
            resolve();
          }
        };
        const onMessage = (message: IngestThreadMessage) => {
          if (message.type === 'completed') context.fence.completedElsewhere();
          else if (message.type === 'ingested') deps.metrics?.rowsIngested(message.valid, message.rejected);
          else if (message.type === 'finished') settle(undefined);
          else settle(arrivedError(message.error, claim));
        };
        // An error the thread did not catch (out of memory: ERR_WORKER_OUT_OF_MEMORY) fails the attempt.
        const onError = (error: Error) => settle(error);
        const onExit = (code: number) =>
          settle(new Error(`the ingest thread of cohort ${cohortId} stopped (exit code ${code}) before it finished`));
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        worker.postMessage({ type: 'run', cohortId, claim } satisfies IngestThreadRequest);
        if (context.signal.aborted) onAbort();
        else context.signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close() {
      closed = true;
      for (const [worker, timer] of idle) {
        clearTimeout(timer);
        end(worker);
      }
      idle.clear();
      await Promise.all([...ended]);
      // A runner started again starts threads again.
      closed = false;
    },
  };
}
