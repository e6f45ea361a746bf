import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { CorruptJsonColumnError, jsonColumn } from '../../src/storage/json-column.js';

describe('jsonColumn', () => {
  const readDays = jsonColumn('batches.allowed_days', Type.Array(Type.Integer({ minimum: 0, maximum: 6 })));

  it('parses text that holds what the schema says, typed', () => {
    const days: number[] = readDays('[1,2,5]');
    assert.deepEqual(days, [1, 2, 5]);
  });

  it('refuses text of another shape, naming the column and where it differs', () => {
    assert.throws(
      () => readDays('[1,"2"]'),
      (error) =>
        error instanceof CorruptJsonColumnError &&
        /batches\.allowed_days/.test(error.message) &&
        /\/1/.test(error.message),
    );
    assert.throws(() => readDays('[9]'), CorruptJsonColumnError);
  });

  it('refuses text that is not JSON', () => {
    assert.throws(
      () => readDays('[1,'),
      (error) => error instanceof CorruptJsonColumnError && /allowed_days/.test(error.message),
    );
  });
});
