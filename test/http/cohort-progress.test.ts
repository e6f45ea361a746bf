import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, before, describe, it } from 'node:test';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { DOCUMENTED_COHORT_PROCESSING } from '../contract/fixtures/cohort-upload.js';
import { shapeDifferences } from '../contract/helpers/same-shape.js';
import { backends } from '../helpers/backends.js';
import { signIn } from '../helpers/console.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// A processing cohort shows how far its attempt has got, written through the attempt's fence.
// To see it mid-way every time, the ingest's read of the file is held after 60% of its bytes (the
// upload's own check of the header reads it first, freely): the rows before that point are written,
// with progress writes (one is due each second or 10,000 rows), then the attempt waits.

const ROWS = 20_000;
const HEADER = 'mobile,name,balance,payment_due,preferred_language\n';

/** ROWS data rows, one in ten with a phone that cannot be one (rejected); under 1 MiB, so rows are transformed inline. */
function cohortCsv(): string {
  const lines = [HEADER];
  for (let i = 0; i < ROWS; i++)
    lines.push(`${i % 10 === 9 ? `bad-${i}` : 9800000000 + i},P${i},${i},2024-07-31,Hindi\n`);
  return lines.join('');
}

/** Local files, except that the ingest's read of a cohort's file stops after `hold(bytes)` bytes until `open()`. */
class GatedBlobStore extends LocalBlobStore {
  private readonly reads = new Map<string, number>();
  private limit = Number.POSITIVE_INFINITY;
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  hold(bytes: number): void {
    this.limit = bytes;
    this.opened = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release();
  }

  override async get(key: string): Promise<Readable> {
    const stream = await super.get(key);
    const reads = (this.reads.get(key) ?? 0) + 1;
    this.reads.set(key, reads);
    // The first read is the upload's check of the header; the second is the ingest's.
    if (!key.endsWith('/source.csv') || reads < 2) return stream;
    const { limit, opened } = this;
    return Readable.from(
      (async function* () {
        let sent = 0;
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (sent < limit && sent + chunk.length >= limit) {
            yield chunk.subarray(0, limit - sent);
            await opened;
            yield chunk.subarray(limit - sent);
          } else yield chunk;
          sent += chunk.length;
        }
      })(),
      { objectMode: false },
    );
  }
}

interface Progress {
  rows_processed: number;
  bytes_processed: number;
  bytes_total: number | null;
  valid_so_far: number;
  rejected_so_far: number;
  started_at: string;
}

type ProcessingBody = CohortBody & { created_at: string; progress?: Progress };

