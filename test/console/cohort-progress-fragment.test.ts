import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressFragment } from '../../src/http/console/cohort-progress-fragment.js';

const STARTED = '2026-12-04T10:00:00.000Z';
const at = (seconds: number) => Date.parse(STARTED) + seconds * 1000;
const progress = {
  rows_processed: 123_456,
  bytes_processed: 4_000_000,
  bytes_total: 10_000_000 as number | null,
  valid_so_far: 123_000,
  rejected_so_far: 456,
  started_at: STARTED,
};

describe("the console's cohort progress", () => {
  it('draws a <progress> of the file read, with rows processed, rows/s and the time left, in en-US digits', () => {
    const text = progressFragment(progress, at(4)).text;
    assert.match(text, /<progress id="ingest-progress" max="10000000" value="4000000">40%<\/progress>/);
    assert.match(text, /<label for="ingest-progress">/);
    // 123,456 rows in 4 s; 6 MB left at 1 MB/s.
    assert.match(text, /123,456 rows processed · 30,864 rows\/s · about 6 s left/);
    assert.match(text, /So far 123,000 kept and 456 rejected/);
  });

  it('is indeterminate without the file size, measures no rate in its first second, and waits before an attempt starts', () => {
    const unknown = progressFragment({ ...progress, bytes_total: null }, at(0.5)).text;
    assert.match(unknown, /<progress id="ingest-progress"><\/progress>/);
    assert.match(unknown, /<p class="progress-text">123,456 rows processed<\/p>/);
    assert.match(progressFragment(undefined, at(1)).text, /Waiting for a worker to start on it/);
  });
});
