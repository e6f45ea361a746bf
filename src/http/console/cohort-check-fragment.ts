import { formatCount } from '../../domain/ingest/progress-text.js';
import { ROW_REJECTION_CODES, type RejectionsByReason } from '../../domain/ingest/row-rejection.js';
import type { DryRunResult } from '../../services/cohorts/cohort-dry-run.js';
import { definitionList } from './console-layout.js';
import { html, type Html } from './html.js';

/** What a row rejection code means, for people; a code this build does not know shows no meaning. */
function codeMeaning(code: string): string {
  return Object.hasOwn(ROW_REJECTION_CODES, code) ? ROW_REJECTION_CODES[code as keyof typeof ROW_REJECTION_CODES] : '';
}

/** Rejected rows by code as a table (a completed cohort's, or a checked file's). */
export function reasonsTable(byReason: readonly RejectionsByReason[]): Html {
  return html`<div class="table-wrap"><table>
  <caption>Rejected rows by reason</caption>
  <thead><tr><th scope="col">Code</th><th scope="col">Rows</th><th scope="col">First row</th><th scope="col">What it means</th></tr></thead>
  <tbody>${byReason.map(
    (r) =>
      html`<tr><th scope="row"><code>${r.code}</code></th><td>${formatCount(r.count)}</td><td>${r.example_row}</td><td>${codeMeaning(r.code)}</td></tr>`,
  )}</tbody>
</table></div>`;
}

/** The answer of "Check file" (a dry run): what an upload would import and reject, and the first rejected rows. */
export function checkFragment(result: DryRunResult): Html {
  const counts = definitionList([
    ['Rows in the file', formatCount(result.total_records)],
    ['Would be imported', formatCount(result.valid_records)],
    ['Would be rejected', formatCount(result.rejected_records)],
  ]);
  if (result.rejected_records === 0) return html`<p>Nothing was uploaded. Every row would be imported.</p>${counts}`;
  const shown = result.rejected_rows.length;
  return html`<p>Nothing was uploaded. Fix the rows below, or upload the file as it is: the rejected rows are left out.</p>
${counts}
${reasonsTable(result.rejections_by_reason)}
<div class="table-wrap"><table id="check-rejected-rows">
  <caption>${shown < result.rejected_records ? `The first ${shown} rejected rows` : 'The rejected rows'}</caption>
  <thead><tr><th scope="col">Row</th><th scope="col">Code</th><th scope="col">Why</th><th scope="col">The row as uploaded</th></tr></thead>
  <tbody>${result.rejected_rows.map(
    (r) =>
      html`<tr><th scope="row">${r.row}</th><td><code>${r.code}</code></td><td>${r.reason}</td><td><code>${r.fields.join(', ')}</code></td></tr>`,
  )}</tbody>
</table></div>`;
}
