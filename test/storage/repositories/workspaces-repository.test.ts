import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { insertOrg } from '../../../src/storage/repositories/orgs-repository.js';
import * as workspaces from '../../../src/storage/repositories/workspaces-repository.js';
import { backends, type TestStorage } from '../../helpers/backends.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

for (const backend of await backends()) {
  describe(`workspaces repository contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
      for (const org_id of ['org-0', 'org-1'])
        await insertOrg(t.storage.db, { org_id, name: org_id, created_at: at(0) });
    });
    after(async () => {
      await t?.cleanup();
    });

    it('scopes workspaces to their org and filters by a key’s workspace list', async () => {
      await workspaces.insertWorkspace(t.storage.db, {
        org_id: 'org-0',
        workspace_id: 'a',
        name: 'A',
        created_at: at(1),
      });
      await workspaces.insertWorkspace(t.storage.db, {
        org_id: 'org-0',
        workspace_id: 'b',
        name: 'B',
        created_at: at(2),
      });
      await workspaces.insertWorkspace(t.storage.db, {
        org_id: 'org-1',
        workspace_id: 'a',
        name: 'A of org-1',
        created_at: at(3),
      });
      assert.equal((await workspaces.listWorkspaces(t.storage.db, 'org-0', '*', { offset: 0, limit: 10 })).total, 2);
      const onlyB = await workspaces.listWorkspaces(t.storage.db, 'org-0', ['b'], { offset: 0, limit: 10 });
      assert.deepEqual(
        onlyB.rows.map((r) => r.workspace_id),
        ['b'],
      );
      assert.equal((await workspaces.listWorkspaces(t.storage.db, 'org-0', [], { offset: 0, limit: 10 })).total, 0);
      assert.equal((await workspaces.findWorkspace(t.storage.db, 'org-1', 'a'))?.name, 'A of org-1');
    });

    it('deletes one workspace of one org only', async () => {
      assert.equal(await workspaces.deleteWorkspace(t.storage.db, 'org-0', 'a'), true);
      assert.equal(await workspaces.findWorkspace(t.storage.db, 'org-0', 'a'), undefined);
      assert.equal((await workspaces.findWorkspace(t.storage.db, 'org-1', 'a'))?.name, 'A of org-1');
      assert.equal(await workspaces.deleteWorkspace(t.storage.db, 'org-0', 'a'), false);
    });
  });
}
