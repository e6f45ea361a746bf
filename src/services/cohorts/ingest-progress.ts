import type { CohortProgress } from '../../storage/repositories/cohorts-repository.js';
import type { UnitCounts } from './ingest-rows.js';

/** A progress write is due once this much time has passed since the last one… */
export const PROGRESS_EVERY_MS = 1000;
/** …or this many rows were written since, whichever comes first. */
export const PROGRESS_EVERY_ROWS = 10_000;

/**
 * Decides when an attempt's progress is written: at a unit boundary, once a second or once
 * 10,000 rows have passed since the last write, so a cohort costs one small UPDATE per interval
 * however many rows it has. `write` goes through the attempt's fence: once the attempt has lost
 * its job it throws and writes nothing, which stops the attempt like any other fenced write.
 */
export class ProgressThrottle {
  private lastAt: number;
  private lastRows = 0;
  private latest: UnitCounts | undefined;

  constructor(
    private readonly write: (progress: CohortProgress) => Promise<void>,
    private readonly bytesRead: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastAt = now();
  }

  /** After a unit was written: writes the counts when a write is due. */
  async unitWritten(counts: UnitCounts): Promise<void> {
    this.latest = counts;
    const at = this.now();
    if (counts.rows - this.lastRows < PROGRESS_EVERY_ROWS && at - this.lastAt < PROGRESS_EVERY_MS) return;
    this.lastAt = at;
    this.lastRows = counts.rows;
    await this.write({ ...counts, bytes: this.bytesRead() });
  }

  /** Once every row is written: the last counts, if not written yet (the load may still take a while to finish). */
  async flush(): Promise<void> {
    if (this.latest === undefined || this.latest.rows === this.lastRows) return;
    this.lastAt = this.now();
    this.lastRows = this.latest.rows;
    await this.write({ ...this.latest, bytes: this.bytesRead() });
  }
}
