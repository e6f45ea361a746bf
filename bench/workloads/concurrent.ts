// Ten uploads at once against one upload of the same total size, each side on its own warm server.
import { cohortFile } from '../data.js';
import { fmt, verdict } from '../report.js';
import { medianOf, repeat } from '../stats.js';
import type { BenchContext, Mode, Workload } from '../workload.js';
import { ingestRun, withWarmRoster, type IngestRun } from './ingest.js';

const SHAPE: Record<Mode, { uploads: number; rows: number }> = {
  quick: { uploads: 10, rows: 5_000 },
  full: { uploads: 10, rows: 100_000 },
};

// Issue 16's target: ten uploads at once take no longer than one upload of all their rows.
const TIME_RATIO_GOAL = 1;

const summarise = (runs: IngestRun[]) => ({
  seconds: medianOf(runs, (r) => r.seconds),
  peak_rss_mb: medianOf(runs, (r) => r.peak_rss_mb),
});

export const concurrentWorkload: Workload = {
  name: 'concurrent',
  summary: '10 concurrent uploads vs one upload of all their rows, SQLite',
  async run(context: BenchContext) {
    const shape = SHAPE[context.mode];
    // Distinct phones per file, as ten different customer lists would have.
    const files = Array.from({ length: shape.uploads }, (_, k) => cohortFile(shape.rows, k * shape.rows));
    const single = cohortFile(shape.uploads * shape.rows);
    const measure = (label: string, batch: typeof files) =>
      withWarmRoster('sqlite', (server) =>
        repeat(
          async (run) => {
            const result = await ingestRun(server, batch);
            context.log(
              `  ${label}, run ${run}: ${fmt.seconds(result.seconds)}, peak RSS ${fmt.mb(result.peak_rss_mb)}`,
            );
            return result;
          },
          (result) => result.seconds,
        ),
      );
    const concurrentRuns = await measure(`${shape.uploads} × ${fmt.rows(shape.rows)}`, files);
    const singleRuns = await measure(`1 × ${fmt.rows(single.rows)}`, [single]);
    const concurrent = summarise(concurrentRuns);
    const one = summarise(singleRuns);
    return {
      name: 'concurrent',
      rows: [
        {
          workload: `${shape.uploads} concurrent ${fmt.rows(shape.rows)}-row uploads, SQLite`,
          roster: `${fmt.seconds(concurrent.seconds)} total · peak RSS ${fmt.mb(concurrent.peak_rss_mb)}`,
          baseline: `one ${fmt.rows(single.rows)}-row upload ${fmt.seconds(one.seconds)} · peak RSS ${fmt.mb(one.peak_rss_mb)}`,
          ratio: `${fmt.times(concurrent.seconds / one.seconds)} time, ${fmt.times(concurrent.peak_rss_mb / one.peak_rss_mb)} RSS`,
          target: verdict(`time ≤ ${TIME_RATIO_GOAL}×`, concurrent.seconds / one.seconds <= TIME_RATIO_GOAL),
        },
      ],
      data: {
        backend: 'sqlite',
        uploads: shape.uploads,
        rows_per_upload: shape.rows,
        concurrent: { runs: concurrentRuns, median: concurrent },
        single: { rows: single.rows, runs: singleRuns, median: one },
      },
    };
  },
};
