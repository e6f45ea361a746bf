// Phone normalisation: every accepted number becomes E.164, the key inbound calls are matched on.
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
} from 'libphonenumber-js/max';
import type { RowRejectionCode } from './row-rejection.js';
import { isBlank, quoteValue } from './value-text.js';

/** The row rejection codes a phone cell can earn. */
export type PhoneRejectionCode = Extract<
  RowRejectionCode,
  'missing_phone' | 'invalid_phone' | 'phone_scientific_notation' | 'phone_without_country' | 'unsupported_country'
>;

export type PhoneOutcome = { ok: true; e164: string } | { ok: false; code: PhoneRejectionCode; reason: string };

// libphonenumber refuses longer input itself (MAX_INPUT_STRING_LENGTH); refusing it here too
// keeps its answer unchanged and spares parsing huge cells.
const MAX_PHONE_INPUT = 250;

// A number a spreadsheet displayed as 9.87654E+09 has lost digits: it must never be guessed.
// The decimal comma covers spreadsheets set to European locales.
const SCIENTIFIC_NOTATION = /^\s*[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+\s*$/;

// The digits libphonenumber understands (ASCII, fullwidth, Arabic-Indic, Eastern Arabic-Indic).
// Input without any of them can never be a number, so it is refused without parsing.
const ANY_PHONE_DIGIT = /[0-9\uff10-\uff19\u0660-\u0669\u06f0-\u06f9]/;
const INTERNATIONAL_PREFIX = /^\s*(?:\+|00)/;

/** True when libphonenumber knows the ISO 3166 alpha-2 code (case-insensitive). */
export function isSupportedPhoneCountry(country: string): boolean {
  return isSupportedCountry(country.toUpperCase());
}

/**
 * Normalises a phone cell to E.164. National numbers use `country` (ISO 3166 alpha-2); without
 * a country only numbers written with + and a country calling code (or 00) are accepted.
 */
export function normalisePhone(raw: string, country: string | undefined): PhoneOutcome {
  const region = country === undefined ? undefined : country.toUpperCase();
  if (region !== undefined && !isSupportedCountry(region)) {
    return {
      ok: false,
      code: 'unsupported_country',
      reason: `country ${quoteValue(country ?? '')} is not a supported ISO 3166 alpha-2 code`,
    };
  }
  if (isBlank(raw)) return refuse(raw, 'missing_phone', 'is empty');
  if (SCIENTIFIC_NOTATION.test(raw)) {
    return refuse(
      raw,
      'phone_scientific_notation',
      'was turned into scientific notation by a spreadsheet and has lost digits; format the column as text and export the file again',
    );
  }
  if (raw.length > MAX_PHONE_INPUT) return refuse(raw, 'invalid_phone', 'is too long');
  if (!ANY_PHONE_DIGIT.test(raw)) return refuse(raw, 'invalid_phone', 'is not a phone number');

  const parsed = parsePhoneNumberFromString(raw, region);
  if (parsed?.isValid()) return { ok: true, e164: parsed.number };
  // An international number is judged by its own country, not the configured one.
  const judgedBy = INTERNATIONAL_PREFIX.test(raw)
    ? (parsed?.country ?? (parsed?.countryCallingCode ? `+${parsed.countryCallingCode}` : undefined))
    : region;
  const invalid = explainInvalid(raw, region, judgedBy);
  return typeof invalid === 'string'
    ? refuse(raw, 'invalid_phone', invalid)
    : refuse(raw, invalid.code, invalid.problem);
}

// Runs only for refused numbers, so asking libphonenumber a second time costs nothing overall.
function explainInvalid(
  raw: string,
  region: CountryCode | undefined,
  judgedBy: string | undefined,
): string | { code: PhoneRejectionCode; problem: string } {
  const forCountry = judgedBy === undefined ? '' : ` for ${judgedBy}`;
  switch (validatePhoneNumberLength(raw, region)) {
    case 'NOT_A_NUMBER':
      return 'is not a phone number';
    case 'TOO_SHORT':
      return `is too short${forCountry}`;
    case 'TOO_LONG':
      return `is too long${forCountry}`;
    case 'INVALID_LENGTH':
      return `does not have a valid length${forCountry}`;
    case 'INVALID_COUNTRY':
      return region === undefined && !INTERNATIONAL_PREFIX.test(raw)
        ? {
            code: 'phone_without_country',
            problem: 'has no country code and no country_code is configured; write it as +<country code><number>',
          }
        : 'has an unknown country calling code';
    default:
      return `is not a valid phone number${forCountry}`;
  }
}

function refuse(raw: string, code: PhoneRejectionCode, problem: string): PhoneOutcome {
  return { ok: false, code, reason: `phone number ${quoteValue(raw)} ${problem}` };
}

/** A caller id as the lookup reads it: a valid number, one only shaped like a number, or neither. */
export type CallerIdOutcome = { ok: true; phone: string; valid: boolean } | { ok: false; reason: string };

// What a carrier may put between digits; removed before judging a caller id's shape.
const CALLER_ID_SEPARATORS = /[\s\u00a0\-.()/]/g;
// E.164 allows 15 digits; a national form may add a trunk 0 or a 00 international prefix.
const INTERNATIONAL_SHAPE = /^\+\d{8,15}$/;
const NATIONAL_SHAPE = /^\d{3,17}$/;

/**
 * Reads a caller id for the call-time lookup. A number libphonenumber accepts is its E.164; one it
 * refuses but that is shaped like a number (`+` and 8–15 digits, or 3–17 digits) is still a caller id
 * that no cohort can hold (`valid: false`), echoed as `+<country code><number>` when it parses with
 * its own or the given country, else as its digits (and `+`) without separators. Only what cannot be
 * a number at all (letters, empty, too many digits, an unsupported country) is refused.
 */
export function normaliseCallerId(raw: string, country: string | undefined): CallerIdOutcome {
  const normalised = normalisePhone(raw, country);
  if (normalised.ok) return { ok: true, phone: normalised.e164, valid: true };
  const region = country?.toUpperCase();
  if (region !== undefined && !isSupportedCountry(region)) return normalised;
  const compact = raw.replace(CALLER_ID_SEPARATORS, '');
  if (!INTERNATIONAL_SHAPE.test(compact) && !NATIONAL_SHAPE.test(compact)) return normalised;
  const parsed = parsePhoneNumberFromString(compact, region as CountryCode | undefined);
  return { ok: true, phone: parsed?.number ?? compact, valid: false };
}
