// A batch's calling schedule: when its contacts may be called and how often an attempt is retried,
// parsed from the upload form's raw strings with defaults and a precise message per problem.
//
// Overnight windows are supported: when `start` is after `end` (22:00–02:00) the window opens at
// `start` on an allowed day and runs past midnight until `end` the next morning. The allowed day
// is the day the window OPENS, so Monday's 22:00–02:00 window includes Tuesday 01:00 even when
// Tuesday itself is not allowed. `start` equal to `end` is refused as ambiguous (empty or 24 h).
import { quoteValue } from '../ingest/value-text.js';
import { isValidTimeZone, minutesOfDay } from './window-clock.js';

/** Local calling hours: `start`/`end` are 'HH:mm' 24 h wall-clock times in `timezone`, end exclusive; days 0 = Sunday. */
export interface CallingWindow {
  timezone: string;
  start: string;
  end: string;
  allowedDays: number[];
}

/** What a batch dials by: its window, the retries after a contact's first call and the seconds between attempts. */
export type BatchSchedule = { window: CallingWindow; retry: number; delaySeconds: number };

export type FieldProblem = { field: string; message: string };

/** The upload form's raw schedule fields; absent, empty or blank means "use the default". */
export interface ScheduleFields {
  timezone?: string;
  callingHour?: string;
  allowedDays?: string;
  retry?: string;
  delay?: string;
}

export type ScheduleParse = { ok: true; schedule: BatchSchedule } | { ok: false; problems: FieldProblem[] };

/**
 * Defaults when a field is absent: business hours Monday to Friday. UTC because the domain knows
 * no better zone; an upload that cares about local hours sends `timezone` (or per-contact zones).
 * Frozen because it is shared; parseBatchSchedule hands out copies.
 */
export const DEFAULT_WINDOW: CallingWindow = Object.freeze({
  timezone: 'UTC',
  start: '09:00',
  end: '18:00',
  allowedDays: Object.freeze([1, 2, 3, 4, 5]) as number[],
});

/**
 * `retry` counts retries after the first call, as the vendor's createBatch means it: 0 calls once,
 * 2 (the default) calls at most three times.
 */
export const DEFAULT_RETRY = 2;
export const MIN_RETRY = 0;
export const MAX_RETRY = 10;

/**
 * `delay` is the elapsed time in seconds (the vendor's createBatch unit) from the end of one attempt
 * to the earliest next one. A delay of a few seconds is allowed, for tests and demos; campaigns
 * usually wait an hour (the default) or more.
 */
export const DEFAULT_DELAY_SECONDS = 3600;
export const MIN_DELAY_SECONDS = 1;
export const MAX_DELAY_SECONDS = 604_800; // one week

const WHOLE_NUMBER = /^\d+$/;
const CALLING_HOUR_SHAPE = 'callingHour must be {"start":"HH:MM","end":"HH:MM"}';
const ALLOWED_DAYS_SHAPE = 'allowedDays must be a JSON array of whole numbers 0–6 (0 = Sunday)';

/** Parses the upload form's schedule fields, reporting every malformed field, not only the first. */
export function parseBatchSchedule(fields: ScheduleFields): ScheduleParse {
  const problems: FieldProblem[] = [];
  const timezone = parseTimezone(given(fields.timezone), problems);
  const hours = parseCallingHour(given(fields.callingHour), problems);
  const allowedDays = parseAllowedDays(given(fields.allowedDays), problems);
  const retry = parseWholeNumber(given(fields.retry), DEFAULT_RETRY, MIN_RETRY, MAX_RETRY, problems, {
    field: 'retry',
    message: `retry must be a whole number of retries after the first call, from ${MIN_RETRY} to ${MAX_RETRY}`,
  });
  const delaySeconds = parseWholeNumber(
    given(fields.delay),
    DEFAULT_DELAY_SECONDS,
    MIN_DELAY_SECONDS,
    MAX_DELAY_SECONDS,
    problems,
    {
      field: 'delay',
      message: `delay must be a whole number of seconds from ${MIN_DELAY_SECONDS} to ${MAX_DELAY_SECONDS}`,
    },
  );
  if (
    timezone === undefined ||
    hours === undefined ||
    allowedDays === undefined ||
    retry === undefined ||
    delaySeconds === undefined
  ) {
    return { ok: false, problems };
  }
  return { ok: true, schedule: { window: { timezone, ...hours, allowedDays }, retry, delaySeconds } };
}

