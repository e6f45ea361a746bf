import { SEED_CONFIG } from '../../helpers/seed-config.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transformRow, type RowOutcome } from '../../../src/domain/ingest/transform-row.js';
import { planIngest, type IngestPlan } from '../../../src/domain/ingest/ingest-plan.js';
import type { TransformationConfig } from '../../../src/domain/ingest/transformation-schema.js';
import type { AgentVariable } from '../../../src/domain/tenancy/agent-variable.js';

const HEADER = ['mobile', 'name', 'balance', 'payment_due', 'preferred_language', 'cust_id'];
const AGENT: AgentVariable[] = [
  { name: 'customer_name', required: true, default: null, description: null },
  { name: 'outstanding_amount', required: false, default: null, description: null },
  { name: 'due_date', required: false, default: null, description: null },
];

function planFor(overrides: Partial<TransformationConfig> = {}, maxFieldLength?: number): IngestPlan {
  const config: TransformationConfig = {
    ...SEED_CONFIG,
    ...overrides,
  };
  const result = planIngest(config, HEADER, AGENT, maxFieldLength === undefined ? {} : { maxFieldLength });
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.issues));
  return result.plan;
}

const PLAN = planFor();

function row(
  name: string,
  extra: Partial<Record<'mobile' | 'balance' | 'due' | 'language' | 'id', string>> = {},
): string[] {
  return [
    extra.mobile ?? '9876543210',
    name,
    extra.balance ?? '1500',
    extra.due ?? '2024-07-31',
    extra.language ?? 'Hindi',
    extra.id ?? '',
  ];
}

function accepted(outcome: RowOutcome): Extract<RowOutcome, { ok: true }> {
  assert.ok(outcome.ok, `expected the row to be accepted, got ${JSON.stringify(outcome)}`);
  return outcome;
}

