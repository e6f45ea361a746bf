// Caller lookup under load, against a constant-response route on the same server: the HTTP floor.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR, cohortFile, FIRST_PHONE, prng, SEED } from '../data.js';
import type { LoadPlan, LoadResult } from '../load.js';
import { fmt, verdict } from '../report.js';
import {
  DEPLOYMENT_PATH,
  ROOT,
  startRoster,
  track,
  uploadCohort,
  waitCompleted,
  type RosterProcess,
} from '../roster.js';
import { medianOf } from '../stats.js';
import type { BenchContext, Mode, Workload } from '../workload.js';

// Five overlapping cohorts: cohort k holds the phones [k * step, k * step + valid_k).
const COHORTS: Record<Mode, { rows: number; step: number; seconds: number }> = {
  quick: { rows: 10_000, step: 7_500, seconds: 2 },
  full: { rows: 200_000, step: 150_000, seconds: 10 },
};
// Issue 16's targets: at least 60 % of the constant route's rate, p99 under 2 ms.
const RATIO_GOAL = 0.6;
const P99_GOAL_MS = 2;
const DISTINCT_PATHS = 4000;
// Absent phones are drawn from 98 + [5M, 6M): no generated file reaches them.
const ABSENT_FROM = 5_000_000;

/** Half present (anywhere in the union of the cohorts), half absent, shuffled. */
export function lookupPaths(union: number): { path: string; hit: boolean }[] {
  const random = prng(SEED + 1);
  const lookups: { phone: number; hit: boolean }[] = [];
  for (let i = 0; i < DISTINCT_PATHS; i++) {
    const hit = i % 2 === 0;
    lookups.push({
      phone: FIRST_PHONE + (hit ? Math.floor(random() * union) : ABSENT_FROM + Math.floor(random() * 1_000_000)),
      hit,
    });
  }
  for (let i = lookups.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [lookups[i], lookups[j]] = [lookups[j] as (typeof lookups)[number], lookups[i] as (typeof lookups)[number]];
  }
  return lookups.map(({ phone, hit }) => ({ path: `${DEPLOYMENT_PATH}/callers/${phone}`, hit }));
}

/** Runs bench/load.ts as its own process with the plan and reads its figures, one per run. */
export async function load(plan: LoadPlan): Promise<LoadResult[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, 'load.ts')], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);
  child.stdin.end(JSON.stringify(plan));
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`bench/load.ts exited with ${code}: ${err}`);
  const results = JSON.parse(out.trim().split('\n').pop() ?? '[]') as LoadResult[];
  for (const result of results) {
    if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
      throw new Error(
        `a load run had ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`,
      );
    }
  }
  return results;
}

/** The first lookups answer found: true exactly when they should, so the load measures what it claims. */
export async function checkLookups(
  server: RosterProcess,
  lookups: readonly { path: string; hit: boolean }[],
): Promise<void> {
  for (const { path: route, hit } of lookups.slice(0, 200)) {
    const response = await fetch(`${server.url}${route}`, { headers: { 'x-api-key': server.apiKey } });
    const body = (await response.json()) as { found?: boolean };
    if (response.status !== 200 || body.found !== hit)
      throw new Error(`GET ${route} answered ${response.status} ${JSON.stringify(body)}; expected found: ${hit}`);
  }
}

export const summarise = (runs: LoadResult[]) => ({
  requests_per_sec: medianOf(runs, (r) => r.requests_per_sec),
  p50_ms: medianOf(runs, (r) => r.p50_ms),
  p99_ms: medianOf(runs, (r) => r.p99_ms),
});

export const lookupWorkload: Workload = {
  name: 'lookup',
  summary: 'GET …/callers/{phone} with keep-alive, 2 connections per core, 50% hits, vs a constant route',
  async run(context: BenchContext) {
    const shape = COHORTS[context.mode];
    const files = [0, 1, 2, 3, 4].map((k) => cohortFile(shape.rows, k * shape.step));
    const totalRows = files.reduce((sum, file) => sum + file.rows, 0);
    const last = files[files.length - 1];
    if (!last) throw new Error('no cohort files');
    const union = last.offset + last.valid;
    const server = await startRoster();
    try {
      for (const [k, file] of files.entries())
        await waitCompleted(server, await uploadCohort(server, file, `lookup ${k + 1}`), file);
      context.log(`  ${files.length} cohorts, ${fmt.rows(totalRows)} rows, ${union} distinct phones`);
      const planned = lookupPaths(union);
      await checkLookups(server, planned);
      const paths = planned.map((lookup) => lookup.path);
      const connections = 2 * os.cpus().length;
      const constantPaths = ['/bench/constant'];
      // Both routes are warmed (JIT, page cache) for a second first; then they alternate, 3 runs each.
      const runs = [
        { paths, seconds: 1 },
        { paths: constantPaths, seconds: 1 },
      ];
      for (let run = 0; run < 3; run++)
        runs.push({ paths, seconds: shape.seconds }, { paths: constantPaths, seconds: shape.seconds });
      const results = (await load({ url: server.url, apiKey: server.apiKey, connections, runs })).slice(2);
      const lookups = results.filter((_, i) => i % 2 === 0);
      const constants = results.filter((_, i) => i % 2 === 1);
      lookups.forEach((lookup, i) => {
        const constant = constants[i];
        if (constant)
          context.log(
            `  run ${i + 1}: lookup ${fmt.rate(lookup.requests_per_sec, 'req')} p99 ${fmt.ms(lookup.p99_ms)}, constant ${fmt.rate(constant.requests_per_sec, 'req')} p99 ${fmt.ms(constant.p99_ms)}`,
          );
      });
      const lookup = summarise(lookups);
      const constant = summarise(constants);
      const ratio = lookup.requests_per_sec / constant.requests_per_sec;
      return {
        name: 'lookup',
        rows: [
          {
            workload: `caller lookup, ${fmt.rows(totalRows)} contact rows in 5 overlapping cohorts, 50% hits, ${connections} connections`,
            roster: `${fmt.rate(lookup.requests_per_sec, 'req')} · p50 ${fmt.ms(lookup.p50_ms)} · p99 ${fmt.ms(lookup.p99_ms)}`,
            baseline: `constant route ${fmt.rate(constant.requests_per_sec, 'req')} · p50 ${fmt.ms(constant.p50_ms)} · p99 ${fmt.ms(constant.p99_ms)}`,
            ratio: fmt.percent(ratio),
            target: `${verdict(`≥ ${fmt.percent(RATIO_GOAL)}`, ratio >= RATIO_GOAL)}; ${verdict(`p99 < ${P99_GOAL_MS} ms`, lookup.p99_ms < P99_GOAL_MS)}`,
          },
        ],
        data: {
          backend: 'sqlite',
          cohorts: files.map((file) => ({
            rows: file.rows,
            valid: file.valid,
            first_phone: FIRST_PHONE + file.offset,
          })),
          distinct_phones: union,
          connections,
          seconds_per_run: shape.seconds,
          lookup: { runs: lookups, median: lookup },
          constant: { runs: constants, median: constant },
          ratio,
        },
      };
    } finally {
      await server.stop();
    }
  },
};
