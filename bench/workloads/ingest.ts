// Ingest: POST /upload until `completed`, against the database's own bulk loader on the same file.
import { cohortFile, shuffledCohortFile, type CsvFile } from '../data.js';
import { postgresCopySeconds, sqliteImportSeconds, toolProblem } from '../floors.js';
import { createScratchDatabase } from '../postgres.js';
import { fmt, verdict } from '../report.js';
import { sampleRss, startRoster, uploadCohort, waitCompleted, type RosterProcess } from '../roster.js';
import { median, medianOf, repeat } from '../stats.js';
import {
  skipOrFail,
  type BenchContext,
  type Mode,
  type TableRow,
  type Workload,
  type WorkloadResult,
} from '../workload.js';

export type Backend = 'sqlite' | 'postgres';

export const INGEST_SIZES: Record<Mode, number[]> = { quick: [20_000, 50_000], full: [100_000, 300_000, 1_000_000] };
// Issue 16's targets: ingest within 5× `sqlite3 .import` / 8× `psql \copy` of the same file, the
// server's peak RSS at most 256 MB and flat (≤ 1.15× from the smallest file to the largest).
const FLOOR_RATIO_GOAL: Record<Backend, number> = { sqlite: 5, postgres: 8 };
const RSS_GOAL_MB = 256;
const RSS_GROWTH_TOLERANCE = 1.15;
// "Linear" allows this much growth in time per row from the smallest to the largest file.
const TIME_GROWTH_TOLERANCE = 1.2;

export interface IngestRun {
  seconds: number;
  upload_seconds: number;
  rows_per_sec: number;
  peak_rss_mb: number;
}

// A first upload on a fresh process pays for worker start-up and JIT; measured runs come after one.
// 15k rows is just over 1 MB, so the warm-up takes the same path (worker threads) as the measured files.
const WARM_UP_ROWS = 15_000;
const WARM_UP_OFFSET = 7_000_000;

/**
 * A fresh server (and, on PostgreSQL, a fresh database) that has ingested one warm-up file, for `use`;
 * stopped and dropped after.
 */
export async function withWarmRoster<T>(backend: Backend, use: (server: RosterProcess) => Promise<T>): Promise<T> {
  const database = backend === 'postgres' ? await createScratchDatabase() : undefined;
  try {
    const server = await startRoster(database?.url);
    try {
      const warmUp = cohortFile(WARM_UP_ROWS, WARM_UP_OFFSET);
      await waitCompleted(server, await uploadCohort(server, warmUp, 'warm-up'), warmUp);
      return await use(server);
    } finally {
      await server.stop();
    }
  } finally {
    await database?.drop();
  }
}

