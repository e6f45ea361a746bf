import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CallingWindow } from '../../../src/domain/scheduling/calling-window.js';
import { isWithinWindow, nextWindowOpening } from '../../../src/domain/scheduling/window-clock.js';

// The clock is injected: every instant is a Date built here, nothing reads the time or sleeps.
const at = (iso: string): Date => new Date(iso);
const EVERY_DAY = [0, 1, 2, 3, 4, 5, 6];
const WEEKDAYS = [1, 2, 3, 4, 5];
const newYork = (start: string, end: string, allowedDays = EVERY_DAY): CallingWindow => ({
  timezone: 'America/New_York',
  start,
  end,
  allowedDays,
});
const kolkata = (start: string, end: string, allowedDays = WEEKDAYS): CallingWindow => ({
  timezone: 'Asia/Kolkata',
  start,
  end,
  allowedDays,
});

function assertOpening(window: CallingWindow, from: string, expected: string, timezone?: string): void {
  assert.equal(nextWindowOpening(window, at(from), timezone).toISOString(), new Date(expected).toISOString());
}

describe('isWithinWindow in America/New_York across the spring-forward of 2026-03-08', () => {
  const window = newYork('09:00', '17:00');

  it('puts 09:00–17:00 at 14:00–22:00Z on the Saturday before the change (EST, UTC−5)', () => {
    assert.equal(isWithinWindow(window, at('2026-03-07T13:59:59.999Z')), false);
    assert.equal(isWithinWindow(window, at('2026-03-07T14:00:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-07T21:59:59.999Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-07T22:00:00Z')), false);
  });

  it('puts 09:00–17:00 at 13:00–21:00Z on the day of the change (EDT, UTC−4)', () => {
    assert.equal(isWithinWindow(window, at('2026-03-08T12:59:59.999Z')), false);
    assert.equal(isWithinWindow(window, at('2026-03-08T13:00:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-08T20:59:59.999Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-08T21:00:00Z')), false);
  });

  it('never finds a wall time of 02:30 on 2026-03-08: 01:59:59 EST is followed by 03:00 EDT', () => {
    const skipped = newYork('02:00', '03:00');
    assert.equal(isWithinWindow(skipped, at('2026-03-08T06:59:59.999Z')), false); // 01:59:59.999 EST
    assert.equal(isWithinWindow(skipped, at('2026-03-08T07:00:00Z')), false); // 03:00 EDT
  });
});

describe('isWithinWindow in America/New_York across the fall-back of 2026-11-01', () => {
  it('puts 09:00–17:00 at 13:00–21:00Z before the change and 14:00–22:00Z after it', () => {
    const window = newYork('09:00', '17:00');
    assert.equal(isWithinWindow(window, at('2026-10-31T13:00:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-10-31T21:00:00Z')), false);
    assert.equal(isWithinWindow(window, at('2026-11-01T13:59:59.999Z')), false);
    assert.equal(isWithinWindow(window, at('2026-11-01T14:00:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-11-01T21:59:59.999Z')), true);
    assert.equal(isWithinWindow(window, at('2026-11-01T22:00:00Z')), false);
  });

  it('counts both occurrences of the repeated 01:30–02:00 inside a 01:30–03:00 window', () => {
    const window = newYork('01:30', '03:00');
    assert.equal(isWithinWindow(window, at('2026-11-01T05:29:59.999Z')), false); // 01:29 EDT
    assert.equal(isWithinWindow(window, at('2026-11-01T05:30:00Z')), true); // 01:30 EDT
    assert.equal(isWithinWindow(window, at('2026-11-01T05:59:59.999Z')), true); // 01:59 EDT
    assert.equal(isWithinWindow(window, at('2026-11-01T06:00:00Z')), false); // 01:00 EST, the hour again
    assert.equal(isWithinWindow(window, at('2026-11-01T06:29:59.999Z')), false); // 01:29 EST
    assert.equal(isWithinWindow(window, at('2026-11-01T06:30:00Z')), true); // 01:30 EST
    assert.equal(isWithinWindow(window, at('2026-11-01T07:59:59.999Z')), true); // 02:59 EST
    assert.equal(isWithinWindow(window, at('2026-11-01T08:00:00Z')), false); // 03:00 EST
  });
});

describe('isWithinWindow in Asia/Kolkata (UTC+05:30, no DST)', () => {
  const window = kolkata('09:00', '17:00');

  it('opens at 09:00 IST, which is 03:30Z', () => {
    assert.equal(isWithinWindow(window, at('2026-03-09T03:29:59.999Z')), false);
    assert.equal(isWithinWindow(window, at('2026-03-09T03:30:00Z')), true);
  });

  it('excludes the end: 17:00 IST (11:30Z) is outside, 16:59 IST is inside', () => {
    assert.equal(isWithinWindow(window, at('2026-03-09T11:29:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-09T11:30:00Z')), false);
  });

  it('keeps the same UTC hours on both sides of the New York changes', () => {
    assert.equal(isWithinWindow(window, at('2026-03-06T03:30:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-11-02T03:30:00Z')), true);
  });

  it('refuses a day not in allowedDays: Saturday 2026-03-14 at noon IST', () => {
    assert.equal(isWithinWindow(window, at('2026-03-14T06:30:00Z')), false);
  });
});

