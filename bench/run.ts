// `npm run bench [-- --quick] [-- --only=ingest-sqlite,lookup]`: runs the workloads of issues 5 and 16, each
// with its baseline in the same run, prints one table and writes bench/results/<date>-<mode>.json.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { commit, heading, machine, table, writeReport } from './report.js';
import { postgresProblem } from './postgres.js';
import { ROOT } from './roster.js';
import { concurrentWorkload } from './workloads/concurrent.js';
import { erasureWorkload } from './workloads/erasure.js';
import { ingestWorkload } from './workloads/ingest.js';
import { lookupWorkload } from './workloads/lookup.js';
import { lookupDuringIngestWorkload } from './workloads/lookup-during-ingest.js';
import { phoneWorkload } from './workloads/phone.js';
import { rowWorkWorkload } from './workloads/row-work.js';
import type { BenchContext, Mode, Workload, WorkloadResult } from './workload.js';

// In this order: the phone and row-work workloads relate their figures to the ingests that ran before them.
const WORKLOADS: Workload[] = [
  ingestWorkload('sqlite'),
  ingestWorkload('postgres'),
  phoneWorkload,
  rowWorkWorkload,
  lookupWorkload,
  lookupDuringIngestWorkload,
  concurrentWorkload,
  erasureWorkload,
];

const USAGE = `Usage: npm run bench [-- --quick] [-- --only=<workload,…>]

Runs each workload of the benchmark and its baseline in the same run on this machine, prints one
table and writes bench/results/<date>-<quick|full>.json. Data is generated under bench/.data/.

  --quick          small sizes (what CI runs; under 2 minutes on 2 cores)
  --only=a,b       run only these workloads:
${WORKLOADS.map((w) => `                     ${w.name.padEnd(16)} ${w.summary}`).join('\n')}
  --help           this text

PostgreSQL: ROSTER_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); when it
cannot be reached its rows are skipped with the reason, except with CI=true, where that fails.
ROSTER_BENCH_SERVER_LOG=1 shows the bench servers' own log (warnings and errors) on stderr;
ROSTER_BENCH_SERVER_FLAGS adds Node flags to them (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").`;

function parseArgs(argv: string[]): { mode: Mode; only: Workload[] } {
  let mode: Mode = 'full';
  let only = WORKLOADS;
  for (const arg of argv) {
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg.startsWith('--only=')) {
      const names = arg
        .slice('--only='.length)
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      const unknown = names.filter((name) => !WORKLOADS.some((w) => w.name === name));
      if (unknown.length > 0 || names.length === 0)
        throw new UsageError(`unknown workload(s): ${unknown.join(', ') || '(none given)'}`);
      only = WORKLOADS.filter((w) => names.includes(w.name));
    } else throw new UsageError(`unknown argument: ${arg}`);
  }
  return { mode, only };
}

class UsageError extends Error {}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/**
 * Compiles src/ and bench/server.ts into dist/ (tsconfig.build.json), so the servers measured run
 * the compiled JavaScript `npm start` runs, never a stale build or the tsx loader's overhead.
 */
function build(log: (line: string) => void): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = performance.now();
  execFileSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  log(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const { mode, only } = parseArgs(process.argv.slice(2));
  const started = new Date();
  const clock = performance.now();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const host = machine();
  const startCommit = commit();
  if (host.load_average_at_start > 0.7)
    log(`warning: the machine is busy (1-minute load average ${host.load_average_at_start}); figures may be disturbed`);
  const problem = only.some((w) => w.name === 'ingest-postgres') ? await postgresProblem() : undefined;
  if (problem) log(problem);
  build(log);
  const earlier = new Map<string, WorkloadResult>();
  const context: BenchContext = { mode, postgresProblem: problem, earlier, log };
  for (const workload of only) {
    log(`== ${workload.name}: ${workload.summary}`);
    const phase = performance.now();
    const result = await workload.run(context);
    if (result.skipped) log(`  skipped: ${result.skipped}`);
    earlier.set(workload.name, result);
    log(`  (${((performance.now() - phase) / 1000).toFixed(1)} s)`);
  }
  const { path, report } = writeReport(started, startCommit, host, mode, (performance.now() - clock) / 1000, [
    ...earlier.values(),
  ]);
  process.stdout.write(`\n${heading(report)}\n\n${table(report.table)}\n\nRaw runs and medians: ${path}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof UsageError ? `${error.message}\n\n${USAGE}` : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(error instanceof UsageError ? 2 : 1);
});
