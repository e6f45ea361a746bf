import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressThrottle } from '../../../src/services/cohorts/ingest-progress.js';
import type { CohortProgress } from '../../../src/storage/repositories/cohorts-repository.js';

/** A throttle on a clock the test moves, recording what it writes. */
function throttle() {
  let now = 0;
  const written: CohortProgress[] = [];
  const bytes = { read: 0 };
  const progress = new ProgressThrottle(
    async (counts) => {
      written.push(counts);
    },
    () => bytes.read,
    () => now,
  );
  return { progress, written, bytes, advance: (ms: number) => (now += ms) };
}

const unit = (rows: number) => ({ rows, valid: rows - 1, rejected: 1 });

describe('when an ingest writes its progress', () => {
  it('writes once 10,000 rows have passed since the last write, however fast they come', async () => {
    const { progress, written, bytes } = throttle();
    for (let rows = 1000; rows <= 25_000; rows += 1000) {
      bytes.read = rows * 40;
      await progress.unitWritten(unit(rows));
    }
    assert.deepEqual(
      written.map((w) => [w.rows, w.bytes]),
      [
        [10_000, 400_000],
        [20_000, 800_000],
      ],
    );
  });

  it('writes once a second has passed, however few rows came, and flushes what was not written at the end', async () => {
    const { progress, written, advance } = throttle();
    await progress.unitWritten(unit(10));
    advance(999);
    await progress.unitWritten(unit(20));
    advance(1);
    await progress.unitWritten(unit(30));
    advance(500);
    await progress.unitWritten(unit(40));
    assert.deepEqual(
      written.map((w) => w.rows),
      [30],
    );
    await progress.flush();
    await progress.flush();
    assert.deepEqual(
      written.map((w) => [w.rows, w.valid, w.rejected]),
      [
        [30, 29, 1],
        [40, 39, 1],
      ],
    );
  });
});
