import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { numberMatcher } from '../../../src/services/erasure/erasure-files.js';

describe('the cells an erasure removes a row for', () => {
  const matches = numberMatcher(['+919876500001', '+14155550100'], 'IN');

  it('finds a number however a file wrote it, as ingest reads a phone cell', () => {
    for (const cell of [
      '9876500001',
      '+91 98765 00001',
      '0091 98765-00001',
      '098765 00001',
      "'+919876500001", // a rejection file's spreadsheet-safe cell
      '98765 00001 ext. 12',
      'Call 98765 00001 please',
      '９８７６５００００１', // fullwidth digits
      '+1 (415) 555-0100',
    ])
      assert.equal(matches(cell), true, cell);
  });

  it('leaves other numbers and other values alone', () => {
    for (const cell of [
      '9876500002',
      '+1 987 650 0001', // the same digits in another country
      '+44 9876500001',
      '4155550100', // a US number written nationally in a file read as Indian
      'CUST-98765000019',
      'Asha',
      '',
      '01/01/2026',
    ])
      assert.equal(matches(cell), false, cell);
  });

  it('reads national forms with the country it is given', () => {
    assert.equal(numberMatcher(['+14155550100'], 'US')('(415) 555-0100'), true);
    assert.equal(numberMatcher(['+14155550100'], undefined)('(415) 555-0100'), false);
  });
});
