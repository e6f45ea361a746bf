/**
 * Spreadsheet cells as text "as a person sees them", the same for .xlsx (xlsx-reader.ts) and .xls
 * (SheetJS), so a batch reads alike whichever format it came in.
 *
 * Number formats other than dates are deliberately not applied: what a column shows depends on its
 * width and format (Excel's General shows 919876543210 as 9.19877E+11), but a phone or account
 * number must come out whole. So:
 * - integers are written in full digits, no exponent, no grouping (9876543210 → '9876543210');
 *   a format made only of zeros ('0000000000', used to keep leading zeros) pads them back;
 * - other numbers are the shortest text that reads back as the same number, never in exponent form
 *   (0.1 → '0.1', 1.5e-7 → '0.00000015'); currency, percent and decimal-place formats are ignored;
 * - dates are ISO 8601 in the wall-clock time the sheet shows (no time zone is involved):
 *   'YYYY-MM-DD', or 'YYYY-MM-DDTHH:mm:ss' when there is a time of day, or 'HH:mm:ss' for a
 *   time without a date; seconds are rounded;
 * - booleans are 'TRUE' / 'FALSE', errors their code ('#N/A'), rich text its plain text;
 * - a formula shows its cached result, rendered by the same rules; without one it is ''.
 */

const MS_PER_DAY = 24 * 60 * 60 * 1000;
/** Days from Excel's day 0 (1899-12-30 in the 1900 system) to 1970-01-01. */
const EXCEL_EPOCH_OFFSET = 25569;
/** The 1904 date system (old Mac workbooks) counts from 1904-01-01, 1462 days later. */
const DATE_1904_SHIFT = 1462;

/** Whether a number format shows a date or time; the same test exceljs applies to plain cells. */
export function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  const bare = format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, '');
  return /[ymdhMsb]/.test(bare);
}

/** A number in plain digits (see the module comment); '' for NaN and infinities. */
export function numberText(value: number, format?: string): string {
  if (!Number.isFinite(value)) return '';
  if (Number.isInteger(value)) {
    const digits = BigInt(value).toString();
    return format !== undefined && /^0+$/.test(format) && value >= 0 ? digits.padStart(format.length, '0') : digits;
  }
  const text = String(value);
  // Only tiny non-integers print with an exponent (large numbers are all integers).
  const small = /^(-?)(\d)(?:\.(\d+))?e-(\d+)$/.exec(text);
  if (!small) return text;
  const [, sign = '', lead = '', rest = '', exponent = '1'] = small;
  return `${sign}0.${'0'.repeat(Number(exponent) - 1)}${lead}${rest}`;
}

/** The date an Excel serial number stands for, as a UTC instant holding the sheet's wall-clock time. */
export function excelSerialToDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - EXCEL_EPOCH_OFFSET + (date1904 ? DATE_1904_SHIFT : 0)) * MS_PER_DAY));
}

/** A date read from a sheet (UTC fields = wall clock) in ISO form; see the module comment. */
export function dateText(date: Date, date1904: boolean): string {
  const time = date.getTime();
  if (!Number.isFinite(time)) return '';
  const at = new Date(Math.round(time / 1000) * 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${String(at.getUTCFullYear()).padStart(4, '0')}-${two(at.getUTCMonth() + 1)}-${two(at.getUTCDate())}`;
  const clock = `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
  // A time without a date is stored as a fraction of day 0.
  if (day === (date1904 ? '1904-01-01' : '1899-12-30')) return clock;
  return clock === '00:00:00' ? day : `${day}T${clock}`;
}

/**
 * The text of a cell value in exceljs's shapes: string, number, boolean, Date, null, rich text
 * `{richText}`, formula `{formula, result}`, error `{error}` or hyperlink `{text, hyperlink}`.
 * `format` is the cell's number format; numbers under a date format are dates.
 */
export function cellText(value: unknown, format: string | undefined, date1904: boolean): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    return isDateFormat(format) ? dateText(excelSerialToDate(value, date1904), date1904) : numberText(value, format);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return dateText(value, date1904);
  if (typeof value !== 'object') return '';
  const shaped = value as Record<string, unknown>;
  if (Array.isArray(shaped.richText)) {
    return shaped.richText
      .map((run: unknown) => (typeof run === 'object' && run !== null ? textOf((run as { text?: unknown }).text) : ''))
      .join('');
  }
  if ('formula' in shaped || 'sharedFormula' in shaped || 'result' in shaped) {
    // A formula result holding a formula would be a malformed file; don't recurse into it.
    const result = shaped.result;
    return typeof result === 'object' && result !== null && !(result instanceof Date)
      ? ''
      : cellText(result, format, date1904);
  }
  if ('error' in shaped) return textOf(shaped.error);
  if ('text' in shaped)
    return typeof shaped.text === 'object' ? cellText(shaped.text, format, date1904) : textOf(shaped.text);
  return '';
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
