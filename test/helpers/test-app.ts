import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { JobRunner } from '../../src/queue/runner.js';
import type { BlobStore } from '../../src/storage/blobs/blob-store.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { openBlobStore } from '../../src/storage/blobs/open-blob-store.js';
import { S3BlobStore } from '../../src/storage/blobs/s3-blob-store.js';
import { createJobRunner } from '../../src/worker.js';
import type { Backend, TestStorage } from './backends.js';
import { watchDocumentedErrors } from './documented-errors.js';
import { startS3Server, type TestS3Server } from './s3-server.js';
import { testWorker, type TestWorker } from './worker-process.js';

export const TEST_MASTER_KEY = 'rmk_test_master_key_0123456789abcdef';

/** How often the scale-out mode's worker looks for jobs, unless a suite sets ROSTER_JOB_POLL_MS. */
const WORKER_POLL_MS = '50';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  backing: TestStorage;
  /** Where the app keeps files: local disk, or the S3-compatible server. */
  blobs: BlobStore;
  /** The S3-compatible server the files are in, if any. */
  s3: TestS3Server | undefined;
  /** The in-process job runner. The scale-out mode has none, and reading it there throws: use `jobs`. */
  runner: JobRunner;
  /** The `roster worker` process of the scale-out mode. */
  worker: TestWorker | undefined;
  /** Stops and restarts job processing, whether in-process or in the worker process. */
  jobs: { stop(): Promise<void>; start(): Promise<void> };
  /** Sends a request with the given key (master by default) and a JSON body. */
  call(
    method: string,
    url: string,
    options?: { key?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** The ids of the cohorts that have files in the store, wherever it is. */
  storedCohortIds(): Promise<string[]>;
  /** Stops everything started for the app; rejects, after cleaning up, if the worker died or did not stop cleanly. */
  close(): Promise<void>;
}

/** Runs every step even when one fails, then throws the first failure. */
async function runAll(steps: Array<() => Promise<unknown> | unknown>): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      first ??= error;
    }
  }
  if (first !== undefined) throw first;
}

/**
 * Builds the app on a backend, in-process, for `app.inject` or a real port. On sqlite and postgres a
 * job runner runs in-process; in the scale-out mode (`postgres+s3+worker`) files go to an
 * S3-compatible server (`s3`, else one the harness starts) and a `roster worker` process with the
 * same settings does the jobs. `s3` puts the files of the other modes in that server too.
 */
