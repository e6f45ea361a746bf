import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import type { BatchDeps } from '../../../src/services/batches/batch-deps.js';
import { intakeBatchUpload } from '../../../src/services/batches/batch-intake.js';
import { intakeDncUpload } from '../../../src/services/batches/dnc-intake.js';
import type { UploadPart } from '../../../src/services/upload-parts.js';

const field = (fieldname: string, value: string): UploadPart => ({ type: 'field', fieldname, value });
const file = (fieldname: string, filename: string, content: string): UploadPart => ({
  type: 'file',
  fieldname,
  filename,
  file: Readable.from([Buffer.from(content)]),
});

/** The parts in order, then what the multipart reader raises when a file passes its size limit. */
async function* cutOffAtLimit(parts: UploadPart[]): AsyncGenerator<UploadPart> {
  yield* parts;
  throw Object.assign(new Error('request file too large'), { code: 'FST_REQ_FILE_TOO_LARGE' });
}

async function* plain(parts: UploadPart[]): AsyncGenerator<UploadPart> {
  yield* parts;
}

// These refusals come before any database work: the intakes are tested here on parts alone, no HTTP.
describe('batch and do-not-call intakes, on parts without a server', () => {
  let dataDir: string;
  let deps: BatchDeps;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-intake-'));
    const config = loadConfig({ ROSTER_DATA_DIR: dataDir, ROSTER_BATCH_MAX_BYTES: '2048' });
    deps = { config, now: () => new Date() } as BatchDeps;
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  const temporaryFiles = () => readdir(path.join(dataDir, 'uploads-tmp')).catch(() => []);

  it('turns a file cut off at the size limit into 413 file_too_large and removes what was saved', async () => {
    const upload = await intakeBatchUpload(
      deps,
      { kind: 'master' },
      {
        parts: cutOffAtLimit([file('file', 'list.csv', 'phoneNumber\n+14155550101\n'), field('batchName', 'Big')]),
        source: 'api',
        dataDir,
      },
    );
    assert.equal(upload.accepted, false);
    assert.ok(!upload.accepted);
    assert.equal(upload.refusal.code, 'file_too_large');
    assert.equal(upload.refusal.statusCode, 413);
    assert.equal(upload.refusal.message, 'The file is larger than 2048 bytes (ROSTER_BATCH_MAX_BYTES).');
    assert.deepEqual(await temporaryFiles(), []);
  });

  it("reads the console's form: an empty file input is no file, and a refusal gives back what was typed", async () => {
    const upload = await intakeBatchUpload(
      deps,
      { kind: 'master' },
      {
        parts: plain([
          field('batchName', 'April calls'),
          field('callingNumbers', 'a'.repeat(24)),
          field('callingNumbers', 'b'.repeat(24)),
          field('callingStart', '09:00'),
          field('config_source', 'file'),
          file('file', '', ''),
        ]),
        source: 'browser',
        dataDir,
      },
    );
    assert.ok(!upload.accepted);
    assert.equal(upload.refusal.code, 'invalid_batch_field');
    assert.equal(upload.refusal.message, 'Pick at least one day.');
    assert.deepEqual(upload.values, {
      fields: { batchName: 'April calls' },
      callingNumbers: ['a'.repeat(24), 'b'.repeat(24)],
      days: [],
      start: '09:00',
      end: '',
    });
  });

  it('refuses every unknown part of an API form at once', async () => {
    const upload = await intakeBatchUpload(
      deps,
      { kind: 'master' },
      {
        parts: plain([field('colour', 'blue'), file('other', 'x.csv', 'a\n1\n'), file('file', 'list.csv', 'a\n1\n')]),
        source: 'api',
        dataDir,
      },
    );
    assert.ok(!upload.accepted);
    assert.equal(upload.refusal.code, 'invalid_batch_field');
    assert.deepEqual(upload.refusal.details, [
      { field: 'colour', message: 'is not a known field' },
      { field: 'other', message: 'is not a known field' },
    ]);
    assert.deepEqual(await temporaryFiles(), []);
  });

  it('a request that is not multipart is refused in each intake’s words', async () => {
    const batch = await intakeBatchUpload(deps, { kind: 'master' }, { parts: undefined, source: 'api', dataDir });
    assert.ok(!batch.accepted);
    assert.equal(batch.refusal.code, 'unsupported_media_type');
    await assert.rejects(intakeDncUpload(deps, { kind: 'master' }, { parts: undefined, dataDir }), {
      code: 'unsupported_media_type',
      message: 'Send multipart/form-data with a file.',
    });
  });

  it('a do-not-call form with an unknown field is refused and its file removed', async () => {
    await assert.rejects(
      intakeDncUpload(
        deps,
        { kind: 'master' },
        {
          parts: plain([file('file', 'dnc.csv', 'phoneNumber\n+14155550101\n'), field('colour', 'blue')]),
          dataDir,
        },
      ),
      {
        code: 'invalid_batch_field',
        message: 'Unknown field colour; send file, workspace_id, org_id, country, reason.',
      },
    );
    assert.deepEqual(await temporaryFiles(), []);
  });
});
