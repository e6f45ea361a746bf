import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch, FormData } from 'undici';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;

describe('a refused upload leaves its keep-alive connection usable', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let url = '';
  before(async () => {
    t = await createTestApp(sqlite, { ROSTER_MAX_UPLOAD_BYTES: String(1024 * 1024) });
    tenant = await seedTenant(t, 'keepalive');
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await t?.close();
  });

  it('answers the next request on the same connection after refusing a file over the limit mid-body', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      const form = new FormData();
      form.set('name', 'Big');
      form.set('cohort_transformation_file', new Blob(['{}']), 'config.json');
      form.set('cohort_file', new Blob(['mobile\n', 'x'.repeat(8 * 1024 * 1024)]), 'users.csv');
      const refused = await undiciFetch(
        `${url}/v1/orgs/${tenant.orgId}/workspaces/${tenant.workspaceId}/deployments/${tenant.deploymentId}/cohorts/upload`,
        {
          method: 'POST',
          headers: { 'x-api-key': TEST_MASTER_KEY },
          body: form,
          dispatcher: agent,
        },
      );
      assert.equal(refused.status, 413, await refused.clone().text());
      await refused.arrayBuffer();
      const next = await undiciFetch(`${url}/healthz`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
      assert.equal(next.status, 200);
    } finally {
      await agent.close();
    }
  });
});
