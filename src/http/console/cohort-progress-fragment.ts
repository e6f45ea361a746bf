import { formatCount, formatDuration } from '../../domain/ingest/progress-text.js';
import type { CohortProgressView } from '../../services/cohorts/cohort-service.js';
import { html, type Html } from './html.js';

/**
 * A processing cohort's progress as its page shows it: a <progress> bar of the file read (an
 * indeterminate one while the file's size is unknown), rows processed, rows/s and the time left.
 * Rates run from the attempt's start, by the server's clock (the one that wrote `started_at`); the
 * time left is the bytes left at the bytes' rate. The page's script swaps it in as it polls.
 */
export function progressFragment(progress: CohortProgressView | undefined, now: number): Html {
  if (!progress) return html`<p class="progress-text">Waiting for a worker to start on it…</p>`;
  const rows = progress.rows_processed;
  const bytes = progress.bytes_processed;
  const total = progress.bytes_total;
  const seconds = (now - Date.parse(progress.started_at)) / 1000;
  const measured = Number.isFinite(seconds) && seconds >= 1;
  const facts = [`${formatCount(rows)} rows processed`];
  if (measured) facts.push(`${formatCount(Math.round(rows / seconds))} rows/s`);
  if (total !== null && total > 0 && measured && bytes > 0)
    facts.push(`about ${formatDuration(Math.max(0, total - bytes) / (bytes / seconds))} left`);
  const bar =
    total === null || total <= 0
      ? html`<progress id="ingest-progress"></progress>`
      : html`<progress id="ingest-progress" max="${total}" value="${Math.min(bytes, total)}">${Math.floor((Math.min(bytes, total) / total) * 100)}%</progress>`;
  return html`<div class="ingest-progress">
  <label for="ingest-progress">Processing the file</label>
  ${bar}
  <p class="progress-text">${facts.join(' · ')}</p>
  <p class="hint">So far ${formatCount(progress.valid_so_far)} kept and ${formatCount(progress.rejected_so_far)} rejected; a phone that repeats an earlier row is rejected at the end.</p>
</div>`;
}
