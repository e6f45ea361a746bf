// What every workload gets and gives back.
export type Mode = 'quick' | 'full';

export interface TableRow {
  workload: string;
  roster: string;
  baseline: string;
  ratio: string;
  target: string;
}

export interface WorkloadResult {
  name: string;
  rows: TableRow[];
  /** Every raw run and median, for the JSON file. */
  data: Record<string, unknown>;
  skipped?: string;
}

export interface BenchContext {
  mode: Mode;
  /** Why PostgreSQL cannot be used (its workloads are skipped), or undefined. */
  postgresProblem: string | undefined;
  /** Results of the workloads that ran before, for figures that relate two workloads. */
  earlier: ReadonlyMap<string, WorkloadResult>;
  log(line: string): void;
}

export interface Workload {
  name: string;
  summary: string;
  run(context: BenchContext): Promise<WorkloadResult>;
}

/** A workload that did not run, with the reason printed in its row. */
export function skipped(name: string, label: string, reason: string): WorkloadResult {
  return {
    name,
    skipped: reason,
    data: { skipped: reason },
    rows: [{ workload: label, roster: `skipped: ${reason}`, baseline: '', ratio: '', target: '' }],
  };
}

/** In CI a missing prerequisite is a failure, never a skip. */
export function skipOrFail(name: string, label: string, reason: string): WorkloadResult {
  if (process.env.CI === 'true') throw new Error(`${label}: ${reason} (CI=true: not skipping)`);
  return skipped(name, label, reason);
}
