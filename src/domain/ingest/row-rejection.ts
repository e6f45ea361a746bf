// Why a data row is not kept, as a stable code beside the human reason: clients branch on the code
// (and count rows by it), people read the reason. The list is small on purpose: one code per rule a
// person fixes differently, never one per wording of the reason.

/** Every row rejection code with what it means (README and the OpenAPI description are built from it). */
export const ROW_REJECTION_CODES = {
  wrong_field_count: 'the row has more or fewer fields than the header',
  field_too_long: 'a field is longer than ROSTER_MAX_FIELD_LENGTH characters',
  nul_character: 'a field contains a NUL character (U+0000), which cannot be stored',
  missing_phone: 'the phone cell is empty',
  invalid_phone:
    'the phone cell is not a valid phone number (too short, too long, letters, an unknown country calling code, …)',
  phone_scientific_notation:
    'a spreadsheet turned the phone into scientific notation (9.87654E+09) and it lost digits: format the column as text and export again',
  phone_without_country:
    'a national number (no + and country code) while the config sets no country_code and the deployment no default_country',
  unsupported_country:
    'the country national numbers are read in is not a supported ISO 3166 alpha-2 code (an upload naming one is refused before its rows are read, so rows do not carry it today)',
  missing_required_value:
    'a required value is empty: a required app variable, a mapping marked required, or a required user_identifier',
  format_failed: 'a format function failed on the value (a date that does not match, not a number, …)',
  duplicate_phone: 'the phone repeats an earlier row of the file (the first row is kept)',
} as const;

export type RowRejectionCode = keyof typeof ROW_REJECTION_CODES;

/** The codes in a fixed order, for documentation. */
export const ROW_REJECTION_CODE_NAMES = Object.keys(ROW_REJECTION_CODES) as RowRejectionCode[];

/** How many rows were rejected for one code, and the spreadsheet row of the first (the header is row 1). */
export interface RejectionsByReason {
  code: string;
  count: number;
  example_row: number;
}

/**
 * Counts rejected rows by code as they are handed on in row order, so each code's first row is
 * its example. Memory holds one entry per code, whatever the file's size.
 */
export class RejectionTally {
  private readonly byCode = new Map<string, { count: number; firstRow: number }>();

  add(code: string, row: number): void {
    const entry = this.byCode.get(code);
    if (entry === undefined) this.byCode.set(code, { count: 1, firstRow: row });
    else {
      entry.count++;
      if (row < entry.firstRow) entry.firstRow = row;
    }
  }

  /** One entry per code, the most frequent first, then by code. */
  summary(): RejectionsByReason[] {
    return [...this.byCode]
      .map(([code, entry]) => ({ code, count: entry.count, example_row: entry.firstRow }))
      .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
  }
}
