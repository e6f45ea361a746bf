import { formatCount, formatDuration } from '../domain/ingest/progress-text.js';
import type { CohortProgressView } from '../services/cohorts/cohort-service.js';
import { loadBars, type Progress, SPINNER, stoppedOnInterrupt } from './progress.js';

/** A processing cohort's `progress`, as the server reports it (README: Cohorts, Progress): the server's own type. */
export type CohortProgress = CohortProgressView;

/** `120,000 rows (42% of the file) since 2026-…`: a processing cohort's progress on one line, for `cohorts get`. */
export function progressSummary(progress: CohortProgress | undefined): string {
  if (progress === undefined) return '-';
  const total = progress.bytes_total;
  const share =
    total === null || total <= 0
      ? ''
      : ` (${Math.floor((Math.min(progress.bytes_processed, total) / total) * 100)}% of the file)`;
  return `${formatCount(progress.rows_processed)} rows${share} since ${progress.started_at}`;
}

/** What the bar shows of one report: the share of the file read (when its size is known) and a line of figures. */
export interface ProgressFigures {
  fraction: number | undefined;
  line: string;
}

/**
 * Follows one cohort's progress across polls. Rates are measured between the reports this process
 * saw, by its own clock (never against the server's `started_at`, which another clock wrote), and
 * start again when a retried attempt does. The ETA comes from the bytes left at the bytes' rate.
 */
export class ProgressRates {
  private first: { at: number; rows: number; bytes: number; attempt: string } | undefined;

  see(progress: CohortProgress, at: number): ProgressFigures {
    if (this.first?.attempt !== progress.started_at)
      this.first = { at, rows: progress.rows_processed, bytes: progress.bytes_processed, attempt: progress.started_at };
    const seconds = (at - this.first.at) / 1000;
    const total = progress.bytes_total;
    const fraction = total === null || total <= 0 ? undefined : Math.min(1, progress.bytes_processed / total);
    const parts = [`${formatCount(progress.rows_processed)} rows`];
    if (fraction !== undefined) parts.unshift(`${Math.floor(fraction * 100)}%`);
    const rowRate = seconds >= 0.5 ? (progress.rows_processed - this.first.rows) / seconds : undefined;
    parts.push(rowRate === undefined ? '… rows/s' : `${formatCount(Math.round(rowRate))} rows/s`);
    if (total !== null) {
      const byteRate = seconds >= 0.5 ? (progress.bytes_processed - this.first.bytes) / seconds : 0;
      const left = Math.max(0, total - progress.bytes_processed);
      parts.push(byteRate > 0 ? `ETA ${formatDuration(left / byteRate)}` : 'ETA …');
    }
    return { fraction, line: parts.join(' | ') };
  }
}

/** While `--wait` polls a cohort: its status, and once the server reports progress, a bar with the figures. */
export interface CohortWaitProgress extends Progress {
  report(progress: CohortProgress | undefined): void;
}

const NO_WAIT_PROGRESS: CohortWaitProgress = {
  add: () => undefined,
  status: () => undefined,
  report: () => undefined,
  stop: () => undefined,
};

/**
 * A spinner with the cohort's status and the time spent; once the cohort reports `progress`, a bar
 * of the file's bytes read, rows written, rows/s and the time left.
 */
export async function cohortWaitProgress(
  label: string,
  initialStatus: string,
  enabled: boolean,
): Promise<CohortWaitProgress> {
  if (!enabled) return NO_WAIT_PROGRESS;
  const cliProgress = await loadBars();
  const started = Date.now();
  const rates = new ProgressRates();
  let frame = 0;
  let status = initialStatus;
  let figures: ProgressFigures | undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      hideCursor: true,
      barsize: 30,
      format: (options) => {
        const shown = [`${SPINNER[frame]} ${label}: ${status}`];
        if (figures?.fraction !== undefined) shown.push(`[${cliProgress.Format.BarFormat(figures.fraction, options)}]`);
        if (figures) shown.push(figures.line);
        shown.push(`(${formatDuration((Date.now() - started) / 1000)})`);
        return shown.join(' ');
      },
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0);
  const timer = setInterval(() => {
    frame = (frame + 1) % SPINNER.length;
    bar.update(0);
  }, 100);
  return {
    add: () => undefined,
    status(text) {
      status = text;
    },
    report(progress) {
      figures = progress === undefined ? undefined : rates.see(progress, Date.now());
    },
    stop: stoppedOnInterrupt(() => {
      clearInterval(timer);
      bar.stop();
    }),
  };
}
