import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { batchVendorError } from '../helpers/error-envelopes.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

/** A multipart body as a client sends it, for inject. */
async function multipart(
  parts: Array<[string, string] | [string, string, string]>,
): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const data = new FormData();
  for (const [name, value, filename] of parts) {
    if (filename === undefined) data.append(name, value);
    else data.append(name, new Blob([value]), filename);
  }
  const encoded = new Response(data);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type')! },
  };
}

const LIST = 'phoneNumber\n+14155550101\n4155550102\nnope\n';

for (const backend of await backends()) {
  describe(`do-not-call upload on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    before(async () => {
      t = await createTestApp(backend);
      acme = await seedTenant(t, 'acme');
    });
    after(async () => {
      await t?.close();
    });

    const upload = async (parts: Parameters<typeof multipart>[0]) => {
      const body = await multipart(parts);
      return t.app.inject({
        method: 'POST',
        url: '/api/call/dnc/upload',
        headers: { ...body.headers, 'x-api-key': acme.apiKey },
        payload: body.payload,
      });
    };
    const codeOf = (response: { json(): unknown }) => batchVendorError(response.json()).code;
    const temporaryFiles = () => readdir(path.join(t.backing.dataDir, 'uploads-tmp')).catch(() => []);

    it('adds the numbers of an uploaded list and keeps no temporary file', async () => {
      const response = await upload([
        ['file', LIST, 'dnc.csv'],
        ['country', 'us'],
        ['reason', 'asked'],
      ]);
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json() as { added: number; alreadyListed: number; invalid: Array<{ value: string }> };
      assert.equal(body.added, 2);
      assert.equal(body.alreadyListed, 0);
      assert.deepEqual(
        body.invalid.map((i) => i.value),
        ['nope'],
      );
      const listed = await t.call('GET', '/api/call/dnc?workspace_id=main', { key: acme.apiKey });
      assert.deepEqual(
        (listed.json() as { items: Array<{ phoneNumber: string; reason: string }> }).items.map((i) => i.reason),
        ['asked', 'asked'],
      );
      assert.deepEqual(await temporaryFiles(), []);
    });

    it('refuses an unknown field with 400 invalid_batch_field naming it, and keeps no temporary file', async () => {
      const response = await upload([
        ['file', LIST, 'dnc.csv'],
        ['colour', 'blue'],
      ]);
      assert.equal(response.statusCode, 400);
      assert.equal(codeOf(response), 'invalid_batch_field');
      assert.match(response.body, /Unknown field colour/);
      assert.deepEqual(await temporaryFiles(), []);
    });

    it('refuses a form without a file with 400 invalid_batch_field', async () => {
      const response = await upload([['country', 'US']]);
      assert.equal(response.statusCode, 400);
      assert.equal(codeOf(response), 'invalid_batch_field');
      assert.match(response.body, /file is required/);
    });

    it('refuses a JSON body with 415 unsupported_media_type', async () => {
      const response = await t.call('POST', '/api/call/dnc/upload', { key: acme.apiKey, body: { file: 'x' } });
      assert.equal(response.statusCode, 415);
      assert.equal(codeOf(response), 'unsupported_media_type');
    });

    it('answers 404 for a workspace outside the key’s reach', async () => {
      const response = await upload([
        ['file', LIST, 'dnc.csv'],
        ['workspace_id', 'elsewhere'],
      ]);
      assert.equal(response.statusCode, 404);
      assert.equal(codeOf(response), 'not_found');
      assert.deepEqual(await temporaryFiles(), []);
    });
  });
}