describe('overnight windows', () => {
  // 2026-03-09 is a Monday; only Monday is allowed, so only Monday evening's window exists.
  const window: CallingWindow = { timezone: 'UTC', start: '22:00', end: '02:00', allowedDays: [1] };

  it('includes Monday 22:00 and, past midnight, Tuesday 01:00 of the window Monday opened', () => {
    assert.equal(isWithinWindow(window, at('2026-03-09T22:00:00Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-10T01:00:00Z')), true);
  });

  it('closes at 02:00 on Tuesday', () => {
    assert.equal(isWithinWindow(window, at('2026-03-10T01:59:59.999Z')), true);
    assert.equal(isWithinWindow(window, at('2026-03-10T02:00:00Z')), false);
  });

  it('excludes Tuesday 22:30 because Tuesday is not allowed', () => {
    assert.equal(isWithinWindow(window, at('2026-03-10T22:30:00Z')), false);
  });

  it('excludes Monday 01:00, the tail of a Sunday window that is not allowed', () => {
    assert.equal(isWithinWindow(window, at('2026-03-09T01:00:00Z')), false);
  });

  it('reopens the next Monday at 22:00 once Tuesday 02:00 has passed', () => {
    assertOpening(window, '2026-03-10T02:00:00Z', '2026-03-16T22:00:00Z');
  });
});

describe('per-contact time zone', () => {
  const window = newYork('09:00', '17:00', WEEKDAYS);

  it('judges the contact in their own zone: Monday 09:30 IST is inside although it is midnight in New York', () => {
    const instant = at('2026-03-09T04:00:00Z');
    assert.equal(isWithinWindow(window, instant), false);
    assert.equal(isWithinWindow(window, instant, 'Asia/Kolkata'), true);
  });

  it('finds the next opening in the contact zone', () => {
    assertOpening(window, '2026-03-09T12:00:00Z', '2026-03-10T03:30:00Z', 'Asia/Kolkata'); // 17:30 IST Mon → 09:00 IST Tue
    assertOpening(window, '2026-03-09T12:00:00Z', '2026-03-09T13:00:00Z'); // 08:00 EDT → 09:00 EDT
  });

  it('uses the window zone when the contact zone is empty', () => {
    assert.equal(isWithinWindow(window, at('2026-03-09T04:00:00Z'), ''), false);
  });
});

describe('nextWindowOpening', () => {
  it('returns the instant itself when it is already inside the window', () => {
    const from = at('2026-03-09T05:00:00Z');
    assert.equal(nextWindowOpening(kolkata('09:00', '17:00'), from).getTime(), from.getTime());
  });

  it('moves Friday 17:00 to Monday 09:00 when weekends are excluded', () => {
    assertOpening(kolkata('09:00', '17:00'), '2026-03-13T11:30:00Z', '2026-03-16T03:30:00Z');
  });

  it('moves an evening instant to 09:00 the next morning', () => {
    assertOpening(kolkata('09:00', '17:00'), '2026-03-10T15:00:00Z', '2026-03-11T03:30:00Z');
  });

  it('opens at 09:00 EDT (13:00Z) on the spring-forward Sunday when asked the evening before', () => {
    assertOpening(newYork('09:00', '17:00'), '2026-03-07T22:00:00Z', '2026-03-08T13:00:00Z');
  });

  it('opens at 09:00 EST (14:00Z) on the fall-back Sunday when asked the evening before', () => {
    assertOpening(newYork('09:00', '17:00'), '2026-10-31T21:00:00Z', '2026-11-01T14:00:00Z');
  });

  it('opens a 02:30 window at 03:00 EDT, the first instant after the skipped hour on 2026-03-08', () => {
    assertOpening(newYork('02:30', '04:00'), '2026-03-08T05:00:00Z', '2026-03-08T07:00:00Z');
  });

  it('skips a day whose whole window falls in the skipped hour, to the next allowed day', () => {
    assertOpening(newYork('02:00', '02:30', [0]), '2026-03-08T05:00:00Z', '2026-03-15T06:00:00Z');
  });

  it('opens the second 01:30 of the fall-back day when asked between the two', () => {
    assertOpening(newYork('01:30', '03:00'), '2026-11-01T06:00:00Z', '2026-11-01T06:30:00Z');
  });

  it('reopens a 01:00–01:30 window when the clock falls back into it', () => {
    assertOpening(newYork('01:00', '01:30'), '2026-11-01T05:45:00Z', '2026-11-01T06:00:00Z'); // 01:45 EDT → 01:00 EST
  });

  it('throws instead of searching forever for an invalid window', () => {
    assert.throws(() => nextWindowOpening(newYork('09:00', '09:00'), at('2026-03-09T00:00:00Z')), RangeError);
    assert.throws(() => nextWindowOpening(newYork('09:00', '17:00', []), at('2026-03-09T00:00:00Z')), RangeError);
    assert.throws(() => nextWindowOpening(newYork('09:00', '17:00', [7]), at('2026-03-09T00:00:00Z')), RangeError);
    assert.throws(() => nextWindowOpening(newYork('9am', '17:00'), at('2026-03-09T00:00:00Z')), RangeError);
    assert.throws(
      () => nextWindowOpening(newYork('09:00', '17:00'), at('2026-03-09T00:00:00Z'), 'Mars/Base'),
      RangeError,
    );
    assert.throws(() => nextWindowOpening(newYork('09:00', '17:00'), new Date(Number.NaN)), RangeError);
  });
});

