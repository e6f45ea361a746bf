import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createReadStream, createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { uploadCohort, type CohortBody } from '../helpers/cohorts.js';
import {
  E2E_COHORTS,
  E2E_DEPLOYMENT,
  E2E_MASTER_KEY,
  fetchCohort,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { SEED_CONFIG } from '../helpers/seed-config.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

// Far below what holding one of these rows would take: papaparse kept the unfinished row and parsed
// it again with every chunk, so before the row bound these files ran a server out of heap.
const HEAP_MB = 96;
const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const MIB = 1024 * 1024;

/** Writes a file from pieces without ever holding it whole. */
async function writeFileFrom(file: string, pieces: Iterable<string | Buffer>): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  for (const piece of pieces) {
    bytes += piece.length;
    if (!out.write(piece)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

/** Header, one good row, row 3 = 40 million commas, one more good row: ~40 MB. */
function* fortyMillionCommas(): Generator<string | Buffer> {
  yield `${HEADER}\n9811111111,Asha,10,2024-07-31,Hindi\n`;
  const commas = Buffer.alloc(MIB, ',');
  for (let written = 0; written < 40_000_000; written += MIB)
    yield written + MIB <= 40_000_000 ? commas : commas.subarray(0, 40_000_000 - written);
  yield '\n9822222222,Ravi,20,2024-07-31,Hindi\n';
}

/** Row 2 opens a quote that never closes; ~150 MB of ordinary rows follow. */
function* unclosedQuote(): Generator<string | Buffer> {
  yield `${HEADER}\n9811111111,"Asha,10,2024-07-31,Hindi\n`;
  const rows = Buffer.from('9833333333,Somebody with a name,30,2024-07-31,English\n'.repeat(20_000));
  for (let written = 0; written < 150 * MIB; written += rows.length) yield rows;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

describe('parser bounds on a real server with a small heap', () => {
  let dir: string;
  let server: SpawnedServer;
  let files: { path: string; url: string } | undefined;
  let fileServer: http.Server;
  let peakRss = 0;
  let sampling = true;
  let sampler: Promise<void>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'roster-parser-bounds-'));
    // Serves the generated files to URL cohorts, streamed from disk.
    fileServer = http.createServer((request, response) => {
      const name = path.basename(request.url ?? '');
      const stream = createReadStream(path.join(dir, name));
      stream.on('error', () => response.writeHead(404).end());
      stream.once('open', () => {
        response.writeHead(200, { 'content-type': 'text/csv' });
        stream.pipe(response);
      });
    });
    fileServer.listen(0, '127.0.0.1');
    await once(fileServer, 'listening');
    files = { path: dir, url: `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}` };
    server = await spawnServer({
      ROSTER_MASTER_KEY: E2E_MASTER_KEY,
      ROSTER_JOB_POLL_MS: '100',
      ROSTER_JOB_BACKOFF_MS: '100',
      ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim(),
    });
    sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, await rssMb(server.child.pid!));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await setUpTenant(server.url);
    // A caller the lookups must keep finding while the bad files are processed.
    const good = await uploadSeedCohort(server.url, 'Good', `${HEADER}\n9800000001,Kept,5,2024-07-31,Hindi\n`);
    assert.equal((await waitForCohortOverHttp(server.url, good.cohort_id)).status, 'completed');
  });

  after(async () => {
    sampling = false;
    await sampler;
    process.stdout.write(`# peak server RSS ${peakRss.toFixed(0)} MB with a ${HEAP_MB} MB heap\n`);
    await server?.stop();
    fileServer?.close();
    await rm(dir, { recursive: true, force: true });
    if (server) await rm(server.dataDir, { recursive: true, force: true });
  });

  /** The server is alive, answers a caller lookup, and the cohort's job ran once and stays failed. */
  async function assertFailedOnceAndServerUp(cohortId: string): Promise<void> {
    assert.equal(server.child.exitCode, null, `the server died: ${server.stderr()}`);
    const lookup = await fetch(`${server.url}${E2E_DEPLOYMENT}/callers/9800000001?country=IN`, {
      headers: { 'x-api-key': E2E_MASTER_KEY },
    });
    assert.equal(lookup.status, 200);
    assert.equal(((await lookup.json()) as { found: boolean }).found, true);
    // Several poll intervals: a job handed back for another attempt would be claimed by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await fetchCohort(server.url, cohortId)).status, 'failed');
    const db = new SqliteDatabase(path.join(server.dataDir, 'roster.sqlite'), { readonly: true });
    try {
      const jobs = db.prepare('select status, attempts from jobs where payload like ?').all(`%${cohortId}%`) as {
        status: string;
        attempts: number;
      }[];
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0]!.attempts, 1, `the job ran ${jobs[0]!.attempts} times`);
      assert.notEqual(jobs[0]!.status, 'queued');
      assert.notEqual(jobs[0]!.status, 'running');
    } finally {
      db.close();
    }
  }

  async function waitFailed(cohortId: string, row: number, cause: RegExp): Promise<number> {
    const started = performance.now();
    // Generous: this asserts the outcome, not its speed (about 8 s on a quiet 2-core machine; a
    // 150 MB download and read took over 30 s on a CI machine loaded with other test processes).
    const cohort = (await waitForCohortOverHttp(server.url, cohortId, 120_000)) as CohortBody & {
      error?: { code: string; message: string; details: unknown };
    };
    const seconds = (performance.now() - started) / 1000;
    assert.equal(cohort.status, 'failed', JSON.stringify(cohort));
    assert.equal(cohort.error?.code, 'invalid_csv');
    assert.match(cohort.error?.message ?? '', new RegExp(`^Row ${row} cannot be read: `));
    assert.match(cohort.error?.message ?? '', cause);
    assert.match(cohort.error?.message ?? '', /ROSTER_MAX_ROW_BYTES/);
    assert.deepEqual(cohort.error?.details, { row, max_row_bytes: MIB, open_quote: cause.source.includes('quoted') });
    return seconds;
  }

  it('a row of 40 million commas fails its cohort with invalid_csv naming row 3; the server stays up and the job is not re-run', async () => {
    const file = path.join(files!.path, 'commas.csv');
    const bytes = await writeFileFrom(file, fortyMillionCommas());
    const response = await uploadCohort(server.url, `${E2E_COHORTS}/upload`, E2E_MASTER_KEY, {
      name: 'Commas',
      csv: await openAsBlob(file),
      config: SEED_CONFIG,
    });
    const accepted = (await response.json()) as CohortBody;
    assert.equal(response.status, 200, JSON.stringify(accepted));
    const seconds = await waitFailed(accepted.cohort_id, 3, /runs on for more than 1048576 bytes without a line break/);
    process.stdout.write(
      `# ${(bytes / MIB).toFixed(0)} MB of commas: failed ${seconds.toFixed(1)} s after the upload answered\n`,
    );
    await assertFailedOnceAndServerUp(accepted.cohort_id);
    await rm(file);
  });

  it('a 150 MB file whose row 2 never closes its quote is refused at upload (422) and fails as a URL cohort, naming row 2', async () => {
    const file = path.join(files!.path, 'quote.csv');
    const bytes = await writeFileFrom(file, unclosedQuote());
    // Upload: the header and first data row are read before the file is accepted.
    let started = performance.now();
    const refused = await uploadCohort(server.url, `${E2E_COHORTS}/upload`, E2E_MASTER_KEY, {
      name: 'Quote',
      csv: await openAsBlob(file),
      config: SEED_CONFIG,
    });
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(refused.status, 422, JSON.stringify(body));
    assert.equal(body.error.code, 'invalid_csv');
    assert.match(
      body.error.message,
      /^Row 2 cannot be read: it opens a quoted field that is still not closed after 1048576 bytes/,
    );
    process.stdout.write(
      `# ${(bytes / MIB).toFixed(0)} MB, unclosed quote: upload refused in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );

    // URL cohort: nothing reads the file before the job does.
    started = performance.now();
    const created = await fetch(`${server.url}${E2E_COHORTS}`, {
      method: 'POST',
      headers: { 'x-api-key': E2E_MASTER_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Quote by url',
        source: { type: 'pre_signed_url', url: `${files!.url}/quote.csv` },
        cohort_transformation: SEED_CONFIG,
      }),
    });
    const accepted = (await created.json()) as CohortBody;
    assert.equal(created.status, 200, JSON.stringify(accepted));
    await waitFailed(accepted.cohort_id, 2, /opens a quoted field that is still not closed/);
    process.stdout.write(
      `# ${(bytes / MIB).toFixed(0)} MB, unclosed quote: URL cohort downloaded and failed in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
    await assertFailedOnceAndServerUp(accepted.cohort_id);
    await rm(file);
  });
});
