import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RejectionTally } from '../../../src/domain/ingest/row-rejection.js';

describe('RejectionTally', () => {
  it('counts rows by code, most frequent first and then by code, each with its first row', () => {
    const tally = new RejectionTally();
    for (const [code, row] of [
      ['invalid_phone', 3],
      ['duplicate_phone', 4],
      ['format_failed', 5],
      ['invalid_phone', 6],
      ['duplicate_phone', 9],
      ['missing_phone', 10],
    ] as const)
      tally.add(code, row);
    assert.deepEqual(tally.summary(), [
      { code: 'duplicate_phone', count: 2, example_row: 4 },
      { code: 'invalid_phone', count: 2, example_row: 3 },
      { code: 'format_failed', count: 1, example_row: 5 },
      { code: 'missing_phone', count: 1, example_row: 10 },
    ]);
  });

  it('is empty when nothing was rejected', () => {
    assert.deepEqual(new RejectionTally().summary(), []);
  });
});
