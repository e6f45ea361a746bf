// Drives a real Roster server process over HTTP: start it, set a tenant up, upload, sample memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { openAsBlob, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, type CsvFile } from './data.js';
import { freePort } from '../test/helpers/spawn-server.js';
import type { CohortResult } from '../src/services/cohorts/cohort-service.js';

export const ROOT = path.dirname(BENCH_DIR);
export const MASTER_KEY = 'bench-master-key-0123456789abcdef';
export const DEPLOYMENT_PATH = '/v1/orgs/bench/workspaces/main/deployments/d';

/** The transformation config of the README's example, over the generated columns. */
export const BENCH_CONFIG = {
  phone_number: { column_name: 'mobile', country_code: 'IN' },
  user_identifier: { column_name: 'customer_id', required: false },
  app_variables: {
    customer_name: { column_name: 'name', required: true, format: ['trim', 'title'] },
    outstanding_amount: { column_name: 'balance', format: { fn: 'currency', locale: 'en-IN', decimals: 2 } },
    due_date: { column_name: 'payment_due', format: { fn: 'date', input: 'DD/MM/YYYY' } },
  },
  app_overrides: { initial_language_name: { column_name: 'preferred_language', fallback_value: 'English' } },
};

export interface RosterProcess {
  url: string;
  pid: number;
  /** The org API key made by setupTenant. */
  apiKey: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
// A bench interrupted or failed must not leave servers or load generators behind.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Registers a child process to be killed if the bench exits before it ends. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/**
 * The Node flags `npm start` runs the server with (e.g. its heap cap), read from package.json so
 * the bench server always runs as deployed.
 */
export function startNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const words = (manifest.scripts?.start ?? '').split(/\s+/);
  const flags: string[] = [];
  for (const word of words.slice(words.indexOf('node') + 1)) {
    if (!word.startsWith('--')) break;
    flags.push(word);
  }
  return flags;
}

/**
 * Node flags for the bench servers beyond `npm start`'s, from ROSTER_BENCH_SERVER_FLAGS (e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile them; Node refuses those in NODE_OPTIONS).
 */
function extraServerFlags(): string[] {
  return (process.env.ROSTER_BENCH_SERVER_FLAGS ?? '').split(/\s+/).filter((flag) => flag !== '');
}

/** The bench server as built (npm run build; bench/run.ts builds first): compiled JavaScript, as `npm start` runs. */
export const SERVER_SCRIPT = path.join(ROOT, 'dist/bench/server.js');

/**
 * Starts the built bench/server.ts as its own process (Node flags as `npm start`) on a fresh data
 * folder, and sets the bench tenant up.
 */
