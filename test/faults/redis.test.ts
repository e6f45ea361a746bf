import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { E2E_MASTER_KEY } from '../helpers/e2e-tenant.js';
import type { SpawnedServer } from '../helpers/spawn-server.js';
import { skipFor } from './helpers/fault-skip.js';
import {
  ask,
  assertAliveAndClean,
  spawnFaultServer,
  tally,
  waitForOutput,
  type Answer,
  type WatchedProcess,
} from './helpers/fault-processes.js';
import { privateRedisProblem, startPrivateRedis, type PrivateRedis } from './helpers/private-redis.js';

// `roster serve` counting its rate limit in a private Redis the test kills and starts again: the
// limit holds while Redis is up, requests are let through (never failed) while it is down, and
// counting resumes once it is back.

const BUDGET = 5;
/** What the rate-limit plugin logs (info) once its Redis connection is ready again. */
const REDIS_BACK = /rate limiting: Redis reachable again/;
/** What it logs (warn) on the first error of an outage. */
const REDIS_DOWN = /rate limiting: Redis unreachable/;

describe('rate limiting through a Redis that goes away', { skip: skipFor(privateRedisProblem()) }, () => {
  let redis: PrivateRedis;
  let server: SpawnedServer & WatchedProcess;

  /** `count` requests with the master key to a rate-limited route; their answers. */
  async function spend(count: number): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let i = 0; i < count; i++)
      answers.push(await ask(`${server.url}/v1/orgs`, { headers: { 'x-api-key': E2E_MASTER_KEY } }));
    return answers;
  }
  const statuses = (answers: Answer[]) => answers.map((answer) => answer.status);

  before(async () => {
    redis = await startPrivateRedis();
    // A long window, so the budget cannot refill during the test; info logs carry the Redis markers.
    server = await spawnFaultServer({
      ROSTER_REDIS_URL: redis.url,
      ROSTER_RATE_LIMIT_MAX: String(BUDGET),
      ROSTER_RATE_LIMIT_WINDOW_MS: '600000',
      ROSTER_LOG_LEVEL: 'info',
    });
  });
  after(async () => {
    await server?.stop();
    await redis?.close();
  });

  it('enforces the budget with Redis up, lets requests through while it is down, and counts again once it is back', async (t: TestContext) => {
    const up = await spend(BUDGET + 2);
    assert.deepEqual(statuses(up), [...Array(BUDGET).fill(200), 429, 429]);
    assert.equal(up[BUDGET]!.code, 'rate_limited');
    assert.ok(Number(up[BUDGET]!.retryAfter) > 0, 'a 429 without Retry-After');

    const from = server.output().length;
    await redis.stop();
    const started = Date.now();
    const down = await spend(BUDGET + 5);
    const downMs = Date.now() - started;
    assert.deepEqual(
      statuses(down),
      Array(BUDGET + 5).fill(200),
      `while Redis was down: ${JSON.stringify(tally(down))}`,
    );
    assert.ok(downMs < 5000, `${BUDGET + 5} requests took ${downMs} ms: they waited on the unreachable Redis`);
    await waitForOutput(server.output, REDIS_DOWN, { from, timeoutMs: 5000 });

    const backFrom = server.output().length;
    await redis.start();
    const restartedAt = Date.now();
    await waitForOutput(server.output, REDIS_BACK, { from: backFrom, timeoutMs: 30_000 });
    const reconnectMs = Date.now() - restartedAt;
    // Redis came back empty (nothing saved): a fresh budget, counted again.
    const again = await spend(BUDGET + 2);
    assert.deepEqual(statuses(again), [...Array(BUDGET).fill(200), 429, 429]);
    assertAliveAndClean('roster serve', server);
    t.diagnostic(
      `while down: ${down.length} requests in ${downMs} ms, all 200; reconnected ${reconnectMs} ms after Redis restarted`,
    );
  });

  it('never answers 500 while Redis is killed and restarted under steady traffic', async (t: TestContext) => {
    const answers: Answer[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) answers.push(...(await spend(1)));
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await redis.stop();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await redis.start();
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      running = false;
      await traffic;
    }
    const counts = tally(answers);
    assert.equal(answers.at(-1)!.status, 429, 'counting did not resume after Redis came back');
    assert.ok(
      Object.keys(counts).every((status) => status === '200' || status === '429 rate_limited'),
      JSON.stringify(counts),
    );
    assertAliveAndClean('roster serve', server);
    t.diagnostic(`answers across the kill and restart: ${JSON.stringify(counts)}`);
  });
});
