import type { Readable } from 'node:stream';

/** Object storage for uploaded and generated files: local disk (embedded) or S3-compatible. */
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

/** The store could not be reached or refused the request; the HTTP layer answers 503 storage_unavailable. */
export class BlobStorageUnavailableError extends Error {
  constructor(operation: string, key: string, cause: unknown) {
    super(
      `object storage unavailable during ${operation} of ${key}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
    this.name = 'BlobStorageUnavailableError';
  }
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** Keys come from our own code, but a bad one must never escape its folder (or bucket prefix). */
export function assertSafeKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`unsafe blob key: ${key}`);
  return key;
}