export async function startRoster(databaseUrl?: string): Promise<RosterProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-bench-'));
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    ROSTER_DATA_DIR: dataDir,
    ROSTER_PORT: String(port),
    ROSTER_MASTER_KEY: MASTER_KEY,
    ROSTER_LOG_LEVEL: 'warn',
    ROSTER_RATE_LIMIT_MAX: '0',
    ROSTER_DATABASE_URL: databaseUrl,
    NODE_ENV: undefined,
  };
  const child = track(
    spawn(process.execPath, [...startNodeFlags(), ...extraServerFlags(), SERVER_SCRIPT], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    if (process.env.ROSTER_BENCH_SERVER_LOG === '1') process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`bench server exited with ${child.exitCode}`);
      const ready = await fetch(`${url}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error('bench server did not start within 60 s');
      await sleep(50);
    }
    const apiKey = await setupTenant(url);
    return { url, pid: child.pid!, apiKey, stop };
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
}

/** ROSTER_* settings the bench servers inherit from this environment (those the bench sets itself left out). */
export function inheritedSettings(): Record<string, string> {
  const own = [
    'ROSTER_DATA_DIR',
    'ROSTER_PORT',
    'ROSTER_MASTER_KEY',
    'ROSTER_LOG_LEVEL',
    'ROSTER_RATE_LIMIT_MAX',
    'ROSTER_DATABASE_URL',
  ];
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[0].startsWith('ROSTER_') &&
        !entry[0].startsWith('ROSTER_BENCH_') &&
        !entry[0].startsWith('ROSTER_TEST_') &&
        !own.includes(entry[0]) &&
        entry[1] !== undefined,
    ),
  );
}

async function call(url: string, key: string, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/** Org, workspace, agent, deployment (default_country IN) and an org API key, through the admin API. */
async function setupTenant(url: string): Promise<string> {
  const admin = (route: string, body: unknown) => call(url, MASTER_KEY, 'POST', route, body);
  await admin('/v1/orgs', { org_id: 'bench', name: 'Bench' });
  await admin('/v1/orgs/bench/workspaces', { workspace_id: 'main', name: 'Main' });
  await admin('/v1/orgs/bench/workspaces/main/agents', {
    agent_id: 'collections',
    name: 'Collections',
    variables: [{ name: 'customer_name', required: true }, { name: 'outstanding_amount' }, { name: 'due_date' }],
  });
  await admin('/v1/orgs/bench/workspaces/main/deployments', {
    deployment_id: 'd',
    name: 'D',
    agent_id: 'collections',
    default_country: 'IN',
  });
  const user = (await admin('/v1/orgs/bench/users', { email: 'bench@example.com' })) as { user_id: string };
  const key = (await admin('/v1/orgs/bench/api-keys', { name: 'bench', user_id: user.user_id, workspaces: '*' })) as {
    key: string;
  };
  return key.key;
}

export interface CohortState {
  cohort_id: string;
  status: string;
  result: CohortResult | null;
  error?: { code: string; message: string };
}

/** Uploads a generated file as multipart (streamed from disk); answers once the server accepted it. */
export async function uploadCohort(server: RosterProcess, file: CsvFile, name: string): Promise<string> {
  const form = new FormData();
  form.append('name', name);
  form.append('cohort_file', await openAsBlob(file.path, { type: 'text/csv' }), path.basename(file.path));
  form.append(
    'cohort_transformation_file',
    new Blob([JSON.stringify(BENCH_CONFIG)], { type: 'application/json' }),
    'config.json',
  );
  const response = await fetch(`${server.url}${DEPLOYMENT_PATH}/cohorts/upload`, {
    method: 'POST',
    headers: { 'x-api-key': server.apiKey },
    body: form,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`upload answered ${response.status}: ${text}`);
  return (JSON.parse(text) as CohortState).cohort_id;
}

/** Polls the cohort every 100 ms until it leaves `processing`; fails unless its counts match the file's. */
export async function waitCompleted(server: RosterProcess, cohortId: string, file: CsvFile): Promise<CohortState> {
  for (;;) {
    const cohort = (await call(
      server.url,
      server.apiKey,
      'GET',
      `${DEPLOYMENT_PATH}/cohorts/${cohortId}`,
    )) as CohortState;
    if (cohort.status !== 'processing') {
      const expected = { total_records: file.rows, valid_records: file.valid, rejected_records: file.bad };
      const result = cohort.result;
      const counts = result && {
        total_records: result.total_records,
        valid_records: result.valid_records,
        rejected_records: result.rejected_records,
      };
      // The rejections by reason must account for every rejected row.
      const byReason = (result?.rejections_by_reason ?? []).reduce((sum, r) => sum + r.count, 0);
      if (
        cohort.status !== 'completed' ||
        JSON.stringify(counts) !== JSON.stringify(expected) ||
        byReason !== file.bad
      ) {
        throw new Error(
          `cohort ${cohortId} ended ${cohort.status} with ${JSON.stringify(cohort.result ?? cohort.error)}; expected ${JSON.stringify(expected)}`,
        );
      }
      return cohort;
    }
    await sleep(100);
  }
}

/** Reads VmRSS of `pid` every 50 ms until stopped; stop() gives the peak in MB. */
export function sampleRss(pid: number): { stop(): Promise<number> } {
  let peakKb = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      peakKb = Math.max(peakKb, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return peakKb / 1024;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
