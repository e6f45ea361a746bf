import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Agent, setGlobalDispatcher } from 'undici';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { E2E_COHORTS, waitForCohortOverHttp } from '../helpers/e2e-tenant.js';
import { batchVendorError } from '../helpers/error-envelopes.js';
import type { SpawnedServer } from '../helpers/spawn-server.js';
import { IN_CI, skipFor } from './helpers/fault-skip.js';
import { ask, assertAliveAndClean, spawnFaultServer, type WatchedProcess } from './helpers/fault-processes.js';
import {
  cohortCsv,
  cohortTotal,
  cohortUploadInit,
  lookupPath,
  postCohort,
  setUpFaultTenant,
  type FaultTenant,
} from './helpers/fault-tenant.js';
import { mountSmallDisk, smallDiskProblem, type SmallDisk } from './helpers/small-disk.js';

// `roster serve` on SQLite whose data folder is a 20 MB tmpfs the test fills: uploads meet ENOSPC
// (staging the file, or the database write), answer 507 insufficient_storage, keep nothing, and
// work again as soon as space is freed, with no restart.

const ROWS = 5000;
const BATCH_CSV = `phoneNumber,customer_name\n${Array.from({ length: 200 }, (_, i) => `+91${9811000000 + i},Person ${i}`).join('\n')}\n`;
const problem = await smallDiskProblem();

// A new connection per request, sent with `Connection: close` (undici does so without pipelining),
// in every case but the keep-alive one: the refusal must reach such a client too, though its body
// is still coming when the server answers and closes (lingering-close.ts).
setGlobalDispatcher(new Agent({ pipelining: 0 }));

/** The entries of `<dataDir>/<folder>`, none when it does not exist. */
async function entries(dataDir: string, folder: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, folder), { recursive: true }).catch(() => [] as string[])).sort();
}

/** Asserts a 507 insufficient_storage answer in the error envelope. */
function assertInsufficientStorage(status: number, body: unknown, what: string): void {
  const error = (body as { error?: { code?: string; type?: string; message?: string; data?: unknown } }).error;
  assert.equal(status, 507, `${what} answered ${status}: ${JSON.stringify(body)}`);
  assert.equal(error?.code, 'insufficient_storage', JSON.stringify(body));
  assert.equal(error?.type, 'server_error');
  assert.equal(typeof error?.message, 'string');
  assert.ok(
    error?.data !== undefined && 'details' in (error.data as object),
    `no data.details in ${JSON.stringify(body)}`,
  );
}

