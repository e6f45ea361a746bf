import type { Config } from '../../config.js';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';

/**
 * The configured object storage: an S3-compatible bucket when ROSTER_S3_ENDPOINT is set, else local
 * disk. The AWS SDK is loaded only then: it is several megabytes of heap an embedded server never uses.
 */
export async function openBlobStore(config: Pick<Config, 'dataDir' | 's3'>): Promise<BlobStore> {
  if (!config.s3) return new LocalBlobStore(config.dataDir);
  const { S3BlobStore } = await import('./s3-blob-store.js');
  return new S3BlobStore(config.s3);
}
