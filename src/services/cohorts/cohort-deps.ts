import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { BlobStore } from '../../storage/blobs/blob-store.js';
import type { ContactLoader } from '../../storage/contact-loader.js';
import type { Capabilities, StorageOptions } from '../../storage/db.js';
import type { CallerReads } from '../../storage/repositories/contacts-repository.js';
import type { TransformPool } from './row-transformer.js';
import type { Database } from '../../storage/schema.js';

/** What cohort use cases need: the database, object storage and the limits from config. */
export interface CohortDeps {
  db: Kysely<Database>;
  capabilities: Capabilities;
  blobs: BlobStore;
  config: Config;
  /** Bulk contact loads, the backend's fastest way. */
  contacts: ContactLoader;
  /** The call-time read of a caller, the backend's fastest way. */
  callers: CallerReads;
  /** Tells the in-process job runner that work is waiting (no-op with separate workers). */
  notifyWorkers: () => void;
  /** Where ingest and lookups report for /metrics; absent, nothing is measured. */
  metrics?: CohortMetrics;
  /**
   * How an ingest thread opens this same storage (its options); absent, every ingest runs on the
   * runner's own thread. Set only where `blobs` is the configured store, which the thread opens too.
   */
  ingestThread?: StorageOptions;
  /**
   * Warm transform workers for large files (an ingest thread's, kept between its cohorts); absent,
   * each large file starts workers of its own.
   */
  transformPool?: () => TransformPool;
}

/** What cohort use cases report: rows of each completed cohort, and each caller lookup's time. */
export interface CohortMetrics {
  rowsIngested(valid: number, rejected: number): void;
  lookupSeconds(seconds: number, found: boolean): void;
}

/** A problem with the upload itself: the cohort fails as a whole with this code, and is not retried. */
export class BlockingCohortError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'BlockingCohortError';
  }
}

export const blobKeys = {
  source: (cohortId: string) => `cohorts/${cohortId}/source.csv`,
  /** Each attempt writes its own rejection file; the cohort row names the one that was published. */
  rejected: (cohortId: string, attempt: string) => `cohorts/${cohortId}/rejected/${attempt}.csv`,
  rejectedFolder: (cohortId: string) => `cohorts/${cohortId}/rejected/`,
  folder: (cohortId: string) => `cohorts/${cohortId}`,
};
