import assert from 'node:assert/strict';
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { backends } from '../helpers/backends.js';
import { EXAMPLE_REJECTIONS, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.js';
import { ROOT } from '../helpers/spawn-server.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';

/** Every key in the test bucket, read with a client of its own. */
async function bucketKeys(server: TestS3Server): Promise<string[]> {
  const { endpoint, region, bucket, accessKeyId, secretAccessKey } = server.settings;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (page.Contents ?? []).map((object) => object.Key ?? '');
  } finally {
    client.destroy();
  }
}

for (const backend of await backends({ scaleOut: true })) {
  describe(`cohorts on S3-compatible storage, ${backend.name}`, { skip: backend.skip }, () => {
    let s3: TestS3Server;
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const cohortsPath = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
    const total = async () =>
      ((await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number }).total;
    const ready = async () => {
      const response = await t.call('GET', '/readyz', { key: null });
      return { status: response.statusCode, checks: (response.json() as { checks: Record<string, string> }).checks };
    };

    async function postSeedCohort(name: string) {
      const csv = await readFile(path.join(ROOT, 'examples/cohort-users.csv'), 'utf8');
      const config = JSON.parse(
        await readFile(path.join(ROOT, 'examples/cohort-transformation.json'), 'utf8'),
      ) as unknown;
      return uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, { name, csv, config });
    }

    before(async () => {
      s3 = await startS3Server();
      t = await createTestApp(backend, {}, { s3 });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
      await s3?.close();
    });

    it('stores the upload in the bucket, completes, answers lookups and streams the rejection file from S3', async () => {
      const response = await postSeedCohort('Seed on S3');
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      const done = await waitForCohort(t, `${cohortsPath}/${accepted.cohort_id}`, acme.apiKey);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.deepEqual(done.result, {
        total_records: 10,
        valid_records: 3,
        rejected_records: 7,
        rejections_by_reason: EXAMPLE_REJECTIONS,
      });
      const caller = await t.call(
        'GET',
        `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent('9876543210')}`,
        { key: acme.apiKey },
      );
      assert.equal((caller.json() as { found: boolean }).found, true);
      const rejected = await fetch(`${base}${cohortsPath}/${done.cohort_id}/files?file_type=rejected_records`, {
        headers: { 'x-api-key': acme.apiKey },
      });
      assert.equal(rejected.status, 200);
      const lines = (await rejected.text())
        .replace(/^\ufeff/, '')
        .trim()
        .split('\r\n');
      assert.equal(lines[0], `${HEADER},rejected_reason`);
      assert.equal(lines.length - 1, 7);
      const keys = await bucketKeys(s3);
      assert.ok(keys.includes(`cohorts/${done.cohort_id}/source.csv`), keys.join(', '));
      // One rejection file per attempt; this cohort took one.
      const rejectionFiles = keys.filter(
        (k) => k.startsWith(`cohorts/${done.cohort_id}/rejected/`) && k.endsWith('.csv'),
      );
      assert.equal(rejectionFiles.length, 1, keys.join(', '));
      await assert.rejects(access(path.join(t.backing.dataDir, 'blobs')), 'nothing may be written to local disk');
      assert.deepEqual(await ready(), {
        status: 200,
        checks: { database: 'ok', migrations: 'ok', object_storage: 'ok' },
      });
    });

    it('answers 503 storage_unavailable while storage is down, keeps nothing, and takes the next upload once it is back', async () => {
      const before = await total();
      const keysBefore = await bucketKeys(s3);
      await s3.stop();

      const refused = await postSeedCohort('While down');
      const body = (await refused.json()) as { error: { code: string; type: string; message: string } };
      assert.equal(refused.status, 503, JSON.stringify(body));
      assert.equal(body.error.code, 'storage_unavailable');
      assert.equal(body.error.type, 'server_error');
      assert.equal(body.error.message, 'Object storage is unavailable; retry later.');
      assert.equal(await total(), before, 'a refused upload created a cohort');
      assert.deepEqual(await ready(), {
        status: 503,
        checks: { database: 'ok', migrations: 'ok', object_storage: 'unreachable' },
      });

      s3 = await startS3Server({ port: s3.port, directory: s3.directory });
      assert.deepEqual(
        (await bucketKeys(s3)).sort(),
        keysBefore.sort(),
        'the refused upload left objects in the bucket',
      );
      assert.equal((await ready()).status, 200);
      const response = await postSeedCohort('After recovery');
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      const done = await waitForCohort(t, `${cohortsPath}/${accepted.cohort_id}`, acme.apiKey);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      assert.equal(await total(), before + 1);
    });
  });
}
