// Caller lookups while a large upload ingests on the same server, against the same lookups on the
// same server idle: the call path must stay fast while a customer loads a big file.
import os from 'node:os';
import { cohortFile } from '../data.js';
import { fmt, verdict } from '../report.js';
import { startRoster, uploadCohort, waitCompleted } from '../roster.js';
import type { BenchContext, Mode, Workload } from '../workload.js';
import { checkLookups, load, lookupPaths, summarise } from './lookup.js';

const SHAPE: Record<Mode, { seed: number; ingest: number; seconds: number }> = {
  quick: { seed: 10_000, ingest: 50_000, seconds: 2 },
  full: { seed: 200_000, ingest: 1_000_000, seconds: 8 },
};
// Issue 16's target: p99 under 10 ms while the ingest runs, and no errors (load() fails on any).
const P99_GOAL_MS = 10;
// The ingested file's phones start here: none of the lookups' phones (hits below the seed's
// size, misses from 5M) is among them, so the answers stay the same during the ingest.
const INGEST_OFFSET = 2_000_000;

export const lookupDuringIngestWorkload: Workload = {
  name: 'lookup-ingest',
  summary: 'caller lookups while a 1M-row upload ingests on the same server, vs the same server idle',
  async run(context: BenchContext) {
    const shape = SHAPE[context.mode];
    const seed = cohortFile(shape.seed);
    const big = cohortFile(shape.ingest, INGEST_OFFSET);
    const server = await startRoster();
    try {
      await waitCompleted(server, await uploadCohort(server, seed, 'lookup seed'), seed);
      const planned = lookupPaths(seed.valid);
      await checkLookups(server, planned);
      const paths = planned.map((lookup) => lookup.path);
      const connections = 2 * os.cpus().length;
      const plan = { url: server.url, apiKey: server.apiKey, connections };
      // A 1 s warm-up, then the idle baseline.
      const idleRuns = (
        await load({
          ...plan,
          runs: [
            { paths, seconds: 1 },
            { paths, seconds: shape.seconds },
          ],
        })
      ).slice(1);
      const cohortId = await uploadCohort(server, big, 'big upload');
      const ingestStarted = performance.now();
      const duringRuns = await load({ ...plan, runs: [{ paths, seconds: shape.seconds }] });
      const loadEnded = (performance.now() - ingestStarted) / 1000;
      await waitCompleted(server, cohortId, big);
      const ingestSeconds = (performance.now() - ingestStarted) / 1000;
      const overlap = Math.min(1, ingestSeconds / loadEnded);
      context.log(
        `  ingest of ${fmt.rows(big.rows)} rows took ${fmt.seconds(ingestSeconds)} after its upload; the load ran for the first ${fmt.seconds(loadEnded)}`,
      );
      const idle = summarise(idleRuns);
      const during = summarise(duringRuns);
      return {
        name: 'lookup-ingest',
        rows: [
          {
            workload: `caller lookup while a ${fmt.rows(big.rows)}-row upload ingests, SQLite, ${connections} connections`,
            roster: `${fmt.rate(during.requests_per_sec, 'req')} · p50 ${fmt.ms(during.p50_ms)} · p99 ${fmt.ms(during.p99_ms)}${overlap < 1 ? ` (ingest ended at ${fmt.percent(overlap)} of the load)` : ''}`,
            baseline: `same server idle ${fmt.rate(idle.requests_per_sec, 'req')} · p50 ${fmt.ms(idle.p50_ms)} · p99 ${fmt.ms(idle.p99_ms)}`,
            ratio: `${fmt.times(during.p99_ms / idle.p99_ms)} p99`,
            target: `${verdict(`p99 < ${P99_GOAL_MS} ms`, during.p99_ms < P99_GOAL_MS)}; no errors → met`,
          },
        ],
        data: {
          backend: 'sqlite',
          seed_rows: seed.rows,
          ingest_rows: big.rows,
          ingest_seconds_after_upload: ingestSeconds,
          load_seconds: loadEnded,
          connections,
          idle: { runs: idleRuns, median: idle },
          during: { runs: duringRuns, median: during },
        },
      };
    } finally {
      await server.stop();
    }
  },
};
