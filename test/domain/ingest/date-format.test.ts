import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileFormat } from '../../../src/domain/ingest/format-chain.js';
import { remembered } from '../../../src/domain/ingest/date-pattern.js';
import { StepFailure } from '../../../src/domain/ingest/format-step.js';
import { failure, formatted, specProblems } from './format-helpers.js';

describe('date format function', () => {
  it('reads DD/MM/YYYY into an ISO date', () => {
    assert.equal(formatted({ fn: 'date', input: 'DD/MM/YYYY' }, '31/07/2024'), '2024-07-31');
  });

  it('reads single-digit day and month with D and M', () => {
    assert.equal(formatted({ fn: 'date', input: 'D.M.YYYY' }, '1.7.2024'), '2024-07-01');
  });

  it('reads two-digit years with YY: up to 60 in the 2000s, from 61 in the 1900s', () => {
    assert.equal(formatted({ fn: 'date', input: 'MM/DD/YY' }, '07/31/24'), '2024-07-31');
    assert.equal(formatted({ fn: 'date', input: 'MM/DD/YY' }, '07/31/60'), '2060-07-31');
    assert.equal(formatted({ fn: 'date', input: 'MM/DD/YY' }, '07/31/61'), '1961-07-31');
  });

  it('defaults to YYYY-MM-DD when no pattern is given', () => {
    assert.equal(formatted('date', '2024-02-29'), '2024-02-29');
  });

  it('outputs a full ISO date-time when the pattern has a time', () => {
    assert.equal(formatted({ fn: 'date', input: 'DD-MM-YYYY HH:mm' }, '31-07-2024 18:05'), '2024-07-31T18:05:00');
    assert.equal(formatted({ fn: 'date', input: 'YYYY-MM-DDTHH:mm:ss' }, '2024-07-31T18:05:09'), '2024-07-31T18:05:09');
  });

  it('ignores surrounding whitespace', () => {
    assert.equal(formatted({ fn: 'date', input: 'DD/MM/YYYY' }, ' 31/07/2024 '), '2024-07-31');
  });

  it('fails on an impossible date', () => {
    assert.equal(failure({ fn: 'date', input: 'DD/MM/YYYY' }, '31/02/2024'), 'date(DD/MM/YYYY): not a real date');
    assert.equal(failure('date', '2023-02-29'), 'date(YYYY-MM-DD): not a real date');
  });

  it('fails on an impossible time', () => {
    assert.equal(
      failure({ fn: 'date', input: 'YYYY-MM-DD HH:mm' }, '2024-07-31 24:30'),
      'date(YYYY-MM-DD HH:mm): not a real date and time',
    );
  });

  it('fails on a value in another layout', () => {
    assert.equal(
      failure({ fn: 'date', input: 'DD/MM/YYYY' }, '2024-07-31'),
      'date(DD/MM/YYYY): does not match the pattern DD/MM/YYYY',
    );
    assert.equal(
      failure({ fn: 'date', input: 'DD/MM/YYYY' }, '1/7/2024'),
      'date(DD/MM/YYYY): does not match the pattern DD/MM/YYYY',
    );
  });

  it('refuses an unknown token once per run of letters', () => {
    assert.equal(
      specProblems({ fn: 'date', input: 'DD/QQ/YYYY' }, 'app_variables.due_date.format[1]'),
      "app_variables.due_date.format[1]: date: pattern 'DD/QQ/YYYY' has an unknown token 'QQ' at position 4 (tokens: YYYY, YY, MM, M, DD, D, HH, mm, ss)",
    );
  });

  it('refuses a pattern without a year, month or day', () => {
    assert.match(specProblems({ fn: 'date', input: 'MM/YYYY' }), /has no day \(use DD or D\)/);
  });

  it('refuses a unit given twice', () => {
    assert.match(specProblems({ fn: 'date', input: 'DD/MM/YYYY/YY' }), /has the year twice \(YYYY and YY\)/);
  });

  it('refuses hours without minutes and seconds without minutes', () => {
    assert.match(specProblems({ fn: 'date', input: 'DD/MM/YYYY HH' }), /must have both HH and mm/);
  });

  it('refuses an empty pattern and a non-string pattern', () => {
    assert.match(specProblems({ fn: 'date', input: '' }), /the input pattern is empty/);
    assert.match(specProblems({ fn: 'date', input: 7 }), /option 'input' must be a string/);
  });

  it('refuses a quote in the pattern', () => {
    assert.match(specProblems({ fn: 'date', input: "DD'MM'YYYY" }), /unknown token '''/);
  });
});

describe('a remembered format step', () => {
  it('answers as the step itself, for values seen again and after it has started again', () => {
    let calls = 0;
    const step = (value: string) => {
      calls++;
      return value.length > 3 ? value.toUpperCase() : new StepFailure('too short');
    };
    const memo = remembered(step, 3);
    assert.equal(memo('abcd'), 'ABCD');
    assert.equal(memo('abcd'), 'ABCD');
    assert.equal(calls, 1, 'a value seen again is not run again');
    assert.ok(memo('ab') instanceof StepFailure);
    assert.equal((memo('ab') as StepFailure).message, 'too short');
    assert.equal(calls, 2);
    // A fourth distinct value empties the memory: every answer stays the step's own.
    for (const value of ['efgh', 'ijkl', 'mnop', 'abcd', 'efgh']) assert.equal(memo(value), value.toUpperCase());
    // ijkl, the fourth distinct value, emptied it: abcd and efgh were run again, once each.
    assert.equal(calls, 7);
  });

  it('gives the same dates and failures for a column read twice over by one compiled step', () => {
    const compiled = compileFormat({ fn: 'date', input: 'DD/MM/YYYY' }, 'format');
    assert.ok(compiled.ok);
    const values = ['31/07/2024', '29/02/2024', '29/02/2023', '7/31/2024', ' 01/01/2000 ', '31/07/2024'];
    const read = () => values.map((value) => compiled.apply(value)).map((r) => (r.ok ? r.value : r.message));
    const first = read();
    assert.deepEqual(first, [
      '2024-07-31',
      '2024-02-29',
      'not a real date',
      'does not match the pattern DD/MM/YYYY',
      '2000-01-01',
      '2024-07-31',
    ]);
    assert.deepEqual(read(), first);
  });
});
