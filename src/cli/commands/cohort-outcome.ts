// How a completed cohort's counts read on a terminal, and when `cohorts upload --wait` calls them a
// failure: a cohort whose every row was rejected completes like any other, so only its counts tell.
import { type Column, field, type Item, renderTable } from '../output.js';

/** The exit code of `cohorts upload --wait` when no row was imported, or any row with --fail-on-rejected. */
export const EXIT_ROWS_REJECTED = 3;

export interface RejectionsByReason {
  code: string;
  count: number;
  example_row: number;
}

export interface CohortResult {
  total_records: number;
  valid_records: number;
  rejected_records: number;
  /** Absent from servers older than the field; null for cohorts completed before it. */
  rejections_by_reason?: RejectionsByReason[] | null;
}

const REASON_COLUMNS: Column[] = [field('code'), field('count', 'rows'), field('example_row', 'first row')];

/** The rejected rows by code as an indented table, or no lines when none was rejected or the server did not count them. */
export function rejectionLines(result: CohortResult): string[] {
  const byReason = result.rejections_by_reason ?? [];
  if (byReason.length === 0) return [];
  const table = renderTable(byReason as unknown as Item[], REASON_COLUMNS).trimEnd();
  return ['Rejected rows by reason:', ...table.split('\n').map((line) => `  ${line}`)];
}

/** The rejected rows by code on one line (`cohorts get`): `format_failed 2 (first row 8), …`. */
export function rejectionsInline(result: CohortResult | null): string {
  const byReason = result?.rejections_by_reason;
  if (!byReason || byReason.length === 0) return '-';
  return byReason.map((r) => `${r.code} ${r.count} (first row ${r.example_row})`).join(', ');
}

/**
 * Why a completed cohort ends `upload --wait` with EXIT_ROWS_REJECTED, or undefined when it does not:
 * no row was imported, or (with --fail-on-rejected) any row was rejected.
 */
export function rejectedVerdict(cohortId: string, result: CohortResult, failOnRejected: boolean): string | undefined {
  if (result.valid_records === 0)
    return `no row of cohort ${cohortId} was imported: all ${result.total_records} rows were rejected`;
  if (failOnRejected && result.rejected_records > 0)
    return `${result.rejected_records} of ${result.total_records} rows of cohort ${cohortId} were rejected (--fail-on-rejected)`;
  return undefined;
}
