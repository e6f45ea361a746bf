import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// Caller lookups (the voice runtime's call-time read) have a budget of their own per key: a key's
// uploads, lists and admin calls cannot starve them, and they cannot starve those.

const REDIS_URL = process.env.ROSTER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sqlite = (await backends()).find((b) => b.name === 'sqlite')!;
const DEPLOYMENT = '/orgs/acme/workspaces/main/deployments/inbound';

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

const redisProblem = await reachable(REDIS_URL);
const redisSkip =
  redisProblem === undefined || process.env.CI === 'true'
    ? false
    : `Redis at ${REDIS_URL} is unreachable (${redisProblem}); set ROSTER_TEST_REDIS_URL or start it`;

function errorOf(response: LightMyRequestResponse) {
  return (response.json() as { error: { code: string; message: string; data: { details: Record<string, unknown> } } })
    .error;
}

describe('the caller-lookup budget', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  const apps: FastifyInstance[] = [];

  /** An API instance on the suite's database with small budgets: 3 general requests, 5 lookups per minute. */
  async function instance(env: Record<string, string> = {}): Promise<FastifyInstance> {
    const config = loadConfig({
      ROSTER_DATA_DIR: t.backing.dataDir,
      ROSTER_MASTER_KEY: TEST_MASTER_KEY,
      ROSTER_LOG_LEVEL: 'silent',
      ROSTER_RATE_LIMIT_MAX: '3',
      ROSTER_LOOKUP_RATE_LIMIT_MAX: '5',
      ROSTER_RATE_LIMIT_WINDOW_MS: '60000',
      ...env,
    });
    const app = await buildApp(
      config,
      { storage: t.backing.storage, blobs: new LocalBlobStore(t.backing.dataDir) },
      false,
    );
    await app.ready();
    apps.push(app);
    return app;
  }

  /** A new key of the tenant: a budget nobody has spent yet. */
  async function freshKey(): Promise<string> {
    const response = await t.call('POST', `/v1/orgs/${tenant.orgId}/api-keys`, {
      body: { name: 'runtime', user_id: tenant.userId, workspaces: '*' },
    });
    return (response.json() as { key: string }).key;
  }

  const get = (app: FastifyInstance, url: string, key: string) =>
    app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
  // Both prefixes serve the lookup; they share the one lookup budget.
  const lookup = (app: FastifyInstance, key: string, i: number) =>
    get(app, `${i % 2 === 0 ? '/v1' : '/api/scheduling/v1'}${DEPLOYMENT}/callers/%2B91987654321${i % 10}`, key);
  const list = (app: FastifyInstance, key: string) => get(app, `/v1${DEPLOYMENT}/cohorts`, key);
  const upload = (app: FastifyInstance, key: string) =>
    app.inject({
      method: 'POST',
      url: `/v1${DEPLOYMENT}/cohorts/upload`,
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      payload: '{}',
    });

  before(async () => {
    t = await createTestApp(sqlite);
    tenant = await seedTenant(t, 'acme');
  });
  after(async () => {
    for (const app of apps) await app.close();
    await t?.close();
  });

  it('lookups still answer 200 once uploads and lists have spent the general budget', async () => {
    const app = await instance();
    const key = await freshKey();
    assert.equal((await list(app, key)).statusCode, 200);
    assert.equal((await upload(app, key)).statusCode, 415);
    assert.equal((await list(app, key)).statusCode, 200);
    const refused = await list(app, key);
    assert.equal(refused.statusCode, 429);
    assert.equal((await upload(app, key)).statusCode, 429);
    for (let i = 0; i < 5; i++) assert.equal((await lookup(app, key, i)).statusCode, 200, `lookup ${i}`);
  });

  it('lists still answer 200 once lookups have spent the lookup budget', async () => {
    const app = await instance();
    const key = await freshKey();
    for (let i = 0; i < 5; i++) assert.equal((await lookup(app, key, i)).statusCode, 200, `lookup ${i}`);
    const refused = await lookup(app, key, 5);
    assert.equal(refused.statusCode, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    for (let i = 0; i < 3; i++) assert.equal((await list(app, key)).statusCode, 200, `list ${i}`);
  });

  it('the 429 names its budget and the real window', async () => {
    const app = await instance();
    const key = await freshKey();
    for (let i = 0; i < 3; i++) await list(app, key);
    const general = errorOf(await list(app, key));
    assert.equal(general.code, 'rate_limited');
    assert.match(general.message, /^Rate limit of 3 requests per 60 seconds exceeded; retry in \d+ s\.$/);
    assert.deepEqual(
      { ...general.data.details, retry_after_seconds: 0 },
      { limit: 3, window_seconds: 60, budget: 'general', retry_after_seconds: 0 },
    );
    for (let i = 0; i < 5; i++) await lookup(app, key, i);
    const lookupError = errorOf(await lookup(app, key, 5));
    assert.match(lookupError.message, /^Caller-lookup rate limit of 5 requests per 60 seconds exceeded/);
    assert.equal(lookupError.data.details.budget, 'lookup');
  });

  it('ROSTER_LOOKUP_RATE_LIMIT_MAX=0 leaves lookups unlimited while the general budget still counts', async () => {
    const app = await instance({ ROSTER_LOOKUP_RATE_LIMIT_MAX: '0' });
    const key = await freshKey();
    for (let i = 0; i < 20; i++) assert.equal((await lookup(app, key, i)).statusCode, 200);
    for (let i = 0; i < 3; i++) assert.equal((await list(app, key)).statusCode, 200);
    assert.equal((await list(app, key)).statusCode, 429);
  });

  it('ROSTER_RATE_LIMIT_MAX=0 turns rate limiting off altogether, lookups included', async () => {
    const app = await instance({ ROSTER_RATE_LIMIT_MAX: '0' });
    const key = await freshKey();
    for (let i = 0; i < 10; i++) assert.equal((await lookup(app, key, i)).statusCode, 200);
    for (let i = 0; i < 5; i++) assert.equal((await list(app, key)).statusCode, 200);
  });

  it('keeps the two budgets apart in the shared Redis store, across instances', { skip: redisSkip }, async () => {
    const shared = [await instance({ ROSTER_REDIS_URL: REDIS_URL }), await instance({ ROSTER_REDIS_URL: REDIS_URL })];
    const key = await freshKey();
    const lists = [];
    for (let i = 0; i < 4; i++) lists.push((await list(shared[i % 2]!, key)).statusCode);
    assert.deepEqual(lists, [200, 200, 200, 429]);
    const lookups = [];
    for (let i = 0; i < 6; i++) lookups.push((await lookup(shared[i % 2]!, key, i)).statusCode);
    assert.deepEqual(lookups, [200, 200, 200, 200, 200, 429]);
  });
});
