import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { S3Config } from '../../../src/config.js';
import { startS3Server, type TestS3Server } from '../../helpers/s3-server.js';
import { onProcessExit } from '../../helpers/exit-cleanup.js';

/** An s3rver that can be taken away and brought back on the same port with the same objects. */
export interface StoppableS3 {
  endpoint: string;
  port: number;
  directory: string;
  settings: S3Config;
  /** The ROSTER_S3_* environment of a `roster` process that keeps its files in this server. */
  env(): Record<string, string>;
  /** Stops the server and drops open connections: requests in flight fail, new ones are refused. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (no-op while it runs). */
  start(): Promise<void>;
  /** True while it runs. */
  running(): boolean;
  /** Every key under `prefix` (the server must be up). */
  listKeys(prefix?: string): Promise<string[]>;
  /** Stops it and deletes its directory. */
  close(): Promise<void>;
}

/** Starts an s3rver on a free port of 127.0.0.1 (via test/helpers/s3-server.ts) that the test can stop and start. */
export async function startStoppableS3(): Promise<StoppableS3> {
  let current: TestS3Server | undefined = await startS3Server();
  const { endpoint, port, directory, settings } = current;
  // s3rver runs in this process and dies with it; only its folder would outlive a failed test.
  const unregister = onProcessExit(() => rmSync(directory, { recursive: true, force: true }));
  return {
    endpoint,
    port,
    directory,
    settings,
    env: () => ({
      ROSTER_S3_ENDPOINT: endpoint,
      ROSTER_S3_BUCKET: settings.bucket,
      ROSTER_S3_REGION: settings.region,
      ROSTER_S3_ACCESS_KEY_ID: settings.accessKeyId,
      ROSTER_S3_SECRET_ACCESS_KEY: settings.secretAccessKey,
    }),
    async stop() {
      const stopping = current;
      current = undefined;
      await stopping?.stop();
    },
    async start() {
      current ??= await startS3Server({ port, directory });
    },
    running: () => current !== undefined,
    async listKeys(prefix = '') {
      if (!current) throw new Error('the S3 server is stopped');
      return current.listKeys(prefix);
    },
    async close() {
      const closing = current;
      current = undefined;
      if (closing) await closing.close();
      else await rm(directory, { recursive: true, force: true });
      unregister();
    },
  };
}
