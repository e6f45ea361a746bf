import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../src/config.js';

/** The slice of s3rver (which ships no types) the tests use. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export const TEST_BUCKET = 'roster';

export interface TestS3Server {
  endpoint: string;
  port: number;
  directory: string;
  /** Store settings for this server (s3rver checks signatures against the S3RVER key pair). */
  settings: S3Config;
  /** Stops the server and drops open connections: clients see the storage as down. */
  stop(): Promise<void>;
  /** Stops it and deletes its files. */
  close(): Promise<void>;
  /** Every key in the bucket under `prefix`, read with a client of its own. */
  listKeys(prefix?: string): Promise<string[]>;
}

/** A real S3-compatible server (s3rver) on 127.0.0.1 with the `roster` bucket; `port`/`directory` restart one. */
export async function startS3Server(options: { port?: number; directory?: string } = {}): Promise<TestS3Server> {
  const directory = options.directory ?? (await mkdtemp(path.join(os.tmpdir(), 'roster-s3-')));
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    directory,
    silent: true,
    configureBuckets: [{ name: TEST_BUCKET }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      const closing = server.close();
      server.httpServer?.closeAllConnections();
      await closing;
    })());
  const settings: S3Config = {
    endpoint,
    bucket: TEST_BUCKET,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  };
  return {
    endpoint,
    port,
    directory,
    settings,
    stop,
    async listKeys(prefix = '') {
      const client = new S3Client({
        endpoint,
        region: settings.region,
        forcePathStyle: true,
        credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      });
      try {
        const keys: string[] = [];
        let token: string | undefined;
        do {
          const page = await client.send(
            new ListObjectsV2Command({ Bucket: TEST_BUCKET, Prefix: prefix, ContinuationToken: token }),
          );
          keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return keys;
      } finally {
        client.destroy();
      }
    },
    async close() {
      await stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
