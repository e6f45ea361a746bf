import { Readable, Transform, pipeline } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertSafeKey, BlobNotFoundError, BlobStorageUnavailableError, type BlobStore } from './blob-store.js';

export interface S3Settings {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Bodies above one part go up as a multipart upload; at most PART_SIZE × QUEUE_SIZE bytes are buffered. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
const PING_TIMEOUT_MS = 3000;

/** True when the SDK says the key (or the object behind it) does not exist. */
function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

/**
 * Objects in one bucket of an S3-compatible server (path-style, so MinIO, Ceph, s3rver work too).
 * Any SDK or network failure becomes BlobStorageUnavailableError; a failing source stream keeps its own error.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(settings: S3Settings) {
    this.bucket = settings.bucket;
    this.client = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // Newer SDKs add CRC checksums that many non-AWS servers reject or never send.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // A storage outage should answer 503 within seconds, not hang an upload: one retry, short connects;
      // the socket timeout bounds a stalled transfer without cutting long streamed ones.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 2000, socketTimeout: 60_000 },
    });
  }

  async put(key: string, source: Readable): Promise<{ bytes: number }> {
    assertSafeKey(key);
    let bytes = 0;
    let sourceError: unknown;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    // pipeline() carries a source error into `counted`, which fails the upload; the callback only records it.
    pipeline(source, counted, (error) => {
      if (error && !counted.destroyed) counted.destroy(error);
    });
    source.once('error', (error) => (sourceError ??= error));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: counted },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      // A failed multipart upload is aborted, so no parts linger in the bucket.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      return { bytes };
    } catch (error) {
      // Read before destroying: destroying `counted` makes pipeline() destroy the source too.
      const failedSource = sourceError;
      // Stop reading the request: the upload is over either way.
      counted.destroy();
      if (failedSource !== undefined) throw failedSource;
      throw new BlobStorageUnavailableError('put', key, error);
    }
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(response.Body instanceof Readable)) throw new Error('the S3 response body is not a Node stream');
      return response.Body;
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key);
      throw new BlobStorageUnavailableError('get', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (!isNotFound(error)) throw new BlobStorageUnavailableError('delete', key, error);
    }
  }

  /** Like the local store's folders: `cohorts/coh-1` removes `cohorts/coh-1/…`, never `cohorts/coh-10/…`. */
  async deletePrefix(prefix: string): Promise<void> {
    const folder = `${assertSafeKey(prefix.replace(/\/+$/, ''))}/`;
    try {
      let token: string | undefined;
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: folder, MaxKeys: 1000, ContinuationToken: token }),
        );
        const keys = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [{ Key: object.Key }]));
        if (keys.length > 0) {
          const result = await this.client.send(
            new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }),
          );
          const failed = result.Errors?.[0];
          if (failed)
            throw new Error(`could not delete ${failed.Key ?? '?'}: ${failed.Code ?? ''} ${failed.Message ?? ''}`);
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw new BlobStorageUnavailableError('deletePrefix', folder, error);
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(PING_TIMEOUT_MS),
      });
      return true;
    } catch {
      return false;
    }
  }

  /** Releases the client's sockets (tests; a server keeps its store for its lifetime). */
  close(): void {
    this.client.destroy();
  }
}
