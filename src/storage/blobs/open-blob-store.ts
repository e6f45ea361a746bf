import type { Config } from '../../config.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/** The configured object storage: an S3-compatible bucket when ROSTER_S3_ENDPOINT is set, else local disk. */
export function openBlobStore(config: Pick<Config, 'dataDir' | 's3'>): BlobStore {
  return config.s3 ? new S3BlobStore(config.s3) : new LocalBlobStore(config.dataDir);
}
