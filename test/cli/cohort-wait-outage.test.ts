import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { cliRunner } from '../helpers/cli.js';
import { EXAMPLE_REJECTIONS } from '../helpers/cohorts.js';
import { CLI, freePort, ROOT } from '../helpers/spawn-server.js';
import { createScratchDatabase, postgresProblem } from '../helpers/test-postgres.js';

const inCi = process.env.CI === 'true';
const pgProblem = await postgresProblem();
const pgSkip = pgProblem && !inCi ? `PostgreSQL unavailable: ${pgProblem}` : false;

const SCOPE = ['--org', 'demo', '--workspace', 'default', '--deployment', 'demo'];
const COHORTS = '/v1/orgs/demo/workspaces/default/deployments/demo/cohorts';
const USERS = path.join(ROOT, 'examples/cohort-users.csv');
const CONFIG = path.join(ROOT, 'examples/cohort-transformation.json');

interface Cohort {
  cohort_id: string;
  status: string;
  result: { total_records: number; valid_records: number; rejected_records: number } | null;
}

/** `roster <args>` on a given port (spawnServer picks its own), until /healthz answers. */
async function serveOn(
  port: number,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; output(): string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: { ...env, ROSTER_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`roster ${args.join(' ')} exited ${child.exitCode}: ${out}`);
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    assert.ok(Date.now() < deadline, `roster ${args.join(' ')} did not start: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => out, exited };
}

/**
 * A stand-in server on 127.0.0.1 for what a real one does only by accident of timing: it accepts the
 * upload, then answers each poll with the next of `polls` (a status, headers and body).
 */
async function stubServer(
  polls: Array<{ status: number; headers?: Record<string, string>; body: unknown }>,
  options: { stopAfterUpload?: boolean } = {},
) {
  const pollTimes: number[] = [];
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'POST') {
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ cohort_id: 'coh-stub', name: 'stub', status: 'processing', result: null }), () => {
            if (!options.stopAfterUpload) return;
            server.close();
            server.closeAllConnections();
            stoppedAt = Date.now();
          });
        return;
      }
      pollTimes.push(Date.now());
      const next = polls[Math.min(pollTimes.length - 1, polls.length - 1)]!;
      response
        .writeHead(next.status, { 'content-type': 'application/json', ...next.headers })
        .end(JSON.stringify(next.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stoppedAt: number | undefined;
  return {
    url,
    pollTimes,
    stoppedAt: () => stoppedAt,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

const UNAVAILABLE = {
  error: {
    message: 'The database is unreachable; try again shortly.',
    type: 'api_error',
    code: 'service_unavailable',
    data: { details: null },
  },
};
const COMPLETED = {
  cohort_id: 'coh-stub',
  name: 'stub',
  status: 'completed',
  result: { total_records: 2, valid_records: 2, rejected_records: 0 },
};

describe('cohorts upload --wait rides out outages', () => {
  test('the server stopped while --wait polls and started again on the same port and data: the CLI ends with the final cohort, exit 0', {
    skip: pgSkip,
  }, async () => {
    // On PostgreSQL the first server can run without a job runner, so the cohort is surely still
    // processing when it stops; the second one (with its runner) finishes it.
    const database = await createScratchDatabase('roster_wait');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-wait-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ROSTER_DATA_DIR: dataDir,
      ROSTER_DATABASE_URL: database.url,
      ROSTER_S3_ENDPOINT: '',
      ROSTER_LOG_LEVEL: 'warn',
    };
    delete env.ROSTER_MASTER_KEY;
    delete env.NODE_ENV;
    let second: Awaited<ReturnType<typeof serveOn>> | undefined;
    const first = await serveOn(port, ['serve', '--no-worker'], env);
    try {
      const key = /\b(rk_[A-Za-z0-9]+)/.exec(first.output())?.[1];
      assert.ok(key, `no demo key in:\n${first.output()}`);
      const { roster } = cliRunner(() => ({ ...process.env, ROSTER_URL: url, ROSTER_API_KEY: key }));
      const started = Date.now();
      const waiting = roster(
        'cohorts',
        'upload',
        ...SCOPE,
        '--name',
        'Through an outage',
        '--file',
        USERS,
        '--config',
        CONFIG,
        '--wait',
        '--json',
      );

      // Accepted, and polled at least once (the first poll comes after 250 ms).
      for (;;) {
        const page = (await (await fetch(`${url}${COHORTS}`, { headers: { 'x-api-key': key } })).json()) as {
          items?: Cohort[];
          data?: Cohort[];
        };
        const items = page.items ?? page.data ?? [];
        if (items.length > 0) {
          assert.equal(items[0]!.status, 'processing');
          break;
        }
        assert.ok(Date.now() - started < 20_000, 'the upload was not accepted');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
      const down = Date.now();
      // Longer than ten refused polls 2 s apart, where a count of tries (not a time) used to give up.
      await new Promise((resolve) => setTimeout(resolve, 24_000));
      second = await serveOn(port, ['serve'], env);
      const outage = Date.now() - down;

      const result = await waiting;
      assert.equal(result.code, 0, result.stderr);
      const cohort = JSON.parse(result.stdout) as Cohort;
      assert.equal(cohort.status, 'completed');
      assert.deepEqual(cohort.result, {
        total_records: 10,
        valid_records: 3,
        rejected_records: 7,
        rejections_by_reason: EXAMPLE_REJECTIONS,
      });
      assert.equal(result.stderr, '', 'no notice when stderr is not a terminal');
      assert.ok(outage >= 24_000, `the CLI rode out ${outage} ms without a server`);
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGTERM');
      await second?.exited;
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('a server that stays unreachable: --wait gives up after --outage-timeout with exit 1 and says how to follow the cohort', async () => {
    // The stub stops right after accepting the upload: every poll is refused.
    const stub = await stubServer([{ status: 200, body: COMPLETED }], { stopAfterUpload: true });
    const { roster } = cliRunner(() => ({ ...process.env, ROSTER_URL: stub.url, ROSTER_API_KEY: 'rk_stub' }));
    const result = await roster(
      'cohorts',
      'upload',
      ...SCOPE,
      '--name',
      'stub',
      '--file',
      USERS,
      '--config',
      CONFIG,
      '--wait',
      '--outage-timeout',
      '2',
    );
    const seconds = (Date.now() - stub.stoppedAt()!) / 1000;
    assert.equal(result.code, 1, result.stdout);
    assert.match(
      result.stderr,
      /^error: Cannot reach http:\/\/127\.0\.0\.1:\d+: .*gave up after \d+ s of failed polls, --outage-timeout 2; the cohort may still be processing: roster cohorts get --org demo --workspace default --deployment demo coh-stub\) \(connection_failed\)$/m,
    );
    assert.ok(seconds >= 2 && seconds < 8, `gave up after ${seconds} s`);
  });

  test('503 with Retry-After: the next poll waits as long as the server asked, then the cohort is printed, exit 0', async () => {
    const stub = await stubServer([
      { status: 503, headers: { 'retry-after': '3' }, body: UNAVAILABLE },
      { status: 503, headers: { 'retry-after': '1' }, body: UNAVAILABLE },
      { status: 200, body: COMPLETED },
    ]);
    try {
      const { roster } = cliRunner(() => ({ ...process.env, ROSTER_URL: stub.url, ROSTER_API_KEY: 'rk_stub' }));
      const result = await roster(
        'cohorts',
        'upload',
        ...SCOPE,
        '--name',
        'stub',
        '--file',
        USERS,
        '--config',
        CONFIG,
        '--wait',
        '--json',
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as Cohort).status, 'completed');
      assert.equal(stub.pollTimes.length, 3);
      const [first, second, third] = stub.pollTimes as [number, number, number];
      assert.ok(second - first >= 2900, `Retry-After: 3 honoured (${second - first} ms)`);
      assert.ok(third - second >= 1900, `never sooner than the 2 s poll interval (${third - second} ms)`);
    } finally {
      stub.close();
    }
  });
});
