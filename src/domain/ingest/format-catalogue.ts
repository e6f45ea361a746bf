// The catalogue of format functions: documentation and compilation side by side, so the README
// table and the behaviour come from one place.
import { compileDatePattern } from './date-pattern.js';
import {
  DEFAULT_SEPARATORS,
  findNumberLocale,
  NUMBER_LOCALES,
  parseAmount,
  parseDecimal,
  renderDecimal,
  type DecimalSeparator,
  type GroupSeparator,
} from './decimal-text.js';
import type { OptionReader } from './format-option-reader.js';
import { StepFailure, type CompiledStep, type StepRun } from './format-step.js';
import { isBlank, listNames } from './value-text.js';

export interface FormatOptionDoc {
  readonly name: string;
  readonly type: string;
  readonly description: string;
}

/** What the README says about one function; FORMAT_FUNCTIONS is a list of these. */
export interface FormatFunctionDoc {
  readonly name: string;
  readonly summary: string;
  readonly options: readonly FormatOptionDoc[];
  /** The failure messages the function can give (after "failed <fn>: "). */
  readonly failures: readonly string[];
  readonly example: { readonly spec: unknown; readonly input: string; readonly output: string };
}

export interface FormatFunctionDef extends FormatFunctionDoc {
  compile(reader: OptionReader): CompiledStep | undefined;
}

const SEPARATOR_OPTIONS: readonly FormatOptionDoc[] = [
  { name: 'locale', type: 'string', description: `separators of a locale: ${Object.keys(NUMBER_LOCALES).join(', ')}` },
  { name: 'decimal_separator', type: "'.' | ','", description: "overrides the locale's decimal separator" },
  {
    name: 'group_separator',
    type: `',' | '.' | ' ' | "'" | ''`,
    description: "overrides the locale's grouping; '' forbids grouping",
  },
];
const DECIMALS_OPTION: FormatOptionDoc = {
  name: 'decimals',
  type: 'integer 0–10',
  description: 'exact number of decimal places: pads with zeros; extra non-zero digits fail (never rounded)',
};

function simple(name: string, run: StepRun): (reader: OptionReader) => CompiledStep {
  return () => ({ label: name, run, fillsBlank: false });
}

function readSeparators(reader: OptionReader): { decimal: DecimalSeparator; group: GroupSeparator; label: string } {
  const locale = reader.string('locale');
  let base = DEFAULT_SEPARATORS;
  let label = '';
  if (locale !== undefined) {
    const found = findNumberLocale(locale);
    if (found === undefined)
      reader.problem(`unknown locale '${locale}' (locales: ${Object.keys(NUMBER_LOCALES).join(', ')})`);
    else {
      base = found;
      label = locale;
    }
  }
  const decimal = reader.choice('decimal_separator', ['.', ','] as const);
  const group = reader.choice('group_separator', [',', '.', ' ', "'", ''] as const);
  const finalDecimal = decimal ?? base.decimal;
  // Only the decimal separator given: the default grouping moves out of its way.
  let finalGroup = group ?? base.group;
  if (group === undefined && finalGroup === finalDecimal) finalGroup = finalDecimal === ',' ? '.' : ',';
  if (finalGroup === finalDecimal) reader.problem('decimal_separator and group_separator must differ');
  return { decimal: finalDecimal, group: finalGroup, label };
}

