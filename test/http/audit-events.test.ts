import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { maskedPath } from '../../src/http/plugins/audit.js';
import { backends } from '../helpers/backends.js';
import { form, ORIGIN, signIn } from '../helpers/console.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

interface AuditEvent {
  event_id: string;
  occurred_at: string;
  org_id: string | null;
  workspace_id: string | null;
  actor: string;
  key_id: string | null;
  user_id: string | null;
  user_email: string | null;
  via: string;
  method: string;
  route: string;
  path: string;
  resource_id: string | null;
  status: number;
  outcome: string;
  error_code: string | null;
  request_id: string;
}

interface EventPage {
  items: AuditEvent[];
  total: number;
}

/** Path parameters filled so that no write can succeed by accident: tenants exist, resources do not. */
const PARAMS: Record<string, string> = {
  org_id: 'acme',
  workspace_id: 'main',
  deployment_id: 'inbound',
  agent_id: 'collections',
};

function urlFor(pattern: string, method: string): string {
  // A DELETE names nothing that exists, so the walk deletes nothing (not even the tenant).
  return pattern.replace(/:([a-z_]+)/g, (_match, name: string) =>
    method === 'DELETE'
      ? `zz-missing-${name.replaceAll('_', '-')}`
      : (PARAMS[name] ?? `zz-missing-${name.replaceAll('_', '-')}`),
  );
}

describe('audit paths (maskedPath)', () => {
  it('masks a phone number in a path segment or query value however it is escaped, and keeps ids whole', () => {
    assert.equal(maskedPath('/api/call/dnc/%2B919876543210'), '/api/call/dnc/%2B91********10');
    assert.equal(maskedPath('/x/callers/+91%2098765%2043210'), '/x/callers/%2B91********10');
    assert.equal(
      maskedPath('/x/callers/9876543210?phone=%2B14155550100&a=b+c'),
      '/x/callers/98******10?phone=%2B14*******00&a=b+c',
    );
    // A hex id holding a run of digits is an id, not a phone number.
    const id = '/v1/orgs/acme/workspaces/main/batches/35e77c25d6077227aed8d5e8';
    assert.equal(maskedPath(id), id);
  });
});

