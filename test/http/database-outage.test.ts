import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import pg from 'pg';
import { openStorage } from '../../src/storage/db.js';
import { migrateToLatest } from '../../src/storage/migrate.js';
import { backends, TEST_PG_URL, type Backend, type TestStorage } from '../helpers/backends.js';
import { anyError } from '../helpers/error-envelopes.js';
import { SEED_CONFIG } from '../helpers/seed-config.js';
import { freePort } from '../helpers/spawn-server.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// While the database is down (PostgreSQL stopped: connections cut, new ones refused) or busy
// (SQLite locked by another writer past busy_timeout), every route answers 503
// service_unavailable with Retry-After, quickly, never 500; /readyz names the database; and the
// API recovers by itself once the database is back.

const DEPLOYMENT = '/v1/orgs/acme/workspaces/main/deployments/inbound';
/** Well under the pool's connect timeout: a refused or cut connection must fail at once. */
const QUICK_MS = 3000;

/**
 * A TCP relay in front of the test PostgreSQL: stopping it is PostgreSQL going away as the app sees
 * it (every connection cut, new ones refused) without disturbing the shared server.
 */
class PostgresRelay {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly target = new URL(TEST_PG_URL);

  constructor(readonly port: number) {}

  url(): string {
    const url = new URL(TEST_PG_URL);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect({ host: this.target.hostname, port: Number(this.target.port || 5432) });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

function assertUnavailable(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  label: string,
): void {
  assert.equal(response.statusCode, 503, `${label}: ${response.body}`);
  assert.match(String(response.headers['content-type']), /^application\/json/, label);
  const error = anyError(JSON.parse(response.body));
  assert.equal(error.code, 'service_unavailable', label);
  assert.match(error.message, /database is unavailable/, label);
  assert.ok(Number(response.headers['retry-after']) > 0, `${label}: no Retry-After`);
}

function uploadPayload(): Promise<{ contentType: string; payload: Buffer }> {
  const form = new FormData();
  form.append('name', 'During the outage');
  form.append(
    'cohort_file',
    new Blob(['mobile,name,balance,payment_due,preferred_language\n9876543210,Asha,1,2024-07-31,Hindi\n'], {
      type: 'text/csv',
    }),
    'users.csv',
  );
  form.append(
    'cohort_transformation_file',
    new Blob([JSON.stringify(SEED_CONFIG)], { type: 'application/json' }),
    'config.json',
  );
  const request = new Request('http://localhost/', { method: 'POST', body: form });
  return request
    .arrayBuffer()
    .then((body) => ({ contentType: request.headers.get('content-type')!, payload: Buffer.from(body) }));
}

const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;

describe('PostgreSQL down', { skip: postgres.skip }, () => {
  let t: TestApp;
  let acme: SeededTenant;
  let relay: PostgresRelay;

  /** The PostgreSQL backend, reached through the relay. */
  const throughRelay: Backend = {
    ...postgres,
    async open(): Promise<TestStorage> {
      const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-test-outage-'));
      const storage = openStorage({ databaseUrl: relay.url(), dataDir, pgSchema: schema, poolSize: 5 });
      await migrateToLatest(storage);
      return {
        storage,
        dataDir,
        databaseUrl: relay.url(),
        pgSchema: schema,
        cleanup: async () => {
          await storage.close();
          const client = new pg.Client({ connectionString: TEST_PG_URL });
          await client.connect();
          await client.query(`drop schema if exists ${schema} cascade`);
          await client.end();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    },
  };

  before(async () => {
    relay = new PostgresRelay(await freePort());
    await relay.start();
    t = await createTestApp(throughRelay);
    acme = await seedTenant(t, 'acme');
    // Job processing is not what this suite is about; it must not race the outage.
    await t.jobs.stop();
    await relay.stop();
  });
  after(async () => {
    await relay.start().catch(() => undefined);
    await t?.close();
    await relay.stop();
  });

  it('a caller lookup answers 503 service_unavailable with Retry-After, quickly', async () => {
    const { value, ms } = await timed(() =>
      t.call('GET', `${DEPLOYMENT}/callers/%2B919876543210`, { key: acme.apiKey }),
    );
    assertUnavailable(value, 'lookup');
    assert.ok(ms < QUICK_MS, `took ${ms} ms`);
  });

  it('a list, an upload and an admin write answer 503 too', async () => {
    assertUnavailable(await t.call('GET', `${DEPLOYMENT}/cohorts`, { key: acme.apiKey }), 'list');
    const upload = await uploadPayload();
    for (const [who, key] of [
      ['org', acme.apiKey],
      ['master', TEST_MASTER_KEY],
    ]) {
      const response = await t.app.inject({
        method: 'POST',
        url: `${DEPLOYMENT}/cohorts/upload`,
        headers: { 'x-api-key': key!, 'content-type': upload.contentType },
        payload: upload.payload,
      });
      assertUnavailable(response, `upload with the ${who} key`);
    }
    // The master key is checked without the database: the route's own query is what fails here.
    assertUnavailable(await t.call('POST', '/v1/orgs', { body: { org_id: 'later', name: 'Later' } }), 'admin write');
    assertUnavailable(await t.call('GET', '/api/call/batches', { key: acme.apiKey }), 'batch list');
  });

  it('the web console answers 503 (the envelope to its fetch calls, a page to browsers), with Retry-After', async () => {
    const json = await t.call('GET', '/console/', {
      key: null,
      headers: { cookie: 'roster_session=some-session-token', accept: 'application/json' },
    });
    assertUnavailable(json, 'console fetch');
    const page = await t.call('GET', '/console/', {
      key: null,
      headers: { cookie: 'roster_session=some-session-token' },
    });
    assert.equal(page.statusCode, 503);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.ok(Number(page.headers['retry-after']) > 0);
  });

  it('/readyz answers 503 naming the database, quickly', async () => {
    const { value, ms } = await timed(() => t.call('GET', '/readyz', { key: null }));
    assert.equal(value.statusCode, 503);
    assert.deepEqual(value.json(), {
      status: 'not_ready',
      checks: { database: 'unreachable', migrations: 'unknown', object_storage: 'ok' },
    });
    assert.ok(ms < QUICK_MS, `took ${ms} ms`);
  });

  it('recovers by itself once PostgreSQL is back', async () => {
    await relay.start();
    const lookup = await t.call('GET', `${DEPLOYMENT}/callers/%2B919876543210`, { key: acme.apiKey });
    assert.equal(lookup.statusCode, 200, lookup.body);
    assert.equal((await t.call('GET', '/readyz', { key: null })).statusCode, 200);
    await relay.stop();
  });
});

describe('SQLite busy', () => {
  let t: TestApp;
  let acme: SeededTenant;
  let locker: SqliteDatabase.Database;

  before(async () => {
    t = await createTestApp((await backends())[0]!);
    acme = await seedTenant(t, 'acme');
    await t.jobs.stop();
    // The app's own connection, told to wait 200 ms for a lock instead of 5 s, so the suite is quick.
    await sql`pragma busy_timeout = 200`.execute(t.backing.storage.db);
    // Another process holding the write lock, as a long `roster` CLI command or a stuck writer would.
    locker = new SqliteDatabase(path.join(t.backing.dataDir, 'roster.sqlite'));
    locker.exec('begin exclusive');
  });
  after(async () => {
    if (locker?.inTransaction) locker.exec('rollback');
    locker?.close();
    await t?.close();
  });

  it('writes answer 503 service_unavailable with Retry-After while another connection holds the lock; reads still answer', async () => {
    assertUnavailable(await t.call('POST', '/v1/orgs', { body: { org_id: 'later', name: 'Later' } }), 'admin write');
    const upload = await uploadPayload();
    const response = await t.app.inject({
      method: 'POST',
      url: `${DEPLOYMENT}/cohorts/upload`,
      headers: { 'x-api-key': acme.apiKey, 'content-type': upload.contentType },
      payload: upload.payload,
    });
    assertUnavailable(response, 'upload');
    assert.deepEqual(await t.storedCohortIds(), [], 'the refused upload left its file behind');
    // WAL mode: readers are not blocked by a writer, so lookups and lists go on.
    assert.equal((await t.call('GET', `${DEPLOYMENT}/callers/%2B919876543210`, { key: acme.apiKey })).statusCode, 200);
    assert.equal((await t.call('GET', `${DEPLOYMENT}/cohorts`, { key: acme.apiKey })).statusCode, 200);
  });

  it('writes succeed again once the lock is released', async () => {
    locker.exec('rollback');
    assert.equal((await t.call('POST', '/v1/orgs', { body: { org_id: 'later', name: 'Later' } })).statusCode, 201);
  });
});