const WORD_START = /(^|[^\p{L}\p{M}\p{N}'’])(\p{L})/gu;
const NON_DIGITS = /[^0-9]+/g;
const NO_DIGITS = new StepFailure('contains no digits');
const DEFAULT_TRUE = ['yes', 'true', '1', 'y'];
const DEFAULT_FALSE = ['no', 'false', '0', 'n'];

export const FORMAT_FUNCTION_DEFS: readonly FormatFunctionDef[] = [
  {
    name: 'trim',
    summary: 'Removes whitespace (including no-break spaces) at both ends.',
    options: [],
    failures: [],
    example: { spec: 'trim', input: '  Asha  ', output: 'Asha' },
    compile: simple('trim', (value) => value.trim()),
  },
  {
    name: 'upper',
    summary: 'Upper-cases every letter (Unicode, locale-independent).',
    options: [],
    failures: [],
    example: { spec: 'upper', input: 'straße', output: 'STRASSE' },
    compile: simple('upper', (value) => value.toUpperCase()),
  },
  {
    name: 'lower',
    summary: 'Lower-cases every letter (Unicode, locale-independent).',
    options: [],
    failures: [],
    example: { spec: 'lower', input: 'ÉCOLE', output: 'école' },
    compile: simple('lower', (value) => value.toLowerCase()),
  },
  {
    name: 'title',
    summary:
      'Lower-cases, then upper-cases the first letter of each word (words split at anything but letters, digits and apostrophes).',
    options: [],
    failures: [],
    example: { spec: 'title', input: 'aSHA mary-jane', output: 'Asha Mary-Jane' },
    compile: simple('title', (value) =>
      value
        .toLowerCase()
        .replace(WORD_START, (_match, before: string, letter: string) => before + letter.toUpperCase()),
    ),
  },
  {
    name: 'digits',
    summary: 'Keeps only the ASCII digits 0-9.',
    options: [],
    failures: ['contains no digits'],
    example: { spec: 'digits', input: 'ACC-00 12/7', output: '00127' },
    compile: simple('digits', (value) => {
      const digits = value.replace(NON_DIGITS, '');
      return digits.length > 0 ? digits : NO_DIGITS;
    }),
  },
  {
    name: 'number',
    summary: "A decimal number with locale separators → canonical form ('-', '.', no grouping, digits kept exactly).",
    options: [...SEPARATOR_OPTIONS, DECIMALS_OPTION],
    failures: [
      'not a number',
      'scientific notation is not accepted',
      "group separator ',' in the wrong place",
      'more than 2 decimal places',
    ],
    example: { spec: { fn: 'number', locale: 'de-DE' }, input: '1.234.567,89', output: '1234567.89' },
    compile(reader) {
      const { decimal, group, label } = readSeparators(reader);
      const decimals = reader.integer('decimals', 0, 10);
      const separators = { decimal, group };
      return {
        label: label === '' ? 'number' : `number(${label})`,
        fillsBlank: false,
        run: (value) => {
          const parts = parseDecimal(value.trim(), separators);
          return parts instanceof StepFailure ? parts : renderDecimal(parts, decimals);
        },
      };
    },
  },
  {
    name: 'integer',
    summary:
      'A whole number with locale separators → digits with an optional leading -; a zero fraction (12.00) is dropped.',
    options: SEPARATOR_OPTIONS,
    failures: [
      'not a number',
      'scientific notation is not accepted',
      "group separator ',' in the wrong place",
      'not a whole number',
    ],
    example: { spec: { fn: 'integer', locale: 'en-IN' }, input: '12,34,567', output: '1234567' },
    compile(reader) {
      const { decimal, group, label } = readSeparators(reader);
      const separators = { decimal, group };
      return {
        label: label === '' ? 'integer' : `integer(${label})`,
        fillsBlank: false,
        run: (value) => {
          const parts = parseDecimal(value.trim(), separators);
          return parts instanceof StepFailure ? parts : renderDecimal(parts, 0);
        },
      };
    },
  },
  {
    name: 'currency',
    summary:
      'An amount: like number, plus one currency symbol or ISO code before or after (₹, $, €, Rs., INR, US$…); negative with a minus or in parentheses.',
    options: [...SEPARATOR_OPTIONS, DECIMALS_OPTION],
    failures: [
      'not an amount',
      "unknown currency 'ABC'",
      "group separator ',' in the wrong place",
      'more than 2 decimal places',
    ],
    example: { spec: { fn: 'currency', decimals: 2 }, input: '(₹1,234.5)', output: '-1234.50' },
    compile(reader) {
      const { decimal, group, label } = readSeparators(reader);
      const decimals = reader.integer('decimals', 0, 10);
      const separators = { decimal, group };
      return {
        label: label === '' ? 'currency' : `currency(${label})`,
        fillsBlank: false,
        run: (value) => {
          const parts = parseAmount(value, separators);
          return parts instanceof StepFailure ? parts : renderDecimal(parts, decimals);
        },
      };
    },
  },
  {
    name: 'date',
    summary:
      'A date read with an input pattern → YYYY-MM-DD, or YYYY-MM-DDTHH:mm:ss when the pattern has a time. Tokens: YYYY, YY (00–60 → 20xx, 61–99 → 19xx), MM, M, DD, D, HH, mm, ss; T and non-letters are literal.',
    options: [{ name: 'input', type: 'string', description: "the pattern the file uses; default 'YYYY-MM-DD'" }],
    failures: ['does not match the pattern DD/MM/YYYY', 'not a real date', 'not a real date and time'],
    example: { spec: { fn: 'date', input: 'DD/MM/YYYY' }, input: '31/07/2024', output: '2024-07-31' },
    compile(reader) {
      const input = reader.string('input') ?? 'YYYY-MM-DD';
      const compiled = compileDatePattern(input);
      if (!compiled.ok) {
        for (const problem of compiled.problems) reader.problem(problem);
        return undefined;
      }
      return { label: `date(${input})`, run: compiled.value, fillsBlank: false };
    },
  },
  {
    name: 'boolean',
    summary: "Yes/no words → 'true' or 'false' (case-insensitive, surrounding whitespace ignored).",
    options: [
      { name: 'true_values', type: 'string[]', description: `words meaning true; default ${DEFAULT_TRUE.join(', ')}` },
      {
        name: 'false_values',
        type: 'string[]',
        description: `words meaning false; default ${DEFAULT_FALSE.join(', ')}`,
      },
    ],
    failures: ['not one of: yes, true, 1, y (true) or no, false, 0, n (false)'],
    example: { spec: { fn: 'boolean', true_values: ['paid'], false_values: ['due'] }, input: 'PAID', output: 'true' },
    compile(reader) {
      const trueValues = (reader.stringList('true_values') ?? DEFAULT_TRUE).map((v) => v.trim().toLowerCase());
      const falseValues = (reader.stringList('false_values') ?? DEFAULT_FALSE).map((v) => v.trim().toLowerCase());
      const meaning = new Map<string, string>();
      for (const word of trueValues) meaning.set(word, 'true');
      for (const word of falseValues) {
        if (meaning.get(word) === 'true') reader.problem(`'${word}' is in both true_values and false_values`);
        meaning.set(word, 'false');
      }
      const unknown = new StepFailure(
        `not one of: ${trueValues.join(', ')} (true) or ${falseValues.join(', ')} (false)`,
      );
      return {
        label: 'boolean',
        fillsBlank: false,
        run: (value) => meaning.get(value.trim().toLowerCase()) ?? unknown,
      };
    },
  },
  {
    name: 'enum',
    summary: 'Maps listed values to others (matched after trimming; case-insensitive unless case_sensitive).',
    options: [
      { name: 'map', type: 'object', description: 'required: {"value in file": "value to store"}' },
      { name: 'case_sensitive', type: 'boolean', description: 'match letter case exactly; default false' },
      {
        name: 'default',
        type: 'string',
        description: 'stored for a value that is not in map; without it such a value fails',
      },
    ],
    failures: ['not one of: M, F'],
    example: { spec: { fn: 'enum', map: { M: 'Male', F: 'Female' } }, input: 'f', output: 'Female' },
    compile(reader) {
      const pairs = reader.stringMap('map') ?? [];
      const caseSensitive = reader.boolean('case_sensitive') ?? false;
      const fallback = reader.string('default');
      const table = new Map<string, string>();
      const firstKey = new Map<string, string>();
      for (const [key, mapped] of pairs) {
        const lookup = caseSensitive ? key.trim() : key.trim().toLowerCase();
        const earlier = firstKey.get(lookup);
        if (earlier !== undefined && table.get(lookup) !== mapped) {
          reader.problem(`map keys '${earlier}' and '${key}' match the same values but map them differently`);
        }
        firstKey.set(lookup, key);
        table.set(lookup, mapped);
      }
      const unknown = new StepFailure(`not one of: ${listNames([...firstKey.values()], 10)}`);
      return {
        label: 'enum',
        fillsBlank: false,
        run: (value) => {
          const trimmed = value.trim();
          return table.get(caseSensitive ? trimmed : trimmed.toLowerCase()) ?? fallback ?? unknown;
        },
      };
    },
  },
  {
    name: 'default',
    summary:
      'Replaces an empty (blank) value with `value`; other values pass unchanged. The only function that sees empty values: put it first to format the filled-in value too.',
    options: [{ name: 'value', type: 'string', description: 'required: the value used for an empty cell' }],
    failures: [],
    example: { spec: { fn: 'default', value: 'Customer' }, input: '', output: 'Customer' },
    compile(reader) {
      const value = reader.string('value', true);
      if (value !== undefined && value.trim() === '') reader.problem("option 'value' must not be blank");
      if (value === undefined) return undefined;
      return { label: 'default', fillsBlank: true, run: (cell) => (isBlank(cell) ? value : cell) };
    },
  },
];

/** The option names each function accepts, for unknown-option messages. */
export function optionNames(def: FormatFunctionDoc): string[] {
  return def.options.map((option) => option.name);
}
