import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFormat, FORMAT_FUNCTIONS } from '../../../src/domain/ingest/format-chain.js';
import { failure, formatted, specProblems } from './format-helpers.js';

describe('text format functions', () => {
  it('trim removes surrounding whitespace including no-break spaces', () => {
    assert.equal(formatted('trim', ' \u00a0Asha Rao\t '), 'Asha Rao');
  });

  it('upper upper-cases Unicode letters', () => {
    assert.equal(formatted('upper', 'straße çé'), 'STRASSE ÇÉ');
  });

  it('lower lower-cases Unicode letters', () => {
    assert.equal(formatted('lower', 'ÉCOLE ΑΒΓ'), 'école αβγ');
  });

  it('title capitalises each word, including after hyphens, and lower-cases the rest', () => {
    assert.equal(formatted('title', 'aSHA mary-jane ÉLODIE'), 'Asha Mary-Jane Élodie');
  });

  it('title keeps apostrophes inside words', () => {
    assert.equal(formatted('title', "don't o'brien"), "Don't O'brien");
  });

  it('title leaves scripts without case unchanged', () => {
    assert.equal(formatted('title', 'राम कुमार'), 'राम कुमार');
  });

  it('digits keeps only ASCII digits', () => {
    assert.equal(formatted('digits', 'ACC-00 12/7'), '00127');
  });

  it('digits fails when the value has no digit', () => {
    assert.equal(failure('digits', 'none'), 'digits: contains no digits');
  });
});

describe('boolean format function', () => {
  it('maps the default words case-insensitively', () => {
    for (const word of ['yes', 'TRUE', ' 1 ', 'Y']) assert.equal(formatted('boolean', word), 'true', word);
    for (const word of ['No', 'false', '0', 'n']) assert.equal(formatted('boolean', word), 'false', word);
  });

  it('uses custom true and false words instead of the defaults', () => {
    const spec = { fn: 'boolean', true_values: ['Paid'], false_values: ['Due'] };
    assert.equal(formatted(spec, 'PAID'), 'true');
    assert.equal(formatted(spec, 'due'), 'false');
    assert.equal(failure(spec, 'yes'), 'boolean: not one of: paid (true) or due (false)');
  });

  it('fails on an unknown word listing the accepted ones', () => {
    assert.equal(failure('boolean', 'maybe'), 'boolean: not one of: yes, true, 1, y (true) or no, false, 0, n (false)');
  });

  it('refuses a word that is both true and false', () => {
    assert.match(
      specProblems({ fn: 'boolean', true_values: ['ok'], false_values: ['OK'] }),
      /'ok' is in both true_values and false_values/,
    );
  });
});

describe('enum format function', () => {
  const spec = { fn: 'enum', map: { M: 'Male', F: 'Female' } };

  it('maps values case-insensitively by default, after trimming', () => {
    assert.equal(formatted(spec, ' f '), 'Female');
  });

  it('fails on an unmapped value without default, listing the keys', () => {
    assert.equal(failure(spec, 'X'), 'enum: not one of: M, F');
  });

  it('uses default for an unmapped value', () => {
    assert.equal(formatted({ ...spec, default: 'Unknown' }, 'X'), 'Unknown');
  });

  it('respects case_sensitive', () => {
    const strict = { ...spec, case_sensitive: true };
    assert.equal(formatted(strict, 'M'), 'Male');
    assert.equal(failure(strict, 'm'), 'enum: not one of: M, F');
  });

  it('matches keys that look like Object.prototype members only when mapped', () => {
    assert.equal(failure(spec, 'toString'), 'enum: not one of: M, F');
    assert.equal(formatted({ fn: 'enum', map: { hasOwnProperty: 'h' } }, 'hasownproperty'), 'h');
  });

  it('refuses keys that differ only by case when matching ignores case', () => {
    assert.match(specProblems({ fn: 'enum', map: { a: 'x', A: 'y' } }), /map keys 'a' and 'A' match the same values/);
  });

  it('refuses an enum without map', () => {
    assert.equal(specProblems('enum'), "format: enum: option 'map' is required");
  });

  it('refuses a map whose values are not strings', () => {
    assert.match(specProblems({ fn: 'enum', map: { M: 1 } }), /maps 'M' to a number; it must map to a string/);
  });
});

