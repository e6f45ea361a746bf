import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueue, JobRunner } from '../../src/queue/runner.js';
import type { TaskRegistry } from '../../src/queue/tasks.js';
import * as jobs from '../../src/storage/repositories/jobs-repository.js';
import { backends, type TestStorage } from '../helpers/backends.js';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const backend of await backends()) {
  describe(`job runner on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    function runner(registry: TaskRegistry, concurrency = 2, leaseMs = 5000) {
      return new JobRunner(t.storage.db, t.storage.capabilities, registry, { concurrency, pollMs: 20, leaseMs, backoffMs: 0, log: silent });
    }

    it('stops retrying after max attempts, marks the job failed and reports it once', async () => {
      const failures: string[] = [];
      let runs = 0;
      const r = runner({
        ingest_cohort: {
          maxAttempts: 3,
          run: async () => {
            runs++;
            throw new Error('always broken');
          },
          onFinalFailure: async (payload) => {
            failures.push(payload.cohortId);
          },
        },
      });
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'coh-broken' }, 3);
      await r.start();
      await until(async () => (await jobs.findJob(t.storage.db, jobId))?.status === 'failed');
      await r.stop();
      assert.equal(runs, 3);
      assert.deepEqual(failures, ['coh-broken']);
      const job = await jobs.findJob(t.storage.db, jobId);
      assert.equal(job?.attempts, 3);
      assert.equal(job?.last_error, 'always broken');
    });

    it('runs each job exactly once with two runners competing for it', async () => {
      const seen = new Map<string, number>();
      const registry: TaskRegistry = {
        ingest_cohort: {
          maxAttempts: 1,
          run: async (payload) => {
            seen.set(payload.cohortId, (seen.get(payload.cohortId) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 5));
          },
          onFinalFailure: async () => undefined,
        },
      };
      const ids = await Promise.all(Array.from({ length: 40 }, (_, i) => enqueue(t.storage.db, 'ingest_cohort', { cohortId: `c${i}` }, 1)));
      const first = runner(registry, 3);
      const second = runner(registry, 3);
      await Promise.all([first.start(), second.start()]);
      await until(async () => {
        const statuses = await Promise.all(ids.map((id) => jobs.findJob(t.storage.db, id)));
        return statuses.every((j) => j?.status === 'done');
      });
      await Promise.all([first.stop(), second.stop()]);
      assert.equal(seen.size, 40);
      assert.deepEqual([...new Set(seen.values())], [1]);
    });

    it("takes over a job whose worker stopped heartbeating once its lease expires", async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'orphan' }, 3);
      const now = new Date();
      // A worker claims it and dies: its lease ends in the past and nobody extends it.
      const claimed = await jobs.claimDueJob(t.storage.db, t.storage.capabilities, 'dead-worker', now.toISOString(), new Date(now.getTime() + 300).toISOString(), ['ingest_cohort']);
      assert.equal(claimed?.job_id, jobId);
      const ran: string[] = [];
      const r = runner({ ingest_cohort: { maxAttempts: 3, run: async (p) => void ran.push(p.cohortId), onFinalFailure: async () => undefined } });
      // Embedded SQLite releases every running job at start; PostgreSQL waits for the lease.
      await r.start();
      await until(async () => (await jobs.findJob(t.storage.db, jobId))?.status === 'done');
      await r.stop();
      assert.deepEqual(ran, ['orphan']);
      assert.equal((await jobs.findJob(t.storage.db, jobId))?.attempts, 2);
    });
  });
}
