import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildApp, loggerOptions } from '../../src/http/app.js';
import { maskPhoneDigits } from '../../src/http/log-redaction.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;

describe('rate limit', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(sqlite, { ROSTER_RATE_LIMIT_MAX: '3', ROSTER_RATE_LIMIT_WINDOW_MS: '60000' });
  });
  after(async () => {
    await t?.close();
  });

  it('answers 429 with Retry-After in the error envelope once a key spends its budget', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await t.call('GET', '/v1/orgs')).statusCode, 200);
    const limited = await t.call('GET', '/v1/orgs');
    assert.equal(limited.statusCode, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const error = (limited.json() as { error: { code: string; type: string } }).error;
    assert.equal(error.code, 'rate_limited');
    assert.equal(error.type, 'rate_limit_error');
  });

  it('counts each key separately and leaves health checks alone', async () => {
    assert.equal(
      (await t.call('GET', '/v1/orgs', { key: 'rk_someone_else_entirely_000000000000000000000' })).statusCode,
      401,
    );
    for (let i = 0; i < 5; i++) assert.equal((await t.call('GET', '/healthz', { key: null })).statusCode, 200);
  });

  it('counts the console (sign-in included) per client address: it needs no key, but is not exempt', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await t.call('GET', '/console/sign-in', { key: null })).statusCode, 200);
    assert.equal(
      (
        await t.call('POST', '/console/sign-in', {
          key: null,
          body: 'api_key=x',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).statusCode,
      429,
    );
  });
});

describe('server faults', () => {
  it('answers 500 without stack traces or SQL, and /readyz turns 503', async () => {
    const t = await createTestApp(sqlite);
    await t.backing.storage.close();
    const response = await t.call('GET', '/v1/orgs');
    assert.equal(response.statusCode, 500);
    const error = (response.json() as { error: { code: string; message: string; data: { details: unknown } } }).error;
    assert.equal(error.code, 'internal_error');
    assert.equal(error.message, 'Internal server error.');
    assert.equal(error.data.details, null);
    assert.doesNotMatch(response.body, /select|sqlite|at .*\.ts|stack/i);
    const ready = await t.call('GET', '/readyz', { key: null });
    assert.equal(ready.statusCode, 503);
    assert.equal((ready.json() as { checks: { database: string } }).checks.database, 'unreachable');
    await t.app.close();
  });
});

describe('structured logs', () => {
  it('carry the request id on every request line and never a key or a whole phone number', async () => {
    const t = await createTestApp(sqlite);
    const tenant = await seedTenant(t, 'logs');
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const app = await buildApp(
      t.config,
      { storage: t.backing.storage, blobs: new LocalBlobStore(t.backing.dataDir) },
      { ...(loggerOptions(t.config) as object), level: 'info', stream },
    );
    const phone = '+919876543210';
    await app.inject({
      method: 'GET',
      url: `/v1/orgs/logs/workspaces/main/deployments/inbound/callers/${encodeURIComponent(phone)}`,
      headers: { 'x-api-key': tenant.apiKey },
    });
    await app.inject({ method: 'GET', url: '/v1/orgs', headers: { authorization: `Bearer ${TEST_MASTER_KEY}` } });
    await app.close();
    await t.close();
    const requestLines = lines
      .map((l) => JSON.parse(l) as { reqId?: string; req?: unknown; res?: unknown })
      .filter((l) => l.req || l.res);
    assert.ok(requestLines.length >= 4);
    for (const line of requestLines) assert.ok(line.reqId, 'a request log line has no reqId');
    const all = lines.join('\n');
    assert.ok(!all.includes('9876543210'), 'a whole phone number reached the logs');
    assert.ok(!all.includes(tenant.apiKey) && !all.includes(TEST_MASTER_KEY), 'a key reached the logs');
  });

  it('masks phone digit runs but keeps short numbers', () => {
    assert.equal(maskPhoneDigits('/callers/+919876543210'), '/callers/+91********10');
    assert.equal(maskPhoneDigits('/callers/%2B919876543210?x=1'), '/callers/%2B91********10?x=1');
    assert.equal(maskPhoneDigits('/v1/orgs?offset=10&limit=20'), '/v1/orgs?offset=10&limit=20');
  });
});
