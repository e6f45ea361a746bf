import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as keys from '../../../src/storage/repositories/keys-repository.js';
import { insertOrg } from '../../../src/storage/repositories/orgs-repository.js';
import { insertUser } from '../../../src/storage/repositories/users-repository.js';
import { backends, type TestStorage } from '../../helpers/backends.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

for (const backend of await backends()) {
  describe(`keys repository contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
      await insertOrg(t.storage.db, { org_id: 'org-0', name: 'Org', created_at: at(0) });
    });
    after(async () => {
      await t?.cleanup();
    });

    it('finds an API key by prefix together with its user’s email', async () => {
      await insertUser(t.storage.db, {
        user_id: 'a'.repeat(24),
        org_id: 'org-0',
        email: 'ops@example.com',
        name: null,
        created_at: at(1),
      });
      await keys.insertApiKey(t.storage.db, {
        key_id: 'key-1',
        org_id: 'org-0',
        user_id: 'a'.repeat(24),
        name: 'k',
        prefix: 'rk_ABCDEFGHIJKL',
        key_hash: 'f'.repeat(64),
        workspaces: ['a'],
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
  });
}