describe('uploads on a full disk under a real roster serve (SQLite)', { skip: skipFor(problem) }, () => {
  let disk: SmallDisk;
  let server: SpawnedServer & WatchedProcess;
  let tenant: FaultTenant;

  before(async () => {
    if (problem && IN_CI) throw new Error(`CI=true: ${problem}`);
    disk = await mountSmallDisk(20);
    // No reserve: these cases fill the disk to its last byte (another process can), which a
    // reserve would only turn away sooner (disk-full-ingest.test.ts covers the reserve).
    server = await spawnFaultServer(
      { ROSTER_JOB_POLL_MS: '100', ROSTER_JOB_BACKOFF_MS: '200', ROSTER_DISK_RESERVE_MB: '0' },
      disk.dataDir,
    );
    tenant = await setUpFaultTenant(server.url);
    // One upload first, so the database and the folders exist as in a server that has been running.
    const warm = await postCohort(server.url, 'Warm-up', cohortCsv(20, 9700000000));
    assert.equal(warm.status, 200, await warm.clone().text());
    await waitForCohortOverHttp(server.url, ((await warm.json()) as { cohort_id: string }).cohort_id, 30_000);
  });
  after(async () => {
    await server?.stop();
    await disk?.unmount();
  });

  it('keeps a keep-alive connection usable after refusing an upload on a full disk', async () => {
    // One connection, reused as HTTP clients (the CLI, SDKs, proxies) do: the refusal comes before
    // the server has read the whole body, and the next request on that connection must still be answered.
    const agent = new Agent({ connections: 1 });
    try {
      await disk.fill(0);
      const refused = await ask(`${server.url}${E2E_COHORTS}/upload`, {
        ...cohortUploadInit('Keep-alive', cohortCsv(ROWS)),
        dispatcher: agent,
      });
      assertInsufficientStorage(refused.status, refused.body, 'the cohort upload');
      const next = await ask(`${server.url}/healthz`, { dispatcher: agent }, 5000);
      assert.equal(
        next.status,
        200,
        `the next request on the same connection got ${next.code ?? next.status}: the server neither read the rest of the refused body nor closed the connection, so the request waits until Node's headers timeout drops the socket (~60-75 s)`,
      );
    } finally {
      await disk.free();
      await agent.close();
    }
    assertAliveAndClean('roster serve', server);
  });

  it('answers 507 insufficient_storage to a cohort and a batch upload on a full disk, keeps nothing, and takes both once space is freed', async (t: TestContext) => {
    const cohortsBefore = await cohortTotal(server.url);
    const blobsBefore = await entries(disk.dataDir, 'blobs');
    const batchesBefore = await ask(`${server.url}/api/call/batches`, { headers: { 'x-api-key': tenant.apiKey } });
    assert.equal(batchesBefore.status, 200, JSON.stringify(batchesBefore.body));

    const left = await disk.fill(0);
    assert.equal(left, 0);
    const csv = cohortCsv(ROWS);
    const cohort = await postCohort(server.url, 'On a full disk', csv);
    assertInsufficientStorage(cohort.status, await cohort.json(), 'the cohort upload');
    const batch = await uploadBatch(
      server.url,
      tenant.apiKey,
      { name: 'contacts.csv', content: BATCH_CSV },
      vendorFields(tenant.userId, tenant.phoneNumberId),
    );
    // /api/call answers in the batch vendor's envelope: status false, code the HTTP status.
    assert.equal(batch.status, 507, `the batch upload answered ${batch.status}: ${JSON.stringify(batch.body)}`);
    assert.equal(batchVendorError(batch.body, 507).code, 'insufficient_storage');

    // Nothing half-kept: no temporary file, no blob or blob folder, no cohort or batch row.
    assert.deepEqual(await entries(disk.dataDir, 'uploads-tmp'), [], 'a temporary batch file was left');
    assert.deepEqual(await entries(disk.dataDir, 'blobs-tmp'), [], 'a temporary blob was left');
    assert.deepEqual(await entries(disk.dataDir, 'blobs'), blobsBefore, 'the refused upload left blobs or folders');
    assert.equal(await cohortTotal(server.url), cohortsBefore, 'a refused upload created a cohort');
    const batchesDuring = await ask(`${server.url}/api/call/batches`, { headers: { 'x-api-key': tenant.apiKey } });
    assert.equal(
      (batchesDuring.body as { total: number }).total,
      (batchesBefore.body as { total: number }).total,
      'a refused upload created a batch',
    );
    // Reads do not need space: the voice runtime still finds its callers.
    const lookup = await ask(`${server.url}${lookupPath('9700000001')}`, { headers: { 'x-api-key': tenant.apiKey } });
    assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
    assert.equal((lookup.body as { found: boolean }).found, true);

    await disk.free();
    const freedAt = Date.now();
    const accepted = await postCohort(server.url, 'On a full disk', csv);
    assert.equal(accepted.status, 200, await accepted.clone().text());
    const done = await waitForCohortOverHttp(
      server.url,
      ((await accepted.json()) as { cohort_id: string }).cohort_id,
      60_000,
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, {
      total_records: ROWS,
      valid_records: ROWS,
      rejected_records: 0,
      rejections_by_reason: [],
    });
    const batchAgain = await uploadBatch(
      server.url,
      tenant.apiKey,
      { name: 'contacts.csv', content: BATCH_CSV },
      vendorFields(tenant.userId, tenant.phoneNumberId),
    );
    assert.equal(batchAgain.status, 200, JSON.stringify(batchAgain.body));
    assert.equal((batchAgain.body as { batch: { totalCalls: number } }).batch.totalCalls, 200);
    assert.equal(await cohortTotal(server.url), cohortsBefore + 1);
    assert.deepEqual(await entries(disk.dataDir, 'uploads-tmp'), [], 'the accepted batch left its temporary file');
    assertAliveAndClean('roster serve', server);
    t.diagnostic(
      `after freeing: cohort of ${ROWS} rows completed and batch of 200 accepted in ${Date.now() - freedAt} ms, no restart`,
    );
  });

  it('answers 507 when the disk fills part-way through a cohort upload, and leaves no partial file', async () => {
    // ~48 kB of room: the file starts to stage, then meets ENOSPC.
    await disk.fill(48 * 1024);
    const cohortsBefore = await cohortTotal(server.url);
    const response = await postCohort(server.url, 'Fills the disk', cohortCsv(20_000, 9600000000));
    assertInsufficientStorage(response.status, await response.json(), 'the cohort upload');
    assert.deepEqual(await entries(disk.dataDir, 'blobs-tmp'), [], 'a partial blob was left');
    assert.equal(await cohortTotal(server.url), cohortsBefore);
    await disk.free();
    assertAliveAndClean('roster serve', server);
  });
});
