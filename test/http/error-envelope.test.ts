import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import lightMyRequest from 'light-my-request';
import { buildApp } from '../../src/http/app.js';
import { toAppError } from '../../src/http/error-handler.js';
import { BlobStorageUnavailableError, type BlobStore } from '../../src/storage/blobs/blob-store.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { backends } from '../helpers/backends.js';
import { anyError, batchVendorError, type ErrorParts } from '../helpers/error-envelopes.js';
import { SEED_CONFIG } from '../helpers/seed-config.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// Every error a client can cause, or meet, comes out in the one envelope with a stable code:
// broken multipart, hostile JSON, over-long path segments, and requests Node's own HTTP parser
// refuses before Fastify sees them (those need a real socket; inject cannot produce them).

const sqlite = (await backends())[0]!;
const DEPLOYMENT = '/v1/orgs/acme/workspaces/main/deployments/inbound';

function assertEnvelope(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
): ErrorParts {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const error = anyError(JSON.parse(response.body));
  assert.equal(error.code, code, response.body);
  return error;
}

/** Writes raw bytes to the server, half-closes if asked, and parses the one HTTP answer. */
function rawRequest(
  port: number,
  bytes: string,
  options: { halfClose: boolean },
): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.write(bytes);
      if (options.halfClose) socket.end();
    });
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('close', () => {
      const [head = '', ...rest] = received.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(statusLine);
      if (!match) return reject(new Error(`not an HTTP answer: ${JSON.stringify(received.slice(0, 200))}`));
      const headers = Object.fromEntries(
        headerLines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({ statusCode: Number(match[1]), headers, body: rest.join('\r\n\r\n') });
    });
  });
}

/** A multipart body that stops in the middle of its file part: no closing boundary. */
function truncatedMultipart(fileField: string): string {
  return [
    '--XX',
    `Content-Disposition: form-data; name="${fileField}"; filename="users.csv"`,
    'Content-Type: text/csv',
    '',
    'mobile,name,balance,payment_due,preferred_language',
    '9876543210,Asha,1500,2024-07-31,Hindi',
    '',
  ].join('\r\n');
}

