import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressRates, progressSummary, type CohortProgress } from '../../src/cli/cohort-progress.js';
import { formatCount, formatDuration } from '../../src/domain/ingest/progress-text.js';

const report = (rows: number, bytes: number, total: number | null, startedAt = '2026-12-04T10:00:00.000Z') =>
  ({
    rows_processed: rows,
    bytes_processed: bytes,
    bytes_total: total,
    valid_so_far: rows,
    rejected_so_far: 0,
    started_at: startedAt,
  }) satisfies CohortProgress;

describe("the CLI's cohort progress figures", () => {
  it('writes counts with thousands separators and durations in s, min and h', () => {
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(999), '999');
    assert.equal(formatDuration(42.4), '42 s');
    assert.equal(formatDuration(185), '3 min 05 s');
    assert.equal(formatDuration(3720), '1 h 02 min');
  });

  it('shows the share of the file read, rows, and rows/s and ETA measured between the reports it saw', () => {
    const rates = new ProgressRates();
    const first = rates.see(report(10_000, 1_000_000, 10_000_000), 0);
    assert.equal(first.fraction, 0.1);
    assert.equal(first.line, '10% | 10,000 rows | … rows/s | ETA …');
    // 2 s later: 40,000 more rows and 2 MB more, so 20,000 rows/s and 7 MB left at 1 MB/s.
    const later = rates.see(report(50_000, 3_000_000, 10_000_000), 2000);
    assert.equal(later.fraction, 0.3);
    assert.equal(later.line, '30% | 50,000 rows | 20,000 rows/s | ETA 7 s');
  });

  it('sums a report up on one line for cohorts get, and a dash when there is none', () => {
    assert.equal(
      progressSummary(report(120_000, 4_200_000, 10_000_000)),
      '120,000 rows (42% of the file) since 2026-12-04T10:00:00.000Z',
    );
    assert.equal(progressSummary(report(5, 10, null)), '5 rows since 2026-12-04T10:00:00.000Z');
    assert.equal(progressSummary(undefined), '-');
  });

  it('has no share or ETA while the file size is unknown, and starts its rates again with a new attempt', () => {
    const rates = new ProgressRates();
    rates.see(report(100_000, 5_000_000, null), 0);
    assert.deepEqual(rates.see(report(120_000, 6_000_000, null), 1000), {
      fraction: undefined,
      line: '120,000 rows | 20,000 rows/s',
    });
    const retried = rates.see(report(0, 0, 8_000_000, '2026-12-04T10:05:00.000Z'), 2000);
    assert.equal(retried.line, '0% | 0 rows | … rows/s | ETA …');
  });
});
