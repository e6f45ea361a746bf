import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normaliseCallerId, normalisePhone } from '../../../src/domain/ingest/phone.js';

function e164(raw: string, country: string | undefined): string {
  const outcome = normalisePhone(raw, country);
  assert.ok(outcome.ok, `expected ${JSON.stringify(raw)} to be accepted, got ${JSON.stringify(outcome)}`);
  return outcome.e164;
}

function reason(raw: string, country: string | undefined): string {
  const outcome = normalisePhone(raw, country);
  assert.ok(!outcome.ok, `expected ${JSON.stringify(raw)} to be refused, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
}

function code(raw: string, country: string | undefined): string {
  const outcome = normalisePhone(raw, country);
  assert.ok(!outcome.ok, `expected ${JSON.stringify(raw)} to be refused, got ${JSON.stringify(outcome)}`);
  return outcome.code;
}

describe('normalisePhone', () => {
  it('gives each refusal the row rejection code a person acts on', () => {
    assert.equal(code('', 'IN'), 'missing_phone');
    assert.equal(code('9.87654E+09', 'IN'), 'phone_scientific_notation');
    assert.equal(code('9876543210', undefined), 'phone_without_country');
    assert.equal(code('9876543210', 'XX'), 'unsupported_country');
    for (const raw of ['abc', '12345', '98765432101234', '+447700900123', '+999123456789', '9'.repeat(300)])
      assert.equal(code(raw, 'IN'), 'invalid_phone', raw);
  });

  it("gives +919876543210 for the vendor's three examples with country IN", () => {
    for (const raw of ['9876543210', '09876543210', '+919876543210']) assert.equal(e164(raw, 'IN'), '+919876543210');
  });

  it('gives +919876543210 for other common Indian spellings', () => {
    for (const raw of [
      '919876543210',
      '00919876543210',
      '98765 43210',
      '(987) 654-3210',
      '+91 98765-43210',
      ' 9876543210 ',
    ]) {
      assert.equal(e164(raw, 'IN'), '+919876543210', raw);
    }
  });

  it('accepts the country case-insensitively', () => {
    assert.equal(e164('9876543210', 'in'), '+919876543210');
  });

  it('accepts foreign numbers written with + whatever the country', () => {
    const foreign = [
      '+12015550123',
      '+447400123456',
      '+971501234567',
      '+6581234567',
      '+61412345678',
      '+4915123456789',
      '+819012345678',
      '+5511961234567',
      '+2348021234567',
      '+27711234567',
    ];
    for (const raw of foreign) assert.equal(e164(raw, 'IN'), raw);
  });

  it('accepts + numbers when no country is known', () => {
    assert.equal(e164('+919876543210', undefined), '+919876543210');
  });

  it('refuses a national number when no country is known, saying how to fix it', () => {
    assert.match(
      reason('9876543210', undefined),
      /^phone number '9876543210' has no country code .*\+<country code><number>/,
    );
  });

  it('refuses spreadsheet scientific notation instead of guessing the digits', () => {
    for (const raw of ['9.87654E+09', '9,87654E+09', '9.87654e9', '9.876543210E+09']) {
      const text = reason(raw, 'IN');
      assert.ok(text.startsWith(`phone number '${raw}' `), text);
      assert.match(text, /scientific notation/);
      assert.match(text, /format the column as text/);
    }
  });

  it('refuses an empty or blank value, quoting it', () => {
    assert.equal(reason('', 'IN'), "phone number '' is empty");
    assert.equal(reason('   ', 'IN'), "phone number '   ' is empty");
  });

  it('refuses alphabetic values and N/A as not a phone number', () => {
    assert.equal(reason('abc', 'IN'), "phone number 'abc' is not a phone number");
    assert.equal(reason('N/A', 'IN'), "phone number 'N/A' is not a phone number");
  });

  it('judges an invalid international number by its own country code, not the configured one', () => {
    assert.equal(reason('+447700900123', 'IN'), "phone number '+447700900123' is not a valid phone number for +44");
  });

  it('refuses +91 alone as too short', () => {
    assert.equal(reason('+91', 'IN'), "phone number '+91' is too short");
  });

  it('refuses too short and too long national numbers, quoting them', () => {
    assert.equal(reason('12345', 'IN'), "phone number '12345' is too short for IN");
    assert.equal(reason('98765432101234', 'IN'), "phone number '98765432101234' is too long for IN");
  });

  it('refuses an unknown country calling code', () => {
    assert.equal(reason('+999123456789', 'IN'), "phone number '+999123456789' has an unknown country calling code");
  });

  it('refuses a huge cell without parsing it and quotes only its start', () => {
    const text = reason('9'.repeat(100_000), 'IN');
    assert.ok(text.length < 200, text);
    assert.match(text, /is too long$/);
  });

  it('refuses an unsupported country instead of throwing', () => {
    assert.equal(reason('9876543210', 'XX'), "country 'XX' is not a supported ISO 3166 alpha-2 code");
  });

  it('escapes control characters in the quoted value', () => {
    assert.equal(reason('abc\n', 'IN'), "phone number 'abc\\n' is not a phone number");
  });
});

describe('normaliseCallerId', () => {
  it('gives a valid caller id its E.164', () => {
    assert.deepEqual(normaliseCallerId('098 7777 7777', 'IN'), { ok: true, phone: '+919877777777', valid: true });
  });

  it('keeps a phone-shaped caller id libphonenumber refuses, echoed as + country code and number', () => {
    for (const [raw, country] of [
      ['+915500000001', undefined],
      ['+91 55000-00001', 'US'],
      ['5500000001', 'IN'],
      ['05500000001', 'IN'],
      ['00915500000001', 'IN'],
    ] as const) {
      assert.deepEqual(normaliseCallerId(raw, country), { ok: true, phone: '+915500000001', valid: false }, raw);
    }
  });

  it('echoes a national caller id it cannot place in a country as its digits', () => {
    assert.deepEqual(normaliseCallerId('123-45', undefined), { ok: true, phone: '12345', valid: false });
  });

  it('refuses only what cannot be a number: letters, empty, too few or too many digits, a bad country', () => {
    for (const [raw, country] of [
      ['abc', 'IN'],
      ['', 'IN'],
      ['+91', undefined],
      ['9.87654E+09', 'IN'],
      ['+1234567890123456', undefined],
      ['123456789012345678', 'IN'],
      ['+919876543210', 'ZZ'],
    ] as const) {
      assert.equal(normaliseCallerId(raw, country).ok, false, raw);
    }
  });
});
