import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchSchedule } from '../../../src/domain/scheduling/calling-window.js';
import {
  ATTEMPT_OUTCOMES,
  RETRYABLE_OUTCOMES,
  maxAttempts,
  nextAttempt,
  type AttemptOutcome,
} from '../../../src/domain/scheduling/retry-policy.js';

// New York office hours on weekdays, three attempts (two retries) an hour apart. 2026-03-09 is a Monday (EDT).
const schedule: BatchSchedule = {
  window: { timezone: 'America/New_York', start: '09:00', end: '17:00', allowedDays: [1, 2, 3, 4, 5] },
  retry: 2,
  delaySeconds: 3600,
};
const at = (iso: string): Date => new Date(iso);

function retryAt(result: ReturnType<typeof nextAttempt>): string {
  assert.ok(result.retry, `expected a retry, got ${JSON.stringify(result)}`);
  return result.at.toISOString();
}

describe('nextAttempt', () => {
  it('retries a no-answer delay seconds later when that is still inside the window', () => {
    assert.equal(
      retryAt(nextAttempt(schedule, 1, 'no_answer', at('2026-03-09T14:00:00Z'))),
      '2026-03-09T15:00:00.000Z',
    );
  });

  it('moves a retry that would land after hours to the next window opening', () => {
    // 16:30 EDT + 60 min = 17:30, after closing: the next opening is Tuesday 09:00 EDT.
    assert.equal(retryAt(nextAttempt(schedule, 1, 'busy', at('2026-03-09T20:30:00Z'))), '2026-03-10T13:00:00.000Z');
  });

  it('moves a Friday-evening retry to Monday morning when weekends are excluded', () => {
    assert.equal(retryAt(nextAttempt(schedule, 2, 'failed', at('2026-03-13T20:30:00Z'))), '2026-03-16T13:00:00.000Z');
  });

  it('moves the next attempt by exactly delay seconds, however short', () => {
    const quick = { ...schedule, delaySeconds: 45 };
    assert.equal(retryAt(nextAttempt(quick, 1, 'failed', at('2026-03-09T14:00:00Z'))), '2026-03-09T14:00:45.000Z');
  });

  it('counts the delay in elapsed seconds across the fall-back change', () => {
    const always: BatchSchedule = {
      ...schedule,
      window: { ...schedule.window, start: '00:00', end: '23:59', allowedDays: [0, 1, 2, 3, 4, 5, 6] },
    };
    // 01:30 EDT + 60 elapsed minutes = 01:30 EST, the repeated wall time.
    assert.equal(retryAt(nextAttempt(always, 1, 'no_answer', at('2026-11-01T05:30:00Z'))), '2026-11-01T06:30:00.000Z');
  });

  it("schedules the retry in the contact's own time zone when one is given", () => {
    // Monday 16:30 IST + 60 min is after hours in Kolkata: Tuesday 09:00 IST is 03:30Z.
    assert.equal(
      retryAt(nextAttempt(schedule, 1, 'no_answer', at('2026-03-09T11:00:00Z'), 'Asia/Kolkata')),
      '2026-03-10T03:30:00.000Z',
    );
  });

  it('stops once attemptsMade reaches retry + 1, keeping the last outcome as the final status', () => {
    assert.equal(maxAttempts(2), 3);
    assert.equal(nextAttempt(schedule, 2, 'no_answer', at('2026-03-09T14:00:00Z')).retry, true);
    assert.deepEqual(nextAttempt(schedule, 3, 'no_answer', at('2026-03-09T14:00:00Z')), {
      retry: false,
      finalStatus: 'no_answer',
    });
    assert.equal(nextAttempt({ ...schedule, retry: 1 }, 1, 'busy', at('2026-03-09T14:00:00Z')).retry, true);
  });

  it('calls once with retry 0: the first attempt is final whatever its outcome', () => {
    assert.equal(maxAttempts(0), 1);
    assert.deepEqual(nextAttempt({ ...schedule, retry: 0 }, 1, 'busy', at('2026-03-09T14:00:00Z')), {
      retry: false,
      finalStatus: 'busy',
    });
  });

  it('never retries completed, voicemail or cancelled attempts', () => {
    for (const outcome of ['completed', 'voicemail', 'cancelled'] as const) {
      assert.deepEqual(nextAttempt(schedule, 1, outcome, at('2026-03-09T14:00:00Z')), {
        retry: false,
        finalStatus: outcome,
      });
    }
  });

  it('retries exactly failed, no_answer and busy', () => {
    const retried = ATTEMPT_OUTCOMES.filter(
      (outcome: AttemptOutcome) => nextAttempt(schedule, 1, outcome, at('2026-03-09T14:00:00Z')).retry,
    );
    assert.deepEqual(retried, ['failed', 'no_answer', 'busy']);
    assert.deepEqual([...RETRYABLE_OUTCOMES], retried);
  });

  it('refuses an attempt count below 1 or not whole', () => {
    assert.throws(() => nextAttempt(schedule, 0, 'failed', at('2026-03-09T14:00:00Z')), RangeError);
    assert.throws(() => nextAttempt(schedule, 1.5, 'failed', at('2026-03-09T14:00:00Z')), RangeError);
  });
});
