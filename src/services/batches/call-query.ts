// The batch-details route's `filter` and `sortBy`, read into fields of a call. Names are those the
// details response shows; any other name is a contact variable (a column of the uploaded file).
import { AppError } from '../../errors.js';
import type { CallField } from '../../storage/repositories/calls-repository.js';

/** The call's own fields, by the name the vendor's API gives them. */
const CALL_COLUMNS: Record<string, CallField> = {
  _id: { column: 'call_id' },
  phoneNumber: { column: 'phone' },
  callStatus: { column: 'status' },
  attempts: { column: 'attempts' },
  createdAt: { column: 'created_at' },
};

/** A filter holds at most this many fields (the query string's length bounds it anyway). */
export const MAX_FILTER_FIELDS = 20;

/** The field a name means: one of the call's own, else the contact variable of that name. */
export function callField(name: string): CallField | undefined {
  if (name === 'phoneLogs') return undefined;
  return Object.hasOwn(CALL_COLUMNS, name) ? CALL_COLUMNS[name] : { variable: name };
}

function refuse(message: string): never {
  throw new AppError('invalid_filter', message, [{ field: '/querystring/filter', message }]);
}

/**
 * Reads `filter`, a JSON object of field → value: a call matches when each field's stored value
 * equals the value exactly (case and spaces count). Values are strings, numbers or booleans, compared
 * as the text the file held (`{"priority": 1}` matches "1"); `attempts` takes a whole number; a
 * `phoneNumber` matches with or without its leading +. Operators, arrays, objects and null are
 * refused, as is `phoneLogs` (filter on `callStatus`, the outcome so far).
 */
export function parseCallFilter(text: string): Array<{ field: CallField; value: string | number }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    refuse(`filter is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    refuse('filter must be a JSON object of field names to values, e.g. {"callStatus":"completed"}');
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.length > MAX_FILTER_FIELDS) refuse(`filter names more than ${MAX_FILTER_FIELDS} fields`);
  return entries.map(([name, raw]) => {
    const field = callField(name);
    if (!field) refuse('phoneLogs cannot be filtered; filter on callStatus, the outcome of the call so far');
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')
      refuse(`filter value of '${name}' must be a string, number or boolean (exact match; no operators)`);
    if ('column' in field && field.column === 'attempts') {
      const attempts = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
      if (typeof attempts !== 'number' || !Number.isSafeInteger(attempts))
        refuse(`filter value of 'attempts' must be a whole number`);
      return { field, value: attempts };
    }
    const value = String(raw);
    if ('column' in field && field.column === 'phone') return { field, value: `+${value.replace(/^\+/, '')}` };
    return { field, value };
  });
}