// A browser form sends every field, blank when the user left it alone: blank means absent.
function given(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function parseTimezone(raw: string | undefined, problems: FieldProblem[]): string | undefined {
  if (raw === undefined) return DEFAULT_WINDOW.timezone;
  if (isValidTimeZone(raw)) return raw;
  problems.push({
    field: 'timezone',
    message: `timezone ${quoteValue(raw)} is not an IANA time zone (e.g. America/New_York, Asia/Kolkata)`,
  });
  return undefined;
}

function parseCallingHour(
  raw: string | undefined,
  problems: FieldProblem[],
): { start: string; end: string } | undefined {
  if (raw === undefined) return { start: DEFAULT_WINDOW.start, end: DEFAULT_WINDOW.end };
  const parsed = parseJson(raw, 'callingHour', problems);
  if (parsed === undefined) return undefined;
  const value = parsed.value;
  // Unknown keys are refused rather than ignored: {"from":…,"to":…} must not pass as a default.
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(value).sort().join(',') !== 'end,start' ||
    typeof (value as Record<string, unknown>)['start'] !== 'string' ||
    typeof (value as Record<string, unknown>)['end'] !== 'string'
  ) {
    problems.push({ field: 'callingHour', message: CALLING_HOUR_SHAPE });
    return undefined;
  }
  const { start, end } = value as { start: string; end: string };
  const startMinutes = timeOfDay(start, 'start', problems);
  const endMinutes = timeOfDay(end, 'end', problems);
  if (startMinutes === undefined || endMinutes === undefined) return undefined;
  if (startMinutes === endMinutes) {
    problems.push({ field: 'callingHour', message: 'callingHour start and end are equal' });
    return undefined;
  }
  return { start: formatMinutes(startMinutes), end: formatMinutes(endMinutes) };
}

function timeOfDay(text: string, key: 'start' | 'end', problems: FieldProblem[]): number | undefined {
  const minutes = minutesOfDay(text);
  if (minutes === undefined) {
    problems.push({
      field: 'callingHour',
      message: `callingHour.${key} ${quoteValue(text)} is not a time of day (00:00–23:59)`,
    });
  }
  return minutes;
}

// Stored in one spelling ('9:05' becomes '09:05') so windows compare and display alike.
function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

function parseAllowedDays(raw: string | undefined, problems: FieldProblem[]): number[] | undefined {
  if (raw === undefined) return [...DEFAULT_WINDOW.allowedDays];
  const parsed = parseJson(raw, 'allowedDays', problems);
  if (parsed === undefined) return undefined;
  if (!Array.isArray(parsed.value)) {
    problems.push({ field: 'allowedDays', message: ALLOWED_DAYS_SHAPE });
    return undefined;
  }
  const entries: unknown[] = parsed.value;
  if (entries.length === 0) {
    problems.push({ field: 'allowedDays', message: 'allowedDays is empty' });
    return undefined;
  }
  const days = new Set<number>();
  const outside = new Set<number>();
  let misshapen = false;
  for (const entry of entries) {
    if (typeof entry !== 'number' || !Number.isInteger(entry)) misshapen = true;
    else if (entry < 0 || entry > 6) outside.add(entry);
    else days.add(entry);
  }
  if (misshapen) problems.push({ field: 'allowedDays', message: ALLOWED_DAYS_SHAPE });
  for (const day of outside) problems.push({ field: 'allowedDays', message: `allowedDays has ${day}, outside 0–6` });
  if (misshapen || outside.size > 0) return undefined;
  // Duplicates collapse; ascending order keeps stored schedules comparable.
  return [...days].sort((a, b) => a - b);
}

function parseJson(raw: string, field: string, problems: FieldProblem[]): { value: unknown } | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return { value };
  } catch (error) {
    problems.push({
      field,
      message: `${field} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    });
    return undefined;
  }
}

function parseWholeNumber(
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: FieldProblem[],
  problem: FieldProblem,
): number | undefined {
  if (raw === undefined) return fallback;
  const value = WHOLE_NUMBER.test(raw) ? Number(raw) : Number.NaN;
  if (value >= min && value <= max) return value;
  problems.push(problem);
  return undefined;
}
