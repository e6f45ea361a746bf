import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { isValidTimeZone } from '../../domain/scheduling/window-clock.js';
import { normalisePhone } from '../../domain/ingest/phone.js';
import { isBlank } from '../../domain/ingest/value-text.js';
import type { AgentVariable } from '../../domain/tenancy/agent-variable.js';

export const PHONE_COLUMN = 'phoneNumber';
export const TIMEZONE_COLUMN = 'timezone';

export type ContactOutcome =
  | { ok: true; phone: string; variables: Record<string, string>; timezone: string | null }
  | { ok: false; column: string | null; reason: string };

/** The country national numbers of a batch are read in: its first calling number's. */
export function callingCountry(callingNumber: string): string | undefined {
  return parsePhoneNumberFromString(callingNumber)?.country;
}

/** Required columns a header lacks: phoneNumber and the agent's required variables. */
export function missingColumns(header: readonly string[], variables: readonly AgentVariable[]): string[] {
  return [PHONE_COLUMN, ...variables.filter((v) => v.required).map((v) => v.name)].filter((c) => !header.includes(c));
}

/**
 * The rules one batch contact follows, whether it came from a file row or a JSON call: a phone
 * that normalises (national numbers in `country`), every required variable filled, an optional
 * IANA `timezone`. Every other column is kept as a variable.
 */
export function contactChecker(
  header: readonly string[],
  variables: readonly AgentVariable[],
  country: string | undefined,
): (cells: readonly string[]) => ContactOutcome {
  const phoneIndex = header.indexOf(PHONE_COLUMN);
  const timezoneIndex = header.indexOf(TIMEZONE_COLUMN);
  const required = variables.filter((v) => v.required).map((v) => ({ name: v.name, index: header.indexOf(v.name) }));
  return (cells) => {
    if (cells.length > header.length)
      return { ok: false, column: null, reason: `row has ${cells.length} cells but the header has ${header.length}` };
    const phone = normalisePhone(phoneIndex >= 0 ? (cells[phoneIndex] ?? '') : '', country);
    if (!phone.ok) return { ok: false, column: PHONE_COLUMN, reason: phone.reason };
    const empty = required.find((r) => r.index < 0 || isBlank(cells[r.index] ?? ''));
    if (empty) return { ok: false, column: empty.name, reason: `required column '${empty.name}' is empty` };
    const zone = timezoneIndex >= 0 ? (cells[timezoneIndex] ?? '').trim() : '';
    if (zone && !isValidTimeZone(zone))
      return { ok: false, column: TIMEZONE_COLUMN, reason: `timezone '${zone}' is not an IANA time zone` };
    const values: Record<string, string> = {};
    header.forEach((name, i) => {
      if (i !== phoneIndex && name !== '') values[name] = cells[i] ?? '';
    });
    return { ok: true, phone: phone.e164, variables: values, timezone: zone || null };
  };
}
