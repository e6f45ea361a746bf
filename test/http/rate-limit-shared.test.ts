import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// Two API instances on one database are two processes' worth of limiter state: with
// ROSTER_REDIS_URL they share one budget per key; without it each counts alone.

const REDIS_URL = process.env.ROSTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function reachable(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379), timeout: 1000 }, () => {
      socket.end();
      resolve(undefined);
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve('timed out');
    });
    socket.on('error', (error) => resolve(error.message));
  });
}

const problem = await reachable(REDIS_URL);
const skip =
  problem === undefined || process.env.CI === 'true'
    ? false
    : `Redis at ${REDIS_URL} is unreachable (${problem}); set ROSTER_TEST_REDIS_URL or start it`;
const sqlite = (await backends()).find((b) => b.name === 'sqlite')!;

describe('rate limits across API instances', { skip }, () => {
  let t: TestApp;
  let tenant: SeededTenant;
  const extra: FastifyInstance[] = [];

  /** Another API instance on the same database and files, with its own limiter. */
  async function instance(env: Record<string, string>): Promise<FastifyInstance> {
    const config = loadConfig({
      ROSTER_DATA_DIR: t.backing.dataDir,
      ROSTER_MASTER_KEY: TEST_MASTER_KEY,
      ROSTER_LOG_LEVEL: 'silent',
      ROSTER_RATE_LIMIT_MAX: '5',
      ...env,
    });
    const app = await buildApp(
      config,
      { storage: t.backing.storage, blobs: new LocalBlobStore(t.backing.dataDir) },
      false,
    );
    await app.ready();
    extra.push(app);
    return app;
  }

  /** Sends requests alternately to the instances with the tenant's key; returns their statuses. */
  async function spend(apps: FastifyInstance[], count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const response = await apps[i % apps.length]!.inject({
        method: 'GET',
        url: `/v1/orgs/${tenant.orgId}/workspaces`,
        headers: { 'x-api-key': tenant.apiKey },
      });
      statuses.push(response.statusCode);
    }
    return statuses;
  }

  before(async () => {
    t = await createTestApp(sqlite);
    tenant = await seedTenant(t, 'acme');
  });
  after(async () => {
    for (const app of extra) await app.close();
    await t?.close();
  });

  it('shares one budget per key between two instances through Redis', async () => {
    const apps = [await instance({ ROSTER_REDIS_URL: REDIS_URL }), await instance({ ROSTER_REDIS_URL: REDIS_URL })];
    const statuses = await spend(apps, 7);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
    const refused = await apps[0]!.inject({
      method: 'GET',
      url: `/v1/orgs/${tenant.orgId}/workspaces`,
      headers: { 'x-api-key': tenant.apiKey },
    });
    assert.equal(refused.json().error.code, 'rate_limited');
    assert.ok(Number(refused.headers['retry-after']) > 0);
  });

  it('counts per instance without Redis (what the shared store changes)', async () => {
    // A new key, so the Redis counters of the case above do not apply.
    const key = await t.call('POST', `/v1/orgs/${tenant.orgId}/api-keys`, {
      body: { name: 'second', user_id: tenant.userId, workspaces: '*' },
    });
    tenant = { ...tenant, apiKey: (key.json() as { key: string }).key };
    const statuses = await spend([await instance({}), await instance({})], 10);
    assert.deepEqual(statuses, Array(10).fill(200));
  });

  it('lets requests through when Redis cannot be reached, rather than failing them', async () => {
    const app = await instance({ ROSTER_REDIS_URL: 'redis://127.0.0.1:9' });
    const started = Date.now();
    const statuses = await spend([app], 7);
    assert.deepEqual(statuses, Array(7).fill(200));
    assert.ok(Date.now() - started < 10_000, 'requests waited on the unreachable Redis');
  });
});
