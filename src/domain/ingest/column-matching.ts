// Suggests a transformation config from a CSV header: a variable is mapped only when a column is
// named like it, never by position, so a default upload cannot put one column's data under
// another variable's name (issue #15: callers greeted by their own phone number).
import type { TransformationConfig } from './transformation-schema.js';

/** Column names taken as the phone number, compared after normalising (see normaliseColumnName). */
export const PHONE_COLUMN_NAMES: readonly string[] = [
  'phone_number',
  'phone',
  'mobile',
  'mobile_number',
  'msisdn',
  'phone_no',
  'mobile_no',
  'cell',
  'cell_phone',
  'telephone',
  'tel',
  'contact_number',
  'user_phone_number',
];

/** A name with case, spaces, `_` and `-` removed: `Customer Name`, `customer-name` and `customer_name` all give `customername`. */
export function normaliseColumnName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/gu, '');
}

/** The first column whose name, normalised, is one of `names` normalised; undefined when none is. */
export function columnNamed(columns: readonly string[], names: readonly string[]): string | undefined {
  const wanted = new Set(names.map(normaliseColumnName));
  return columns.find((column) => wanted.has(normaliseColumnName(column)));
}

/** A variable the agent declares, as far as matching needs it. */
export interface MatchableVariable {
  readonly name: string;
  readonly required: boolean;
}

export interface MappingMatch {
  /** The agent variable, or `phone_number`. */
  variable: string;
  column: string;
  by: 'name';
}

export interface MappingSuggestion {
  /**
   * The config the matches give. Its `phone_number.column_name` is '' when no column looks like a
   * phone number: the config is then refused until one is chosen.
   */
  suggestion: TransformationConfig;
  matched: MappingMatch[];
  /** Required agent variables no column matched (and `phone_number` when no phone column did). */
  unmapped_required: string[];
}

/**
 * The mapping a header suggests: the phone number from a phone-like column name, each agent variable
 * from the column named like it; everything else left unmapped for a person to choose.
 */
export function suggestMapping(columns: readonly string[], variables: readonly MatchableVariable[]): MappingSuggestion {
  const matched: MappingMatch[] = [];
  const unmappedRequired: string[] = [];
  const phone = columnNamed(columns, PHONE_COLUMN_NAMES);
  if (phone === undefined) unmappedRequired.push('phone_number');
  else matched.push({ variable: 'phone_number', column: phone, by: 'name' });
  const appVariables: NonNullable<TransformationConfig['app_variables']> = {};
  for (const variable of variables) {
    const column = columnNamed(columns, [variable.name]);
    if (column === undefined) {
      if (variable.required) unmappedRequired.push(variable.name);
      continue;
    }
    appVariables[variable.name] = { column_name: column };
    matched.push({ variable: variable.name, column, by: 'name' });
  }
  return {
    suggestion: { phone_number: { column_name: phone ?? '' }, app_variables: appVariables },
    matched,
    unmapped_required: unmappedRequired,
  };
}
