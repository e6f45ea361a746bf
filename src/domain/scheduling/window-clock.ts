// Calling-window arithmetic on instants: whether an instant falls inside a window's local calling
// hours, and when the window next opens. Every zone and DST fact comes from luxon; this file only
// compares local wall-clock times, so a call never starts outside the hours the person lives by.
import { DateTime, FixedOffsetZone, IANAZone } from 'luxon';
import type { CallingWindow } from './calling-window.js';

const TIME_OF_DAY = /^(\d{1,2}):(\d{2})$/;

// Every allowed weekday recurs within 7 days; one occurrence can be lost only when the whole
// window lies inside a DST gap, so two weeks always reach an opening of a valid window.
const SEARCH_DAYS = 15;
const DAY_MS = 86_400_000;

// Only zones that proved valid are kept, so junk zone names cannot grow the cache. luxon's own
// isValidZone builds an Intl formatter on every call (about 50 µs): too slow for a check per CSV
// row or per call the dialer considers.
const knownZones = new Map<string, IANAZone>();

/**
 * An offset such as `+05:30`: newer Node versions' Intl takes it as a time zone (ECMA-402 2024;
 * seen on Node 24), but it is no IANA name and has no DST rules, so a calling window cannot follow
 * the contact's clock with it. Refused on every Node version alike.
 */
const UTC_OFFSET = /^[+\-\u2212]\d/;

function validZone(name: string): IANAZone | undefined {
  let zone = knownZones.get(name);
  if (zone === undefined && !UTC_OFFSET.test(name) && IANAZone.isValidZone(name)) {
    zone = IANAZone.create(name);
    knownZones.set(name, zone);
  }
  return zone;
}

/** True when `zone` names a time zone luxon (through Intl's IANA data) can compute with. */
export function isValidTimeZone(zone: string): boolean {
  return validZone(zone) !== undefined;
}

/** Minutes after local midnight for an 'HH:mm' (or 'H:mm') 24-hour time; undefined when it is not one. */
export function minutesOfDay(text: string): number | undefined {
  const match = TIME_OF_DAY.exec(text);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours > 23 || minutes > 59) return undefined;
  return hours * 60 + minutes;
}

interface CompiledWindow {
  zone: IANAZone;
  start: number;
  end: number;
  overnight: boolean;
  days: ReadonlySet<number>;
}

// Windows may be built by hand rather than by parseBatchSchedule. An unusable one throws here
// because it would otherwise never open (calls silently never placed) or make the search endless.
function compile(window: CallingWindow, timezone: string | undefined): CompiledWindow {
  const name = timezone === undefined || timezone === '' ? window.timezone : timezone;
  const zone = validZone(name);
  if (zone === undefined) throw new RangeError(`'${name}' is not an IANA time zone`);
  const start = minutesOfDay(window.start);
  const end = minutesOfDay(window.end);
  if (start === undefined || end === undefined || start === end) {
    throw new RangeError(
      `calling window '${window.start}'–'${window.end}' is not a valid pair of distinct HH:mm times`,
    );
  }
  const days = new Set(window.allowedDays);
  if (days.size === 0 || [...days].some((day) => !Number.isInteger(day) || day < 0 || day > 6)) {
    throw new RangeError(
      `calling window allowedDays [${window.allowedDays.join(',')}] must be whole numbers 0–6, at least one`,
    );
  }
  return { zone, start, end, overnight: start > end, days };
}

// Judged on the local wall clock: in a fall-back, both instants of a repeated wall time get the
// same answer; in a spring-forward, the skipped wall times simply never occur.
function contains(window: CompiledWindow, local: DateTime): boolean {
  const minute = local.hour * 60 + local.minute;
  const day = local.weekday % 7; // luxon counts 1 = Monday … 7 = Sunday; the form counts 0 = Sunday
  if (!window.overnight) return window.days.has(day) && minute >= window.start && minute < window.end;
  // An overnight window belongs to the day it opens: the evening part is today's window, the
  // early-morning part is the tail of the window that opened yesterday.
  if (minute >= window.start) return window.days.has(day);
  return minute < window.end && window.days.has((day + 6) % 7);
}

/** True when `at` falls inside the window, judged in `timezone` (a per-contact zone) or else the window's zone. */
export function isWithinWindow(window: CallingWindow, at: Date, timezone?: string): boolean {
  const compiled = compile(window, timezone);
  if (Number.isNaN(at.getTime())) return false;
  return contains(compiled, DateTime.fromJSDate(at, { zone: compiled.zone }));
}

