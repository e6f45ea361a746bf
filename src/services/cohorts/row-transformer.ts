import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { planIngest, type PlanOptions } from '../../domain/ingest/ingest-plan.js';
import type { TransformationConfig } from '../../domain/ingest/transformation-schema.js';
import type { AgentVariable } from '../../domain/tenancy/agent-variable.js';
import type { RowRejectionCode } from '../../domain/ingest/row-rejection.js';
import { transformRow } from '../../domain/ingest/transform-row.js';
import { startWorkerThread } from '../worker-thread.js';

/**
 * A unit's outcomes in columns, which cross between threads as a few strings rather than an object
 * per row (structured clone and the garbage it leaves cost about a CPU-second per million rows).
 */
export interface TransformedUnit {
  /** Per row, in order: 1 kept, 0 refused. */
  kept: Uint8Array;
  /**
   * The kept rows' E.164 phones and serialised variables, each column joined with '\n': neither
   * a phone nor JSON.stringify's text ever holds a raw line break.
   */
  phones: string;
  appVariables: string;
  appOverrides: string;
  /** The kept rows' user identifiers (any text, so a list), null where there is none. */
  userIdentifiers: Array<string | null>;
  /** The refused rows, in order: why each is refused. */
  refusals: Array<{ code: RowRejectionCode; reason: string }>;
}

/** What a worker needs to rebuild the plan: compiled format functions cannot cross threads. */
export interface PlanInput {
  config: TransformationConfig;
  header: string[];
  agentVariables: AgentVariable[];
  options: PlanOptions;
}

export interface RowTransformer {
  transform(rows: string[][]): Promise<TransformedUnit>;
  close(): Promise<void>;
}

/** Transforms rows with a plan built from `input`; the one function both threads run. */
export function transformerFor(input: PlanInput): (rows: string[][]) => TransformedUnit {
  const planned = planIngest(input.config, input.header, input.agentVariables, input.options);
  if (!planned.ok) throw new Error(`plan refused in a transform worker: ${planned.issues[0]?.message ?? ''}`);
  const plan = planned.plan;
  return (rows) => {
    const kept = new Uint8Array(rows.length);
    const phones: string[] = [];
    const appVariables: string[] = [];
    const appOverrides: string[] = [];
    const userIdentifiers: Array<string | null> = [];
    const refusals: TransformedUnit['refusals'] = [];
    rows.forEach((fields, i) => {
      const outcome = transformRow(plan, fields);
      if (outcome.ok) {
        kept[i] = 1;
        phones.push(outcome.phone);
        appVariables.push(JSON.stringify(outcome.appVariables));
        appOverrides.push(JSON.stringify(outcome.appOverrides));
        userIdentifiers.push(outcome.userIdentifier);
      } else {
        refusals.push({ code: outcome.code, reason: outcome.reason });
      }
    });
    return {
      kept,
      phones: phones.join('\n'),
      appVariables: appVariables.join('\n'),
      appOverrides: appOverrides.join('\n'),
      userIdentifiers,
      refusals,
    };
  };
}

/** Below this size the rows are transformed on the calling thread: starting workers would cost more. */
export const WORKER_THRESHOLD_BYTES = 1024 * 1024;

/**
 * The transformer for a file of `bytes`, and how many units to transform ahead of the one written:
 * `configured` worker threads (ROSTER_INGEST_WORKERS; 0 = none) from WORKER_THRESHOLD_BYTES up,
 * else the calling thread. Ingest and the dry run both read files this way. With `pool` (an ingest
 * thread's warm workers) the file's plan goes to those workers; without, the file starts its own.
 */
export function fileTransformer(
  input: PlanInput,
  bytes: number | null,
  configured: number,
  pool?: () => TransformPool,
): { transformer: RowTransformer; depth: number } {
  const workers = (bytes ?? 0) >= WORKER_THRESHOLD_BYTES ? configured : 0;
  let transformer: RowTransformer;
  if (workers === 0) transformer = inlineTransformer(input);
  else if (pool) transformer = pool().transformer(input);
  else transformer = workerTransformer(input, workers);
  return { transformer, depth: Math.max(2, workers * 2) };
}

