import type { Readable } from 'node:stream';

/** Object storage for uploaded and generated files; local disk now, S3-compatible later. */
export interface BlobStore {
  /** Streams `source` into `key`; the object appears only once it is complete and durable. */
  put(key: string, source: Readable): Promise<{ bytes: number }>;
  /** A stream of the object's bytes; throws BlobNotFoundError when absent. */
  get(key: string): Promise<Readable>;
  delete(key: string): Promise<void>;
  /** Deletes every object whose key starts with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  /** True when the store can be written to (readiness). */
  ping(): Promise<boolean>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
  }
}
