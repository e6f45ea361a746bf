import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { enqueue, JobRunner } from '../../src/queue/runner.js';
import type { FinalFailure, TaskRegistry } from '../../src/queue/tasks.js';
import { openStorage } from '../../src/storage/db.js';
import * as jobs from '../../src/storage/repositories/jobs-repository.js';
import { backends, type TestStorage } from '../helpers/backends.js';

/** These tests queue ingest_cohort jobs only. */
type CohortTasks = Pick<TaskRegistry, 'ingest_cohort'>;

/** The registry the runner needs, with the other tasks failing the test if one is ever run. */
function withoutWebhooks(registry: CohortTasks): TaskRegistry {
  return {
    ...registry,
    deliver_webhook: {
      run: async () => assert.fail('no deliver_webhook job is queued in these tests'),
      fail: async () => undefined,
    },
    erase_numbers: {
      run: async () => assert.fail('no erase_numbers job is queued in these tests'),
      fail: async () => undefined,
    },
  };
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of await backends()) {
  describe(`job runner on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
    });
    after(async () => {
      await t?.cleanup();
    });

    function runner(registry: CohortTasks, concurrency = 2, leaseMs = 5000) {
      return new JobRunner(t.storage.db, t.storage.capabilities, withoutWebhooks(registry), {
        concurrency,
        pollMs: 20,
        leaseMs,
        backoffMs: 0,
        log: silent,
      });
    }

    /** Claims a job as a worker that then goes silent, with a lease that ends after `leaseMs`. */
    async function claimAs(workerId: string, leaseMs: number): Promise<jobs.JobRow> {
      const now = new Date();
      const claimed = await jobs.claimDueJob(
        t.storage.db,
        t.storage.capabilities,
        workerId,
        now.toISOString(),
        new Date(now.getTime() + leaseMs).toISOString(),
        ['ingest_cohort'],
      );
      assert.ok(claimed, 'nothing to claim');
      return claimed;
    }

    const noFailure: TaskRegistry['ingest_cohort']['fail'] = async () => undefined;

    it('stops retrying after max attempts, marks the job failed and reports it once', async () => {
      const failures: Array<{ cohortId: string; failure: FinalFailure }> = [];
      let runs = 0;
      const r = runner({
        ingest_cohort: {
          run: async () => {
            runs++;
            throw new Error('always broken');
          },
          fail: async (_trx, payload, failure) => {
            failures.push({ cohortId: payload.cohortId, failure });
          },
        },
      });
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'coh-broken' }, 3);
      await r.start();
      await until(async () => (await jobs.findJob(t.storage.db, jobId))?.status === 'failed');
      await r.stop();
      assert.equal(runs, 3);
      assert.deepEqual(
        failures.map((f) => [f.cohortId, f.failure.attempts, f.failure.lostAttempts, f.failure.lastError]),
        [['coh-broken', 3, 0, 'always broken']],
      );
      const job = await jobs.findJob(t.storage.db, jobId);
      assert.equal(job?.attempts, 3);
      assert.equal(job?.last_error, 'always broken');
    });

    it('runs each job exactly once with two runners competing for it', async () => {
      const seen = new Map<string, number>();
      const registry: CohortTasks = {
        ingest_cohort: {
          run: async (payload) => {
            seen.set(payload.cohortId, (seen.get(payload.cohortId) ?? 0) + 1);
            await sleep(5);
          },
          fail: noFailure,
        },
      };
      const ids = await Promise.all(
        Array.from({ length: 40 }, (_, i) => enqueue(t.storage.db, 'ingest_cohort', { cohortId: `c${i}` }, 1)),
      );
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

    it('takes over a job whose worker stopped heartbeating once its lease expires, counting the lost attempt', async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'orphan' }, 3);
      const claimed = await claimAs('dead-worker', 300);
      assert.equal(claimed.job_id, jobId);
      const ran: string[] = [];
      const r = runner({ ingest_cohort: { run: async (p) => void ran.push(p.cohortId), fail: noFailure } });
      // Embedded SQLite expires every running lease at start; PostgreSQL waits for the lease.
      await r.start();
      await until(async () => (await jobs.findJob(t.storage.db, jobId))?.status === 'done');
      await r.stop();
      assert.deepEqual(ran, ['orphan']);
      const job = await jobs.findJob(t.storage.db, jobId);
      assert.equal(job?.attempts, 2);
      assert.equal(job?.lost_attempts, 1);
    });

    it("fences a zombie attempt: once the job is claimed again, none of the old claim's writes change anything", async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'zombie' }, 5);
      const zombie = jobs.claimOf(await claimAs('paused-worker', 50));
      await sleep(80);
      const holder = await claimAs('new-worker', 60_000);
      assert.equal(holder.job_id, jobId);
      assert.notEqual(holder.lease_token, zombie.token);
      const now = new Date().toISOString();
      const later = new Date(Date.now() + 60_000).toISOString();
      assert.equal(await jobs.extendJobLease(t.storage.db, zombie, now, later), false, 'heartbeat');
      assert.equal(await jobs.markJobDone(t.storage.db, zombie, now), false, 'done');
      assert.equal(await jobs.markJobRetry(t.storage.db, zombie, now, 'boom', now), false, 'retry');
      assert.equal(await jobs.markJobFailed(t.storage.db, zombie, 'boom', now), false, 'failed');
      assert.equal(await jobs.releaseJob(t.storage.db, zombie, 'stopping', now), false, 'release');
      let wrote = false;
      await assert.rejects(
        jobs.withHeldJob(t.storage.db, zombie, { now: () => new Date(), leaseMs: 1000 }, 'publishing', async () => {
          wrote = true;
        }),
        jobs.LeaseLostError,
      );
      assert.equal(wrote, false, 'a fenced write ran without the lease');
      const job = await jobs.findJob(t.storage.db, jobId);
      assert.deepEqual(
        [job?.status, job?.locked_by, job?.lease_token, job?.attempts, job?.locked_until],
        ['running', 'new-worker', holder.lease_token, 2, holder.locked_until],
      );
      assert.equal(await jobs.markJobDone(t.storage.db, jobs.claimOf(holder), now), true, 'the holder finishes');
    });

    it('does not extend a lease that has expired, even when nobody has claimed the job yet', async () => {
      await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'stalled' }, 5);
      const stalled = jobs.claimOf(await claimAs('stalled-worker', 30));
      await sleep(60);
      assert.equal(
        await jobs.extendJobLease(
          t.storage.db,
          stalled,
          new Date().toISOString(),
          new Date(Date.now() + 60_000).toISOString(),
        ),
        false,
      );
      const fresh = jobs.claimOf(await claimAs('fresh-worker', 60_000));
      assert.equal(fresh.jobId, stalled.jobId);
      assert.equal(
        await jobs.extendJobLease(
          t.storage.db,
          fresh,
          new Date().toISOString(),
          new Date(Date.now() + 60_000).toISOString(),
        ),
        true,
      );
      assert.equal(await jobs.markJobDone(t.storage.db, fresh, new Date().toISOString()), true);
    });

    it('never moves a lease back: a heartbeat that waited behind a later renewal keeps the later end', async () => {
      await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'late-beat' }, 5);
      const held = await claimAs('busy-worker', 60_000);
      const claim = jobs.claimOf(held);
      // The beat was computed a while ago, before the attempt's own write renewed the lease further.
      const beatAt = new Date(Date.now() - 5_000);
      const beatEnd = new Date(beatAt.getTime() + 3_000).toISOString();
      assert.equal(await jobs.extendJobLease(t.storage.db, claim, beatAt.toISOString(), beatEnd), true);
      assert.equal((await jobs.findJob(t.storage.db, claim.jobId))?.locked_until, held.locked_until);
      const later = new Date(Date.now() + 120_000).toISOString();
      assert.equal(await jobs.extendJobLease(t.storage.db, claim, new Date().toISOString(), later), true);
      assert.equal((await jobs.findJob(t.storage.db, claim.jobId))?.locked_until, later, 'a fresh beat still extends');
      assert.equal(await jobs.markJobDone(t.storage.db, claim, new Date().toISOString()), true);
    });

    it('a worker stalled inside a transaction on its job row cannot keep the job from the next worker', {
      skip: backend.dialect === 'sqlite' ? 'PostgreSQL only: embedded SQLite has one process' : false,
    }, async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'stalled-in-transaction' }, 5);
      // The stalled worker's own connection pool, as a server or worker opens it (twice a 250 ms lease).
      const stalled = openStorage({
        databaseUrl: t.databaseUrl,
        dataDir: t.dataDir,
        pgSchema: t.pgSchema,
        idleInTransactionMs: 500,
      });
      try {
        const holding = stalled.db
          .transaction()
          .execute(async (trx) => {
            await trx.selectFrom('jobs').select('job_id').where('job_id', '=', jobId).forUpdate().execute();
            await sleep(5_000); // paused (SIGSTOP) or partitioned with the row locked
          })
          .then(
            () => 'committed',
            () => 'ended by the server',
          );
        await sleep(100);
        assert.equal(await tryClaim(), undefined, 'a locked row is skipped');
        let claimed: jobs.JobRow | undefined;
        await until(async () => {
          claimed = await tryClaim();
          return claimed !== undefined;
        }, 3_000);
        assert.equal(await holding, 'ended by the server');
        assert.equal(await jobs.markJobDone(t.storage.db, jobs.claimOf(claimed!), new Date().toISOString()), true);
      } finally {
        await stalled.close();
      }

      async function tryClaim() {
        const now = new Date();
        const claimed = await jobs.claimDueJob(
          t.storage.db,
          t.storage.capabilities,
          'next-worker',
          now.toISOString(),
          new Date(now.getTime() + 60_000).toISOString(),
          ['ingest_cohort'],
        );
        if (claimed) assert.equal(claimed.job_id, jobId);
        return claimed;
      }
    });

    it('fails, without running it again, a job whose process died on its last attempt; the failure is recorded once', async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'crashed-last' }, 2);
      await claimAs('crashed-1', 10);
      await sleep(30);
      await claimAs('crashed-2', 10);
      await sleep(30);
      let runs = 0;
      const failures: FinalFailure[] = [];
      const registry: CohortTasks = {
        ingest_cohort: {
          run: async () => void runs++,
          fail: async (_trx, _payload, failure) => void failures.push(failure),
        },
      };
      const first = runner(registry);
      const second = runner(registry);
      await Promise.all([first.start(), second.start()]);
      await until(async () => (await jobs.findJob(t.storage.db, jobId))?.status === 'failed');
      await sleep(100);
      await Promise.all([first.stop(), second.stop()]);
      assert.equal(runs, 0, 'an exhausted job ran again');
      assert.deepEqual(
        failures.map((f) => [f.attempts, f.lostAttempts, f.error]),
        [[2, 2, undefined]],
      );
      const job = await jobs.findJob(t.storage.db, jobId);
      assert.equal(job?.attempts, 2);
      assert.match(job?.last_error ?? '', /stopped without reporting/);
    });

    it('hands an attempt back uncounted when the runner is stopped, and the next runner finishes it', async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'interrupted' }, 1);
      let started = false;
      const r = runner({
        ingest_cohort: {
          run: async (_payload, context) => {
            started = true;
            await new Promise((_resolve, reject) =>
              context.signal.addEventListener('abort', () => reject(context.signal.reason as Error)),
            );
          },
          fail: noFailure,
        },
      });
      await r.start();
      await until(async () => started);
      await r.stop();
      const handedBack = await jobs.findJob(t.storage.db, jobId);
      assert.deepEqual([handedBack?.status, handedBack?.attempts, handedBack?.locked_by], ['queued', 0, null]);
      let finished = 0;
      const next = runner({ ingest_cohort: { run: async () => void finished++, fail: noFailure } });
      await next.start();
      await until(async () => (await jobs.findJob(t.storage.db, jobId))?.status === 'done');
      await next.stop();
      assert.equal(finished, 1);
      assert.equal((await jobs.findJob(t.storage.db, jobId))?.attempts, 1);
    });

    it('aborts an attempt whose job was claimed by another worker, and its completion changes nothing', async () => {
      const jobId = await enqueue(t.storage.db, 'ingest_cohort', { cohortId: 'stolen' }, 5);
      let aborted: unknown;
      let completed = false;
      let claimed = false;
      const r = runner(
        {
          ingest_cohort: {
            run: async (_payload, context) => {
              claimed = true;
              await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve()));
              aborted = context.signal.reason;
              // A zombie that carries on regardless: its publish must be refused.
              await context.fence.complete('publishing', async () => {
                completed = true;
              });
            },
            fail: noFailure,
          },
        },
        1,
        600,
      );
      await r.start();
      await until(async () => claimed);
      // Another worker takes the job over, as if this one had stalled past its lease.
      const stolenToken = 'another-attempt';
      await t.storage.db
        .updateTable('jobs')
        .set({ locked_by: 'other-worker', lease_token: stolenToken })
        .where('job_id', '=', jobId)
        .execute();
      await until(async () => aborted !== undefined, 5000);
      await sleep(100);
      await r.stop();
      assert.ok(aborted instanceof jobs.LeaseLostError, String(aborted));
      assert.equal(completed, false);
      const job = await jobs.findJob(t.storage.db, jobId);
      assert.deepEqual(
        [job?.status, job?.locked_by, job?.lease_token, job?.attempts],
        ['running', 'other-worker', stolenToken, 1],
      );
    });
  });
}
