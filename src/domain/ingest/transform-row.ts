// One CSV row → one contact, or the human reason it goes to the rejection file. Runs for every
// row of uploads of up to a million rows: everything that can be resolved once lives in the plan.
import { FormatFailure } from './format-chain.js';
import type { IngestPlan, PlannedColumn } from './ingest-plan.js';
import { normalisePhone } from './phone.js';
import type { RowRejectionCode } from './row-rejection.js';
import { isBlank, quoteValue } from './value-text.js';

export type RowOutcome =
  | {
      ok: true;
      phone: string;
      userIdentifier: string | null;
      appVariables: Record<string, string>;
      appOverrides: Record<string, string>;
    }
  | { ok: false; code: RowRejectionCode; reason: string };

// Distinguishes a refused value from a value in cellValue's return without a wrapper per value.
class Refusal {
  constructor(
    readonly code: RowRejectionCode,
    readonly reason: string,
  ) {}
}

/**
 * Transforms the fields of one data row with a plan from planIngest. Unformatted values are kept
 * exactly as in the file; the output records have no prototype, so no key can reach Object.prototype.
 */
export function transformRow(plan: IngestPlan, fields: string[]): RowOutcome {
  const expected = plan.header.length;
  if (fields.length !== expected) {
    return refuse(
      'wrong_field_count',
      `row has ${fields.length} field${fields.length === 1 ? '' : 's'} but the header has ${expected}`,
    );
  }
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] ?? '';
    if (field.length > plan.maxFieldLength) {
      return refuse(
        'field_too_long',
        `column '${plan.header[i] ?? i + 1}' has ${field.length} characters; the limit is ${plan.maxFieldLength}`,
      );
    }
    // PostgreSQL text cannot hold U+0000; refusing the row on both backends keeps them alike.
    if (field.includes('\u0000'))
      return refuse(
        'nul_character',
        `column '${plan.header[i] ?? i + 1}' contains a NUL character (U+0000), which cannot be stored`,
      );
  }

  const phone = normalisePhone(fields[plan.phoneIndex] ?? '', plan.country);
  if (!phone.ok) return refuse(phone.code, `column '${plan.phoneColumn}': ${phone.reason}`);

  let userIdentifier: string | null = null;
  if (plan.userIdentifier !== undefined) {
    const value = cellValue(plan.userIdentifier, fields);
    if (value instanceof Refusal) return refuse(value.code, value.reason);
    if (value !== undefined) userIdentifier = value;
  }

  const appVariables = Object.create(null) as Record<string, string>;
  for (const column of plan.appVariables) {
    const value = cellValue(column, fields);
    if (value instanceof Refusal) return refuse(value.code, value.reason);
    if (value !== undefined) appVariables[column.key] = value;
  }
  const appOverrides = Object.create(null) as Record<string, string>;
  for (const column of plan.appOverrides) {
    const value = cellValue(column, fields);
    if (value instanceof Refusal) return refuse(value.code, value.reason);
    if (value !== undefined) appOverrides[column.key] = value;
  }
  return { ok: true, phone: phone.e164, userIdentifier, appVariables, appOverrides };
}

// The value to store, undefined to leave the key out, or why the row is refused. A value that is
// blank (before or after formatting) counts as empty: fallback_value, else required, else omitted.
function cellValue(column: PlannedColumn, fields: readonly string[]): string | undefined | Refusal {
  const raw = fields[column.index] ?? '';
  let value = raw;
  const format = column.format;
  // Only a chain with `default` can turn a blank cell into a value; others skip blank cells.
  if (format !== undefined && (format.fillsBlank || !isBlank(raw))) {
    const out = format.run(raw);
    if (out instanceof FormatFailure) {
      return new Refusal(
        'format_failed',
        `column '${column.column}' value ${quoteValue(raw)} failed ${out.fn}: ${out.message}`,
      );
    }
    value = out;
  }
  if (!isBlank(value)) return value;
  if (column.fallback !== undefined) return column.fallback;
  if (column.required)
    return new Refusal('missing_required_value', `required column '${column.column}' (${column.key}) is empty`);
  return undefined;
}

function refuse(code: RowRejectionCode, reason: string): RowOutcome {
  return { ok: false, code, reason };
}
