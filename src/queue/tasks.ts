import { type Static, Type } from '@sinclair/typebox';
import type { Transaction } from 'kysely';
import { jsonColumn } from '../storage/json-column.js';
import type { JobClaim } from '../storage/repositories/jobs-repository.js';
import type { Database } from '../storage/schema.js';

/** The typed registry of background tasks: a kind, its payload's schema, and what to do when it finally fails. */
const TASK_PAYLOAD_SCHEMAS = {
  ingest_cohort: Type.Object({ cohortId: Type.String() }),
  deliver_webhook: Type.Object({ deliveryId: Type.String() }),
  erase_numbers: Type.Object({ erasureId: Type.String() }),
};

export type TaskPayloads = { [K in keyof typeof TASK_PAYLOAD_SCHEMAS]: Static<(typeof TASK_PAYLOAD_SCHEMAS)[K]> };

export type TaskKind = keyof TaskPayloads;

const PAYLOAD_READERS: { [K in TaskKind]: (text: string) => TaskPayloads[K] } = {
  ingest_cohort: jsonColumn('jobs.payload', TASK_PAYLOAD_SCHEMAS.ingest_cohort),
  deliver_webhook: jsonColumn('jobs.payload', TASK_PAYLOAD_SCHEMAS.deliver_webhook),
  erase_numbers: jsonColumn('jobs.payload', TASK_PAYLOAD_SCHEMAS.erase_numbers),
};

/** A job's stored payload, checked against its kind's schema; throws when it does not match. */
export function readPayload<K extends TaskKind>(kind: K, text: string): TaskPayloads[K] {
  return PAYLOAD_READERS[kind](text);
}

/**
 * How a task writes on behalf of its attempt: only while the attempt still holds the job. Both
 * methods run `write` in one transaction that first checks (and renews) the attempt's lease and
 * throw LeaseLostError, writing nothing, once another attempt has the job.
 */
export interface JobFence {
  readonly claim: JobClaim;
  hold<T>(doing: string, write: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** As `hold`, and the job is done in the same transaction: the task's outcome and the job's end are one write. */
  complete<T>(doing: string, write: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /**
   * Says that this attempt's `complete` ran on another connection (an ingest thread's own fence):
   * the job is done, and the runner must not end it again.
   */
  completedElsewhere(): void;
}

export interface TaskContext {
  /** Aborted when the worker stops or loses the job's lease: stop at the next batch boundary. */
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
  fence: JobFence;
}

/** Why a job failed for good, for a message a person can act on. */
export interface FinalFailure {
  attempts: number;
  /** Attempts whose process stopped without reporting (killed, out of memory, stalled past its lease). */
  lostAttempts: number;
  /** The error the last attempt threw, when it threw one (not when its process died). */
  error: unknown;
  /** The last error any attempt reported, as stored on the job. */
  lastError: string | null;
}

export interface TaskDefinition<K extends TaskKind> {
  run(payload: TaskPayloads[K], context: TaskContext): Promise<void>;
  /**
   * After the last attempt: records the failure inside the transaction that fails the job, so it
   * happens exactly once, whichever process finds the job (the runner owns retries, not the task).
   * Keep it small: it may run on a full disk.
   */
  fail(trx: Transaction<Database>, payload: TaskPayloads[K], failure: FinalFailure): Promise<void>;
  /** Then, outside that transaction, clean-up that may be skipped (a process dying here loses nothing). */
  afterFailure?(payload: TaskPayloads[K]): Promise<void>;
  /**
   * Now and then, whatever clean-up `afterFailure` could not do (a full disk, a process that died
   * first); best effort, a failure is logged and it runs again later.
   */
  sweep?(): Promise<void>;
  /** Once the runner has stopped and its jobs have ended: ends what the task keeps between jobs (threads). */
  stop?(): Promise<void>;
}

export type TaskRegistry = { [K in TaskKind]: TaskDefinition<K> };
