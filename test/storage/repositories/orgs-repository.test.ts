import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isUniqueViolation } from '../../../src/storage/db-errors.js';
import { insertApiKey, findApiKeyByPrefix } from '../../../src/storage/repositories/keys-repository.js';
import * as orgs from '../../../src/storage/repositories/orgs-repository.js';
import { findUserById, insertUser } from '../../../src/storage/repositories/users-repository.js';
import { findWorkspace, insertWorkspace } from '../../../src/storage/repositories/workspaces-repository.js';
import { backends, type TestStorage } from '../../helpers/backends.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

for (const backend of await backends()) {
  describe(`orgs repository contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    it('inserts, finds and pages orgs in creation order with an exact total', async () => {
      for (let i = 0; i < 5; i++)
        await orgs.insertOrg(t.storage.db, { org_id: `org-${i}`, name: `Org ${i} — ünïcødé`, created_at: at(i) });
      const page = await orgs.listOrgs(t.storage.db, { offset: 1, limit: 2 });
      assert.equal(page.total, 5);
      assert.deepEqual(
        page.rows.map((r) => r.org_id),
        ['org-1', 'org-2'],
      );
      assert.equal((await orgs.findOrg(t.storage.db, 'org-3'))?.name, 'Org 3 — ünïcødé');
      assert.equal(await orgs.findOrg(t.storage.db, 'nope'), undefined);
      assert.equal(await orgs.countOrgs(t.storage.db), 5);
    });

    it('reports a duplicate primary key as a unique violation', async () => {
      await assert.rejects(
        orgs.insertOrg(t.storage.db, { org_id: 'org-0', name: 'again', created_at: at(9) }),
        (error) => isUniqueViolation(error),
      );
    });

    it('deleting an org removes its workspaces, users and keys', async () => {
      await insertWorkspace(t.storage.db, { org_id: 'org-0', workspace_id: 'a', name: 'A', created_at: at(1) });
      await insertUser(t.storage.db, {
        user_id: 'a'.repeat(24),
        org_id: 'org-0',
        email: 'ops@example.com',
        name: null,
        created_at: at(1),
      });
      await insertApiKey(t.storage.db, {
        key_id: 'key-1',
        org_id: 'org-0',
        user_id: 'a'.repeat(24),
        name: 'k',
        prefix: 'rk_ABCDEFGHIJKL',
        key_hash: 'f'.repeat(64),
        workspaces: ['a'],
        created_at: at(1),
      });
      assert.equal(await orgs.deleteOrg(t.storage.db, 'org-0'), true);
      assert.equal(await findWorkspace(t.storage.db, 'org-0', 'a'), undefined);
      assert.equal(await findUserById(t.storage.db, 'a'.repeat(24)), undefined);
      assert.equal(await findApiKeyByPrefix(t.storage.db, 'rk_ABCDEFGHIJKL'), undefined);
      assert.equal(await orgs.deleteOrg(t.storage.db, 'org-0'), false);
    });
  });
}
