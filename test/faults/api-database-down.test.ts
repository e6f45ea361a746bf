import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { E2E_COHORTS, E2E_MASTER_KEY, waitForCohortOverHttp } from '../helpers/e2e-tenant.js';
import type { SpawnedServer } from '../helpers/spawn-server.js';
import { skipFor } from './helpers/fault-skip.js';
import {
  ask,
  assertAliveAndClean,
  record,
  spawnFaultServer,
  tally,
  type Answer,
  type WatchedProcess,
} from './helpers/fault-processes.js';
import {
  cohortCsv,
  cohortUploadInit,
  lookupPath,
  postCohort,
  setUpFaultTenant,
  type FaultTenant,
} from './helpers/fault-tenant.js';
import {
  privatePostgresProblem,
  startPrivatePostgres,
  type PrivatePostgres,
  type StopMode,
} from './helpers/private-postgres.js';

// `roster serve` on a private PostgreSQL the test stops and starts: while it is down every request
// that needs it answers 503 service_unavailable with Retry-After (never 500), /readyz names the
// database, the process stays up; once it is back the same requests succeed within seconds.

const KNOWN_PHONE = '9800000007';

describe('the API while its PostgreSQL is down (roster serve, embedded runner)', {
  skip: skipFor(privatePostgresProblem()),
}, () => {
  let postgres: PrivatePostgres;
  let database: { url: string; drop(): Promise<void> };
  let server: SpawnedServer & WatchedProcess;
  let tenant: FaultTenant;

  before(async () => {
    postgres = await startPrivatePostgres();
    database = await postgres.createDatabase();
    server = await spawnFaultServer({
      ROSTER_DATABASE_URL: database.url,
      ROSTER_JOB_POLL_MS: '200',
      ROSTER_JOB_LEASE_MS: '5000',
    });
    tenant = await setUpFaultTenant(server.url);
    const seeded = await postCohort(server.url, 'Seed', cohortCsv(20));
    assert.equal(seeded.status, 200, await seeded.clone().text());
    const done = await waitForCohortOverHttp(
      server.url,
      ((await seeded.json()) as { cohort_id: string }).cohort_id,
      30_000,
    );
    assert.equal(done.status, 'completed', JSON.stringify(done));
  });
  after(async () => {
    await server?.stop();
    await postgres?.destroy();
  });

  /** The requests that need the database: a lookup with the runtime's org key, a cohort list, an upload. */
  const requests = {
    lookup: () => ask(`${server.url}${lookupPath(KNOWN_PHONE)}`, { headers: { 'x-api-key': tenant.apiKey } }),
    list: () => ask(`${server.url}${E2E_COHORTS}`, { headers: { 'x-api-key': E2E_MASTER_KEY } }),
    upload: () =>
      ask(`${server.url}${E2E_COHORTS}/upload`, cohortUploadInit('During outage', cohortCsv(30, 9810000000))),
  };

  function assertUnavailable(name: string, answer: Answer): void {
    assert.equal(answer.status, 503, `${name} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.code, 'service_unavailable', `${name}: ${JSON.stringify(answer.body)}`);
    assert.ok(Number(answer.retryAfter) > 0, `${name}: 503 without Retry-After`);
  }

  /** Stops PostgreSQL, checks the answers while it is down, starts it, and answers how long until all requests succeed. */
  async function outage(
    mode: StopMode,
  ): Promise<{ recoveredMs: number; during: Record<string, number>; cohortId: string }> {
    const background = record(requests.lookup, 100);
    await postgres.stop(mode);
    try {
      assertUnavailable('a lookup', await requests.lookup());
      assertUnavailable('the cohort list', await requests.list());
      assertUnavailable('an upload', await requests.upload());
      const ready = await ask(`${server.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(
        (ready.body as { checks: { database: string } }).checks.database,
        'unreachable',
        JSON.stringify(ready.body),
      );
      // Long enough for pool timeouts and the runner's polls to fail a few times.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assertAliveAndClean('roster serve', server);
    } catch (error) {
      await background.stop();
      throw error;
    } finally {
      await postgres.start();
    }
    const startedAt = Date.now();
    let cohortId: string | undefined;
    let during: Record<string, number>;
    try {
      for (;;) {
        const [lookup, list, upload] = await Promise.all([
          requests.lookup(),
          requests.list(),
          cohortId ? undefined : requests.upload(),
        ]);
        if (upload?.status === 200) cohortId = (upload.body as { cohort_id: string }).cohort_id;
        if (lookup.status === 200 && list.status === 200 && cohortId) break;
        assert.ok(
          Date.now() - startedAt < 30_000,
          `not recovered 30 s after PostgreSQL came back: lookup ${lookup.status}, list ${list.status}, upload ${upload?.status}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      during = tally(await background.stop());
    }
    const recoveredMs = Date.now() - startedAt;
    assert.ok(
      Object.keys(during).every((status) => status === '200' || status === '503 service_unavailable'),
      `lookups across the outage: ${JSON.stringify(during)}`,
    );
    return { recoveredMs, during, cohortId };
  }

  it('answers 503 service_unavailable with Retry-After while PostgreSQL is stopped (fast), and serves again within seconds once it is back', async (t: TestContext) => {
    const { recoveredMs, during, cohortId } = await outage('fast');
    const lookup = await requests.lookup();
    assert.equal((lookup.body as { found: boolean }).found, true);
    const done = await waitForCohortOverHttp(server.url, cohortId, 30_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.result, {
      total_records: 30,
      valid_records: 30,
      rejected_records: 0,
      rejections_by_reason: [],
    });
    assertAliveAndClean('roster serve', server);
    t.diagnostic(
      `fast stop: all requests served ${recoveredMs} ms after PostgreSQL started again; lookups during: ${JSON.stringify(during)}`,
    );
  });

  it('does the same after PostgreSQL crashes (immediate stop, recovery at start)', async (t: TestContext) => {
    const { recoveredMs, during, cohortId } = await outage('immediate');
    const done = await waitForCohortOverHttp(server.url, cohortId, 30_000);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assertAliveAndClean('roster serve', server);
    t.diagnostic(
      `immediate stop: all requests served ${recoveredMs} ms after PostgreSQL started again; lookups during: ${JSON.stringify(during)}`,
    );
  });

  it('never answers 500 to lookups across a PostgreSQL restart under steady traffic', async (t: TestContext) => {
    const answers = record(requests.lookup, 20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await postgres.restart('fast');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      await answers.stop();
    }
    const counts = tally(answers.seen());
    assert.ok(
      Object.keys(counts).every((status) => status === '200' || status === '503 service_unavailable'),
      JSON.stringify(counts),
    );
    assert.equal((await requests.lookup()).status, 200);
    assertAliveAndClean('roster serve', server);
    t.diagnostic(`lookups across a restart: ${JSON.stringify(counts)}`);
  });
});
