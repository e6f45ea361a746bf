// An erasure request's file work (#17): a stored cohort file read through and, since it holds the
// number, written again without that row (erasure-files.ts: a counting pass, then a writing pass),
// and a file without the number, which is only read. Both against reading the file alone, as the
// ingest's parser does, in the same run.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readCsvRecords } from '../../src/services/cohorts/csv-source.js';
import { numberMatcher, rewriteWithout } from '../../src/services/erasure/erasure-files.js';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import { cohortFile, FIRST_PHONE } from '../data.js';
import { fmt } from '../report.js';
import { median } from '../stats.js';
import type { BenchContext, Workload } from '../workload.js';

const ROWS = { quick: 50_000, full: 1_000_000 };
const KEY = 'cohorts/bench/source.csv';
const MAX_ROW_BYTES = 16 * 1024 * 1024;

async function seconds<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

async function readAlone(blobs: LocalBlobStore): Promise<number> {
  const records = await readCsvRecords(await blobs.get(KEY), 'utf-8', { maxRowBytes: MAX_ROW_BYTES });
  let rows = 0;
  try {
    for await (const batch of records.batches) rows += batch.length;
  } finally {
    records.close();
  }
  return rows;
}

export const erasureWorkload: Workload = {
  name: 'erasure',
  summary: "an erasure's rewrite of a stored cohort file without one number, vs reading the file alone",
  async run(context: BenchContext) {
    const file = cohortFile(ROWS[context.mode]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-bench-erasure-'));
    try {
      const blobs = new LocalBlobStore(dir);
      await blobs.put(KEY, createReadStream(file.path));
      // A valid row's number, held once (the middle one), and a number the file does not hold.
      const held = `+91${FIRST_PHONE + file.offset + Math.floor(file.valid / 2)}`;
      const absent = '+917000000001';
      const signal = new AbortController().signal;
      await readAlone(blobs); // warm the parser and the page cache
      const runs: Array<{ read_seconds: number; rewrite_seconds: number; scan_seconds: number }> = [];
      for (let run = 1; run <= 3; run++) {
        const read = await seconds(() => readAlone(blobs));
        if (read.value !== file.rows) throw new Error(`erasure bench: read ${read.value} rows, expected ${file.rows}`);
        const rewrite = await seconds(() =>
          rewriteWithout(
            blobs,
            { key: KEY, encoding: 'utf-8', kind: 'source' },
            `cohorts/bench/erased-${run}.csv`,
            numberMatcher([held], 'IN'),
            MAX_ROW_BYTES,
            signal,
          ),
        );
        if (rewrite.value.kind !== 'rewritten' || rewrite.value.removed !== 1)
          throw new Error(
            `erasure bench: the rewrite answered ${JSON.stringify(rewrite.value)}, expected 1 row removed`,
          );
        const scan = await seconds(() =>
          rewriteWithout(
            blobs,
            { key: KEY, encoding: 'utf-8', kind: 'source' },
            'cohorts/bench/unused.csv',
            numberMatcher([absent], 'IN'),
            MAX_ROW_BYTES,
            signal,
          ),
        );
        if (scan.value.kind !== 'clean') throw new Error(`erasure bench: the scan answered ${scan.value.kind}`);
        runs.push({ read_seconds: read.seconds, rewrite_seconds: rewrite.seconds, scan_seconds: scan.seconds });
        context.log(
          `  run ${run}: read ${fmt.seconds(read.seconds)}, rewrite ${fmt.seconds(rewrite.seconds)}, scan of a file without it ${fmt.seconds(scan.seconds)}`,
        );
      }
      const read = median(runs.map((r) => r.read_seconds));
      const rewrite = median(runs.map((r) => r.rewrite_seconds));
      const scan = median(runs.map((r) => r.scan_seconds));
      return {
        name: 'erasure',
        rows: [
          {
            workload: `erasure: a stored ${fmt.rows(file.rows)}-row cohort file rewritten without one number`,
            roster: `${fmt.seconds(rewrite)} (${fmt.rate(file.rows / rewrite, 'rows')})`,
            baseline: `reading it alone ${fmt.seconds(read)}`,
            ratio: fmt.times(rewrite / read),
            // No issue sets a goal for it: the figures are kept to see it move.
            target: '—',
          },
          {
            workload: `erasure: the same file, without the number, read through`,
            roster: `${fmt.seconds(scan)} (${fmt.rate(file.rows / scan, 'rows')})`,
            baseline: `reading it alone ${fmt.seconds(read)}`,
            ratio: fmt.times(scan / read),
            target: '—',
          },
        ],
        data: {
          rows: file.rows,
          bytes: file.bytes,
          runs,
          median_read_seconds: read,
          median_rewrite_seconds: rewrite,
          median_scan_seconds: scan,
        },
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
