import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

for (const backend of await backends()) {
  describe(`GET /v1/me on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      await t.call('POST', '/v1/orgs/acme/workspaces', { body: { workspace_id: 'other', name: 'Other' } });
    });
    after(async () => {
      await t?.close();
    });

    it("answers an org key's org, user (the batch userId) and the workspaces it names", async () => {
      const response = await t.call('GET', '/v1/me', { key: acme.apiKey });
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        kind: 'api_key',
        org_id: 'acme',
        key_id: acme.keyId,
        user_id: acme.userId,
        email: 'ops@acme.example',
        all_workspaces: false,
        workspaces: [{ workspace_id: 'main', name: 'Main' }],
      });
    });

    it('lists every workspace of the org for a key granted "*"', async () => {
      const created = await t.call('POST', '/v1/orgs/acme/api-keys', {
        body: { name: 'all', user_id: acme.userId, workspaces: '*' },
      });
      const key = (created.json() as { key: string }).key;
      const me = (await t.call('GET', '/v1/me', { key })).json() as { all_workspaces: boolean; workspaces: unknown };
      assert.equal(me.all_workspaces, true);
      assert.deepEqual(me.workspaces, [
        { workspace_id: 'main', name: 'Main' },
        { workspace_id: 'other', name: 'Other' },
      ]);
    });

    it('answers the master key as kind master, with no org, user or listed workspaces', async () => {
      const response = await t.call('GET', '/v1/me');
      assert.equal(response.statusCode, 200, response.body);
      assert.deepEqual(response.json(), {
        kind: 'master',
        org_id: null,
        key_id: null,
        user_id: null,
        email: null,
        all_workspaces: true,
        workspaces: [],
      });
    });

    it('answers 401 without a key and is described in the OpenAPI document', async () => {
      assert.equal((await t.call('GET', '/v1/me', { key: null })).statusCode, 401);
      const document = (await t.call('GET', '/openapi.json', { key: null })).json() as {
        paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
      };
      assert.ok(document.paths['/v1/me']?.get?.responses['200']);
    });
  });
}