describe('nextWindowOpening against a minute-by-minute scan', () => {
  const time = (minutes: number): string =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

  // Windows and changes fall on whole minutes, so checking `from` and each whole minute after it
  // finds the first instant inside the window by brute force.
  function assertFirstOpening(window: CallingWindow, from: Date): void {
    const opening = nextWindowOpening(window, from);
    const label = `${JSON.stringify(window)} from ${from.toISOString()} gave ${opening.toISOString()}`;
    assert.equal(isWithinWindow(window, opening), true, label);
    assert.ok(opening.getTime() >= from.getTime(), label);
    if (opening.getTime() === from.getTime()) return;
    assert.equal(isWithinWindow(window, from), false, label);
    for (let t = Math.ceil(from.getTime() / 60_000) * 60_000; t < opening.getTime(); t += 60_000) {
      assert.equal(
        isWithinWindow(window, new Date(t)),
        false,
        `${label}; ${new Date(t).toISOString()} is already inside`,
      );
    }
  }

  it('finds the first opening for every small-hours window on the change days of three zones', () => {
    // Local midnight of each 2026 change day: New York and London skip or repeat a whole hour,
    // Lord Howe half an hour (02:00 → 02:30 in October, 02:00 → 01:30 in April).
    const changeDays: Array<[string, string]> = [
      ['America/New_York', '2026-03-08T00:00:00-05:00'],
      ['America/New_York', '2026-11-01T00:00:00-04:00'],
      ['Europe/London', '2026-03-29T00:00:00Z'],
      ['Europe/London', '2026-10-25T00:00:00+01:00'],
      ['Australia/Lord_Howe', '2026-04-05T00:00:00+11:00'],
      ['Australia/Lord_Howe', '2026-10-04T00:00:00+10:30'],
    ];
    for (const [timezone, midnight] of changeDays) {
      for (let start = 0; start <= 210; start += 30) {
        for (const length of [30, 90]) {
          const window = { timezone, start: time(start), end: time(start + length), allowedDays: EVERY_DAY };
          assertFirstOpening(window, new Date(midnight));
          // 45 elapsed minutes into the local window: inside it, in a gap, or in a repeated hour.
          if (length === 90) assertFirstOpening(window, new Date(new Date(midnight).getTime() + (start + 45) * 60_000));
        }
      }
      for (const end of ['01:30', '02:15', '02:45']) {
        assertFirstOpening(
          { timezone, start: '23:30', end, allowedDays: [0] },
          new Date(new Date(midnight).getTime() - 12 * 3_600_000),
        );
      }
    }
  });

  it('finds the first opening for seeded random windows and instants around the changes', () => {
    // A seeded generator keeps the cases the same on every run.
    let seed = 20260308;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const zones = ['America/New_York', 'Asia/Kolkata', 'Europe/London', 'Australia/Lord_Howe'];
    const around = [
      '2026-03-07T00:00:00Z',
      '2026-03-28T12:00:00Z',
      '2026-04-04T00:00:00Z',
      '2026-10-03T12:00:00Z',
      '2026-10-24T12:00:00Z',
      '2026-10-31T00:00:00Z',
    ];
    for (let i = 0; i < 30; i++) {
      const startMinutes = random(48) * 30;
      let endMinutes = random(48) * 30;
      if (endMinutes === startMinutes) endMinutes = (endMinutes + 90) % 1440;
      const days = [...new Set([random(7), random(7), random(7)])];
      const window: CallingWindow = {
        timezone: zones[random(zones.length)] ?? 'UTC',
        start: time(startMinutes),
        end: time(endMinutes),
        allowedDays: days,
      };
      assertFirstOpening(
        window,
        new Date(new Date(around[random(around.length)] ?? '').getTime() + random(3 * 24 * 60) * 60_000 + 17_000),
      );
    }
  });
});
