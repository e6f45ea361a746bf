// Phone normalisation: every accepted number becomes E.164, the key inbound calls are matched on.
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
} from 'libphonenumber-js/max';
import { isBlank, quoteValue } from './value-text.js';

export type PhoneOutcome = { ok: true; e164: string } | { ok: false; reason: string };

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
    return { ok: false, reason: `country ${quoteValue(country ?? '')} is not a supported ISO 3166 alpha-2 code` };
  }
  if (isBlank(raw)) return refuse(raw, 'is empty');
  if (SCIENTIFIC_NOTATION.test(raw)) {
    return refuse(
      raw,
      'was turned into scientific notation by a spreadsheet and has lost digits; format the column as text and export the file again',
    );
  }
  if (raw.length > MAX_PHONE_INPUT) return refuse(raw, 'is too long');
  if (!ANY_PHONE_DIGIT.test(raw)) return refuse(raw, 'is not a phone number');

  const parsed = parsePhoneNumberFromString(raw, region);
  if (parsed !== undefined && parsed.isValid()) return { ok: true, e164: parsed.number };
  // An international number is judged by its own country, not the configured one.
  const judgedBy = INTERNATIONAL_PREFIX.test(raw)
    ? parsed?.country ?? (parsed?.countryCallingCode ? `+${parsed.countryCallingCode}` : undefined)
    : region;
  return refuse(raw, explainInvalid(raw, region, judgedBy));
}

// Runs only for refused numbers, so asking libphonenumber a second time costs nothing overall.
function explainInvalid(raw: string, region: CountryCode | undefined, judgedBy: string | undefined): string {
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
        ? 'has no country code and no country_code is configured; write it as +<country code><number>'
        : 'has an unknown country calling code';
    default:
      return `is not a valid phone number${forCountry}`;
  }
}

function refuse(raw: string, problem: string): PhoneOutcome {
  return { ok: false, reason: `phone number ${quoteValue(raw)} ${problem}` };
}