for (const backend of await backends()) {
  describe(`audit trail on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let globex: SeededTenant;
    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
      globex = await seedTenant(t, 'globex');
    });
    after(async () => {
      await t?.close();
    });

    async function eventsFor(method: string, route: string) {
      return t.backing.storage.db
        .selectFrom('audit_events')
        .selectAll()
        .where('method', '=', method)
        .where('route', '=', route)
        .execute();
    }

    async function list(query: string, key: string | undefined = undefined, org = 'acme'): Promise<EventPage> {
      const response = await t.call('GET', `/v1/orgs/${org}/audit-events${query}`, key ? { key } : {});
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as EventPage;
    }

    it('records a write of every write route, API and console, except those that write nothing', async () => {
      const routes = t.app.writeRoutes;
      assert.ok(routes.length > 30, `only ${routes.length} write routes were seen`);
      // The routes that are not audited, and why: each must be deliberate.
      assert.deepEqual(
        routes
          .filter((r) => !r.audited || r.public)
          .map((r) => `${r.method} ${r.url}`)
          .sort(),
        [
          'POST /api/scheduling/v1/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts/mapping-suggestion',
          'POST /api/scheduling/v1/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts/validate',
          'POST /console/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts/check',
          'POST /console/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts/mapping-suggestion',
          'POST /console/sign-in',
          'POST /console/sign-out',
          'POST /v1/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts/mapping-suggestion',
          'POST /v1/orgs/:org_id/workspaces/:workspace_id/deployments/:deployment_id/cohorts/validate',
        ].sort(),
      );
      const session = await signIn(t, acme.apiKey);
      // Signing out ends the session the other console writes use: last.
      const audited = routes
        .filter((r) => r.audited && !r.public)
        .sort((a, b) => Number(a.url.endsWith('/sign-out')) - Number(b.url.endsWith('/sign-out')));
      const missing: string[] = [];
      for (const route of audited) {
        const url = urlFor(route.url, route.method);
        const response = route.url.startsWith('/console')
          ? await t.app.inject({
              method: route.method as 'POST',
              url,
              headers: { cookie: session.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
              payload: form({ _csrf: session.csrf }),
            })
          : await t.call(route.method, url, { body: {} });
        // Recorded before the answer is sent: it is there as soon as the client has the answer.
        const event = (await eventsFor(route.method, route.url)).find(
          (e) => e.path === url && e.status === response.statusCode,
        );
        if (!event) missing.push(`${route.method} ${url} → ${response.statusCode}`);
        else {
          assert.equal(event.outcome, response.statusCode < 400 ? 'success' : 'failure', `${route.method} ${url}`);
          assert.equal(event.via, route.url.startsWith('/console') ? 'console' : 'api');
          assert.equal(event.request_id, response.headers['x-request-id'], `${route.method} ${url}`);
        }
      }
      assert.deepEqual(missing, [], 'writes without an audit event');
    });

    it('names who wrote, what was created and how it ended, with phone numbers masked', async () => {
      const ws = '/v1/orgs/acme/workspaces/main';
      const byRequest = async (response: { headers: Record<string, unknown> }, query = '?limit=100') =>
        (await list(query)).items.find((e) => e.request_id === response.headers['x-request-id']);

      const created = await t.call('POST', `${ws}/phone-numbers`, {
        body: { phone_number: '+14155550177', agent_id: 'collections' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const master = await byRequest(created);
      assert.deepEqual(
        [master?.actor, master?.key_id, master?.org_id, master?.workspace_id, master?.resource_id, master?.outcome],
        ['master', null, 'acme', 'main', (created.json() as { _id: string })._id, 'success'],
      );

      // The batch vendor's DNC route names no workspace: the key's only workspace is where it wrote.
      const added = await t.call('POST', '/api/call/dnc', {
        key: acme.apiKey,
        body: { phoneNumbers: ['+919876543210'], country: 'IN' },
      });
      assert.equal(added.statusCode, 200, added.body);
      const event = await byRequest(added);
      assert.deepEqual(
        event && {
          org_id: event.org_id,
          workspace_id: event.workspace_id,
          actor: event.actor,
          key_id: event.key_id,
          user_id: event.user_id,
          user_email: event.user_email,
          via: event.via,
          method: event.method,
          route: event.route,
          status: event.status,
          outcome: event.outcome,
          error_code: event.error_code,
        },
        {
          org_id: 'acme',
          workspace_id: 'main',
          actor: 'key',
          key_id: acme.keyId,
          user_id: acme.userId,
          user_email: 'ops@acme.example',
          via: 'api',
          method: 'POST',
          route: '/api/call/dnc',
          status: 200,
          outcome: 'success',
          error_code: null,
        },
      );

      // The phone in the path is masked, in the path and as the resource.
      const removed = await t.call('DELETE', '/api/call/dnc/%2B919876543210', { key: acme.apiKey });
      const dnc = await byRequest(removed, '?method=DELETE&limit=100');
      assert.ok(dnc, `no event for DELETE /api/call/dnc (answered ${removed.statusCode})`);
      assert.doesNotMatch(`${dnc.path} ${dnc.resource_id}`, /9876543210/);
      assert.match(dnc.path, /\+91\*+10|%2B91\*+10/);

      const refused = await t.call('POST', `${ws}/deployments`, { key: acme.apiKey, body: { name: 'no id or agent' } });
      assert.ok(refused.statusCode >= 400);
      const failure = await byRequest(refused, '?outcome=failure&limit=100');
      assert.equal(failure?.status, refused.statusCode);
      assert.equal(failure?.error_code, (refused.json() as { error: { code: string } }).error.code);
    });

    it("keeps each org's events to itself, and a key's failed reach into another org in its own", async () => {
      const probe = await t.call('POST', '/v1/orgs/acme/workspaces/main/deployments', {
        key: globex.apiKey,
        body: { deployment_id: 'stolen', name: 'x', agent_id: 'collections' },
      });
      assert.equal(probe.statusCode, 404);
      const acmeEvents = await list('?limit=100');
      assert.ok(acmeEvents.items.every((e) => e.key_id !== globex.keyId));
      const globexEvents = await list('?limit=100', undefined, 'globex');
      const own = globexEvents.items.find((e) => e.request_id === probe.headers['x-request-id']);
      assert.equal(own?.org_id, 'globex');
      assert.equal(own?.outcome, 'failure');
      const foreign = await t.call('GET', '/v1/orgs/acme/audit-events', { key: globex.apiKey });
      assert.equal(foreign.statusCode, 404);
    });

    it('shows a key limited to some workspaces the events of those workspaces only', async () => {
      const other = await t.call('POST', '/v1/orgs/acme/workspaces', {
        body: { workspace_id: 'other', name: 'Other' },
      });
      assert.equal(other.statusCode, 201, other.body);
      await t.call('POST', '/v1/orgs/acme/workspaces/other/agents', { body: { name: 'no id' } });
      const seen = await list('?limit=100', acme.apiKey);
      assert.ok(seen.items.length > 0);
      assert.ok(
        seen.items.every((e) => e.workspace_id === 'main' || e.key_id === acme.keyId),
        JSON.stringify(seen.items.map((e) => e.path)),
      );
      assert.ok(!seen.items.some((e) => e.workspace_id === 'other'));
      const all = await list('?limit=100');
      assert.ok(all.items.some((e) => e.workspace_id === 'other'));
      assert.ok(all.items.some((e) => e.workspace_id === null));
    });

    it('pages newest first and filters by key, time and resource', async () => {
      const first = await list('?limit=2');
      assert.equal(first.items.length, 2);
      assert.ok(first.items[0]!.occurred_at >= first.items[1]!.occurred_at);
      const all = await list('?limit=100');
      assert.equal(first.total, all.total);
      const byKey = await list(`?limit=100&key_id=${acme.keyId}`);
      assert.ok(byKey.items.length > 0 && byKey.items.every((e) => e.key_id === acme.keyId));
      const future = await list(`?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
      assert.equal(future.total, 0);
      const target = all.items.find((e) => e.resource_id !== null)!;
      const byResource = await list(`?limit=100&resource_id=${encodeURIComponent(target.resource_id!)}`);
      assert.ok(byResource.items.every((e) => e.resource_id === target.resource_id));
      const bad = await t.call('GET', '/v1/orgs/acme/audit-events?outcome=maybe');
      assert.equal(bad.statusCode, 422);
    });
  });
}
