import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { arrivedError, crossingError, INGEST_THREAD_IDLE_MS } from '../../../src/services/cohorts/ingest-thread.js';
import { isDiskFull } from '../../../src/storage/db-errors.js';
import { LeaseLostError } from '../../../src/storage/repositories/jobs-repository.js';
import { fetchCohort, setUpTenant, uploadSeedCohort, waitForCohortOverHttp } from '../../helpers/e2e-tenant.js';
import { spawnFaultServer } from '../../faults/helpers/fault-processes.js';
import { cohortCsv } from '../../faults/helpers/fault-tenant.js';
import { sqliteProbe, waitUntil } from '../../faults/helpers/store-probe.js';

const claim = { jobId: 'job-1', workerId: 'worker-1', token: 'token-1' };

/** Each thread of a process with its nice value (field 19 of /proc/<pid>/task/<tid>/stat). */
async function threadNiceness(pid: number): Promise<Map<number, number>> {
  const niceness = new Map<number, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue;
    // The command name, in parentheses, may hold spaces: fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    niceness.set(Number(tid), Number(fields[16]));
  }
  return niceness;
}

describe('errors crossing from an ingest thread', () => {
  it('keep what the runner reads: a lost lease stays a LeaseLostError; codes, causes and messages stay', () => {
    const lost = arrivedError(crossingError(new LeaseLostError(claim, 'writing contacts')), claim);
    assert.ok(lost instanceof LeaseLostError);
    assert.match(lost.message, /lease lost \(writing contacts\)/);

    const full = Object.assign(new Error('write failed'), {
      cause: Object.assign(new Error('no room'), { code: 'ENOSPC' }),
    });
    const arrived = arrivedError(crossingError(full), claim);
    assert.equal(arrived instanceof LeaseLostError, false);
    assert.equal(arrived.message, 'write failed');
    assert.equal(isDiskFull(arrived), true);
    assert.equal(isDiskFull(arrivedError(crossingError(new Error('write failed')), claim)), false);
    assert.equal(arrivedError(crossingError('a string thrown'), claim).message, 'a string thrown');
  });
});

describe('a large cohort ingests on a thread of its own', () => {
  it('roster serve: the ingest thread and its transform worker run at a lower priority than the thread answering calls, serve the next cohort warm, and end once idle; the cohorts complete whole', {
    skip: process.platform !== 'linux' && 'thread priorities are read from /proc, which only Linux has',
  }, async () => {
    const rows = 60_000;
    const csv = cohortCsv(rows);
    assert.ok(Buffer.byteLength(csv) > 1024 * 1024, 'the file must be over the 1 MB threshold for threads');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-ingest-thread-'));
    const server = await spawnFaultServer({ ROSTER_INGEST_WORKERS: '1', ROSTER_INGEST_BATCH_SIZE: '500' }, dataDir);
    try {
      await setUpTenant(server.url, { default_country: 'IN' });
      const pid = server.child.pid!;
      /** Uploads the file and watches the threads until the cohort has ended: the lowered threads seen. */
      const ingestWatching = async (name: string) => {
        const cohort = await uploadSeedCohort(server.url, name, csv);
        const lowered = new Set<number>();
        let mostLowered = 0;
        const mainNice = new Set<number>();
        for (;;) {
          const niceness = await threadNiceness(pid);
          mainNice.add(niceness.get(pid) ?? -1);
          const now = [...niceness].filter(([, nice]) => nice === 10).map(([tid]) => tid);
          for (const tid of now) lowered.add(tid);
          mostLowered = Math.max(mostLowered, now.length);
          if ((await fetchCohort(server.url, cohort.cohort_id)).status !== 'processing') break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        // The ingest thread and the one transform worker it started, each lowered (without an
        // ingest thread only the transform worker would be; under tsx, the transform worker's
        // loader-hooks thread inherits its priority too); the main thread never.
        assert.ok(mostLowered >= 2, `threads seen at nice 10 at once: ${mostLowered}`);
        assert.deepEqual([...mainNice], [0]);
        return { cohort, lowered };
      };
      const first = await ingestWatching('Threaded');
      // The next cohort, soon after, is ingested by the same threads, already warm.
      const second = await ingestWatching('Threaded again');
      assert.deepEqual(
        [...second.lowered].filter((tid) => !first.lowered.has(tid)),
        [],
        'the second cohort started threads of its own',
      );
      // They end once idle for INGEST_THREAD_IDLE_MS; nothing that outlives them (libuv's pool,
      // which serves the main thread too) was lowered.
      await waitUntil(
        'the ingest threads to end',
        async () => ![...(await threadNiceness(pid)).values()].includes(10),
        INGEST_THREAD_IDLE_MS + 10_000,
        20,
      );
      for (const { cohort } of [first, second]) {
        const done = await waitForCohortOverHttp(server.url, cohort.cohort_id);
        assert.equal(done.status, 'completed', JSON.stringify(done));
        assert.deepEqual(done.result, {
          total_records: rows,
          valid_records: rows,
          rejected_records: 0,
          rejections_by_reason: [],
        });
      }
      // The threads' outcomes reached the runner: one attempt each, done, nothing logged against them.
      for (const { cohort } of [first, second]) {
        const job = await sqliteProbe(dataDir).job(cohort.cohort_id);
        assert.deepEqual([job.status, job.attempts, job.last_error], ['done', 1, null]);
      }
      assert.doesNotMatch(server.output(), /"level":(40|50|60)/);
    } finally {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        const exited = new Promise((resolve) => server.child.once('exit', resolve));
        server.child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