for (const backend of await backends()) {
  describe(`cohort progress on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    let blobDir: string;
    let blobs: GatedBlobStore;
    const csv = cohortCsv();
    const csvBytes = Buffer.byteLength(csv);
    const deployment = '/orgs/acme/workspaces/main/deployments/inbound';
    const cohortsPath = `/v1${deployment}/cohorts`;

    before(async () => {
      blobDir = await mkdtemp(path.join(os.tmpdir(), 'roster-progress-blobs-'));
      blobs = new GatedBlobStore(blobDir);
      t = await createTestApp(backend, { ROSTER_INGEST_BATCH_SIZE: '100' }, { blobs });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    // A test that fails while a read is held must not leave it held for the next one.
    afterEach(() => blobs?.open());
    after(async () => {
      blobs?.open();
      await t?.close();
      if (blobDir) await rm(blobDir, { recursive: true, force: true });
    });

    const read = async (url: string): Promise<ProcessingBody> => {
      const response = await t.call('GET', url, { key: acme.apiKey });
      assert.equal(response.statusCode, 200, response.body);
      return response.json() as ProcessingBody;
    };

    /** Uploads the file with the ingest's read held at 60%, and polls until progress shows rows written. */
    async function uploadHeldMidway(name: string): Promise<{ cohortId: string; seen: ProcessingBody }> {
      blobs.hold(Math.floor(csvBytes * 0.6));
      const response = await uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, {
        name,
        csv,
        config: SEED_CONFIG,
      });
      const accepted = (await response.json()) as ProcessingBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      assert.equal('progress' in accepted, false, 'no attempt has started when the upload answers');
      const deadline = Date.now() + 30_000;
      for (;;) {
        const body = await read(`${cohortsPath}/${accepted.cohort_id}`);
        assert.equal(body.status, 'processing', JSON.stringify(body));
        if ((body.progress?.rows_processed ?? 0) > 0) return { cohortId: accepted.cohort_id, seen: body };
        assert.ok(Date.now() < deadline, `no progress after 30 s: ${JSON.stringify(body)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }

    it('shows progress while processing on both path prefixes and in the list, and none once completed', async () => {
      const { cohortId, seen } = await uploadHeldMidway('Progress');
      const progress = seen.progress!;
      assert.equal(seen.result, null, 'result stays null while processing');
      assert.ok(progress.rows_processed > 0 && progress.rows_processed < ROWS, JSON.stringify(progress));
      assert.equal(progress.valid_so_far + progress.rejected_so_far, progress.rows_processed);
      assert.ok(progress.rejected_so_far > 0, JSON.stringify(progress));
      assert.equal(progress.bytes_total, csvBytes);
      assert.ok(progress.bytes_processed > 0 && progress.bytes_processed < csvBytes, JSON.stringify(progress));
      assert.ok(Date.parse(progress.started_at) >= Date.parse(seen.created_at), JSON.stringify(seen));

      const vendor = await read(`/api/scheduling/v1${deployment}/cohorts/${cohortId}`);
      assert.equal(vendor.status, 'processing');
      assert.equal(vendor.result, null);
      assert.ok((vendor.progress?.rows_processed ?? 0) >= progress.rows_processed, JSON.stringify(vendor));
      assert.ok((vendor.progress?.rows_processed ?? ROWS) < ROWS, JSON.stringify(vendor));
      assert.equal(vendor.progress?.started_at, progress.started_at);
      // The vendor's processing example, plus Roster's progress and nothing else.
      assert.deepEqual(shapeDifferences(vendor, DOCUMENTED_COHORT_PROCESSING), [
        '$.serving_phones: not documented',
        '$.is_live: not documented',
        '$.progress: not documented',
      ]);

      const list = (await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { items: ProcessingBody[] };
      const item = list.items.find((c) => c.cohort_id === cohortId);
      assert.ok((item?.progress?.rows_processed ?? 0) > 0, JSON.stringify(item));

      // The console's cohort page, and the status its script polls, draw it as a <progress> bar.
      const { cookie } = await signIn(t, acme.apiKey);
      const pageUrl = `/console${deployment}/cohorts/${cohortId}`;
      const consolePage = await t.app.inject({ method: 'GET', url: pageUrl, headers: { cookie } });
      assert.equal(consolePage.statusCode, 200, consolePage.body);
      assert.match(consolePage.body, /<progress id="ingest-progress" max="\d+" value="\d+">\d+%<\/progress>/);
      assert.match(consolePage.body, /[\d,]+ rows processed/);
      const status = await t.app.inject({
        method: 'GET',
        url: `${pageUrl}/status`,
        headers: { cookie, accept: 'application/json' },
      });
      assert.match((status.json() as { html: string }).html, /<progress id="ingest-progress"/);

      blobs.open();
      const done = await waitForCohort(t, `${cohortsPath}/${cohortId}`, acme.apiKey);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result, {
        total_records: ROWS,
        valid_records: ROWS - ROWS / 10,
        rejected_records: ROWS / 10,
        // Every tenth row (the first is row 11) has a phone of letters.
        rejections_by_reason: [{ code: 'invalid_phone', count: ROWS / 10, example_row: 11 }],
      });
      assert.equal('progress' in done, false, JSON.stringify(done));
      const listed = (await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { items: ProcessingBody[] };
      assert.equal('progress' in (listed.items.find((c) => c.cohort_id === cohortId) ?? {}), false);
      const finished = await t.app.inject({ method: 'GET', url: pageUrl, headers: { cookie } });
      assert.doesNotMatch(finished.body, /<progress id="ingest-progress"/);
      assert.match(finished.body, /<dt>Rows in the file<\/dt><dd>20,000<\/dd>/);
    });

    it('an attempt that lost its job writes no more progress; the next attempt starts it again from 0', async () => {
      const { cohortId } = await uploadHeldMidway('Lost lease');
      // Another attempt takes the job over (as after a pause past the lease): the token changes.
      const db = t.backing.storage.db;
      const taken = await db
        .updateTable('jobs')
        .set({ lease_token: 'another-attempt', locked_until: '2999-01-01T00:00:00.000Z' })
        .where('status', '=', 'running')
        .where('payload', 'like', `%${cohortId}%`)
        .executeTakeFirst();
      assert.equal(Number(taken.numUpdatedRows), 1);
      const before = (await read(`${cohortsPath}/${cohortId}`)).progress;
      blobs.open();
      const deadline = Date.now() + 30_000;
      while (t.runner.activeJobs > 0) {
        assert.ok(Date.now() < deadline, 'the lost attempt did not stop');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const after = await read(`${cohortsPath}/${cohortId}`);
      assert.equal(after.status, 'processing', 'the lost attempt did not publish');
      assert.deepEqual(after.progress, before);

      // The lease of the attempt that took it runs out (its process died): the next attempt resets
      // the progress, with its own start, and counts from 0 again.
      blobs.hold(Math.floor(csvBytes * 0.6));
      await db
        .updateTable('jobs')
        .set({ locked_until: '2000-01-01T00:00:00.000Z' })
        .where('payload', 'like', `%${cohortId}%`)
        .execute();
      t.runner.notify();
      let retried: Progress | undefined;
      while (retried === undefined) {
        assert.ok(Date.now() < deadline, 'no second attempt');
        const body = await read(`${cohortsPath}/${cohortId}`);
        if (body.progress && body.progress.started_at !== before?.started_at && body.progress.rows_processed > 0)
          retried = body.progress;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(Date.parse(retried.started_at) > Date.parse(before!.started_at), JSON.stringify({ before, retried }));
      assert.ok(retried.rows_processed < ROWS);
      blobs.open();
      const done = await waitForCohort(t, `${cohortsPath}/${cohortId}`, acme.apiKey);
      assert.deepEqual(done.result, {
        total_records: ROWS,
        valid_records: ROWS - ROWS / 10,
        rejected_records: ROWS / 10,
        // Every tenth row (the first is row 11) has a phone of letters.
        rejections_by_reason: [{ code: 'invalid_phone', count: ROWS / 10, example_row: 11 }],
      });
      assert.equal('progress' in done, false);
    });
  });
}
