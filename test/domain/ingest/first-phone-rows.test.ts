import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FirstPhoneRows } from '../../../src/domain/ingest/first-phone-rows.js';

describe('FirstPhoneRows', () => {
  it('answers the first row of a repeated phone, through many growths of its table', () => {
    const phones = new FirstPhoneRows();
    const count = 50_000;
    for (let i = 0; i < count; i++) assert.equal(phones.firstRowOf(`+91${9_000_000_000 + i * 7}`, i + 2), undefined);
    for (let i = 0; i < count; i += 997) assert.equal(phones.firstRowOf(`+91${9_000_000_000 + i * 7}`, 99_999), i + 2);
  });

  it('tells apart numbers that share their digits in another length, and the longest E.164 numbers', () => {
    const phones = new FirstPhoneRows();
    assert.equal(phones.firstRowOf('+14155550100', 2), undefined);
    assert.equal(phones.firstRowOf('+141555501000', 3), undefined);
    assert.equal(phones.firstRowOf('+999999999999999', 4), undefined);
    assert.equal(phones.firstRowOf('+999999999999998', 5), undefined);
    assert.equal(phones.firstRowOf('+999999999999999', 6), 4);
    assert.equal(phones.firstRowOf('+14155550100', 7), 2);
  });

  it('keeps what is not plain E.164 apart, by its text', () => {
    const phones = new FirstPhoneRows();
    assert.equal(phones.firstRowOf('+0123', 2), undefined);
    assert.equal(phones.firstRowOf('+0123', 3), 2);
    assert.equal(phones.firstRowOf('+123', 4), undefined);
  });
});
