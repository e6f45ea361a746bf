import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const CSV = `${HEADER}\n9844444441,Url One,100,2024-07-31,Hindi\n9844444442,Url Two,200,2024-08-31,Tamil\nnot-a-phone,Bad,1,x,Hindi\n`;
const URL_CSV_RESULT = {
  total_records: 3,
  valid_records: 2,
  rejected_records: 1,
  rejections_by_reason: [{ code: 'invalid_phone', count: 1, example_row: 4 }],
};
const MAX_BYTES = 200_000;
const SECRET = 'X-Amz-Signature=S3CR3T5IGNATURE';

interface SourceServer {
  base: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** The customer's file host: a real HTTP server on 127.0.0.1 that counts the requests per path. */
async function startSourceServer(): Promise<SourceServer> {
  const hits = new Map<string, number>();
  let base = '';
  const server = http.createServer((request, response) => {
    const { pathname } = new URL(request.url ?? '/', 'http://x');
    hits.set(pathname, (hits.get(pathname) ?? 0) + 1);
    const redirect = (location: string, status = 302) => response.writeHead(status, { location }).end();
    const hop = /^\/hop\/(\d+)$/.exec(pathname);
    if (hop) {
      const left = Number(hop[1]);
      return redirect(
        left <= 1 ? `/users.csv?${SECRET}` : `${base}/hop/${left - 1}?${SECRET}`,
        [301, 302, 303, 307, 308][left % 5],
      );
    }
    switch (pathname) {
      case '/users.csv':
        return response.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
      case '/gzip.csv':
        return response
          .writeHead(200, { 'content-type': 'text/csv', 'content-encoding': 'gzip' })
          .end(zlib.gzipSync(CSV.replaceAll('984444444', '985555555')));
      case '/wrong-columns.csv':
        return response.writeHead(200, { 'content-type': 'text/csv' }).end('phone,full_name\n9811111111,x\n');
      case '/missing.csv':
        return response.writeHead(404, { 'content-type': 'text/plain' }).end('no such key');
      case '/unavailable.csv':
        return response.writeHead(503).end();
      case '/to-private':
        return redirect('http://10.0.0.1/users.csv');
      case '/to-metadata':
        return redirect('http://169.254.169.254/latest/meta-data/');
      case '/to-localhost':
        return redirect(`${base.replace('127.0.0.1', 'localhost')}/never`);
      case '/to-ftp':
        return redirect('ftp://127.0.0.1/users.csv');
      case '/declared-huge.csv':
        return response
          .writeHead(200, { 'content-type': 'text/csv', 'content-length': String(MAX_BYTES * 10) })
          .end(HEADER);
      case '/streamed-huge.csv': {
        // No Content-Length: only counting the bytes as they arrive can stop this one.
        response.writeHead(200, { 'content-type': 'text/csv' });
        const rows = function* () {
          yield `${HEADER}\n`;
          for (let i = 0; i < 20_000; i++) yield '9811111111,x,1,2,3\n';
        };
        Readable.from(rows()).pipe(response);
        return;
      }
      case '/stalls.csv':
        // Headers and a first line, then nothing: only the deadline ends it.
        response.writeHead(200, { 'content-type': 'text/csv' });
        response.write(`${HEADER}\n`);
        return;
      default:
        return response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function errorOf(body: unknown) {
  return (body as { error: { code: string; message: string; data: { details: unknown } } }).error;
}

for (const backend of await backends({ scaleOut: true })) {
  describe(`cohorts from a URL on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let source: SourceServer;
    const cohortsPath = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
    const lookup = (phone: string) =>
      t.call('GET', `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent(phone)}`, {
        key: acme.apiKey,
      });
    const create = (url: string, config: unknown = SEED_CONFIG, name = 'From url', path = cohortsPath) =>
      t.call('POST', path, {
        key: acme.apiKey,
        body: { name, source: { type: 'pre_signed_url', url }, cohort_transformation: config },
      });

    /** Creates a URL cohort (200, processing) and waits until it leaves processing. */
    async function createAndWait(
      url: string,
      config: unknown = SEED_CONFIG,
    ): Promise<CohortBody & { error?: { code: string; message: string } }> {
      const response = await create(url, config);
      assert.equal(response.statusCode, 200, response.body);
      assert.ok(!response.body.includes(SECRET), 'the answer shows the URL query');
      const body = response.json() as CohortBody;
      assert.equal(body.status, 'processing');
      assert.equal(body.source_type, 'pre_signed_url');
      const done = await waitForCohort(t, `${cohortsPath}/${body.cohort_id}`, acme.apiKey);
      const raw = (await t.call('GET', `${cohortsPath}/${body.cohort_id}`, { key: acme.apiKey })).body;
      assert.ok(!raw.includes(SECRET) && !raw.includes('S3CR3T'), `the cohort shows the URL query: ${raw}`);
      return done;
    }

    async function expectFailed(url: string, code: string, config: unknown = SEED_CONFIG) {
      const done = await createAndWait(url, config);
      assert.equal(done.status, 'failed', JSON.stringify(done));
      assert.equal(done.error?.code, code, JSON.stringify(done));
      return done.error!;
    }

    before(async () => {
      source = await startSourceServer();
      t = await createTestApp(backend, {
        ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
        // Long enough for a loaded CI machine to stream the too-large file; the stall case waits it out twice.
        ROSTER_URL_SOURCE_TIMEOUT_MS: '2500',
        ROSTER_MAX_UPLOAD_BYTES: String(MAX_BYTES),
        ROSTER_JOB_MAX_ATTEMPTS: '2',
        ROSTER_JOB_BACKOFF_MS: '0',
      });
      acme = await seedTenant(t, 'acme');
      await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
      await source?.close();
    });

    it('downloads the CSV, completes with exact counts, and lookups find its rows', async () => {
      const done = await createAndWait(`${source.base}/users.csv?${SECRET}`);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(done.source_type, 'pre_signed_url');
      assert.deepEqual(done.result, URL_CSV_RESULT);
      const caller = (await lookup('9844444442')).json() as {
        found: boolean;
        cohort_id: string;
        app_variables: Record<string, string>;
      };
      assert.equal(caller.found, true);
      assert.equal(caller.cohort_id, done.cohort_id);
      assert.deepEqual(caller.app_variables, {
        customer_name: 'Url Two',
        outstanding_amount: '200',
        due_date: '2024-08-31',
      });
      const file = await t.call('GET', `${cohortsPath}/${done.cohort_id}/files?file_type=cohort`, { key: acme.apiKey });
      assert.equal(file.body, CSV);
      const list = await t.call('GET', cohortsPath, { key: acme.apiKey });
      assert.ok(!list.body.includes('S3CR3T'), 'the list shows the URL query');
    });

    it('is served under the vendor prefix too, and reads a gzip-encoded body', async () => {
      const response = await create(
        `${source.base}/gzip.csv`,
        SEED_CONFIG,
        'Gzip',
        '/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts',
      );
      assert.equal(response.statusCode, 200, response.body);
      const done = await waitForCohort(t, `${cohortsPath}/${(response.json() as CohortBody).cohort_id}`, acme.apiKey);
      assert.deepEqual(done.result, URL_CSV_RESULT);
      assert.equal(((await lookup('9855555551')).json() as { found: boolean }).found, true);
    });

    it('follows up to 3 redirects of every kind', async () => {
      const done = await createAndWait(`${source.base}/hop/3?${SECRET}`);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result, URL_CSV_RESULT);
    });

    it('fails the cohort with source_url_refused after more than 3 redirects', async () => {
      const error = await expectFailed(`${source.base}/hop/4?${SECRET}`, 'source_url_refused');
      assert.match(error.message, /more than 3 times/);
    });

    it('fails the cohort with the blocking code when the header does not fit the config', async () => {
      const error = await expectFailed(`${source.base}/wrong-columns.csv`, 'column_not_found');
      assert.match(error.message, /mobile/);
    });

    it('fails the cohort with source_download_failed naming the status on a 404, without the query', async () => {
      const error = await expectFailed(`${source.base}/missing.csv?${SECRET}`, 'source_download_failed');
      assert.match(error.message, /HTTP 404/);
      assert.match(error.message, /\/missing\.csv/);
      assert.doesNotMatch(error.message, /S3CR3T|\?/);
    });

    it('refuses, before connecting, redirects to private, metadata and non-http addresses', async () => {
      assert.match((await expectFailed(`${source.base}/to-private`, 'source_url_refused')).message, /private/);
      assert.match((await expectFailed(`${source.base}/to-metadata`, 'source_url_refused')).message, /link-local/);
      assert.match(
        (await expectFailed(`${source.base}/to-ftp`, 'source_url_refused')).message,
        /only http: and https:/,
      );
    });

    it('checks the resolved address of a name that is not allowlisted, and never connects to it', async () => {
      const error = await expectFailed(`${source.base}/to-localhost`, 'source_url_refused');
      assert.match(error.message, /localhost resolves to a loopback address/);
      assert.equal(source.hits.get('/never'), undefined);
    });

    it('fails the cohort with file_too_large for a body over ROSTER_MAX_UPLOAD_BYTES, declared or streamed', async () => {
      for (const path of ['/declared-huge.csv', '/streamed-huge.csv']) {
        const error = await expectFailed(`${source.base}${path}`, 'file_too_large');
        assert.match(error.message, new RegExp(`larger than ${MAX_BYTES} bytes`));
      }
    });

    it('retries a stalled download and a 503, then fails with processing_failed', async () => {
      for (const path of ['/stalls.csv', '/unavailable.csv']) {
        const error = await expectFailed(`${source.base}${path}`, 'processing_failed');
        assert.match(error.message, /Downloading the file failed 2 times/);
        assert.equal(source.hits.get(path), 2, `${path} was not retried`);
        source.hits.delete(path);
      }
    });

    it("dry-runs a hosted CSV with POST /'s JSON: counts as its cohort would, refusals as a cohort fails, nothing stored", async () => {
      const validate = (url: string, body: Record<string, unknown> = {}) =>
        t.call('POST', `${cohortsPath}/validate`, {
          key: acme.apiKey,
          body: { source: { type: 'pre_signed_url', url }, cohort_transformation: SEED_CONFIG, ...body },
        });
      const before = (await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number };
      const checked = await validate(`${source.base}/users.csv?${SECRET}`);
      assert.equal(checked.statusCode, 200, checked.body);
      const result = checked.json() as typeof URL_CSV_RESULT & { rejected_rows: Array<{ row: number; code: string }> };
      assert.deepEqual(
        { ...result, rejected_rows: result.rejected_rows.map((r) => [r.row, r.code]) },
        { ...URL_CSV_RESULT, rejected_rows: [[4, 'invalid_phone']] },
      );
      assert.equal(source.hits.get('/users.csv') !== undefined, true);
      const refusals: Array<[string, number, string, RegExp?]> = [
        ['/wrong-columns.csv', 422, 'column_not_found'],
        ['/missing.csv', 422, 'source_download_failed', /HTTP 404/],
        ['/unavailable.csv', 422, 'source_download_failed', /HTTP 503.*try again later/],
        ['/to-private', 422, 'source_url_refused'],
        ['/declared-huge.csv', 413, 'file_too_large'],
      ];
      for (const [path, status, code, message] of refusals) {
        const refused = await validate(`${source.base}${path}?${SECRET}`);
        assert.equal(refused.statusCode, status, `${path}: ${refused.body}`);
        const error = (refused.json() as { error: { code: string; message: string } }).error;
        assert.equal(error.code, code, path);
        if (message) assert.match(error.message, message, path);
        assert.ok(!refused.body.includes('S3CR3T'), `${path}: the answer shows the URL query`);
      }
      const named = await validate(`${source.base}/users.csv`, { name: 'not/a name' });
      assert.equal(named.statusCode, 422, named.body);
      assert.equal((named.json() as { error: { code: string } }).error.code, 'validation_failed');
      const after = (await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number };
      assert.equal(after.total, before.total, 'a dry run created a cohort');
      assert.deepEqual(await readdir(path.join(t.backing.dataDir, 'uploads-tmp')).catch(() => []), []);
    });

    it('refuses at request time a URL that is not http(s), with 422 naming /body/source/url', async () => {
      for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/users.csv', 'gopher://127.0.0.1/']) {
        const response = await create(url);
        assert.equal(response.statusCode, 422, url);
        const error = errorOf(response.json());
        assert.equal(error.code, 'validation_failed');
        assert.deepEqual(
          (error.data.details as Array<{ field: string }>).map((d) => d.field),
          ['/body/source/url'],
        );
      }
      const relative = await create('/users.csv');
      assert.equal(relative.statusCode, 422);
      assert.equal(errorOf(relative.json()).code, 'validation_failed');
    });

    it('refuses at request time a bad config shape, a bad name, unknown fields and an unknown deployment', async () => {
      const before = ((await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number }).total;
      const config = await create(`${source.base}/users.csv`, { phone_number: { column_name: 7 } });
      assert.equal(config.statusCode, 422);
      assert.equal(errorOf(config.json()).code, 'invalid_transformation');
      const name = await create(`${source.base}/users.csv`, SEED_CONFIG, 'bad/name!');
      assert.equal(name.statusCode, 422);
      assert.equal(errorOf(name.json()).code, 'validation_failed');
      const extra = await t.call('POST', cohortsPath, {
        key: acme.apiKey,
        body: {
          name: 'x',
          source: { type: 'pre_signed_url', url: `${source.base}/users.csv`, headers: {} },
          cohort_transformation: SEED_CONFIG,
        },
      });
      assert.equal(extra.statusCode, 422);
      assert.match(errorOf(extra.json()).message, /\/body\/source\/headers/);
      const wrongType = await t.call('POST', cohortsPath, {
        key: acme.apiKey,
        body: {
          name: 'x',
          source: { type: 'file_upload', url: `${source.base}/users.csv` },
          cohort_transformation: SEED_CONFIG,
        },
      });
      assert.equal(wrongType.statusCode, 422);
      const unknown = await create(
        `${source.base}/users.csv`,
        SEED_CONFIG,
        'x',
        '/v1/orgs/acme/workspaces/main/deployments/nope/cohorts',
      );
      assert.equal(unknown.statusCode, 404);
      const after = ((await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number }).total;
      assert.equal(after, before, 'a refused request created a cohort');
    });
  });
}
