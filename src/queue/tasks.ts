/** The typed registry of background tasks: a kind, its payload, and what to do when it finally fails. */
export interface TaskPayloads {
  ingest_cohort: { cohortId: string };
}

export type TaskKind = keyof TaskPayloads;

export interface TaskContext {
  /** Aborted when the worker stops or loses the job's lease: stop at the next batch boundary. */
  signal: AbortSignal;
  attempt: number;
}

export interface TaskDefinition<K extends TaskKind> {
  run(payload: TaskPayloads[K], context: TaskContext): Promise<void>;
  /** Called once when the last attempt has failed; the runner owns retries, not the task. */
  onFinalFailure(payload: TaskPayloads[K], error: unknown): Promise<void>;
  maxAttempts: number;
}

export type TaskRegistry = { [K in TaskKind]: TaskDefinition<K> };
