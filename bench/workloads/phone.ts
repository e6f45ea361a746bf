// Phone normalisation alone, in this process: the share of ingest that libphonenumber takes.
import { normalisePhone } from '../../src/domain/ingest/phone.js';
import { phoneValues } from '../data.js';
import { fmt } from '../report.js';
import { medianOf } from '../stats.js';
import type { BenchContext, Workload } from '../workload.js';

const COUNT = { quick: 100_000, full: 1_000_000 };

interface PhoneRun {
  seconds: number;
  values_per_sec: number;
  accepted: number;
}

function normaliseAll(values: readonly string[]): PhoneRun {
  const started = performance.now();
  let accepted = 0;
  for (const value of values) if (normalisePhone(value, 'IN').ok) accepted++;
  const seconds = (performance.now() - started) / 1000;
  return { seconds, values_per_sec: values.length / seconds, accepted };
}

/** How long the largest SQLite ingest's number of phones takes here on one thread, against that ingest's wall time. */
function shareOfIngest(context: BenchContext, valuesPerSec: number): { text: string; share: number | null } {
  const sizes = context.earlier.get('ingest-sqlite')?.data.sizes as
    | { rows: number; shuffled: boolean; median: { seconds: number } }[]
    | undefined;
  const largest = sizes?.filter((size) => !size.shuffled).at(-1);
  if (!largest) return { text: '—', share: null };
  const seconds = largest.rows / valuesPerSec;
  const share = seconds / largest.median.seconds;
  return {
    text: `${fmt.rows(largest.rows)} take ${fmt.seconds(seconds)} = ${fmt.percent(share)} of the ${fmt.rows(largest.rows)}-row SQLite ingest`,
    share,
  };
}

export const phoneWorkload: Workload = {
  name: 'phone',
  summary: 'normalisePhone on generated cells (same mix as the files), one thread',
  async run(context) {
    const values = phoneValues(COUNT[context.mode]);
    normaliseAll(values.slice(0, 20_000)); // warm the JIT and libphonenumber's metadata
    const runs: PhoneRun[] = [];
    for (let run = 1; run <= 3; run++) {
      const result = normaliseAll(values);
      runs.push(result);
      context.log(`  run ${run}: ${fmt.rate(result.values_per_sec, 'values')}`);
    }
    const valuesPerSec = medianOf(runs, (r) => r.values_per_sec);
    const share = shareOfIngest(context, valuesPerSec);
    return {
      name: 'phone',
      rows: [
        {
          workload: `phone normalisation, ${fmt.rows(values.length)} values`,
          roster: fmt.rate(valuesPerSec, 'values'),
          baseline: '—',
          ratio: share.text,
          target: '—',
        },
      ],
      data: { values: values.length, runs, median_values_per_sec: valuesPerSec, share_of_sqlite_ingest: share.share },
    };
  },
};