/** Uploads the files at once and waits for all to complete: seconds from the first byte, and peak RSS. */
export async function ingestRun(server: RosterProcess, files: readonly CsvFile[]): Promise<IngestRun> {
  const rss = sampleRss(server.pid);
  const started = performance.now();
  let uploaded = started;
  await Promise.all(
    files.map(async (file, i) => {
      const id = await uploadCohort(server, file, `bench ${i + 1}`);
      uploaded = Math.max(uploaded, performance.now());
      await waitCompleted(server, id, file);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const rows = files.reduce((sum, file) => sum + file.rows, 0);
  return {
    seconds,
    upload_seconds: (uploaded - started) / 1000,
    rows_per_sec: rows / seconds,
    peak_rss_mb: await rss.stop(),
  };
}

const LABEL: Record<Backend, { db: string; floor: string; tool: string; debian: string }> = {
  sqlite: { db: 'SQLite', floor: 'sqlite3 .import', tool: 'sqlite3', debian: 'sqlite3' },
  postgres: { db: 'PostgreSQL', floor: 'psql \\copy', tool: 'psql', debian: 'postgresql-client' },
};

async function floorRuns(backend: Backend, file: CsvFile): Promise<number[]> {
  const runs: number[] = [];
  for (let i = 0; i < 3; i++)
    runs.push(backend === 'sqlite' ? sqliteImportSeconds(file) : await postgresCopySeconds(file));
  return runs;
}

interface SizeResult {
  rows: number;
  /** The rows in a shuffled order (shuffledCohortFile) rather than sorted by phone. */
  shuffled: boolean;
  bad_rows: number;
  file_mb: number;
  runs: IngestRun[];
  median: IngestRun;
  floor_runs: number[] | null;
  floor_seconds: number | null;
}

async function measureSize(
  backend: Backend,
  rows: number,
  withFloor: boolean,
  context: BenchContext,
  shuffled = false,
): Promise<SizeResult> {
  const file = shuffled ? shuffledCohortFile(rows) : cohortFile(rows);
  const floor = withFloor ? await floorRuns(backend, file) : null;
  const runs = await withWarmRoster(backend, (server) =>
    repeat(
      async (run) => {
        const result = await ingestRun(server, [file]);
        context.log(
          `  ${fmt.rows(rows)} rows${shuffled ? ' (shuffled)' : ''}, run ${run}: ${fmt.seconds(result.seconds)}, peak RSS ${fmt.mb(result.peak_rss_mb)}`,
        );
        return result;
      },
      (run) => run.seconds,
    ),
  );
  return {
    rows,
    shuffled,
    bad_rows: file.bad,
    file_mb: Math.round((file.bytes / 1e6) * 10) / 10,
    runs,
    median: {
      seconds: medianOf(runs, (r) => r.seconds),
      upload_seconds: medianOf(runs, (r) => r.upload_seconds),
      rows_per_sec: medianOf(runs, (r) => r.rows_per_sec),
      peak_rss_mb: medianOf(runs, (r) => r.peak_rss_mb),
    },
    floor_runs: floor,
    floor_seconds: floor ? median(floor) : null,
  };
}

function rowsFor(backend: Backend, sizes: readonly SizeResult[], floorProblem: string | undefined): TableRow[] {
  const label = LABEL[backend];
  const rows = sizes.map((size): TableRow => {
    const ratio = size.floor_seconds === null ? undefined : size.median.seconds / size.floor_seconds;
    return {
      workload: `ingest ${fmt.rows(size.rows)} rows (${size.file_mb} MB)${size.shuffled ? ', phones shuffled' : ''}, ${label.db}`,
      roster: `${fmt.seconds(size.median.seconds)} · ${fmt.rate(size.median.rows_per_sec, 'rows')} · peak RSS ${fmt.mb(size.median.peak_rss_mb)}`,
      baseline:
        size.floor_seconds === null
          ? `${label.floor}: ${floorProblem}`
          : `${label.floor} ${fmt.seconds(size.floor_seconds)}`,
      ratio: ratio === undefined ? '—' : fmt.times(ratio),
      target: [
        ratio === undefined
          ? undefined
          : verdict(`≤ ${FLOOR_RATIO_GOAL[backend]}×`, ratio <= FLOOR_RATIO_GOAL[backend]),
        verdict(`RSS ≤ ${RSS_GOAL_MB} MB`, size.median.peak_rss_mb <= RSS_GOAL_MB),
      ]
        .filter(Boolean)
        .join('; '),
    };
  });
  const sorted = sizes.filter((size) => !size.shuffled);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first && last && sorted.length > 1) {
    const perRow = (size: SizeResult) => size.median.seconds / size.rows;
    const sizesText = sorted.map((size) => fmt.rows(size.rows)).join(' / ');
    const timeGrowth = perRow(last) / perRow(first);
    const rssGrowth = last.median.peak_rss_mb / first.median.peak_rss_mb;
    rows.push({
      workload: `ingest time per 100k rows, ${label.db} (${sizesText})`,
      roster: sorted.map((size) => fmt.seconds(perRow(size) * 100_000)).join(' / '),
      baseline: sorted.every((size) => size.floor_seconds !== null)
        ? sorted.map((size) => fmt.seconds(((size.floor_seconds as number) / size.rows) * 100_000)).join(' / ')
        : '—',
      ratio: `${fmt.times(timeGrowth)} largest/smallest`,
      target: verdict(`linear (≤ ${TIME_GROWTH_TOLERANCE}×)`, timeGrowth <= TIME_GROWTH_TOLERANCE),
    });
    rows.push({
      workload: `ingest peak RSS, ${label.db} (${sizesText})`,
      roster: sorted.map((size) => fmt.mb(size.median.peak_rss_mb)).join(' / '),
      baseline: '—',
      ratio: `${fmt.times(rssGrowth)} largest/smallest`,
      target: verdict(`flat (≤ ${RSS_GROWTH_TOLERANCE}×)`, rssGrowth <= RSS_GROWTH_TOLERANCE),
    });
  }
  return rows;
}

/** Ingest at every size of the mode on one backend, each size against its floor. */
export function ingestWorkload(backend: Backend): Workload {
  const name = `ingest-${backend}`;
  const label = LABEL[backend];
  return {
    name,
    summary: `POST /upload until completed on ${label.db}, against ${label.floor} of the same file`,
    async run(context: BenchContext): Promise<WorkloadResult> {
      if (backend === 'postgres' && context.postgresProblem)
        return skipOrFail(name, `ingest, ${label.db}`, context.postgresProblem);
      const floorProblem = toolProblem(label.tool, label.debian);
      if (floorProblem && process.env.CI === 'true')
        throw new Error(`${name}: ${floorProblem} (CI=true: not skipping the floor)`);
      const sizes: SizeResult[] = [];
      const measured = INGEST_SIZES[context.mode];
      for (const rows of measured) sizes.push(await measureSize(backend, rows, floorProblem === undefined, context));
      // The largest file again with its rows shuffled: how a typical export (not sorted by phone) fares.
      const largest = measured[measured.length - 1] as number;
      sizes.push(await measureSize(backend, largest, floorProblem === undefined, context, true));
      return {
        name,
        rows: rowsFor(backend, sizes, floorProblem),
        data: { backend, floor: label.floor, floor_problem: floorProblem ?? null, sizes },
      };
    },
  };
}
