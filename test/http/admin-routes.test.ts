import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

function errorOf(response: { json(): unknown }) {
  return (response.json() as { error: { code: string; message: string; type: string; data: { details: unknown } } })
    .error;
}

for (const backend of await backends()) {
  describe(`admin API on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let globex: SeededTenant;
    before(async () => {
      t = await createTestApp(backend, { ROSTER_BODY_LIMIT_BYTES: '65536' });
      acme = await seedTenant(t, 'acme');
      globex = await seedTenant(t, 'globex');
    });
    after(async () => {
      await t?.close();
    });

    it('creates a whole tenant and reads every part back', async () => {
      const ws = `/v1/orgs/acme/workspaces/main`;
      const agent = (await t.call('GET', `${ws}/agents/collections`)).json() as {
        variables: Array<{ name: string; required: boolean; default: null }>;
      };
      assert.deepEqual(agent.variables[0], { name: 'customer_name', required: true, default: null, description: null });
      const deployment = (await t.call('GET', `${ws}/deployments/inbound`)).json() as {
        agent_id: string;
        default_country: string;
      };
      assert.equal(deployment.agent_id, 'collections');
      assert.equal(deployment.default_country, 'IN');
      const number = (await t.call('GET', `${ws}/phone-numbers/${acme.phoneNumberId}`)).json() as {
        _id: string;
        phone_number: string;
      };
      assert.match(number._id, /^[0-9a-f]{24}$/);
      assert.equal(number.phone_number, '+14155550100');
      assert.match(acme.userId, /^[0-9a-f]{24}$/);
      assert.match(acme.apiKey, /^rk_[A-Za-z0-9]{43}$/);
    });

    it('generates ids matching the id pattern when none is given', async () => {
      const response = await t.call('POST', '/v1/orgs', { body: { name: 'Generated' } });
      assert.equal(response.statusCode, 201);
      assert.match((response.json() as { org_id: string }).org_id, /^[a-z0-9][a-z0-9_-]{0,63}$/);
    });

    it('lists with the paging envelope and working page links', async () => {
      const first = await t.call('GET', '/v1/orgs?limit=2');
      const page = first.json() as {
        items: Array<{ org_id: string }>;
        total: number;
        limit: number;
        offset: number;
        next_page_uri: string;
        prev_page_uri: null;
      };
      assert.equal(page.total, 3);
      assert.equal(page.items.length, 2);
      assert.equal(page.prev_page_uri, null);
      assert.equal(page.next_page_uri, '/v1/orgs?limit=2&offset=2');
      const second = (await t.call('GET', page.next_page_uri)).json() as {
        items: unknown[];
        next_page_uri: null;
        prev_page_uri: string;
      };
      assert.equal(second.items.length, 1);
      assert.equal(second.next_page_uri, null);
      assert.equal(second.prev_page_uri, '/v1/orgs?limit=2&offset=0');
    });

    it('refuses a duplicate id with 409 already_exists', async () => {
      const response = await t.call('POST', '/v1/orgs', { body: { org_id: 'acme', name: 'Again' } });
      assert.equal(response.statusCode, 409);
      assert.equal(errorOf(response).code, 'already_exists');
      const again = await t.call('POST', '/v1/orgs/acme/workspaces/main/agents', {
        body: { agent_id: 'collections', name: 'x', variables: [] },
      });
      assert.equal(again.statusCode, 409);
    });

    it('lists every failing field in one 422, unknown fields included', async () => {
      const response = await t.call('POST', '/v1/orgs/acme/workspaces/main/agents', {
        body: { agent_id: 'Bad Id!', name: '', variables: [{ name: '1bad' }], colour: 'blue' },
      });
      assert.equal(response.statusCode, 422);
      const error = errorOf(response);
      assert.equal(error.code, 'validation_failed');
      assert.equal(error.type, 'invalid_request_error');
      const fields = (error.data.details as Array<{ field: string }>).map((d) => d.field).sort();
      assert.deepEqual(fields, ['/body/agent_id', '/body/colour', '/body/name', '/body/variables/0/name']);
    });

    it('does not coerce body types: a number where a string belongs is refused', async () => {
      const response = await t.call('POST', '/v1/orgs', { body: { name: 12345 } });
      assert.equal(response.statusCode, 422);
    });

    it('answers malformed JSON with 400 invalid_json', async () => {
      const response = await t.call('POST', '/v1/orgs', {
        body: '{"name": "x",',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 400);
      assert.equal(errorOf(response).code, 'invalid_json');
    });

    it('answers a wrong content type with 415', async () => {
      const response = await t.call('POST', '/v1/orgs', { body: 'name=x', headers: { 'content-type': 'text/plain' } });
      assert.equal(response.statusCode, 415);
      assert.equal(errorOf(response).code, 'unsupported_media_type');
    });

    it('answers a body over the limit with 413', async () => {
      const response = await t.call('POST', '/v1/orgs', { body: { name: 'x'.repeat(70_000) } });
      assert.equal(response.statusCode, 413);
      assert.equal(errorOf(response).code, 'payload_too_large');
    });

    it('refuses __proto__ and constructor keys and pollutes nothing', async () => {
      for (const body of [
        '{"name":"x","__proto__":{"polluted":true}}',
        '{"name":"x","constructor":{"prototype":{"polluted":true}}}',
      ]) {
        const response = await t.call('POST', '/v1/orgs', { body, headers: { 'content-type': 'application/json' } });
        assert.equal(response.statusCode, 400);
        assert.equal(errorOf(response).code, 'forbidden_property');
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('keeps non-ASCII names exactly', async () => {
      const name = 'Ünïcødé 日本語 العربية 🚀';
      const response = await t.call('POST', '/v1/orgs/acme/workspaces', { body: { workspace_id: 'intl', name } });
      assert.equal(response.statusCode, 201);
      assert.equal(((await t.call('GET', '/v1/orgs/acme/workspaces/intl')).json() as { name: string }).name, name);
    });

    it('answers 401 without a key and with a wrong key', async () => {
      assert.equal((await t.call('GET', '/v1/orgs/acme', { key: null })).statusCode, 401);
      // Change the last character (to another one: the key may already end in 'x').
      const wrong = await t.call('GET', '/v1/orgs/acme', {
        key: `${acme.apiKey.slice(0, -1)}${acme.apiKey.endsWith('x') ? 'y' : 'x'}`,
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(errorOf(wrong).code, 'unauthorized');
    });

    it('accepts the key as Authorization: Bearer', async () => {
      const response = await t.call('GET', '/v1/orgs/acme/workspaces/main', {
        key: null,
        headers: { authorization: `Bearer ${acme.apiKey}` },
      });
      assert.equal(response.statusCode, 200);
    });

    it('answers 404, not 403, when a key reaches for another org or workspace', async () => {
      for (const url of [
        '/v1/orgs/globex',
        '/v1/orgs/globex/workspaces/main',
        '/v1/orgs/globex/workspaces/main/deployments/inbound',
        '/v1/orgs/acme/workspaces/intl',
      ]) {
        const response = await t.call('GET', url, { key: acme.apiKey });
        assert.equal(response.statusCode, 404, url);
        assert.equal(errorOf(response).code, 'not_found');
      }
      const create = await t.call('POST', '/v1/orgs/globex/workspaces', { key: acme.apiKey, body: { name: 'x' } });
      assert.equal(create.statusCode, 404);
    });

    it('lists only the workspaces a key names', async () => {
      const page = (await t.call('GET', '/v1/orgs/acme/workspaces', { key: acme.apiKey })).json() as {
        items: Array<{ workspace_id: string }>;
        total: number;
      };
      assert.deepEqual(
        page.items.map((w) => w.workspace_id),
        ['main'],
      );
      assert.equal(page.total, 1);
    });

    it('keeps admin writes for the master key (403 for an org key in its own org)', async () => {
      const response = await t.call('POST', '/v1/orgs/acme/workspaces/main/agents', {
        key: acme.apiKey,
        body: { name: 'x', variables: [] },
      });
      assert.equal(response.statusCode, 403);
      assert.equal(errorOf(response).code, 'admin_key_required');
      assert.equal((await t.call('GET', '/v1/orgs', { key: acme.apiKey })).statusCode, 403);
    });

    it('never returns a key’s secret after creation', async () => {
      const list = await t.call('GET', '/v1/orgs/acme/api-keys');
      assert.equal(list.statusCode, 200);
      assert.ok(!list.body.includes(acme.apiKey));
      assert.ok(!list.body.includes('key_hash'));
      const page = list.json() as { items: Array<{ prefix: string }> };
      assert.ok(acme.apiKey.startsWith(page.items[0]!.prefix));
    });

    it('lists of an org that does not exist answer 404 not_found, keys as users', async () => {
      for (const list of ['users', 'api-keys']) {
        const response = await t.call('GET', `/v1/orgs/nope/${list}`);
        assert.equal(response.statusCode, 404, `${list}: ${response.body}`);
        assert.equal(errorOf(response).code, 'not_found');
        assert.match(errorOf(response).message, /Org 'nope' not found/);
      }
    });

    it('revoking a key refuses it at once with 401', async () => {
      const user = (
        await t.call('POST', '/v1/orgs/globex/users', { body: { email: 'temp@globex.example' } })
      ).json() as { user_id: string };
      const created = (
        await t.call('POST', '/v1/orgs/globex/api-keys', {
          body: { name: 'temp', user_id: user.user_id, workspaces: '*' },
        })
      ).json() as { key: string; key_id: string };
      assert.equal((await t.call('GET', '/v1/orgs/globex/workspaces/main', { key: created.key })).statusCode, 200);
      assert.equal((await t.call('DELETE', `/v1/orgs/globex/api-keys/${created.key_id}`)).statusCode, 200);
      assert.equal((await t.call('GET', '/v1/orgs/globex/workspaces/main', { key: created.key })).statusCode, 401);
      assert.equal((await t.call('GET', '/v1/orgs/globex/workspaces/main', { key: globex.apiKey })).statusCode, 200);
    });

    it('refuses a key for a user or workspace outside the org', async () => {
      const response = await t.call('POST', '/v1/orgs/acme/api-keys', {
        body: { name: 'x', user_id: globex.userId, workspaces: ['nope'] },
      });
      assert.equal(response.statusCode, 422);
      assert.match(errorOf(response).message, /not a user of org 'acme'/);
    });

    it('refuses a deployment for an unknown agent or country', async () => {
      const agent = await t.call('POST', '/v1/orgs/acme/workspaces/main/deployments', {
        body: { name: 'd', agent_id: 'ghost' },
      });
      assert.equal(agent.statusCode, 422);
      assert.match(errorOf(agent).message, /Agent 'ghost' does not exist/);
      const country = await t.call('POST', '/v1/orgs/acme/workspaces/main/deployments', {
        body: { name: 'd', agent_id: 'collections', default_country: 'XX' },
      });
      assert.equal(country.statusCode, 422);
    });

    it('refuses to delete an agent that a deployment still uses', async () => {
      const response = await t.call('DELETE', '/v1/orgs/acme/workspaces/main/agents/collections');
      assert.equal(response.statusCode, 409);
      assert.equal(errorOf(response).code, 'in_use');
    });

    it('deletes a deployment, then answers 404 for it', async () => {
      assert.equal((await t.call('DELETE', '/v1/orgs/globex/workspaces/main/deployments/inbound')).statusCode, 200);
      assert.equal((await t.call('GET', '/v1/orgs/globex/workspaces/main/deployments/inbound')).statusCode, 404);
    });

    it('answers unknown routes with 404 route_not_found in the envelope', async () => {
      const response = await t.call('GET', '/v1/nothing-here');
      assert.equal(response.statusCode, 404);
      assert.equal(errorOf(response).code, 'route_not_found');
    });

    it('echoes a request id on every response', async () => {
      const response = await t.call('GET', '/healthz', { headers: { 'x-request-id': 'trace-123' } });
      assert.equal(response.headers['x-request-id'], 'trace-123');
    });
  });
}