/**
 * The earliest instant at or after `from` inside the window (`from` itself when already inside),
 * judged in `timezone` (a per-contact zone) or else the window's zone.
 */
export function nextWindowOpening(window: CallingWindow, from: Date, timezone?: string): Date {
  const compiled = compile(window, timezone);
  const fromMs = from.getTime();
  if (Number.isNaN(fromMs)) throw new RangeError('nextWindowOpening needs a valid date');
  const fromLocal = DateTime.fromMillis(fromMs, { zone: compiled.zone });
  if (contains(compiled, fromLocal)) return from;

  // The window can only open where the wall clock reads `start` (twice in a fall-back, never in a
  // spring-forward) or where the UTC offset changes, because a jump can carry the wall clock past
  // `start` (the first instant after a gap) or back into the window (the repeated hour).
  const offsets = offsetsAround(compiled.zone, fromMs - 2 * DAY_MS, fromMs + (SEARCH_DAYS + 2) * DAY_MS);
  const inside = (instant: number): boolean =>
    contains(compiled, DateTime.fromMillis(instant, { zone: offsetZoneAt(offsets, instant) }));
  let best: number | undefined;
  for (const change of offsets.slice(1)) {
    if (change.from >= fromMs && (best === undefined || change.from < best) && inside(change.from)) best = change.from;
  }
  const distinctOffsets = [...new Set(offsets.map((piece) => piece.zone))];
  // The day before is included because a fall-back across midnight can put yesterday's wall
  // clock after `from`. One candidate per offset in force around `from`: the true one is among
  // them; in a fixed offset every day has 24 hours, so the next date's candidate is a day later.
  const startOnFromDate = {
    year: fromLocal.year,
    month: fromLocal.month,
    day: fromLocal.day,
    hour: Math.floor(compiled.start / 60),
    minute: compiled.start % 60,
  };
  const firstCandidates = distinctOffsets.map((zone) => DateTime.fromObject(startOnFromDate, { zone }).toMillis());
  for (let day = -1; day <= SEARCH_DAYS; day++) {
    const candidates = firstCandidates.map((first) => first + day * DAY_MS);
    // Every later date's candidates are later still, so none of them can beat `best`.
    if (best !== undefined && Math.min(...candidates) > best) break;
    for (const candidate of candidates) {
      if (candidate >= fromMs && (best === undefined || candidate < best) && inside(candidate)) best = candidate;
    }
  }
  if (best === undefined) throw new Error(`calling window never opens within ${SEARCH_DAYS} days`);
  return new Date(best);
}

/** A UTC offset in force from an instant until the next piece. */
interface OffsetPiece {
  from: number;
  zone: FixedOffsetZone;
}

/**
 * The zone's UTC offsets over [from, to], as fixed-offset pieces from luxon, so that candidates are
 * judged without asking Intl for every one (the dialer's hot path). Finds at most one change in
 * each half of the span (a week and a bit): every zone's changes are weeks apart.
 */
function offsetsAround(zone: IANAZone, from: number, to: number): OffsetPiece[] {
  const middle = from + Math.floor((to - from) / 2);
  const first = zone.offset(from);
  const pieces: OffsetPiece[] = [{ from: Number.NEGATIVE_INFINITY, zone: FixedOffsetZone.instance(first) }];
  const atMiddle = zone.offset(middle);
  const atEnd = zone.offset(to);
  if (atMiddle !== first)
    pieces.push({ from: offsetChange(zone, from, middle, first), zone: FixedOffsetZone.instance(atMiddle) });
  if (atEnd !== atMiddle)
    pieces.push({ from: offsetChange(zone, middle, to, atMiddle), zone: FixedOffsetZone.instance(atEnd) });
  return pieces;
}

function offsetZoneAt(pieces: readonly OffsetPiece[], instant: number): FixedOffsetZone {
  let zone = pieces[0]?.zone ?? FixedOffsetZone.utcInstance;
  for (const piece of pieces) if (piece.from <= instant) zone = piece.zone;
  return zone;
}

// The first whole second in (low, high] whose offset differs from `before`, the offset at `low`,
// by bisection on luxon's offsets; tz database changes fall on whole seconds.
function offsetChange(zone: IANAZone, low: number, high: number, before: number): number {
  let lowSecond = Math.floor(low / 1000);
  let highSecond = Math.ceil(high / 1000);
  while (highSecond - lowSecond > 1) {
    const middle = Math.floor((lowSecond + highSecond) / 2);
    if (zone.offset(middle * 1000) === before) lowSecond = middle;
    else highSecond = middle;
  }
  return highSecond * 1000;
}
