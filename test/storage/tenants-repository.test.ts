import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isUniqueViolation } from '../../src/storage/db-errors.js';
import * as keys from '../../src/storage/repositories/keys-repository.js';
import * as repo from '../../src/storage/repositories/tenants-repository.js';
import { pendingMigrations, migrateToLatest } from '../../src/storage/migrate.js';
import { backends, type TestStorage } from '../helpers/backends.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

for (const backend of await backends()) {
  describe(`tenants repository contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    it('applies every migration once and reports none pending', async () => {
      assert.deepEqual(await pendingMigrations(t.storage), []);
      assert.deepEqual((await migrateToLatest(t.storage)).applied, []);
    });

    it('inserts, finds and pages orgs in creation order with an exact total', async () => {
      for (let i = 0; i < 5; i++) await repo.insertOrg(t.storage.db, { org_id: `org-${i}`, name: `Org ${i} — ünïcødé`, created_at: at(i) });
      const page = await repo.listOrgs(t.storage.db, { offset: 1, limit: 2 });
      assert.equal(page.total, 5);
      assert.deepEqual(page.rows.map((r) => r.org_id), ['org-1', 'org-2']);
      assert.equal((await repo.findOrg(t.storage.db, 'org-3'))?.name, 'Org 3 — ünïcødé');
      assert.equal(await repo.findOrg(t.storage.db, 'nope'), undefined);
    });

    it('reports a duplicate primary key as a unique violation', async () => {
      await assert.rejects(
        repo.insertOrg(t.storage.db, { org_id: 'org-0', name: 'again', created_at: at(9) }),
        (error) => isUniqueViolation(error),
      );
    });

    it('scopes workspaces to their org and filters by a key’s workspace list', async () => {
      await repo.insertWorkspace(t.storage.db, { org_id: 'org-0', workspace_id: 'a', name: 'A', created_at: at(1) });
      await repo.insertWorkspace(t.storage.db, { org_id: 'org-0', workspace_id: 'b', name: 'B', created_at: at(2) });
      await repo.insertWorkspace(t.storage.db, { org_id: 'org-1', workspace_id: 'a', name: 'A of org-1', created_at: at(3) });
      assert.equal((await repo.listWorkspaces(t.storage.db, 'org-0', '*', { offset: 0, limit: 10 })).total, 2);
      const onlyB = await repo.listWorkspaces(t.storage.db, 'org-0', ['b'], { offset: 0, limit: 10 });
      assert.deepEqual(onlyB.rows.map((r) => r.workspace_id), ['b']);
      assert.equal((await repo.listWorkspaces(t.storage.db, 'org-0', [], { offset: 0, limit: 10 })).total, 0);
      assert.equal((await repo.findWorkspace(t.storage.db, 'org-1', 'a'))?.name, 'A of org-1');
    });

    it('finds an API key by prefix together with its user’s email', async () => {
      await repo.insertUser(t.storage.db, { user_id: 'a'.repeat(24), org_id: 'org-0', email: 'ops@example.com', name: null, created_at: at(1) });
      await keys.insertApiKey(t.storage.db, {
        key_id: 'key-1',
        org_id: 'org-0',
        user_id: 'a'.repeat(24),
        name: 'k',
        prefix: 'rk_ABCDEFGHIJKL',
        key_hash: 'f'.repeat(64),
        workspaces: '["a"]',
        created_at: at(1),
      });
      const found = await keys.findApiKeyByPrefix(t.storage.db, 'rk_ABCDEFGHIJKL');
      assert.equal(found?.user_email, 'ops@example.com');
      assert.equal(found?.key_hash, 'f'.repeat(64));
      assert.equal(await keys.findApiKeyByPrefix(t.storage.db, 'rk_ABCDEFGHIJKX'), undefined);
    });

    it('stores the master key hash once; a second writer loses', async () => {
      assert.equal(await keys.findMasterKeyHash(t.storage.db), undefined);
      assert.equal(await keys.insertMasterKeyHash(t.storage.db, 'h1'), true);
      assert.equal(await keys.insertMasterKeyHash(t.storage.db, 'h2'), false);
      assert.equal(await keys.findMasterKeyHash(t.storage.db), 'h1');
    });

    it('deleting an org removes its workspaces, users and keys', async () => {
      assert.equal(await repo.deleteOrg(t.storage.db, 'org-0'), true);
      assert.equal(await repo.findWorkspace(t.storage.db, 'org-0', 'a'), undefined);
      assert.equal(await repo.findUserById(t.storage.db, 'a'.repeat(24)), undefined);
      assert.equal(await keys.findApiKeyByPrefix(t.storage.db, 'rk_ABCDEFGHIJKL'), undefined);
      assert.equal(await repo.deleteOrg(t.storage.db, 'org-0'), false);
    });
  });
}
