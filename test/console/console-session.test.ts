import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/http/app.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG } from '../helpers/seed-config.js';
import { cookieOf, form, multipart, ORIGIN, postSignIn, signIn } from '../helpers/console.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

for (const backend of await backends()) {
  describe(`web console sessions (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let tenant: SeededTenant;
    before(async () => {
      t = await createTestApp(backend);
      tenant = await seedTenant(t, 'acme');
      await seedTenant(t, 'other');
    });
    after(async () => {
      await t?.close();
    });

    it('sends a page without a session to the sign-in form, keeping where it was going', async () => {
      const response = await t.app.inject({ method: 'GET', url: '/console/orgs/acme' });
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/console/sign-in?next=%2Fconsole%2Forgs%2Facme');
      const json = await t.app.inject({
        method: 'GET',
        url: '/console/orgs/acme',
        headers: { accept: 'application/json' },
      });
      assert.equal(json.statusCode, 401);
      assert.equal((json.json() as { error: { code: string } }).error.code, 'unauthorized');
    });

    it('signs in with an org key: an HttpOnly SameSite=Strict cookie scoped to /console, only its hash stored', async () => {
      const { page, response } = await postSignIn(t, tenant.apiKey, { next: '/console/orgs/acme' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      assert.doesNotMatch(page.body, /<script>|<script [^>]*>[^<]/, 'no inline script');
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/console/orgs/acme');
      const session = cookieOf(response, 'roster_session')!;
      assert.match(session.header, /HttpOnly/);
      assert.match(session.header, /SameSite=Strict/);
      assert.match(session.header, /Path=\/console/);
      assert.doesNotMatch(session.header, /Secure/, 'plain http: no Secure flag');
      assert.doesNotMatch(response.body, new RegExp(tenant.apiKey));
      const rows = await t.backing.storage.db
        .selectFrom('console_sessions')
        .selectAll()
        .where('key_id', '=', tenant.keyId)
        .execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.token_hash, createHash('sha256').update(session.value).digest('hex'));
      assert.equal(Number(rows[0]!.is_master), 0);
      const org = await t.app.inject({
        method: 'GET',
        url: '/console/orgs/acme',
        headers: { cookie: `roster_session=${session.value}` },
      });
      assert.equal(org.statusCode, 200);
      assert.match(org.body, /Inbound/);
      assert.doesNotMatch(org.body, new RegExp(tenant.apiKey), 'the key is never in the page');
    });

    it('marks the cookie Secure when the request came over https', async () => {
      const page = await t.app.inject({
        method: 'GET',
        url: '/console/sign-in',
        headers: { 'x-forwarded-proto': 'https' },
      });
      // Without trustProxy the protocol is the socket's: an injected request is http, so no Secure.
      assert.doesNotMatch(cookieOf(page, 'roster_sign_in')!.header, /Secure/);
    });

    it('refuses a wrong key with the message next to the field, and no session', async () => {
      const wrongKey = `${tenant.apiKey.slice(0, -1)}${tenant.apiKey.endsWith('x') ? 'y' : 'x'}`;
      const { response } = await postSignIn(t, wrongKey);
      assert.equal(response.statusCode, 401);
      assert.match(response.body, /id="api_key-error"[^>]*>That key is not valid/);
      assert.equal(cookieOf(response, 'roster_session'), undefined);
    });

    it('refuses a sign-in form posted without its own token (login CSRF)', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ api_key: tenant.apiKey }),
      });
      assert.equal(response.statusCode, 403);
      assert.match(response.body, /security token/);
    });

    it('refuses a state-changing request without the CSRF token, or from another origin or site', async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const url = '/console/orgs/acme/workspaces/main/dnc';
      const post = (headers: Record<string, string>, fields: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url,
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          payload: form(fields),
        });
      const noToken = await post({ origin: ORIGIN }, { numbers: '+14155550123' });
      assert.equal(noToken.statusCode, 403);
      assert.match(noToken.body, /security token/);
      const wrongToken = await post({ origin: ORIGIN }, { _csrf: `${csrf.slice(0, -2)}xx`, numbers: '+14155550123' });
      assert.equal(wrongToken.statusCode, 403);
      const otherOrigin = await post({ origin: 'https://evil.example' }, { _csrf: csrf, numbers: '+14155550123' });
      assert.equal(otherOrigin.statusCode, 403);
      const crossSite = await post({ 'sec-fetch-site': 'cross-site' }, { _csrf: csrf, numbers: '+14155550123' });
      assert.equal(crossSite.statusCode, 403);
      const noOrigin = await post({}, { _csrf: csrf, numbers: '+14155550123' });
      assert.equal(noOrigin.statusCode, 403);
      const crossSiteSameHost = await post(
        { origin: ORIGIN, 'sec-fetch-site': 'same-site' },
        { _csrf: csrf, numbers: '+14155550123' },
      );
      assert.equal(crossSiteSameHost.statusCode, 403, 'a sibling subdomain is another origin');
      const json = await t.app.inject({
        method: 'POST',
        url,
        headers: {
          cookie,
          origin: ORIGIN,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
        },
        payload: form({ numbers: '1' }),
      });
      assert.equal((json.json() as { error: { code: string } }).error.code, 'csrf_rejected');
      const listed = await t.call('GET', '/api/call/dnc?workspace_id=main', { key: tenant.apiKey });
      assert.equal((listed.json() as { total: number }).total, 0, 'nothing was added');
      // Behind a proxy that ends TLS the browser's Origin is https while this server sees http: same host, accepted.
      const behindTls = await post({ origin: 'https://localhost:80' }, { _csrf: csrf, numbers: '+14155550124' });
      assert.equal(behindTls.statusCode, 200, behindTls.body);
      const ok = await post(
        { origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
        { _csrf: csrf, numbers: '+14155550123' },
      );
      assert.equal(ok.statusCode, 200, ok.body);
      assert.match(ok.body, /Added 1/);
      const header = await t.app.inject({
        method: 'POST',
        url: `${url}/remove`,
        headers: { cookie, origin: ORIGIN, 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ phone: '+14155550123' }),
      });
      assert.equal(header.statusCode, 200, header.body);
      assert.match(header.body, /Removed \+14155550123/);
    });

    it("keeps an org key inside its reach: another org's pages answer 404", async () => {
      const { cookie } = await signIn(t, tenant.apiKey);
      const response = await t.app.inject({
        method: 'GET',
        url: '/console/orgs/other/workspaces/main/deployments/inbound',
        headers: { cookie },
      });
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), /text\/html/);
    });

    it('signing out deletes the session: the cookie no longer works', async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const out = await t.app.inject({
        method: 'POST',
        url: '/console/sign-out',
        headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ _csrf: csrf }),
      });
      assert.equal(out.statusCode, 303);
      assert.match(String([out.headers['set-cookie']].flat().join('\n')), /roster_session=;/);
      const again = await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } });
      assert.equal(again.statusCode, 303);
      assert.match(again.headers.location!, /^\/console\/sign-in/);
    });

    it('signing out needs the session token; signing in again ends the session the browser had', async () => {
      const { cookie } = await signIn(t, tenant.apiKey);
      const forged = await t.app.inject({
        method: 'POST',
        url: '/console/sign-out',
        headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({}),
      });
      assert.equal(forged.statusCode, 403);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } })).statusCode,
        200,
        'still signed in',
      );
      const { response: again } = await postSignIn(t, tenant.apiKey, { cookie });
      assert.equal(again.statusCode, 303);
      assert.notEqual(`roster_session=${cookieOf(again, 'roster_session')!.value}`, cookie);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } })).statusCode,
        303,
        'the old session ended',
      );
    });

    it('signing out of a session that already ended still clears the cookie', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/console/sign-out',
        headers: { cookie: 'roster_session=gone', origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({}),
      });
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/console/sign-in');
    });

    it('another API instance on the same database accepts the session, and sees its sign-out', async () => {
      const other = await buildApp(
        t.config,
        { storage: t.backing.storage, blobs: new LocalBlobStore(t.backing.dataDir) },
        false,
      );
      try {
        const { cookie, csrf } = await signIn(t, tenant.apiKey);
        assert.equal(
          (await other.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } })).statusCode,
          200,
        );
        const out = await other.inject({
          method: 'POST',
          url: '/console/sign-out',
          headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
          payload: form({ _csrf: csrf }),
        });
        assert.equal(out.statusCode, 303);
        assert.equal(
          (await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } })).statusCode,
          303,
        );
      } finally {
        await other.close();
      }
    });

    it('revoking the key ends its sessions at once', async () => {
      const key = (
        await t.call('POST', '/v1/orgs/acme/api-keys', {
          body: { name: 'temp', user_id: tenant.userId, workspaces: '*' },
        })
      ).json() as { key: string; key_id: string };
      const { cookie } = await signIn(t, key.key);
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } })).statusCode,
        200,
      );
      assert.equal((await t.call('DELETE', `/v1/orgs/acme/api-keys/${key.key_id}`)).statusCode, 200);
      const after = await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } });
      assert.equal(after.statusCode, 303);
    });

    it('signs in with the master key and lists every org', async () => {
      const { cookie } = await signIn(t, TEST_MASTER_KEY);
      const home = await t.app.inject({ method: 'GET', url: '/console/', headers: { cookie } });
      assert.equal(home.statusCode, 200);
      assert.match(home.body, /href="\/console\/orgs\/acme"/);
      assert.match(home.body, /href="\/console\/orgs\/other"/);
    });

    it('a session stops working after its expiry', async () => {
      const { cookie } = await signIn(t, tenant.apiKey);
      const token = cookie.split('=')[1]!;
      await t.backing.storage.db
        .updateTable('console_sessions')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('token_hash', '=', createHash('sha256').update(token).digest('hex'))
        .execute();
      assert.equal(
        (await t.app.inject({ method: 'GET', url: '/console/orgs/acme', headers: { cookie } })).statusCode,
        303,
      );
    });

    it('uploads a cohort through the console and reports its status until completed; a blocking error names its field', async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const url = '/console/orgs/acme/workspaces/main/deployments/inbound/cohorts';
      const headers = (type: string) => ({
        cookie,
        origin: ORIGIN,
        'x-csrf-token': csrf,
        accept: 'application/json',
        'content-type': type,
      });
      const csv =
        'mobile,name,balance,payment_due,preferred_language\n9876543210,Asha,10,2024-01-01,Hindi\nN/A,Bad,1,2024-01-01,English\n';
      const good = await multipart([
        ['name', 'Console upload'],
        ['cohort_file', csv, 'users.csv'],
        ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'map.json'],
      ]);
      const accepted = await t.app.inject({ method: 'POST', url, headers: headers(good.type), payload: good.body });
      assert.equal(accepted.statusCode, 200, accepted.body);
      const first = accepted.json() as { status: string; cohort_url: string };
      assert.equal(first.status, 'processing');
      let status = first as { status: string; done?: boolean; html?: string };
      for (let i = 0; i < 400 && status.status === 'processing'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (
          await t.app.inject({
            method: 'GET',
            url: `${first.cohort_url}/status`,
            headers: { cookie, accept: 'application/json' },
          })
        ).json();
      }
      assert.equal(status.status, 'completed');
      assert.equal(status.done, true);
      assert.match(
        status.html!,
        /<dt>Rows in the file<\/dt><dd>2<\/dd>.*<dt>Imported<\/dt><dd>1<\/dd>.*<dt>Rejected<\/dt><dd>1<\/dd>/s,
      );
      assert.match(
        status.html!,
        /<caption>Rejected rows by reason<\/caption>.*<th scope="row"><code>invalid_phone<\/code><\/th><td>1<\/td><td>3<\/td>/s,
      );
      assert.doesNotMatch(status.html!, /class="warning"/, 'half the rows rejected is not more than half');
      // The live marker: lookups answer its one imported phone from it, in the list and on its page.
      assert.match(status.html!, /<span class="badge badge-live"[^>]*>live<\/span>/);
      assert.match(status.html!, /<dt>Served by lookups<\/dt><dd>1<\/dd>/);
      const listPage = await t.app.inject({ method: 'GET', url, headers: { cookie } });
      assert.match(
        listPage.body,
        />Console upload<\/a><\/th><td><span class="badge badge-completed">completed<\/span> <span class="badge badge-live"/,
      );
      const rejected = await t.app.inject({
        method: 'GET',
        url: `${first.cohort_url}/files/rejected_records`,
        headers: { cookie },
      });
      assert.match(
        rejected.body,
        /^\uFEFF?mobile,name,balance,payment_due,preferred_language,rejected_reason\r?\nN\/A,Bad,/,
      );

      const wrongColumns = await multipart([
        ['name', 'Broken'],
        ['cohort_file', 'phone,name\n9876543210,A\n', 'users.csv'],
        ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'map.json'],
      ]);
      const refused = await t.app.inject({
        method: 'POST',
        url,
        headers: headers(wrongColumns.type),
        payload: wrongColumns.body,
      });
      assert.equal(refused.statusCode, 422);
      const body = refused.json() as { error: { code: string; message: string }; field: string };
      assert.equal(body.error.code, 'column_not_found');
      assert.equal(body.field, 'cohort_transformation_file');

      // Without JavaScript the form posts _csrf first; a file before it is refused before it is stored.
      const noToken = await multipart([
        ['name', 'Sneaky'],
        ['cohort_file', csv, 'users.csv'],
        ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'map.json'],
      ]);
      const forged = await t.app.inject({
        method: 'POST',
        url,
        headers: { cookie, origin: ORIGIN, 'content-type': noToken.type },
        payload: noToken.body,
      });
      assert.equal(forged.statusCode, 403);
      const plain = await multipart([
        ['_csrf', csrf],
        ['name', 'Plain form'],
        ['cohort_file', csv, 'users.csv'],
        ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'map.json'],
      ]);
      const posted = await t.app.inject({
        method: 'POST',
        url,
        headers: { cookie, origin: ORIGIN, 'content-type': plain.type },
        payload: plain.body,
      });
      assert.equal(posted.statusCode, 303, posted.body);
      assert.match(posted.headers.location!, /\/cohorts\/coh-[a-z0-9]+$/);
      const list = await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts?search=sneaky', {
        key: tenant.apiKey,
      });
      assert.equal((list.json() as { total: number }).total, 0);
    });

    it('"Check file" shows what an upload would import and reject, and uploads nothing', async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const base = '/console/orgs/acme/workspaces/main/deployments/inbound/cohorts';
      const form = await t.app.inject({ method: 'GET', url: `${base}/new`, headers: { cookie } });
      assert.match(
        form.body,
        /<button type="submit" class="secondary" formaction="[^"]*\/cohorts\/check" formnovalidate data-check>Check file<\/button>\s*<button type="submit">Upload<\/button>/,
      );
      const countCohorts = async () =>
        (
          (
            await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts', { key: tenant.apiKey })
          ).json() as { total: number }
        ).total;
      const before = await countCohorts();
      const csv =
        'mobile,name,balance,payment_due,preferred_language\n9876543288,Asha,10,2024-01-01,Hindi\nN/A,Bad,1,2024-01-01,English\n9876543288,Again,1,2024-01-01,Hindi\n';
      const parts = (withToken: boolean) =>
        multipart([
          ...(withToken ? ([['_csrf', csrf]] as Array<[string, string]>) : []),
          ['name', ''],
          ['cohort_file', csv, 'users.csv'],
          ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'map.json'],
        ]);
      const scripted = await parts(false);
      const checked = await t.app.inject({
        method: 'POST',
        url: `${base}/check`,
        headers: {
          cookie,
          origin: ORIGIN,
          'x-csrf-token': csrf,
          accept: 'application/json',
          'content-type': scripted.type,
        },
        payload: scripted.body,
      });
      assert.equal(checked.statusCode, 200, checked.body);
      const fragment = (checked.json() as { checked: boolean; html: string }).html;
      assert.match(
        fragment,
        /<dt>Rows in the file<\/dt><dd>3<\/dd>.*<dt>Would be imported<\/dt><dd>1<\/dd>.*<dt>Would be rejected<\/dt><dd>2<\/dd>/s,
      );
      assert.match(fragment, /<th scope="row"><code>duplicate_phone<\/code><\/th><td>1<\/td><td>4<\/td>/);
      assert.match(fragment, /<tr><th scope="row">3<\/th><td><code>invalid_phone<\/code><\/td>/);
      assert.match(fragment, /phone \+919876543288 repeats row 2; the first row is kept/);

      // Without JavaScript: the upload page again, the answer under the form.
      const plain = await parts(true);
      const page = await t.app.inject({
        method: 'POST',
        url: `${base}/check`,
        headers: { cookie, origin: ORIGIN, 'content-type': plain.type },
        payload: plain.body,
      });
      assert.equal(page.statusCode, 200, page.body);
      assert.match(page.body, /<form class="card" id="cohort-upload"/);
      assert.match(page.body, /<section id="upload-result" class="card" aria-live="polite"><h2>Check<\/h2>/);
      assert.match(page.body, /<dt>Would be rejected<\/dt><dd>2<\/dd>/);

      const forged = await t.app.inject({
        method: 'POST',
        url: `${base}/check`,
        headers: { cookie, origin: ORIGIN, 'content-type': scripted.type },
        payload: scripted.body,
      });
      assert.equal(forged.statusCode, 403);
      assert.equal(await countCohorts(), before, 'nothing was uploaded');
    });

    it('a cohort page warns, not in green, when more than half the rows were rejected, and lists why', async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const url = '/console/orgs/acme/workspaces/main/deployments/inbound/cohorts';
      const csv =
        'mobile,name,balance,payment_due,preferred_language\n9876543299,Asha,10,2024-01-01,Hindi\nN/A,Bad,1,2024-01-01,English\n12,Worse,1,2024-01-01,English\n9876543299,Again,1,2024-01-01,Hindi\n';
      const upload = await multipart([
        ['name', 'Mostly rejected'],
        ['cohort_file', csv, 'users.csv'],
        ['cohort_transformation_file', JSON.stringify(SEED_CONFIG), 'map.json'],
      ]);
      const accepted = await t.app.inject({
        method: 'POST',
        url,
        headers: {
          cookie,
          origin: ORIGIN,
          'x-csrf-token': csrf,
          accept: 'application/json',
          'content-type': upload.type,
        },
        payload: upload.body,
      });
      assert.equal(accepted.statusCode, 200, accepted.body);
      const cohortUrl = (accepted.json() as { cohort_url: string }).cohort_url;
      let status = 'processing';
      for (let i = 0; i < 400 && status === 'processing'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (
          (
            await t.app.inject({
              method: 'GET',
              url: `${cohortUrl}/status`,
              headers: { cookie, accept: 'application/json' },
            })
          ).json() as { status: string }
        ).status;
      }
      assert.equal(status, 'completed');
      const page = await t.app.inject({ method: 'GET', url: cohortUrl, headers: { cookie } });
      assert.equal(page.statusCode, 200);
      assert.match(
        page.body,
        /<div class="warning" role="alert"><strong>Most rows were rejected\.<\/strong> 3 of 4 rows were rejected; lookups find only the 1 imported\./,
      );
      const rows = [
        ...page.body.matchAll(/<tr><th scope="row"><code>([a-z_]+)<\/code><\/th><td>(\d+)<\/td><td>(\d+)<\/td>/g),
      ].map((m) => [m[1], Number(m[2]), Number(m[3])]);
      assert.deepEqual(rows, [
        ['invalid_phone', 2, 3],
        ['duplicate_phone', 1, 5],
      ]);
      assert.match(page.body, /the phone repeats an earlier row of the file/);
    });

    it('escapes what others typed: a batch named with markup shows as text', async () => {
      const evil = '<img src=x onerror="alert(1)">';
      const created = await t.call('POST', '/api/call/createBatch', {
        key: tenant.apiKey,
        body: { batchName: evil, callingNumbers: [tenant.phoneNumberId] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { cookie } = await signIn(t, tenant.apiKey);
      const list = await t.app.inject({
        method: 'GET',
        url: '/console/orgs/acme/workspaces/main/batches',
        headers: { cookie },
      });
      assert.equal(list.statusCode, 200);
      assert.ok(!list.body.includes(evil));
      assert.ok(list.body.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'));
    });

    it('serves the CSV template: phone_number and the variables, BOM, formula-safe', async () => {
      const { cookie } = await signIn(t, tenant.apiKey);
      const response = await t.app.inject({
        method: 'GET',
        url: '/console/orgs/acme/workspaces/main/deployments/inbound/template.csv',
        headers: { cookie },
      });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-disposition']), /attachment/);
      assert.equal(response.body, '\uFEFFphone_number,customer_name,outstanding_amount,due_date\r\n');
    });

    it("suggests the mapper's config from a CSV's header with the session and its token, as the API does", async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const base = '/console/orgs/acme/workspaces/main/deployments/inbound/cohorts';
      const page = await t.app.inject({ method: 'GET', url: `${base}/new`, headers: { cookie } });
      assert.match(page.body, /data-suggest-url="[^"]*\/cohorts\/mapping-suggestion"/);
      assert.match(page.body, /data-formats="\[\{&quot;name&quot;:&quot;trim&quot;/);
      const body = await multipart([['cohort_file', 'mobile,Customer Name,balance\n9876543210,Asha,1\n', 'users.csv']]);
      const post = (headers: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url: `${base}/mapping-suggestion`,
          headers: { cookie, origin: ORIGIN, accept: 'application/json', 'content-type': body.type, ...headers },
          payload: body.body,
        });
      const answer = await post({ 'x-csrf-token': csrf });
      assert.equal(answer.statusCode, 200, answer.body);
      const api = await t.app.inject({
        method: 'POST',
        url: '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts/mapping-suggestion',
        headers: { 'x-api-key': tenant.apiKey, 'content-type': body.type },
        payload: body.body,
      });
      assert.deepEqual(answer.json(), api.json(), 'the console and the API answer alike');
      assert.deepEqual((answer.json() as { unmapped_required: string[] }).unmapped_required, []);
      const noToken = await post({});
      assert.equal(noToken.statusCode, 403);
      assert.equal((noToken.json() as { error: { code: string } }).error.code, 'csrf_rejected');
      const elsewhere = await t.app.inject({
        method: 'POST',
        url: '/console/orgs/other/workspaces/main/deployments/inbound/cohorts/mapping-suggestion',
        headers: {
          cookie,
          origin: ORIGIN,
          accept: 'application/json',
          'content-type': body.type,
          'x-csrf-token': csrf,
        },
        payload: body.body,
      });
      assert.equal(elsewhere.statusCode, 404);
    });

    it("takes an erasure from the console within the key's reach; a refused one comes back with its entries named, escaped", async () => {
      const { cookie, csrf } = await signIn(t, tenant.apiKey);
      const url = '/console/orgs/acme/workspaces/main/erasure';
      const post = (target: string, fields: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url: target,
          headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
          payload: form({ _csrf: csrf, ...fields }),
        });
      const erasures = async (org: string) =>
        (await t.backing.storage.db.selectFrom('erasures').select('erasure_id').where('org_id', '=', org).execute())
          .length;

      // Another org's workspace is out of reach: not found, and nothing is erased there.
      const foreign = await post('/console/orgs/other/workspaces/main/erasure', { phone_numbers: '+14155550177' });
      assert.equal(foreign.statusCode, 404);
      assert.match(String(foreign.headers['content-type']), /text\/html/);
      const foreignList = await t.app.inject({
        method: 'GET',
        url: '/console/orgs/other/workspaces/main/erasure',
        headers: { cookie },
      });
      assert.equal(foreignList.statusCode, 404);
      assert.equal(await erasures('other'), 0);

      const refused = await post(url, { phone_numbers: '+14155550177\n<b>1</b>', country: '' });
      assert.equal(refused.statusCode, 422, refused.body);
      assert.match(
        refused.body,
        /entry 2, <code>&lt;b&gt;1&lt;\/b&gt;<\/code>: phone number &#39;&lt;b&gt;1&lt;\/b&gt;&#39;/,
      );
      assert.doesNotMatch(refused.body, /<b>1<\/b>/);
      assert.match(
        refused.body,
        /<textarea id="phone_numbers"[^>]*aria-invalid="true">\+14155550177\n&lt;b&gt;1&lt;\/b&gt;<\/textarea>/,
      );
      const empty = await post(url, { phone_numbers: ' \n, ' });
      assert.equal(empty.statusCode, 422);
      assert.match(empty.body, /Enter at least one phone number/);
      const country = await post(url, { phone_numbers: '4155550177', country: 'ZZ' });
      assert.equal(country.statusCode, 422);
      assert.match(country.body, /id="country-error"[^>]*>The country must be a two-letter country code/);
      assert.equal(await erasures('acme'), 0, 'a refused form erases nothing');

      const taken = await post(url, { phone_numbers: '4155550177, +1 415 555 0178', country: 'us' });
      assert.equal(taken.statusCode, 303, taken.body);
      const location = taken.headers.location ?? '';
      assert.match(location, /^\/console\/orgs\/acme\/workspaces\/main\/erasure\?requested=er_[0-9a-f]{32}$/);
      const list = await t.app.inject({ method: 'GET', url: location, headers: { cookie } });
      assert.equal(list.statusCode, 200);
      const id = location.split('=')[1]!;
      assert.match(list.body, new RegExp(`data-erasure="${id}"`));
      assert.match(list.body, /<dt>Numbers<\/dt><dd>2<\/dd>/);
      assert.doesNotMatch(list.body, /4155550177|555 0178/, 'the numbers are not shown back');
      const event = await t.backing.storage.db
        .selectFrom('audit_events')
        .select(['resource_id', 'via', 'status'])
        .where('route', '=', '/console/orgs/:org_id/workspaces/:workspace_id/erasure')
        .where('status', '=', 303)
        .executeTakeFirst();
      assert.deepEqual(event, { resource_id: id, via: 'console', status: 303 });
    });

    it("shows a deployment's cohort retention to its org key; only a master-key session may change it", async () => {
      const page = '/console/orgs/acme/workspaces/main/deployments/inbound';
      const asKey = await signIn(t, tenant.apiKey);
      const shown = await t.app.inject({ method: 'GET', url: page, headers: { cookie: asKey.cookie } });
      assert.match(shown.body, /<dt>Keep cohorts<\/dt><dd>kept until deleted<\/dd>/);
      assert.doesNotMatch(shown.body, /action="[^"]*\/retention"/);
      const post = (session: { cookie: string; csrf: string }, fields: Record<string, string>) =>
        t.app.inject({
          method: 'POST',
          url: `${page}/retention`,
          headers: { cookie: session.cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
          payload: form({ _csrf: session.csrf, ...fields }),
        });
      const refused = await post(asKey, { cohort_retention_days: '30' });
      assert.equal(refused.statusCode, 403);
      assert.match(refused.body, /needs the master key/);

      const asMaster = await signIn(t, TEST_MASTER_KEY);
      const bad = await post(asMaster, { cohort_retention_days: '3651' });
      assert.equal(bad.statusCode, 422);
      assert.match(bad.body, /id="cohort_retention_days"[^>]*value="3651"[^>]*aria-invalid="true"/);
      const saved = await post(asMaster, { cohort_retention_days: '30', cohort_retention_strict: 'true' });
      assert.equal(saved.statusCode, 303, saved.body);
      assert.equal(saved.headers.location, `${page}?retention=saved`);
      const api = (await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound')).json() as {
        cohort_retention_days: number | null;
        cohort_retention_strict: boolean;
      };
      assert.deepEqual([api.cohort_retention_days, api.cohort_retention_strict], [30, true]);
      const after = await t.app.inject({ method: 'GET', url: page, headers: { cookie: asKey.cookie } });
      assert.match(after.body, /<dt>Keep cohorts<\/dt><dd>30 days<\/dd>/);
      assert.match(after.body, /<dt>Strict<\/dt><dd>yes<\/dd>/);
      const cleared = await post(asMaster, { cohort_retention_days: '' });
      assert.equal(cleared.statusCode, 303);
      const none = (await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound')).json() as {
        cohort_retention_days: number | null;
        cohort_retention_next_run_at: string | null;
      };
      assert.deepEqual([none.cohort_retention_days, none.cohort_retention_next_run_at], [null, null]);
    });
  });
}
