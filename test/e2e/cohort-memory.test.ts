import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { type CohortBody, csvText } from '../helpers/cohorts.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import { E2E_MASTER_KEY, setUpTenant, uploadSeedCohort, waitForCohortOverHttp } from '../helpers/e2e-tenant.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const HEADER = 'mobile,name,balance,payment_due,preferred_language';
const HEAP_MB = Number(process.env.ROSTER_TEST_HEAP_MB ?? 64);

function csvOf(rows: number, offset: number): string {
  return csvText(
    HEADER,
    rows,
    (i) => `${9000000000 + offset + i},Person ${i} with a longer name,${i}.50,2024-07-31,Hindi`,
  );
}

/** The process's resident memory in MB; 0 once it has ended (its /proc entry is gone). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

/** Uploads `rows` rows and samples the server's resident memory until the cohort completes. */
async function ingestPeak(
  server: SpawnedServer,
  rows: number,
  offset: number,
): Promise<{ peak: number; cohort: CohortBody }> {
  let peak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssMb(server.child.pid!));
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  })();
  try {
    const accepted = await uploadSeedCohort(server.url, `Rows ${rows}`, csvOf(rows, offset));
    const cohort = await waitForCohortOverHttp(server.url, accepted.cohort_id);
    return { peak, cohort };
  } catch (error) {
    // A request that failed because the server died may fail before its exit is seen.
    await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (server.child.exitCode === null && server.child.signalCode === null) throw error;
    throw new Error(
      `the server died (exit ${server.child.exitCode}, signal ${server.child.signalCode}) while ingesting ${rows} rows: ${server.stderr()}`,
    );
  } finally {
    sampling = false;
    await sampler;
  }
}

for (const backend of await backends()) {
  describe(`ingest memory on ${backend.name}`, { skip: backend.skip }, () => {
    it('stays flat: a 100k-row file is processed within a 64 MB JavaScript heap', async () => {
      const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
      // Holding the file or its rows would need several times this heap; V8 would abort the process.
      const server = await spawnServer({
        ROSTER_MASTER_KEY: E2E_MASTER_KEY,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim(),
        ...(database ? { ROSTER_DATABASE_URL: database.url } : {}),
      });
      try {
        await setUpTenant(server.url);
        const small = await ingestPeak(server, 10_000, 0);
        const large = await ingestPeak(server, 100_000, 10_000);
        process.stdout.write(
          `# ${backend.name}: peak RSS ${small.peak.toFixed(0)} MB at 10k rows, ${large.peak.toFixed(0)} MB at 100k rows\n`,
        );
        assert.deepEqual(large.cohort.result, {
          total_records: 100_000,
          valid_records: 100_000,
          rejected_records: 0,
          rejections_by_reason: [],
        });
        assert.deepEqual(small.cohort.result, {
          total_records: 10_000,
          valid_records: 10_000,
          rejected_records: 0,
          rejections_by_reason: [],
        });
        assert.equal(server.child.exitCode, null, 'the server died');
      } finally {
        await server.stop();
        await database?.drop();
      }
    });
  });
}
