import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { JobRunner } from '../../src/queue/runner.js';
import type { BlobStore } from '../../src/storage/blobs/blob-store.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { createJobRunner } from '../../src/worker.js';
import type { Backend, TestStorage } from './backends.js';

export const TEST_MASTER_KEY = 'rmk_test_master_key_0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  backing: TestStorage;
  runner: JobRunner;
  /** Sends a request with the given key (master by default) and a JSON body. */
  call(method: string, url: string, options?: { key?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestApp(backend: Backend, env: Record<string, string> = {}, options: { now?: () => Date; blobs?: BlobStore } = {}): Promise<TestApp> {
  const backing = await backend.open();
  const config = loadConfig({
    ROSTER_DATA_DIR: backing.dataDir,
    ROSTER_MASTER_KEY: TEST_MASTER_KEY,
    ROSTER_LOG_LEVEL: 'silent',
    ...(backing.databaseUrl ? { ROSTER_DATABASE_URL: backing.databaseUrl } : {}),
    ...env,
  });
  const blobs = options.blobs ?? new LocalBlobStore(backing.dataDir);
  let runner: JobRunner | undefined;
  const app = await buildApp(config, { storage: backing.storage, blobs, notifyWorkers: () => runner?.notify(), ...(options.now ? { now: options.now } : {}) }, false);
  await app.ready();
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  runner = createJobRunner(config, backing.storage, blobs, silent);
  await runner.start();
  const jobs = runner;
  return {
    app,
    config,
    backing,
    call(method, url, options = {}) {
      const key = options.key === undefined ? TEST_MASTER_KEY : options.key;
      const headers: Record<string, string> = { ...(key ? { 'x-api-key': key } : {}), ...options.headers };
      if (options.body !== undefined && typeof options.body !== 'string') headers['content-type'] ??= 'application/json';
      return app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(options.body === undefined ? {} : { payload: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
      });
    },
    runner: jobs,
    async close() {
      await jobs.stop();
      await app.close();
      await backing.cleanup();
    },
  };
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
  await ok('POST', `${ws}/deployments`, { deployment_id: 'inbound', name: 'Inbound', agent_id: 'collections', default_country: 'IN' });
  const number = await ok('POST', `${ws}/phone-numbers`, { phone_number: '+14155550100', agent_id: 'collections' });
  const key = await ok('POST', `/v1/orgs/${orgId}/api-keys`, { name: 'ops', user_id: user.user_id, workspaces: [workspaceId] });
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