describe('default format function and chains', () => {
  it('default fills an empty value', () => {
    assert.equal(formatted({ fn: 'default', value: 'Customer' }, ''), 'Customer');
    assert.equal(formatted({ fn: 'default', value: 'Customer' }, '  '), 'Customer');
  });

  it('default leaves a non-empty value unchanged', () => {
    assert.equal(formatted({ fn: 'default', value: 'Customer' }, ' Asha '), ' Asha ');
  });

  it('default placed first lets later functions format the filled value', () => {
    assert.equal(
      formatted(
        [
          { fn: 'default', value: '0' },
          { fn: 'currency', decimals: 2 },
        ],
        '',
      ),
      '0.00',
    );
  });

  it('functions other than default pass a blank value through without failing', () => {
    assert.equal(formatted(['number', 'upper'], '   '), '   ');
  });

  it('applies functions in order', () => {
    assert.equal(formatted(['trim', 'lower', { fn: 'enum', map: { active: 'A' } }], '  ACTIVE '), 'A');
  });

  it('names the failing function of a chain', () => {
    assert.equal(failure(['trim', 'integer'], ' 12.5 '), 'integer: not a whole number');
  });

  it('an empty list formats nothing', () => {
    assert.equal(formatted([], ' x '), ' x ');
  });

  it('refuses default without value, or with a blank value', () => {
    assert.equal(specProblems('default'), "format: default: option 'value' is required");
    assert.equal(specProblems({ fn: 'default', value: ' ' }), "format: default: option 'value' must not be blank");
  });
});

describe('format spec checks', () => {
  it('refuses an unknown function name, listing the known ones', () => {
    assert.match(
      specProblems('uppercase'),
      /^format: unknown format function 'uppercase' \(functions: trim, upper, lower/,
    );
  });

  it('refuses an unknown option, listing the known ones', () => {
    assert.equal(
      specProblems({ fn: 'trim', side: 'left' }),
      "format: trim: unknown option 'side' for trim (it takes no options)",
    );
  });

  it('refuses an object without fn and a value of the wrong type', () => {
    assert.match(specProblems({ locale: 'de-DE' }), /a format object needs "fn"/);
    assert.match(specProblems(42), /not a number$/);
  });

  it('reports every problem of a list with its index in the path', () => {
    const compiled = compileFormat(
      ['trim', { fn: 'date', input: 'DD/QQ/YYYY' }, 'nope'],
      'app_variables.due_date.format',
    );
    assert.ok(!compiled.ok);
    assert.deepEqual(
      compiled.problems.map((p) => p.path),
      ['app_variables.due_date.format[1]', 'app_variables.due_date.format[2]'],
    );
  });
});

describe('FORMAT_FUNCTIONS', () => {
  it('documents the twelve functions in order', () => {
    assert.deepEqual(
      FORMAT_FUNCTIONS.map((f) => f.name),
      [
        'trim',
        'upper',
        'lower',
        'title',
        'digits',
        'number',
        'integer',
        'currency',
        'date',
        'boolean',
        'enum',
        'default',
      ],
    );
  });

  it("every function's documented example gives its documented output", () => {
    for (const doc of FORMAT_FUNCTIONS)
      assert.equal(formatted(doc.example.spec, doc.example.input), doc.example.output, doc.name);
  });

  it('every function has a one-line summary', () => {
    for (const doc of FORMAT_FUNCTIONS) assert.ok(doc.summary.length > 0 && !doc.summary.includes('\n'), doc.name);
  });
});