export async function createTestApp(
  backend: Backend,
  env: Record<string, string> = {},
  options: { now?: () => Date; blobs?: BlobStore; s3?: TestS3Server } = {},
): Promise<TestApp> {
  if (backend.externalWorker && options.blobs)
    throw new Error(
      `${backend.name}: the worker process cannot share a BlobStore object; pass the S3 server as \`s3\``,
    );
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let closing: Promise<void> | undefined;
  const cleanUp = () => (closing ??= runAll([...cleanups].reverse()));
  try {
    const backing = await backend.open();
    cleanups.push(() => backing.cleanup());
    let s3 = options.s3;
    if (!s3 && backend.externalWorker) {
      const started = await startS3Server();
      cleanups.push(() => started.close());
      s3 = started;
    }
    const settings: Record<string, string> = {
      ROSTER_DATA_DIR: backing.dataDir,
      ROSTER_MASTER_KEY: TEST_MASTER_KEY,
      ROSTER_LOG_LEVEL: 'silent',
      ...(backing.databaseUrl ? { ROSTER_DATABASE_URL: backing.databaseUrl } : {}),
      ...(s3
        ? {
            ROSTER_S3_ENDPOINT: s3.settings.endpoint,
            ROSTER_S3_BUCKET: s3.settings.bucket,
            ROSTER_S3_REGION: s3.settings.region,
            ROSTER_S3_ACCESS_KEY_ID: s3.settings.accessKeyId,
            ROSTER_S3_SECRET_ACCESS_KEY: s3.settings.secretAccessKey,
          }
        : {}),
      ...(backend.externalWorker ? { ROSTER_JOB_POLL_MS: WORKER_POLL_MS } : {}),
      ...env,
    };
    const config = loadConfig(settings);
    const blobs = options.blobs ?? (s3 ? await openBlobStore(config) : new LocalBlobStore(backing.dataDir));
    if (blobs instanceof S3BlobStore && !options.blobs) cleanups.push(() => blobs.close());

    // The worker starts (about two seconds) while the app is built and the suite
    // seeds its tenants: jobs wait in the queue until it is ready. A worker that dies or never gets
    // ready fails waitForCohort at once and close(), with its output.
    const worker = backend.externalWorker ? testWorker(settings) : undefined;
    if (worker) {
      worker.start().catch(() => undefined);
      cleanups.push(() => worker.stop());
    }

    let runner: JobRunner | undefined;
    const app = await buildApp(
      config,
      {
        storage: backing.storage,
        blobs,
        notifyWorkers: () => runner?.notify(),
        ...(options.now ? { now: options.now } : {}),
      },
      false,
    );
    const checkDocumentedErrors = watchDocumentedErrors(app);
    cleanups.push(checkDocumentedErrors);
    cleanups.push(() => app.close());
    await app.ready();
    if (!worker) {
      const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
      // Large files ingest on a thread of their own, as in `roster serve`, unless the suite brought its own BlobStore (the thread opens the configured one).
      const inProcess = createJobRunner(config, backing.storage, blobs, silent, undefined, {
        ingestThreads: options.blobs === undefined,
      });
      runner = inProcess;
      cleanups.push(() => inProcess.stop());
      await inProcess.start();
    }

    return {
      app,
      config,
      backing,
      blobs,
      s3,
      get runner(): JobRunner {
        if (!runner)
          throw new Error(
            `${backend.name} has no in-process job runner: jobs run in a roster worker process (use t.jobs)`,
          );
        return runner;
      },
      worker,
      jobs: worker ?? { stop: () => runner!.stop(), start: () => runner!.start() },
      call(method, url, options = {}) {
        const key = options.key === undefined ? TEST_MASTER_KEY : options.key;
        const headers: Record<string, string> = { ...(key ? { 'x-api-key': key } : {}), ...options.headers };
        if (options.body !== undefined && typeof options.body !== 'string')
          headers['content-type'] ??= 'application/json';
        return app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(options.body === undefined
            ? {}
            : { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
        });
      },
      async storedCohortIds() {
        if (s3) return [...new Set((await s3.listKeys('cohorts/')).map((key) => key.split('/')[1] ?? ''))];
        return readdir(path.join(backing.dataDir, 'blobs', 'cohorts')).catch(() => []);
      },
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}

export interface SeededTenant {
  orgId: string;
  workspaceId: string;
  userId: string;
  agentId: string;
  deploymentId: string;
  phoneNumberId: string;
  apiKey: string;
  keyId: string;
}

/** Creates an org with one workspace, user, agent (the seed's three variables), deployment, number and key. */
export async function seedTenant(t: TestApp, orgId: string, workspaceId = 'main'): Promise<SeededTenant> {
  const ok = async (method: string, url: string, body: unknown) => {
    const response = await t.call(method, url, { body });
    if (response.statusCode !== 201) throw new Error(`${method} ${url} → ${response.statusCode} ${response.body}`);
    return response.json() as Record<string, string>;
  };
  await ok('POST', '/v1/orgs', { org_id: orgId, name: `Org ${orgId}` });
  await ok('POST', `/v1/orgs/${orgId}/workspaces`, { workspace_id: workspaceId, name: 'Main' });
  const user = await ok('POST', `/v1/orgs/${orgId}/users`, { email: `ops@${orgId}.example`, name: 'Ops' });
  const ws = `/v1/orgs/${orgId}/workspaces/${workspaceId}`;
  await ok('POST', `${ws}/agents`, {
    agent_id: 'collections',
    name: 'Collections',
    variables: [{ name: 'customer_name', required: true }, { name: 'outstanding_amount' }, { name: 'due_date' }],
    languages: ['English'],
  });
  await ok('POST', `${ws}/deployments`, {
    deployment_id: 'inbound',
    name: 'Inbound',
    agent_id: 'collections',
    default_country: 'IN',
  });
  const number = await ok('POST', `${ws}/phone-numbers`, { phone_number: '+14155550100', agent_id: 'collections' });
  const key = await ok('POST', `/v1/orgs/${orgId}/api-keys`, {
    name: 'ops',
    user_id: user.user_id,
    workspaces: [workspaceId],
  });
  return {
    orgId,
    workspaceId,
    userId: user.user_id!,
    agentId: 'collections',
    deploymentId: 'inbound',
    phoneNumberId: number._id!,
    apiKey: key.key!,
    keyId: key.key_id!,
  };
}

/** What servedAcme sets up: read its fields inside the tests, once `before` has run. */
export interface ServedAcme {
  t: TestApp;
  acme: SeededTenant;
  /** The app's address on 127.0.0.1, for clients that need a real port (multipart uploads). */
  base: string;
}

/**
 * For a describe block: a test app listening on 127.0.0.1 with the tenant `acme` seeded, made before
 * the block's tests and closed after them.
 */
export function servedAcme(backend: Backend, env: Record<string, string> = {}): ServedAcme {
  const served = {} as ServedAcme;
  before(async () => {
    served.t = await createTestApp(backend, env);
    served.acme = await seedTenant(served.t, 'acme');
    served.base = await served.t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await served.t?.close();
  });
  return served;
}
