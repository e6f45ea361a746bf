// The printed table and the JSON file under bench/results/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR } from './data.js';
import { inheritedSettings, startNodeFlags } from './roster.js';
import type { Mode, TableRow, WorkloadResult } from './workload.js';

export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

export const fmt = {
  seconds: (s: number) => `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`,
  rate: (perSecond: number, unit: string) =>
    `${perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : perSecond >= 1e4 ? `${(perSecond / 1e3).toFixed(1)}k` : perSecond.toFixed(0)} ${unit}/s`,
  mb: (mb: number) => `${mb.toFixed(0)} MB`,
  ms: (ms: number) => `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`,
  times: (ratio: number) => `${ratio.toFixed(ratio < 10 ? 2 : 1)}×`,
  percent: (ratio: number) => `${(ratio * 100).toFixed(0)}%`,
  rows: (rows: number) =>
    rows >= 1e6 && rows % 1e6 === 0
      ? `${rows / 1e6}M`
      : rows >= 1e3 && rows % 1e3 === 0
        ? `${rows / 1e3}k`
        : String(rows),
};

/** "goal → met" or "goal → MISSED", so misses stand out in the table. */
export function verdict(goal: string, met: boolean): string {
  return `${goal} → ${met ? 'met' : 'MISSED'}`;
}

export interface Machine {
  cores: number;
  memory_gib: number;
  cpu_model: string;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine disturbs the figures. */
  load_average_at_start: number;
}

/** How the bench servers ran. */
export interface ServerSetup {
  /** Node flags: those of `npm start`. */
  node_flags: string[];
  /** ROSTER_* settings inherited from the environment; empty means defaults. */
  settings: Record<string, string>;
}

export function serverSetup(): ServerSetup {
  return { node_flags: startNodeFlags(), settings: inheritedSettings() };
}

/** The machine, and how busy it is right now. */
export function machine(): Machine {
  return {
    cores: os.cpus().length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    load_average_at_start: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** The short commit, marked when the code under test (src/, migrations/) has uncommitted changes. */
export function commit(): string {
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: path.dirname(BENCH_DIR),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  try {
    const hash = git(['rev-parse', '--short', 'HEAD']);
    return git(['status', '--porcelain', '--', 'src', 'migrations']) === ''
      ? hash
      : `${hash} + uncommitted changes in src/`;
  } catch {
    return 'unknown';
  }
}

const COLUMNS: (keyof TableRow)[] = ['workload', 'roster', 'baseline', 'ratio', 'target'];
const TITLES: TableRow = {
  workload: 'workload',
  roster: 'Roster',
  baseline: 'baseline (same run)',
  ratio: 'ratio',
  target: 'target',
};

/** One aligned Markdown table, so the printed output can be pasted into the README as is. */
export function table(rows: readonly TableRow[]): string {
  const width = (column: keyof TableRow) => Math.max(...[TITLES, ...rows].map((row) => [...row[column]].length));
  const widths = COLUMNS.map(width);
  const line = (row: TableRow) =>
    `| ${COLUMNS.map((column, i) => row[column] + ' '.repeat((widths[i] ?? 0) - [...row[column]].length)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(TITLES), rule, ...rows.map(line)].join('\n');
}

export interface Report {
  date: string;
  mode: Mode;
  commit: string;
  machine: Machine;
  servers: ServerSetup;
  duration_seconds: number;
  table: TableRow[];
  workloads: Record<string, WorkloadResult['data']>;
}

/** Writes bench/results/<date>-<mode>.json and answers its path; `host` and `startCommit` are as they were at the start. */
export function writeReport(
  started: Date,
  startCommit: string,
  host: Machine,
  mode: Mode,
  seconds: number,
  results: readonly WorkloadResult[],
): { path: string; report: Report } {
  const endCommit = commit();
  const report: Report = {
    date: started.toISOString(),
    mode,
    // Servers compile src/ when they start: a tree that changed mid-run mixed two versions.
    commit:
      endCommit === startCommit ? startCommit : `${startCommit}, then ${endCommit} (the tree changed during the run)`,
    machine: host,
    servers: serverSetup(),
    duration_seconds: Math.round(seconds * 10) / 10,
    table: results.flatMap((result) => result.rows),
    workloads: Object.fromEntries(results.map((result) => [result.name, result.data])),
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(
    RESULTS_DIR,
    `${started
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replace(/:/g, '-')}-${mode}.json`,
  );
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return { path: file, report };
}

/** The lines printed above the table: when, where, what. */
export function heading(report: Report): string {
  const m = report.machine;
  const settings = Object.entries(report.servers.settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  return [
    `Roster benchmark (${report.mode}) — ${report.date.slice(0, 16).replace('T', ' ')} UTC, commit ${report.commit}`,
    `${m.cores} cores (${m.cpu_model}), ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}; took ${fmt.seconds(report.duration_seconds)}`,
    `servers: node ${[...report.servers.node_flags, 'dist/bench/server.js'].join(' ')}${settings === '' ? '' : ` with ${settings}`}; load average at start ${m.load_average_at_start}`,
  ].join('\n');
}
