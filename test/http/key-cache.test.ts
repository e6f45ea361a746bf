import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { cachedAuthenticator } from '../../src/services/key-service.js';
import { KEY_CHANGES_APPLICATION_NAME } from '../../src/storage/key-changes.js';
import { backends } from '../helpers/backends.js';
import { E2E_MASTER_KEY, setUpTenant } from '../helpers/e2e-tenant.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { createScratchDatabase, TEST_PG_URL } from '../helpers/test-postgres.js';
import { waitUntil } from '../faults/helpers/store-probe.js';
import { createTestApp, type SeededTenant, seedTenant, type TestApp } from '../helpers/test-app.js';

// API keys are verified through a cache (cachedAuthenticator in src/services/key-service.ts) that
// must never answer for a key that is gone: every change to a key, its user or its org — through the
// API, another instance or straight in the database — reaches it (migration 0009's triggers).

for (const backend of await backends()) {
  describe(`API key cache on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    /** Runs SQL on the app's database through a connection of its own, as an operator would. */
    let operatorSql: (statement: string, ...values: string[]) => Promise<void>;
    let closeOperator: () => Promise<void>;
    before(async () => {
      t = await createTestApp(backend);
      if (backend.dialect === 'sqlite') {
        const handle = new SqliteDatabase(path.join(t.backing.dataDir, 'roster.sqlite'));
        handle.pragma('foreign_keys = ON');
        operatorSql = async (statement, ...values) => void handle.prepare(statement).run(...values);
        closeOperator = async () => void handle.close();
      } else {
        const client = new pg.Client({
          connectionString: TEST_PG_URL,
          options: `-c search_path=${t.backing.pgSchema}`,
        });
        await client.connect();
        operatorSql = async (statement, ...values) => void (await client.query(statement.replace('?', '$1'), values));
        closeOperator = () => client.end();
      }
    });
    after(async () => {
      await closeOperator?.();
      await t?.close();
    });

    const reach = async (orgId: string, key: string) =>
      (await t.call('GET', `/v1/orgs/${orgId}/workspaces/main`, { key })).statusCode;

    it('refuses a key deleted, or whose user or org was deleted, outside the API', async () => {
      const deletions: Array<[string, string, (tenant: SeededTenant) => string]> = [
        ['key', 'delete from api_keys where key_id = ?', (tenant) => tenant.keyId],
        ['user', 'delete from users where user_id = ?', (tenant) => tenant.userId],
        ['org', 'delete from orgs where org_id = ?', (tenant) => tenant.orgId],
      ];
      for (const [what, statement, id] of deletions) {
        const tenant = await seedTenant(t, `sql-${what}`);
        assert.equal(await reach(tenant.orgId, tenant.apiKey), 200);
        assert.equal(await reach(tenant.orgId, tenant.apiKey), 200);
        await operatorSql(statement, id(tenant));
        // SQLite: when the count of changes is next read (every 250 ms at most). PostgreSQL: when
        // the notification arrives, within milliseconds.
        await waitUntil(
          `the key of a ${what} deleted in SQL refused`,
          async () => {
            return (await reach(tenant.orgId, tenant.apiKey)) === 401;
          },
          3000,
        );
      }
    });

    it('refuses at once a key whose user or org was deleted through the API', async () => {
      const byUser = await seedTenant(t, 'api-user');
      assert.equal(await reach(byUser.orgId, byUser.apiKey), 200);
      assert.equal((await t.call('DELETE', `/v1/orgs/${byUser.orgId}/users/${byUser.userId}`)).statusCode, 200);
      assert.equal(await reach(byUser.orgId, byUser.apiKey), 401);

      const byOrg = await seedTenant(t, 'api-org');
      assert.equal(await reach(byOrg.orgId, byOrg.apiKey), 200);
      assert.equal((await t.call('DELETE', `/v1/orgs/${byOrg.orgId}`)).statusCode, 200);
      assert.equal(await reach(byOrg.orgId, byOrg.apiKey), 401);
    });

    it('answers from the cache while nothing changed, and reads the key again after its time', async () => {
      const tenant = await seedTenant(t, 'cached');
      let clock = 1_000_000;
      const verify = cachedAuthenticator(t.backing.storage, undefined, { ttlMs: 60_000, now: () => clock });
      // On PostgreSQL, nothing is kept until the process listens for changes.
      await waitUntil('changes can be seen', async () => t.backing.storage.keyChanges.version() !== undefined, 5000);
      assert.equal((await verify(tenant.apiKey))?.kind, 'key');
      // A wrong secret with the same public prefix is refused from the cache too.
      assert.equal(await verify(`${tenant.apiKey.slice(0, -1)}${tenant.apiKey.endsWith('A') ? 'B' : 'A'}`), undefined);
      // Take the triggers away, so the database changes without saying so: only the cache can
      // still answer for the key, which shows it was not read again.
      const statements =
        backend.dialect === 'sqlite'
          ? ['drop trigger api_keys_deleted']
          : ['drop trigger api_keys_changed on api_keys'];
      for (const statement of statements) await operatorSql(statement);
      try {
        await operatorSql('delete from api_keys where key_id = ?', tenant.keyId);
        const cached = await verify(tenant.apiKey);
        assert.equal(cached?.kind === 'key' && cached.keyId, tenant.keyId);
        clock += 60_001;
        assert.equal(await verify(tenant.apiKey), undefined);
      } finally {
        const restore =
          backend.dialect === 'sqlite'
            ? 'create trigger api_keys_deleted after delete on api_keys begin update key_changes set version = version + 1; end'
            : 'create trigger api_keys_changed after update or delete or truncate on api_keys for each statement execute function roster_key_changed()';
        await operatorSql(restore);
      }
    });
  });
}

const postgres = (await backends()).find((backend) => backend.name === 'postgres')!;

describe('API key revocation across API processes on PostgreSQL', { skip: postgres.skip }, () => {
  let database: { url: string; drop(): Promise<void> };
  let a: SpawnedServer;
  let b: SpawnedServer;
  let admin: pg.Client;
  before(async () => {
    database = await createScratchDatabase('roster_keys');
    const env = { ROSTER_DATABASE_URL: database.url, ROSTER_MASTER_KEY: E2E_MASTER_KEY };
    a = await spawnServer(env);
    b = await spawnServer(env);
    await setUpTenant(a.url);
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await database?.drop();
  });

  async function call(server: SpawnedServer, method: string, url: string, key: string, body?: unknown) {
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  let keys = 0;
  async function newKey(): Promise<{ key: string; key_id: string }> {
    keys++;
    const user = await call(a, 'POST', '/v1/orgs/acme/users', E2E_MASTER_KEY, { email: `u${keys}@acme.example` });
    const created = await call(a, 'POST', '/v1/orgs/acme/api-keys', E2E_MASTER_KEY, {
      name: `k${keys}`,
      user_id: user.body.user_id,
      workspaces: '*',
    });
    assert.equal(created.status, 201);
    return created.body as { key: string; key_id: string };
  }

  const reach = async (server: SpawnedServer, key: string) =>
    (await call(server, 'GET', '/v1/orgs/acme/workspaces/main', key)).status;

  const listeners = async () =>
    Number(
      (
        await admin.query(
          'select count(*) as n from pg_stat_activity where application_name = $1 and datname = current_database()',
          [KEY_CHANGES_APPLICATION_NAME],
        )
      ).rows[0].n,
    );

  it('a key revoked through one instance is refused by the other within moments', async () => {
    const { key, key_id } = await newKey();
    assert.equal(await reach(b, key), 200);
    assert.equal(await reach(b, key), 200);
    assert.equal(await reach(a, key), 200);
    // Both processes have checked a key, so both listen for changes.
    await waitUntil('both instances listen', async () => (await listeners()) === 2, 5000);
    assert.equal((await call(a, 'DELETE', `/v1/orgs/acme/api-keys/${key_id}`, E2E_MASTER_KEY)).status, 200);
    assert.equal(await reach(a, key), 401);
    await waitUntil('the other instance refuses the key', async () => (await reach(b, key)) === 401, 2000);
  });

  it('a change made while an instance is not listening is not missed: it reads keys again', async () => {
    const { key, key_id } = await newKey();
    assert.equal(await reach(b, key), 200);
    assert.equal(await reach(a, key), 200);
    await waitUntil('both instances listen', async () => (await listeners()) === 2, 5000);
    assert.equal(await reach(b, key), 200);
    // Cut both listening connections and delete the key at once: the notification goes nowhere.
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
      KEY_CHANGES_APPLICATION_NAME,
    ]);
    await admin.query('delete from api_keys where key_id = $1', [key_id]);
    await waitUntil(
      'the key deleted while nobody listened is refused',
      async () => (await reach(b, key)) === 401,
      3000,
    );
    // The instances listen again, and see changes as before.
    const next = await newKey();
    assert.equal(await reach(b, next.key), 200);
    await waitUntil('both instances listen again', async () => (await listeners()) === 2, 5000);
    assert.equal(await reach(b, next.key), 200);
    await admin.query('delete from api_keys where key_id = $1', [next.key_id]);
    await waitUntil(
      'a key deleted after the reconnection is refused',
      async () => (await reach(b, next.key)) === 401,
      2000,
    );
    assert.equal(a.child.exitCode, null);
    assert.equal(b.child.exitCode, null);
  });
});
