import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { multipart, ORIGIN, signIn } from '../helpers/console.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;

// Console errors go through the one error handler (error-handler.ts), which shows them as pages.
describe('web console errors and typed requests', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let session: { cookie: string; csrf: string };
  const batches = '/console/orgs/acme/workspaces/main/batches';
  before(async () => {
    t = await createTestApp(sqlite);
    tenant = await seedTenant(t, 'acme');
    session = await signIn(t, tenant.apiKey);
  });
  after(async () => {
    await t?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { cookie: session.cookie, ...headers } });

  it('answers an unknown console page with a 404 page, secured like every console page', async () => {
    const response = await get('/console/orgs/acme/nothing-here');
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);
    assert.match(response.body, /There is no console page at \/console\/orgs\/acme\/nothing-here/);
    assert.match(response.body, /<h1>Not found/);
  });

  it("answers the console's own fetch calls with the bare envelope", async () => {
    const response = await get('/console/orgs/acme/nothing-here', { accept: 'application/json' });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(Object.keys(response.json() as object), ['error']);
    assert.equal((response.json() as { error: { code: string } }).error.code, 'route_not_found');
  });

  it('shows a page, not JSON, for an error raised before the handler (a forged form)', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: `${batches}/${'a'.repeat(24)}/pause`,
      headers: { cookie: session.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: '_csrf=wrong',
    });
    assert.equal(response.statusCode, 403);
    assert.match(String(response.headers['content-type']), /text\/html/);
    assert.match(response.body, /security token/);
  });

  it('reads query values it cannot use as its defaults, as old links may hold them', async () => {
    const list = await get(
      '/console/orgs/acme/workspaces/main/deployments/inbound/cohorts?sort_by=nope&sort_order=up&offset=x&limit=-3',
    );
    assert.equal(list.statusCode, 200, list.body);
    assert.match(list.body, /<option value="created_at" selected>/);
    const file = await get(`/console/orgs/acme/workspaces/main/deployments/inbound/cohorts/coh-x/files/secrets`);
    assert.equal(file.statusCode, 404);
    assert.match(file.body, /No file type &#39;secrets&#39;/);
  });

  it('a refused batch upload shows the form again with what was typed and the problem by its field', async () => {
    const body = await multipart([
      ['_csrf', session.csrf],
      ['file', 'phoneNumber,customer_name\n+14155550101,Ada\n', 'list.csv'],
      ['batchName', 'No days'],
      ['userId', tenant.userId],
      ['callingNumbers', tenant.phoneNumberId],
      ['callingStart', '08:30'],
      ['callingEnd', '17:00'],
    ]);
    const page = await t.app.inject({
      method: 'POST',
      url: batches,
      headers: { cookie: session.cookie, origin: ORIGIN, 'content-type': body.type },
      payload: body.body,
    });
    assert.equal(page.statusCode, 400);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.body, /id="batchName" name="batchName"[^>]*value="No days"/);
    assert.match(page.body, /value="08:30"/);
    assert.match(page.body, /data-error-for="allowedDays">Pick at least one day\./);

    const json = await t.app.inject({
      method: 'POST',
      url: batches,
      headers: {
        cookie: session.cookie,
        origin: ORIGIN,
        'x-csrf-token': session.csrf,
        accept: 'application/json',
        'content-type': body.type,
      },
      payload: body.body,
    });
    assert.equal(json.statusCode, 400);
    const refused = json.json() as { error: { code: string }; fields: Record<string, string>; html: string | null };
    assert.equal(refused.error.code, 'invalid_batch_field');
    assert.deepEqual(refused.fields, { allowedDays: 'Pick at least one day.' });
    assert.equal(refused.html, null);
  });

  it('a console upload without a multipart boundary, or cut off, is refused with 400 invalid_multipart', async () => {
    const truncated = '--XX\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nphoneNumber\r\n';
    for (const url of [batches, '/console/orgs/acme/workspaces/main/deployments/inbound/cohorts']) {
      for (const [type, payload] of [
        ['multipart/form-data', 'x'],
        ['multipart/form-data; boundary=XX', truncated],
      ] as const) {
        const response = await t.app.inject({
          method: 'POST',
          url,
          headers: {
            cookie: session.cookie,
            origin: ORIGIN,
            'x-csrf-token': session.csrf,
            accept: 'application/json',
            'content-type': type,
          },
          payload,
        });
        assert.equal(response.statusCode, 400, `${url} ${type}: ${response.body}`);
        assert.equal((response.json() as { error: { code: string } }).error.code, 'invalid_multipart', url);
      }
    }
  });

  it("the batch upload form fills userId with the org key's own user instead of asking for it", async () => {
    const page = await get(`${batches}/new`);
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, new RegExp(`<input type="hidden" name="userId" value="${tenant.userId}">`));
    assert.doesNotMatch(page.body, /<select id="userId"/);
    assert.match(page.body, /On behalf of <strong>ops@acme\.example<\/strong>/);
  });
});
