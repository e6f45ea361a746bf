import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBlank, listNames, quoteValue } from '../../../src/domain/ingest/value-text.js';

describe('isBlank', () => {
  it('agrees with String.prototype.trim on every BMP character', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code);
      assert.equal(isBlank(char), char.trim() === '', `U+${code.toString(16)}`);
    }
  });

  it('is true for the empty string and false for control characters that are not whitespace', () => {
    assert.equal(isBlank(''), true);
    assert.equal(isBlank('\u0000'), false);
    assert.equal(isBlank('\u200b'), false);
  });
});

describe('quoteValue', () => {
  it('wraps a value in single quotes', () => {
    assert.equal(quoteValue('31/02/2024'), "'31/02/2024'");
  });

  it('cuts values longer than 60 characters with an ellipsis', () => {
    assert.equal(quoteValue('a'.repeat(61)), `'${'a'.repeat(60)}…'`);
    assert.equal(quoteValue('a'.repeat(60)), `'${'a'.repeat(60)}'`);
  });

  it('never cuts an emoji in half', () => {
    assert.equal(quoteValue(`${'a'.repeat(59)}😀b`), `'${'a'.repeat(59)}…'`);
  });

  it('escapes control characters and bidirectional overrides so the reason stays readable', () => {
    assert.equal(quoteValue('a\nb\tc\u0001\u202ed'), "'a\\nb\\tc\\u0001\\u202ed'");
  });
});

describe('listNames', () => {
  it('joins names and cuts long lists with a count', () => {
    assert.equal(listNames(['a', 'b']), 'a, b');
    assert.equal(listNames(['a', 'b', 'c'], 2), 'a, b … and 1 more');
  });
});
