import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CorruptJsonColumnError } from '../../../src/storage/json-column.js';
import * as agents from '../../../src/storage/repositories/agents-repository.js';
import { insertOrg } from '../../../src/storage/repositories/orgs-repository.js';
import { insertWorkspace } from '../../../src/storage/repositories/workspaces-repository.js';
import { backends, type TestStorage } from '../../helpers/backends.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();

for (const backend of await backends()) {
  describe(`agents repository contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
      await insertOrg(t.storage.db, { org_id: 'org', name: 'Org', created_at: at(0) });
      await insertWorkspace(t.storage.db, { org_id: 'org', workspace_id: 'ws', name: 'WS', created_at: at(0) });
    });
    after(async () => {
      await t?.cleanup();
    });

    it('stores variables, languages and states as JSON and hands them back parsed', async () => {
      const row: agents.AgentRow = {
        org_id: 'org',
        workspace_id: 'ws',
        agent_id: 'collections',
        name: 'Collections',
        variables: [
          { name: 'customer_name', required: true, default: null, description: 'Whom we call' },
          { name: 'due_date', required: false, default: '2026-01-01', description: null },
        ],
        languages: ['en', 'hi'],
        states: [],
        created_at: at(1),
      };
      await agents.insertAgent(t.storage.db, row);
      assert.deepEqual(await agents.findAgent(t.storage.db, 'org', 'ws', 'collections'), row);
      const page = await agents.listAgents(t.storage.db, 'org', 'ws', { offset: 0, limit: 10 });
      assert.equal(page.total, 1);
      assert.deepEqual(page.rows[0]?.languages, ['en', 'hi']);
    });

    it('refuses a row whose JSON column does not hold the declared shape', async () => {
      await t.storage.db
        .insertInto('agents')
        .values({
          org_id: 'org',
          workspace_id: 'ws',
          agent_id: 'broken',
          name: 'Broken',
          variables: '[{"name": "x"}]',
          languages: '[]',
          states: '[]',
          created_at: at(2),
        })
        .execute();
      await assert.rejects(
        agents.findAgent(t.storage.db, 'org', 'ws', 'broken'),
        (error) => error instanceof CorruptJsonColumnError && /agents\.variables/.test(error.message),
      );
    });
  });
}
