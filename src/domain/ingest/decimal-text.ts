// Reading numbers written with locale separators, without ever going through floating point:
// amounts and ids keep every digit the file had.
import { StepFailure } from './format-step.js';

export type DecimalSeparator = '.' | ',';
/** '' means "no grouping allowed"; ' ' also matches no-break spaces, "'" also matches ’. */
export type GroupSeparator = ',' | '.' | ' ' | "'" | '';
export interface Separators {
  readonly decimal: DecimalSeparator;
  readonly group: GroupSeparator;
}

/** Separators per supported locale (case-insensitive names). */
export const NUMBER_LOCALES: Readonly<Record<string, Separators>> = {
  'en-US': { decimal: '.', group: ',' },
  'en-GB': { decimal: '.', group: ',' },
  'en-IN': { decimal: '.', group: ',' },
  'en-AU': { decimal: '.', group: ',' },
  'en-CA': { decimal: '.', group: ',' },
  'hi-IN': { decimal: '.', group: ',' },
  'ja-JP': { decimal: '.', group: ',' },
  'zh-CN': { decimal: '.', group: ',' },
  'de-DE': { decimal: ',', group: '.' },
  'es-ES': { decimal: ',', group: '.' },
  'it-IT': { decimal: ',', group: '.' },
  'nl-NL': { decimal: ',', group: '.' },
  'pt-BR': { decimal: ',', group: '.' },
  'id-ID': { decimal: ',', group: '.' },
  'tr-TR': { decimal: ',', group: '.' },
  'fr-FR': { decimal: ',', group: ' ' },
  'sv-SE': { decimal: ',', group: ' ' },
  'pl-PL': { decimal: ',', group: ' ' },
  'ru-RU': { decimal: ',', group: ' ' },
  'de-CH': { decimal: '.', group: "'" },
};

/** Separators used when a function names no locale and no separators. */
export const DEFAULT_SEPARATORS: Separators = { decimal: '.', group: ',' };

/** The locale entry for a name, matched case-insensitively. */
export function findNumberLocale(name: string): Separators | undefined {
  const wanted = name.toLowerCase();
  for (const [locale, separators] of Object.entries(NUMBER_LOCALES)) {
    if (locale.toLowerCase() === wanted) return separators;
  }
  return undefined;
}

/** A parsed decimal: sign, integer digits without leading zeros ('0' at least), fraction digits. */
export interface DecimalParts {
  negative: boolean;
  integer: string;
  fraction: string;
}

const NOT_A_NUMBER = new StepFailure('not a number');
const SCIENTIFIC = new StepFailure('scientific notation is not accepted');
const ONLY_ASCII_DIGITS = /^[0-9]*$/;
const NON_ZERO_DIGIT = /[1-9]/;
const EXPONENT = /^[+\-\u2212]?[0-9.,]+[eE][+-]?[0-9]+$/;

function isGroupChar(char: string, group: GroupSeparator): boolean {
  if (group === '') return false;
  if (group === ' ') return char === ' ' || char === '\u00a0' || char === '\u202f';
  if (group === "'") return char === "'" || char === '\u2019';
  return char === group;
}

/** Parses a trimmed number such as `-1,23,456.50` (sign optional; U+2212 minus accepted). */
export function parseDecimal(text: string, separators: Separators): DecimalParts | StepFailure {
  let start = 0;
  let negative = false;
  const first = text.charAt(0);
  if (first === '-' || first === '\u2212') {
    negative = true;
    start = 1;
  } else if (first === '+') {
    start = 1;
  }
  let decimalAt = -1;
  for (let i = start; i < text.length; i++) {
    if (text.charAt(i) === separators.decimal) {
      decimalAt = i;
      break;
    }
  }
  const integerText = text.slice(start, decimalAt === -1 ? text.length : decimalAt);
  const fraction = decimalAt === -1 ? '' : text.slice(decimalAt + 1);
  if (decimalAt !== -1 && fraction.length === 0) return NOT_A_NUMBER;
  if (integerText.length === 0 && fraction.length === 0) return NOT_A_NUMBER;
  if (!ONLY_ASCII_DIGITS.test(fraction)) return EXPONENT.test(text) ? SCIENTIFIC : NOT_A_NUMBER;

  let integer: string;
  if (ONLY_ASCII_DIGITS.test(integerText)) {
    integer = integerText;
  } else {
    const grouped = ungroup(integerText, separators.group);
    if (grouped === undefined) return EXPONENT.test(text) ? SCIENTIFIC : NOT_A_NUMBER;
    if (grouped instanceof StepFailure) return grouped;
    integer = grouped;
  }
  let firstSignificant = 0;
  while (firstSignificant < integer.length - 1 && integer.charCodeAt(firstSignificant) === 48) firstSignificant++;
  integer = integer.length === 0 ? '0' : integer.slice(firstSignificant);
  return { negative, integer, fraction };
}