describe('every error in the envelope', () => {
  let t: TestApp;
  let acme: SeededTenant;
  let port: number;

  before(async () => {
    t = await createTestApp(sqlite);
    acme = await seedTenant(t, 'acme');
    const url = await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(url).port);
  });
  after(async () => {
    await t?.close();
  });

  const post = (url: string, contentType: string, payload: string) =>
    t.app.inject({ method: 'POST', url, headers: { 'x-api-key': acme.apiKey, 'content-type': contentType }, payload });

  const UPLOADS = [
    `${DEPLOYMENT}/cohorts/upload`,
    `/api/scheduling${DEPLOYMENT}/cohorts/upload`,
    '/api/call/upload',
    '/api/call/dnc/upload',
  ];

  it('a multipart upload without a boundary answers 400 invalid_multipart on cohort, batch and do-not-call uploads', async () => {
    for (const url of UPLOADS) {
      for (const payload of ['name=x', '']) {
        const error = assertEnvelope(await post(url, 'multipart/form-data', payload), 400, 'invalid_multipart');
        assert.match(error.message, /no boundary/, url);
      }
    }
  });

  it('a multipart boundary longer than the parser takes answers 400 invalid_multipart, not 500', async () => {
    for (const url of UPLOADS) {
      const error = assertEnvelope(
        await post(url, `multipart/form-data; boundary=${'b'.repeat(300)}`, 'x'),
        400,
        'invalid_multipart',
      );
      assert.match(error.message, /boundary .* too long/, url);
    }
  });

  it('a truncated multipart body answers 400 invalid_multipart on every upload and keeps nothing of it', async () => {
    assertEnvelope(
      await post(
        `/api/scheduling${DEPLOYMENT}/cohorts/upload`,
        'multipart/form-data; boundary=XX',
        truncatedMultipart('cohort_file'),
      ),
      400,
      'invalid_multipart',
    );
    const cohort = assertEnvelope(
      await post(`${DEPLOYMENT}/cohorts/upload`, 'multipart/form-data; boundary=XX', truncatedMultipart('cohort_file')),
      400,
      'invalid_multipart',
    );
    assert.match(cohort.message, /ended before its closing boundary/);
    const batch = assertEnvelope(
      await post('/api/call/upload', 'multipart/form-data; boundary=XX', truncatedMultipart('file')),
      400,
      'invalid_multipart',
    );
    assert.match(batch.message, /truncated/);
    assertEnvelope(
      await post('/api/call/dnc/upload', 'multipart/form-data; boundary=XX', truncatedMultipart('file')),
      400,
      'invalid_multipart',
    );
    assert.deepEqual(await t.storedCohortIds(), []);
    assert.deepEqual(await readdir(path.join(t.backing.dataDir, 'uploads-tmp')).catch(() => []), []);
    assert.deepEqual(await readdir(path.join(t.backing.dataDir, 'blobs-tmp')).catch(() => []), []);
  });

  it('a form field named constructor, or more files than an upload takes, is refused in our words on every upload', async () => {
    const form = (parts: Array<[string, string | undefined]>) =>
      `${parts
        .map(
          ([name, filename]) =>
            `--XX\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\nx\r\n`,
        )
        .join('')}--XX--\r\n`;
    for (const url of UPLOADS) {
      const proto = assertEnvelope(
        await post(url, 'multipart/form-data; boundary=XX', form([['constructor', undefined]])),
        400,
        'forbidden_property',
      );
      assert.match(proto.message, /form field is named __proto__, constructor or prototype/, url);
      const files = Array.from({ length: 12 }, (_, i) => [`file${i}`, `f${i}.csv`] as [string, string]);
      const tooMany = assertEnvelope(
        await post(url, 'multipart/form-data; boundary=XX', form(files)),
        413,
        'payload_too_large',
      );
      assert.match(tooMany.message, /more (files|fields) than this upload takes/, url);
    }
  });

  it('a 10,000-deep cohort_transformation answers 422 invalid_transformation saying it is nested too deeply', async () => {
    // Built as text: JSON.stringify itself cannot serialise this depth.
    const deep = `${'{"a":'.repeat(10_000)}{}${'}'.repeat(10_000)}`;
    const body = JSON.stringify({
      name: 'Deep',
      source: { type: 'pre_signed_url', url: 'https://example.com/users.csv' },
      cohort_transformation: { ...SEED_CONFIG, app_variables: 'DEEP' },
    }).replace('"DEEP"', deep);
    const error = assertEnvelope(
      await post(`${DEPLOYMENT}/cohorts`, 'application/json', body),
      422,
      'invalid_transformation',
    );
    assert.match(error.message, /nested more than 32 levels deep/);
  });

  it('a caller-lookup phone longer than 100 characters answers 422 validation_failed; past 500, 414 uri_too_long', async () => {
    const long = await t.call('GET', `${DEPLOYMENT}/callers/${'9'.repeat(101)}`, { key: acme.apiKey });
    const error = assertEnvelope(long, 422, 'validation_failed');
    assert.match(error.message, /\/params\/phone must NOT have more than 64 characters/);
    const longer = await t.call('GET', `${DEPLOYMENT}/callers/${'9'.repeat(501)}`, { key: acme.apiKey });
    assertEnvelope(longer, 414, 'uri_too_long');
    assert.ok(longer.headers['x-request-id']);
  });

  it('a malformed escape in the path answers 400 bad_request', async () => {
    assertEnvelope(await t.call('GET', `${DEPLOYMENT}/callers/%zz`, { key: acme.apiKey }), 400, 'bad_request');
  });

  it('a body cut off short of its Content-Length, then half-closed, answers 400 bad_request in the envelope (not Node\'s bare "Client Error")', async () => {
    const body = '{"org_id":"cut","name":"Cut';
    const request = `POST /v1/orgs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${TEST_MASTER_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 50}\r\n\r\n${body}`;
    const response = await rawRequest(port, request, { halfClose: true });
    const error = assertEnvelope(response, 400, 'bad_request');
    assert.match(error.message, /cut off/);
    assert.equal((await t.call('GET', '/v1/orgs/cut')).statusCode, 404, 'the cut-off request created the org');
  });

  it('a malformed request line answers 400 bad_request in the envelope', async () => {
    assertEnvelope(await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n', { halfClose: false }), 400, 'bad_request');
  });

  it('headers over the server limit answer 431 request_header_too_large in the envelope', async () => {
    const request = `GET /v1/orgs HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'x'.repeat(64 * 1024)}\r\n\r\n`;
    assertEnvelope(await rawRequest(port, request, { halfClose: false }), 431, 'request_header_too_large');
  });

  it('headers over the limit on an /api/call path answer 431 in the batch vendor envelope', async () => {
    const request = `GET /api/call/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'x'.repeat(64 * 1024)}\r\n\r\n`;
    const response = await rawRequest(port, request, { halfClose: false });
    assert.equal(response.statusCode, 431, response.body);
    assert.equal(batchVendorError(JSON.parse(response.body), 431).code, 'request_header_too_large');
  });
});

