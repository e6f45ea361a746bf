// The ingest floors: each database's own bulk CSV loader, reading the same file into a plain table.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CsvFile } from './data.js';
import { createScratchDatabase } from './postgres.js';

/** Why a command-line tool cannot run, or undefined when `tool --version` works. */
export function toolProblem(tool: string, debianPackage: string): string | undefined {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${tool} is not installed (Debian package ${debianPackage})`;
}

function timed(command: string, args: string[], input?: string): number {
  const started = performance.now();
  const run = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 1 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  return seconds;
}

/** `sqlite3 x.db` with `.mode csv` + `.import file t` into a new table; seconds, process start included. */
export function sqliteImportSeconds(file: CsvFile): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roster-bench-sqlite3-'));
  try {
    const seconds = timed('sqlite3', [path.join(dir, 'x.db')], `.mode csv\n.import '${file.path}' t\n`);
    const count = spawnSync('sqlite3', [path.join(dir, 'x.db'), 'select count(*) from t'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (Number(count) !== file.rows) throw new Error(`sqlite3 .import loaded ${count} rows, expected ${file.rows}`);
    return seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `psql \copy` into an unlogged table of six text columns in a scratch database; seconds. */
export async function postgresCopySeconds(file: CsvFile): Promise<number> {
  const database = await createScratchDatabase();
  try {
    timed('psql', [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      database.url,
      '-c',
      'create unlogged table t (mobile text, name text, balance text, payment_due text, preferred_language text, customer_id text)',
    ]);
    const seconds = timed('psql', [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      database.url,
      '-c',
      `\\copy t from '${file.path}' with (format csv, header true)`,
    ]);
    const count = spawnSync('psql', ['-X', '-At', database.url, '-c', 'select count(*) from t'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (Number(count) !== file.rows) throw new Error(`psql \\copy loaded ${count} rows, expected ${file.rows}`);
    return seconds;
  } finally {
    await database.drop();
  }
}
