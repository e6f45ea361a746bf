import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectDelimiter, neutraliseCell } from '../../../src/domain/ingest/csv-cells.js';

describe('neutraliseCell', () => {
  it('prefixes cells starting with =, +, -, @, tab or carriage return with a quote', () => {
    for (const cell of ['=SUM(A1)', '+919876543210', '-5', '@cmd', '\tx', '\rx'])
      assert.equal(neutraliseCell(cell), `'${cell}`);
  });

  it('leaves other cells unchanged, including empty ones and formulas not at the start', () => {
    for (const cell of ['', 'Asha', ' =1', '9876543210', "'quoted"]) assert.equal(neutraliseCell(cell), cell);
  });
});

describe('detectDelimiter', () => {
  it('picks the most frequent candidate', () => {
    assert.equal(detectDelimiter('a,b,c'), ',');
    assert.equal(detectDelimiter('a;b;c'), ';');
    assert.equal(detectDelimiter('a\tb\tc'), '\t');
    assert.equal(detectDelimiter('a|b|c'), '|');
    assert.equal(detectDelimiter('a;b;c,d'), ';');
  });

  it('ignores candidates inside double quotes', () => {
    assert.equal(detectDelimiter('"a;b;c;d";"x";y,z'), ';');
    assert.equal(detectDelimiter('"name, full","say ""hi; there""",x'), ',');
  });

  it('falls back to comma when no candidate occurs', () => {
    assert.equal(detectDelimiter('mobile'), ',');
    assert.equal(detectDelimiter(''), ',');
  });

  it('prefers comma on a tie', () => {
    assert.equal(detectDelimiter('a,b;c'), ',');
  });
});
