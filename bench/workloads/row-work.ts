// The per-row work of an ingest alone, on one thread, before any write: reading the file (decoding
// and papaparse, as readCsvRecords does for the ingest) and the row transform (phone validation,
// the config's formats, each row's JSON). Spread perfectly over the machine's cores, that CPU time is
// the least any ingest of the file can take here, and it is set against the same run's floors.
import { createReadStream } from 'node:fs';
import os from 'node:os';
import { parseTransformationText } from '../../src/domain/ingest/transformation-config.js';
import { readCsvRecords } from '../../src/services/cohorts/csv-source.js';
import { type PlanInput, transformerFor } from '../../src/services/cohorts/row-transformer.js';
import { type CsvFile, cohortFile } from '../data.js';
import { fmt } from '../report.js';
import { BENCH_CONFIG } from '../roster.js';
import { median } from '../stats.js';
import type { BenchContext, Workload } from '../workload.js';

const ROWS = { quick: 50_000, full: 1_000_000 };
const AGENT_VARIABLES = ['customer_name', 'outstanding_amount', 'due_date'].map((name) => ({
  name,
  required: name === 'customer_name',
  default: null,
  description: null,
}));

interface RowWorkRun {
  /** CPU seconds of this process (its V8 helper threads' garbage collection included). */
  read_cpu_seconds: number;
  read_and_transform_cpu_seconds: number;
  kept: number;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Reads the file as the ingest does; with `transform`, transforms each parsed chunk too. */
async function pass(file: CsvFile, transform: boolean): Promise<{ cpu: number; kept: number }> {
  const started = process.cpuUsage();
  const records = await readCsvRecords(createReadStream(file.path), 'utf-8');
  const parsed = parseTransformationText(JSON.stringify(BENCH_CONFIG));
  if (!parsed.ok) throw new Error('the bench config does not parse');
  const input: PlanInput = {
    config: parsed.config,
    header: records.header ?? [],
    agentVariables: AGENT_VARIABLES,
    options: { defaultCountry: 'IN' },
  };
  const transformRows = transformerFor(input);
  let kept = 0;
  try {
    for await (const rows of records.batches) {
      if (!transform) continue;
      const unit = transformRows(rows);
      for (const flag of unit.kept) kept += flag;
    }
  } finally {
    records.close();
  }
  return { cpu: cpuSeconds(started), kept };
}

/** The largest sorted file's floor in an ingest workload that ran before this one, in seconds. */
function floorOf(context: BenchContext, workload: string, rows: number): number | null {
  const sizes = context.earlier.get(workload)?.data.sizes as
    | { rows: number; shuffled: boolean; floor_seconds: number | null }[]
    | undefined;
  return sizes?.find((size) => size.rows === rows && !size.shuffled)?.floor_seconds ?? null;
}

export const rowWorkWorkload: Workload = {
  name: 'row-work',
  summary: "an ingest's reading and row transform alone, one thread: the least an ingest can take here",
  async run(context) {
    const file = cohortFile(ROWS[context.mode]);
    await pass(cohortFile(15_000), true); // warm the JIT and libphonenumber's metadata
    const runs: RowWorkRun[] = [];
    for (let run = 1; run <= 3; run++) {
      const read = await pass(file, false);
      const both = await pass(file, true);
      if (both.kept !== file.valid) throw new Error(`row-work: ${both.kept} rows kept, expected ${file.valid}`);
      runs.push({ read_cpu_seconds: read.cpu, read_and_transform_cpu_seconds: both.cpu, kept: both.kept });
      context.log(`  run ${run}: read ${fmt.seconds(read.cpu)} CPU, read and transform ${fmt.seconds(both.cpu)} CPU`);
    }
    const read = median(runs.map((r) => r.read_cpu_seconds));
    const both = median(runs.map((r) => r.read_and_transform_cpu_seconds));
    const cores = os.availableParallelism();
    const least = both / cores;
    const against = [
      ['ingest-sqlite', 'sqlite3 .import', 5],
      ['ingest-postgres', 'psql \\copy', 8],
    ] as const;
    const floors = against.flatMap(([workload, tool, target]) => {
      const floor = floorOf(context, workload, file.rows);
      return floor === null ? [] : [{ tool, target, floor, times: least / floor }];
    });
    return {
      name: 'row-work',
      rows: [
        {
          workload: `reading and transforming ${fmt.rows(file.rows)} rows alone, one thread (no writes)`,
          roster: `${fmt.seconds(both)} CPU (reading alone ${fmt.seconds(read)})`,
          baseline: '—',
          ratio:
            floors.length === 0
              ? `over ${cores} cores at least ${fmt.seconds(least)}`
              : `over ${cores} cores at least ${fmt.seconds(least)} = ${floors.map((f) => `${fmt.times(f.times)} ${f.tool}`).join(', ')}`,
          target:
            floors.length === 0
              ? '—'
              : floors
                  .map((f) => `${f.target}× ${f.tool} leaves ${fmt.percent(1 - f.times / f.target)} for the rest`)
                  .join('; '),
        },
      ],
      data: {
        rows: file.rows,
        runs,
        median_read_cpu_seconds: read,
        median_read_and_transform_cpu_seconds: both,
        cores,
        least_seconds: least,
        against_floors: floors,
      },
    };
  },
};