function reason(outcome: RowOutcome): string {
  assert.ok(!outcome.ok, `expected the row to be refused, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}

describe('transformRow', () => {
  it('turns a row into phone, variables and overrides', () => {
    const out = accepted(transformRow(PLAN, row('Asha Rao', { mobile: '09876543210' })));
    assert.equal(out.phone, '+919876543210');
    assert.equal(out.userIdentifier, null);
    assert.deepEqual(
      { ...out.appVariables },
      { customer_name: 'Asha Rao', outstanding_amount: '1500', due_date: '2024-07-31' },
    );
    assert.deepEqual({ ...out.appOverrides }, { initial_language_name: 'Hindi' });
  });

  it('returns output records without a prototype', () => {
    const out = accepted(transformRow(PLAN, row('Asha')));
    assert.equal(Object.getPrototypeOf(out.appVariables), null);
    assert.equal(Object.getPrototypeOf(out.appOverrides), null);
  });

  it('refuses a row with fewer or more fields than the header', () => {
    assert.equal(
      reason(transformRow(PLAN, ['9876543210', 'Asha', '1', '2024-07-31', 'Hindi'])),
      'row has 5 fields but the header has 6',
    );
    assert.equal(reason(transformRow(PLAN, ['9876543210'])), 'row has 1 field but the header has 6');
    assert.equal(reason(transformRow(PLAN, [...row('Asha'), 'extra'])), 'row has 7 fields but the header has 6');
  });

  it('refuses a field longer than maxFieldLength, naming the column and the limit', () => {
    const plan = planFor({}, 10);
    assert.equal(reason(transformRow(plan, row('Asha Rao Kumar'))), "column 'name' has 14 characters; the limit is 10");
  });

  it('refuses a row with a NUL character in any field, naming the column (PostgreSQL text cannot hold it)', () => {
    assert.equal(
      reason(transformRow(PLAN, row('As\u0000ha'))),
      "column 'name' contains a NUL character (U+0000), which cannot be stored",
    );
  });

  it('keeps a 100,000-character value exactly when it is under the limit', () => {
    const long = 'ä'.repeat(100_000);
    const out = accepted(transformRow(planFor({}, 100_000), row(long)));
    assert.equal(out.appVariables['customer_name'], long);
  });

  it("gives the seed's three phone spellings the same E.164", () => {
    for (const mobile of ['9876543210', '09876543210', '+919876543210']) {
      assert.equal(accepted(transformRow(PLAN, row('Asha', { mobile }))).phone, '+919876543210');
    }
  });

  it('accepts foreign + numbers with country IN', () => {
    assert.equal(accepted(transformRow(PLAN, row('Foreign', { mobile: '+447400123456' }))).phone, '+447400123456');
  });

  it('refuses an invalid phone naming the column and quoting the value', () => {
    assert.equal(
      reason(transformRow(PLAN, row('Asha', { mobile: '12345' }))),
      "column 'mobile': phone number '12345' is too short for IN",
    );
  });

  it('refuses a phone in scientific notation', () => {
    assert.match(
      reason(transformRow(PLAN, row('Asha', { mobile: '9.87654E+09' }))),
      /^column 'mobile': phone number '9\.87654E\+09' was turned into scientific notation/,
    );
  });

  it('refuses an empty column required by the agent, naming column and variable', () => {
    assert.equal(reason(transformRow(PLAN, row(''))), "required column 'name' (customer_name) is empty");
    assert.equal(reason(transformRow(PLAN, row(' \t '))), "required column 'name' (customer_name) is empty");
  });

  it("refuses an empty column required by the mapping's own required flag", () => {
    const plan = planFor({
      app_overrides: { initial_language_name: { column_name: 'preferred_language', required: true } },
    });
    assert.equal(
      reason(transformRow(plan, row('Asha', { language: '' }))),
      "required column 'preferred_language' (initial_language_name) is empty",
    );
  });

  it('omits an empty optional value', () => {
    const out = accepted(transformRow(PLAN, row('Asha', { balance: '', language: '  ' })));
    assert.equal('outstanding_amount' in out.appVariables, false);
    assert.equal('initial_language_name' in out.appOverrides, false);
  });

  it('uses fallback_value for an empty value, even when required', () => {
    const plan = planFor({
      app_variables: { customer_name: { column_name: 'name', fallback_value: 'Customer' } },
      app_overrides: { initial_bot_message: { column_name: 'preferred_language', fallback_value: 'Hi!' } },
    });
    const out = accepted(transformRow(plan, row('', { language: '' })));
    assert.equal(out.appVariables['customer_name'], 'Customer');
    assert.equal(out.appOverrides['initial_bot_message'], 'Hi!');
  });

  it('keeps user_identifier exactly, and null when empty and optional', () => {
    const plan = planFor({ user_identifier: { column_name: 'cust_id' } });
    assert.equal(accepted(transformRow(plan, row('Asha', { id: ' C-001 ' }))).userIdentifier, ' C-001 ');
    assert.equal(accepted(transformRow(plan, row('Asha'))).userIdentifier, null);
  });

  it('refuses an empty user_identifier when it is required', () => {
    const plan = planFor({ user_identifier: { column_name: 'cust_id', required: true } });
    assert.equal(reason(transformRow(plan, row('Asha'))), "required column 'cust_id' (user_identifier) is empty");
  });

  it('applies the format chain to non-empty values', () => {
    const plan = planFor({
      app_variables: {
        customer_name: { column_name: 'name', format: ['trim', 'title'] },
        outstanding_amount: { column_name: 'balance', format: { fn: 'currency', decimals: 2 } },
        due_date: { column_name: 'payment_due', format: { fn: 'date', input: 'DD/MM/YYYY' } },
      },
    });
    const out = accepted(transformRow(plan, row('  asha RAO ', { balance: '₹1,234.5', due: '31/07/2024' })));
    assert.deepEqual(
      { ...out.appVariables },
      { customer_name: 'Asha Rao', outstanding_amount: '1234.50', due_date: '2024-07-31' },
    );
  });

  it('refuses a failing format naming the column, the value and the function', () => {
    const plan = planFor({
      app_variables: {
        customer_name: { column_name: 'name' },
        due_date: { column_name: 'payment_due', format: { fn: 'date', input: 'DD/MM/YYYY' } },
      },
    });
    assert.equal(
      reason(transformRow(plan, row('Asha', { due: '31/02/2024' }))),
      "column 'payment_due' value '31/02/2024' failed date(DD/MM/YYYY): not a real date",
    );
  });

  it('gives every refusal a stable code beside its reason', () => {
    const noCountry = planFor({ phone_number: { column_name: 'mobile' } });
    const formatted = planFor({
      app_variables: {
        customer_name: { column_name: 'name' },
        due_date: { column_name: 'payment_due', format: { fn: 'date', input: 'DD/MM/YYYY' } },
      },
    });
    const withIdentifier = planFor({ user_identifier: { column_name: 'cust_id', required: true } });
    const cases: Array<[IngestPlan, string[], string]> = [
      [PLAN, ['9876543210'], 'wrong_field_count'],
      [planFor({}, 10), row('Asha Rao Kumar'), 'field_too_long'],
      [PLAN, row('As\u0000ha'), 'nul_character'],
      [PLAN, row('Asha', { mobile: ' ' }), 'missing_phone'],
      [PLAN, row('Asha', { mobile: '12345' }), 'invalid_phone'],
      [PLAN, row('Asha', { mobile: 'N/A' }), 'invalid_phone'],
      [PLAN, row('Asha', { mobile: '+999123456789' }), 'invalid_phone'],
      [PLAN, row('Asha', { mobile: '9.87654E+09' }), 'phone_scientific_notation'],
      [noCountry, row('Asha'), 'phone_without_country'],
      [PLAN, row(''), 'missing_required_value'],
      [withIdentifier, row('Asha'), 'missing_required_value'],
      [formatted, row('Asha', { due: '31/02/2024' }), 'format_failed'],
    ];
    for (const [plan, fields, code] of cases) {
      const outcome = transformRow(plan, fields);
      assert.ok(!outcome.ok, JSON.stringify(fields));
      assert.equal(outcome.code, code, `${JSON.stringify(fields)}: ${outcome.reason}`);
    }
  });

  it('cuts a long failing value to about 60 characters in the reason', () => {
    const plan = planFor({
      app_variables: {
        customer_name: { column_name: 'name' },
        outstanding_amount: { column_name: 'balance', format: 'number' },
      },
    });
    const text = reason(transformRow(plan, row('Asha', { balance: 'x'.repeat(500) })));
    assert.equal(text, `column 'balance' value '${'x'.repeat(60)}…' failed number: not a number`);
  });

  it('skips the format chain for an empty optional value instead of failing', () => {
    const plan = planFor({
      app_variables: {
        customer_name: { column_name: 'name' },
        due_date: { column_name: 'payment_due', format: 'date' },
      },
    });
    assert.equal('due_date' in accepted(transformRow(plan, row('Asha', { due: '' }))).appVariables, false);
  });

  it('fills an empty cell with a default format before the other functions', () => {
    const plan = planFor({
      app_variables: {
        customer_name: { column_name: 'name', format: [{ fn: 'default', value: 'dear customer' }, 'title'] },
      },
    });
    assert.equal(accepted(transformRow(plan, row(''))).appVariables['customer_name'], 'Dear Customer');
  });

  it('treats a value that an enum maps to empty text as empty', () => {
    const plan = planFor({
      app_variables: {
        customer_name: { column_name: 'name', format: { fn: 'enum', map: { 'N/A': '' }, default: 'x' } },
      },
    });
    assert.equal(reason(transformRow(plan, row('n/a'))), "required column 'name' (customer_name) is empty");
  });

  it('keeps naughty values exactly as in the file', () => {
    const naughty = [
      'undefined',
      'null',
      'hasOwnProperty',
      '__proto__',
      'constructor',
      'NaN',
      '1E2',
      '01000',
      ' leading and trailing spaces ',
      '\u0001\u0002\u0007\b\u001b\u007f',
      '\u0080\u0081\u009f',
      'Roses are \u001b[0;31mred\u001b[0m',
      'בְּרֵאשִׁית, בָּרָא',
      '\u202a\u202atest\u202a',
      '👨‍🦰 👨🏿‍🦰 🇺🇸🇷🇺',
      '𠜎𠜱𠝹',
      'Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤',
      'line one\nline two',
      '=1+1',
      '{{ "".__class__ }}',
    ];
    for (const value of naughty) {
      const out = accepted(transformRow(PLAN, row(value)));
      assert.equal(out.appVariables['customer_name'], value, JSON.stringify(value));
    }
  });

  it('stores a __proto__ value as data without touching any prototype', () => {
    const out = accepted(transformRow(PLAN, row('__proto__', { language: '__proto__' })));
    assert.equal(out.appOverrides['initial_language_name'], '__proto__');
    assert.equal(
      JSON.stringify(out.appVariables),
      '{"customer_name":"__proto__","outstanding_amount":"1500","due_date":"2024-07-31"}',
    );
    assert.equal(({} as Record<string, unknown>)['customer_name'], undefined);
  });

  it("keeps the same phone key for the same number across rows (duplicates are the caller's job)", () => {
    const first = accepted(transformRow(PLAN, row('A', { mobile: '9876543210' })));
    const second = accepted(transformRow(PLAN, row('B', { mobile: '+91 98765 43210' })));
    assert.equal(first.phone, second.phone);
  });
});
