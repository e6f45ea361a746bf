import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  getExampleNumber,
  parsePhoneNumberFromString as patched,
} from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { parsePhoneNumberFromString as unpatchedEsm } from 'libphonenumber-js-unpatched/max';

// patches/libphonenumber-js+1.13.16.patch keeps each compiled pattern instead of compiling it again
// on every call (about half the time of validating a number), and copies a parse's options with
// Object.assign instead of Babel's _objectSpread helper (as the library's own es6-modern build does;
// ~15 % of what was left). It must not change one answer: the
// patched library is compared here with the same version unpatched (the libphonenumber-js-unpatched
// alias), on the library's own example numbers and on numbers generated for every country.

const require = createRequire(import.meta.url);
const unpatchedCjs = require('libphonenumber-js-unpatched/max') as { parsePhoneNumberFromString: typeof patched };
const patchedCjs = require('libphonenumber-js/max') as { parsePhoneNumberFromString: typeof patched };

/** Everything a caller of the library can read of one parse. */
function answer(parse: typeof patched, text: string, country: CountryCode | undefined) {
  const phone = parse(text, country);
  if (!phone) return null;
  return [
    phone.number,
    phone.country,
    phone.isValid(),
    phone.isPossible(),
    phone.getType(),
    phone.formatNational(),
    phone.formatInternational(),
  ];
}

/** A deterministic pseudo-random source, so a failure names inputs that can be run again. */
function randomDigits(seed: number): (length: number) => string {
  let state = seed;
  return (length) => {
    let digits = '';
    for (let i = 0; i < length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      digits += String(state % 10);
    }
    return digits;
  };
}

function inputs(): Array<[string, CountryCode | undefined]> {
  const cases: Array<[string, CountryCode | undefined]> = [];
  const digits = randomDigits(20261204);
  for (const country of getCountries()) {
    const example = getExampleNumber(country, examples);
    if (example) {
      cases.push([example.number, undefined], [example.nationalNumber, country], [example.formatNational(), country]);
      // Near misses of a valid number: one digit changed, one dropped, one added.
      const national = example.nationalNumber;
      cases.push(
        [`${national.slice(0, -1)}${(Number(national.at(-1)) + 1) % 10}`, country],
        [national.slice(0, -1), country],
        [`${national}7`, country],
      );
    }
    const code = getCountryCallingCode(country);
    for (let i = 0; i < 40; i++) {
      const length = 4 + (i % 12);
      cases.push([digits(length), country], [`+${code}${digits(length)}`, undefined]);
    }
  }
  return cases;
}

describe('the patched libphonenumber-js', () => {
  it('is patched: each matchesEntirely keeps its compiled patterns', () => {
    const root = path.dirname(fileURLToPath(import.meta.resolve('libphonenumber-js/package.json')));
    for (const build of ['es6', 'build']) {
      const file = path.join(root, build, 'helpers', 'matchesEntirely.js');
      assert.match(readFileSync(file, 'utf8'), /compiledPatterns\.get\(regularExpressionText\)/, build);
    }
  });

  it('answers exactly as the unpatched library on example and generated numbers of every country', () => {
    const cases = inputs();
    assert.ok(cases.length > 20_000, `${cases.length} inputs`);
    let valid = 0;
    for (const [text, country] of cases) {
      const expected = answer(unpatchedEsm, text, country);
      assert.deepEqual(answer(patched, text, country), expected, `${text} in ${country ?? 'no country'}`);
      if (expected?.[2]) valid++;
    }
    // Enough of them valid that the patterns' matches, not only their misses, are compared.
    assert.ok(valid > 1000, `${valid} valid of ${cases.length}`);
    // The CommonJS build is patched too.
    for (const [text, country] of cases.slice(0, 2000))
      assert.deepEqual(
        answer(patchedCjs.parsePhoneNumberFromString, text, country),
        answer(unpatchedCjs.parsePhoneNumberFromString, text, country),
      );
  });
});