// Accepts Western grouping (1,234,567) and Indian grouping (12,34,567); anything else is a
// typo or a value in another locale, which must fail rather than be read as a different number.
function ungroup(text: string, group: GroupSeparator): string | StepFailure | undefined {
  const groups: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char >= '0' && char <= '9') current += char;
    else if (isGroupChar(char, group)) {
      groups.push(current);
      current = '';
    } else return undefined;
  }
  groups.push(current);
  const firstGroup = groups[0] ?? '';
  const lastGroup = groups[groups.length - 1] ?? '';
  const middle = groups.slice(1, -1);
  const western = firstGroup.length <= 3 && middle.every((g) => g.length === 3);
  const indian = firstGroup.length <= 2 && middle.every((g) => g.length === 2);
  if (firstGroup.length > 0 && lastGroup.length === 3 && (western || indian)) return groups.join('');
  return new StepFailure(`group separator '${group}' in the wrong place`);
}

/**
 * Writes parts canonically: '-' for negatives (never for zero), '.' as decimal separator, no
 * grouping. With `decimals`, the fraction is padded or cut to that length; cutting only drops
 * zeros, a non-zero digit fails instead of being rounded away.
 */
export function renderDecimal(parts: DecimalParts, decimals: number | undefined): string | StepFailure {
  let fraction = parts.fraction;
  if (decimals !== undefined && fraction.length !== decimals) {
    if (fraction.length < decimals) fraction = fraction.padEnd(decimals, '0');
    else {
      for (let i = decimals; i < fraction.length; i++) {
        if (fraction.charCodeAt(i) !== 48) {
          return new StepFailure(
            decimals === 0 ? 'not a whole number' : `more than ${decimals} decimal place${decimals === 1 ? '' : 's'}`,
          );
        }
      }
      fraction = fraction.slice(0, decimals);
    }
  }
  const isZero = parts.integer === '0' && !NON_ZERO_DIGIT.test(fraction);
  const sign = parts.negative && !isZero ? '-' : '';
  return fraction.length > 0 ? `${sign}${parts.integer}.${fraction}` : `${sign}${parts.integer}`;
}

// ISO 4217 codes known to the runtime, plus the ways Indian files write rupees.
const CURRENCY_CODES = new Set([...Intl.supportedValuesOf('currency'), 'RS', 'RS.']);
// A code is a whole word: the letters of "free" are not the code "FRE".
const CURRENCY_PREFIX = /^(?:\p{Sc}|[A-Za-z]{1,3}\$|[A-Za-z]{2,3}(?![A-Za-z])\.?)/u;
const CURRENCY_SUFFIX = /(?:\p{Sc}|(?<![A-Za-z])[A-Za-z]{1,3}\$|(?<![A-Za-z])[A-Za-z]{2,3}\.?)$/u;
const LETTERS_ONLY = /^[A-Za-z]+\.?$/;
const NOT_AN_AMOUNT = new StepFailure('not an amount');

function isSign(char: string): boolean {
  return char === '-' || char === '+' || char === '\u2212';
}

/**
 * Parses an amount: a number with at most one currency symbol or code before or after it
 * (₹, $, €, Rs., INR, US$…), negative with a minus sign or in parentheses.
 */
export function parseAmount(value: string, separators: Separators): DecimalParts | StepFailure {
  let text = value.trim();
  let parenthesised = false;
  if (text.length > 1 && text.startsWith('(') && text.endsWith(')')) {
    parenthesised = true;
    text = text.slice(1, -1).trim();
  }
  let sign = '';
  if (isSign(text.charAt(0))) {
    sign = text.charAt(0);
    text = text.slice(1).trimStart();
  }
  let marker = CURRENCY_PREFIX.exec(text);
  if (marker !== null) text = text.slice(marker[0].length).trimStart();
  else {
    marker = CURRENCY_SUFFIX.exec(text);
    if (marker !== null) text = text.slice(0, marker.index).trimEnd();
  }
  if (marker !== null && LETTERS_ONLY.test(marker[0]) && !CURRENCY_CODES.has(marker[0].toUpperCase())) {
    return new StepFailure(`unknown currency '${marker[0]}'`);
  }
  if (sign !== '') {
    if (isSign(text.charAt(0))) return NOT_AN_AMOUNT;
    text = sign + text;
  }
  const parts = parseDecimal(text, separators);
  if (parts instanceof StepFailure) return parts === NOT_A_NUMBER ? NOT_AN_AMOUNT : parts;
  if (parenthesised) {
    if (parts.negative) return NOT_AN_AMOUNT;
    parts.negative = true;
  }
  return parts;
}