/** On the calling thread: for small files, where starting workers costs more than it saves. */

export function inlineTransformer(input: PlanInput): RowTransformer {
  const run = transformerFor(input);
  return { transform: async (rows) => run(rows), close: async () => undefined };
}

/** What a transform worker (transform-worker.ts) is asked. */
export type TransformRequest =
  | { type: 'plan'; plan: number; input: PlanInput }
  | { type: 'rows'; plan: number; id: number; rows: string[][] }
  | { type: 'drop'; plan: number };

/** What it answers to `rows`: the unit, or why it could not. */
export interface TransformAnswer {
  id: number;
  unit?: TransformedUnit;
  error?: string;
}

/**
 * Transform worker threads that serve one file after another: each file's plan is built in every
 * worker (`transformer`) and dropped when the file's transformer closes. Starting a worker costs
 * about a third of a second of loading and compiling, and its first units run slowly until V8 has
 * optimised the transform; an ingest thread keeps one pool for the files it ingests, so a run of
 * small cohorts pays that once. When a worker dies (killed, out of memory) every unit waiting on
 * the pool fails, and so does every later one: `broken` says a new pool is needed.
 */
export interface TransformPool {
  transformer(input: PlanInput): RowTransformer;
  readonly broken: boolean;
  close(): Promise<void>;
}

/** Starts a transform worker (transform-worker.ts). */
function startWorker(): Worker {
  // A worker holds one batch at a time; a small heap makes V8 collect often instead of growing.
  return startWorkerThread(import.meta.url, 'transform-worker', {
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
  });
}

/**
 * A pool of `size` worker threads. Phone validation dominates ingest time (libphonenumber), so
 * rows are transformed on every core while the calling thread parses the file and writes to the
 * database. Units go to the workers in turn.
 */
export function transformPool(size = Math.max(1, availableParallelism())): TransformPool {
  const workers = Array.from({ length: size }, () => startWorker());
  const pending = new Map<number, { resolve: (unit: TransformedUnit) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let nextPlan = 0;
  let turn = 0;
  let broken: Error | undefined;
  let closing = false;
  const fail = (error: Error) => {
    broken ??= error;
    for (const job of pending.values()) job.reject(error);
    pending.clear();
  };
  for (const worker of workers) {
    worker.on('message', (message: TransformAnswer) => {
      const job = pending.get(message.id);
      pending.delete(message.id);
      if (message.unit !== undefined) job?.resolve(message.unit);
      else job?.reject(new Error(message.error ?? 'a transform worker answered nothing'));
    });
    worker.on('error', fail);
    // A worker that dies without an error event (killed, out of memory) must not leave batches waiting.
    worker.on('exit', (code) => {
      if (!closing) fail(new Error(`a transform worker exited with code ${code}`));
    });
  }
  const post = (worker: Worker, request: TransformRequest) => worker.postMessage(request);
  return {
    get broken() {
      return broken !== undefined;
    },
    transformer(input) {
      const plan = nextPlan++;
      if (!broken) for (const worker of workers) post(worker, { type: 'plan', plan, input });
      return {
        transform(rows) {
          if (broken) return Promise.reject(broken);
          const id = nextId++;
          const worker = workers[turn++ % workers.length]!;
          return new Promise((resolve, reject) => {
            pending.set(id, { resolve, reject });
            post(worker, { type: 'rows', plan, id, rows });
          });
        },
        async close() {
          if (!broken && !closing) for (const worker of workers) post(worker, { type: 'drop', plan });
        },
      };
    },
    async close() {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/** A pool of its own for one file, ended with it (the dry run, and ingests on the runner's thread). */
export function workerTransformer(input: PlanInput, size?: number): RowTransformer {
  const pool = transformPool(size);
  const transformer = pool.transformer(input);
  return {
    transform: (rows) => transformer.transform(rows),
    async close() {
      await transformer.close();
      await pool.close();
    },
  };
}