describe('a draining server', () => {
  it('answers a request that arrives while it closes with 503 service_unavailable and Retry-After, in the envelope', async () => {
    const t = await createTestApp(sqlite);
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const closed = t.app.close();
      await new Promise((resolve) => setImmediate(resolve));
      // app.inject refuses once closing starts; a request already on an open connection does not,
      // so it is dispatched to the router directly, as the HTTP server would.
      const response = await lightMyRequest((req, res) => t.app.routing(req, res), {
        method: 'GET',
        url: '/v1/orgs',
        headers: { 'x-api-key': TEST_MASTER_KEY },
      });
      await closed;
      const error = assertEnvelope(
        { statusCode: response.statusCode, headers: response.headers, body: response.body },
        503,
        'service_unavailable',
      );
      assert.match(error.message, /shutting down/);
      assert.ok(Number(response.headers['retry-after']) > 0);
    } finally {
      await t.close();
    }
  });
});

describe('outages', () => {
  it('map to 503 with Retry-After: the database as service_unavailable, object storage as storage_unavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const database = [
      refused,
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY_SNAPSHOT' }),
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
    ];
    for (const failure of database) {
      const error = toAppError(failure);
      assert.equal(error.code, 'service_unavailable', failure.message);
      assert.equal(error.headers['retry-after'], '5');
    }
    // An object-storage failure caused by a refused connection is storage's, not the database's.
    const storage = toAppError(new BlobStorageUnavailableError('put', 'cohorts/x/source.csv', refused));
    assert.equal(storage.code, 'storage_unavailable');
    assert.equal(storage.headers['retry-after'], '5');
  });
});

/** Local files, except that writing a cohort's file fails as a full disk does. */
class DiskFullBlobStore extends LocalBlobStore {
  override async put(key: string, source: Readable): Promise<{ bytes: number }> {
    source.resume();
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${key}'`), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
  }
}

describe('disk full', () => {
  it('maps ENOSPC, SQLITE_FULL and PostgreSQL disk_full to 507 insufficient_storage', () => {
    const failures = [
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
      Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }),
      Object.assign(new Error('could not extend file "base/16384/2619": No space left on device'), { code: '53100' }),
      new Error('upload failed', { cause: Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }) }),
    ];
    for (const failure of failures) {
      const error = toAppError(failure);
      assert.equal(error.code, 'insufficient_storage', failure.message);
      assert.equal(error.statusCode, 507);
      assert.match(error.message, /disk is full.*Retry later/);
    }
  });

  it('a cohort upload that meets a full disk answers 507 insufficient_storage and keeps no cohort', async () => {
    const t = await createTestApp(sqlite);
    try {
      const acme = await seedTenant(t, 'acme');
      const blobs: BlobStore = new DiskFullBlobStore(t.backing.dataDir);
      const app = await buildApp(t.config, { storage: t.backing.storage, blobs }, false);
      try {
        const form = new FormData();
        form.append('name', 'Full');
        form.append(
          'cohort_file',
          new Blob(['mobile,name,balance,payment_due,preferred_language\n9876543210,Asha,1,2024-07-31,Hindi\n'], {
            type: 'text/csv',
          }),
          'users.csv',
        );
        form.append(
          'cohort_transformation_file',
          new Blob([JSON.stringify(SEED_CONFIG)], { type: 'application/json' }),
          'config.json',
        );
        const request = new Request('http://localhost/', { method: 'POST', body: form });
        const response = await app.inject({
          method: 'POST',
          url: `${DEPLOYMENT}/cohorts/upload`,
          headers: { 'x-api-key': acme.apiKey, 'content-type': request.headers.get('content-type')! },
          payload: Buffer.from(await request.arrayBuffer()),
        });
        const error = assertEnvelope(response, 507, 'insufficient_storage');
        assert.match(error.message, /disk is full/);
        const list = await t.call('GET', `${DEPLOYMENT}/cohorts`, { key: acme.apiKey });
        assert.equal((list.json() as { total: number }).total, 0);
        assert.deepEqual(await t.storedCohortIds(), []);
      } finally {
        await app.close();
      }
    } finally {
      await t.close();
    }
  });
});
