import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failure, formatted, specProblems } from './format-helpers.js';

describe('number format function', () => {
  it('reads en-style grouping by default and drops it', () => {
    assert.equal(formatted('number', '1,234,567.89'), '1234567.89');
  });

  it('reads Indian grouping', () => {
    assert.equal(formatted({ fn: 'number', locale: 'en-IN' }, '12,34,567.5'), '1234567.5');
  });

  it('reads German, French and Swiss separators', () => {
    assert.equal(formatted({ fn: 'number', locale: 'de-DE' }, '1.234.567,89'), '1234567.89');
    assert.equal(formatted({ fn: 'number', locale: 'fr-FR' }, '1\u202f234\u00a0567,89'), '1234567.89');
    assert.equal(formatted({ fn: 'number', locale: 'de-ch' }, "1'234.5"), '1234.5');
  });

  it('uses explicit separators over the locale', () => {
    assert.equal(formatted({ fn: 'number', decimal_separator: ',', group_separator: ' ' }, '1 234,5'), '1234.5');
  });

  it('moves the default grouping out of the way when only the decimal comma is given', () => {
    assert.equal(formatted({ fn: 'number', decimal_separator: ',' }, '1.234,5'), '1234.5');
  });

  it('keeps every digit without floating point rounding', () => {
    assert.equal(formatted('number', '12345678901234567890.123456789'), '12345678901234567890.123456789');
  });

  it('writes signs canonically and removes leading zeros', () => {
    assert.equal(formatted('number', '-007.50'), '-7.50');
    assert.equal(formatted('number', '+42'), '42');
    assert.equal(formatted('number', '\u22123'), '-3');
    assert.equal(formatted('number', '-0.00'), '0.00');
    assert.equal(formatted('number', '.5'), '0.5');
  });

  it('ignores surrounding whitespace', () => {
    assert.equal(formatted('number', '  12 '), '12');
  });

  it('pads to decimals and drops only zeros beyond them', () => {
    assert.equal(formatted({ fn: 'number', decimals: 2 }, '3'), '3.00');
    assert.equal(formatted({ fn: 'number', decimals: 2 }, '3.1000'), '3.10');
  });

  it('fails rather than rounds when decimals would drop a digit', () => {
    assert.equal(failure({ fn: 'number', decimals: 2 }, '3.141'), 'number: more than 2 decimal places');
  });

  it('fails on text with the function label naming the locale', () => {
    assert.equal(failure({ fn: 'number', locale: 'de-DE' }, 'abc'), 'number(de-DE): not a number');
  });

  it('fails on a group separator in the wrong place', () => {
    assert.equal(failure('number', '1,2345'), "number: group separator ',' in the wrong place");
    assert.equal(
      failure({ fn: 'number', locale: 'de-DE' }, '1.5'),
      "number(de-DE): group separator '.' in the wrong place",
    );
  });

  it('fails on scientific notation', () => {
    assert.equal(failure('number', '1.5E+3'), 'number: scientific notation is not accepted');
  });

  it('fails on grouping when group_separator is empty', () => {
    assert.equal(failure({ fn: 'number', group_separator: '' }, '1,234'), 'number: not a number');
  });

  it('fails on a trailing decimal separator and a lone sign', () => {
    assert.equal(failure('number', '5.'), 'number: not a number');
    assert.equal(failure('number', '-'), 'number: not a number');
  });

  it('refuses an unknown locale, equal separators and bad decimals', () => {
    assert.match(specProblems({ fn: 'number', locale: 'xx-YY' }), /unknown locale 'xx-YY' \(locales: en-US/);
    assert.match(specProblems({ fn: 'number', decimal_separator: '.', group_separator: '.' }), /must differ/);
    assert.match(
      specProblems({ fn: 'number', decimals: 2.5 }),
      /option 'decimals' must be a whole number from 0 to 10/,
    );
    assert.match(specProblems({ fn: 'number', group_separator: '_' }), /option 'group_separator' must be one of/);
  });
});

describe('integer format function', () => {
  it('reads grouped whole numbers', () => {
    assert.equal(formatted('integer', '1,234,567'), '1234567');
    assert.equal(formatted({ fn: 'integer', locale: 'en-IN' }, '12,34,567'), '1234567');
  });

  it('drops an all-zero fraction', () => {
    assert.equal(formatted('integer', '1234567.00'), '1234567');
  });

  it('fails on a fraction', () => {
    assert.equal(failure('integer', '12.5'), 'integer: not a whole number');
  });

  it('fails on text', () => {
    assert.equal(failure('integer', 'twelve'), 'integer: not a number');
  });

  it('refuses the decimals option', () => {
    assert.match(specProblems({ fn: 'integer', decimals: 2 }), /unknown option 'decimals' for integer/);
  });
});

describe('currency format function', () => {
  it('strips a symbol or code before or after the amount', () => {
    assert.equal(formatted('currency', '₹1,234.50'), '1234.50');
    assert.equal(formatted('currency', 'Rs. 1,234'), '1234');
    assert.equal(formatted('currency', 'INR 1,234'), '1234');
    assert.equal(formatted('currency', '1,234 usd'), '1234');
    assert.equal(formatted('currency', 'US$12'), '12');
    assert.equal(formatted({ fn: 'currency', locale: 'de-DE' }, '1.234,50 €'), '1234.50');
  });

  it('reads negative amounts with a minus on either side of the symbol or in parentheses', () => {
    assert.equal(formatted('currency', '-₹1,234.50'), '-1234.50');
    assert.equal(formatted('currency', '₹-1,234.50'), '-1234.50');
    assert.equal(formatted('currency', '(₹1,234.50)'), '-1234.50');
  });

  it('fixes the decimals when asked', () => {
    assert.equal(formatted({ fn: 'currency', decimals: 2 }, '1234.5'), '1234.50');
    assert.equal(formatted({ fn: 'currency', decimals: 0 }, '$1,234.00'), '1234');
  });

  it('fails on more decimals than allowed', () => {
    assert.equal(failure({ fn: 'currency', decimals: 2 }, '12.345'), 'currency: more than 2 decimal places');
  });

  it('fails on an unknown currency code', () => {
    assert.equal(failure('currency', '12 ABC'), "currency: unknown currency 'ABC'");
  });

  it('fails on text that is not an amount', () => {
    assert.equal(failure('currency', 'free'), 'currency: not an amount');
    assert.equal(failure('currency', '(-5)'), 'currency: not an amount');
    assert.equal(failure('currency', '--5'), 'currency: not an amount');
  });
});
