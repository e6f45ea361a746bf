// When a contact is dialled again after an attempt ends. The runner owns the clock and the queue;
// this only decides, from the batch's schedule and what the attempt ended as.
import type { BatchSchedule } from './calling-window.js';
import { nextWindowOpening } from './window-clock.js';

/** Every way an attempt can end, in the words dialers (Twilio, Vapi, Retell) commonly use. */
export const ATTEMPT_OUTCOMES = ['completed', 'failed', 'no_answer', 'busy', 'voicemail', 'cancelled'] as const;

/**
 * completed: a person answered and the conversation ran. failed: the call never connected
 * (carrier or network error). no_answer: it rang out. busy: the line was busy. voicemail: an
 * answering machine picked up. cancelled: Roster stopped the call (batch stopped, contact removed).
 */
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

/**
 * Outcomes that earn another attempt: nobody was reached. Voicemail is final on purpose: the agent
 * has spoken to the mailbox, and redialling someone who has a message waiting is what carriers'
 * spam labelling punishes. completed and cancelled are final by nature.
 */
export const RETRYABLE_OUTCOMES: readonly AttemptOutcome[] = Object.freeze(['failed', 'no_answer', 'busy'] as const);

/** When to dial next, or the contact's final status (the outcome of its last attempt). */
export type NextAttempt = { retry: true; at: Date } | { retry: false; finalStatus: AttemptOutcome };

/** Calls a contact may get in all: the first, then `retry` retries (the vendor's meaning of retry). */
export function maxAttempts(retry: number): number {
  return retry + 1;
}

/**
 * Decides the follow-up to an attempt that ended at `endedAt`: a retry `delaySeconds` later, moved
 * to the next window opening when that lands outside the window, while fewer than
 * `maxAttempts(schedule.retry)` attempts were made and the outcome is retryable.
 * `attemptsMade` counts the attempt that just ended; `timezone` is the contact's own zone, if any.
 */
export function nextAttempt(
  schedule: BatchSchedule,
  attemptsMade: number,
  outcome: AttemptOutcome,
  endedAt: Date,
  timezone?: string,
): NextAttempt {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) {
    throw new RangeError(`attemptsMade must be a whole number from 1, got ${attemptsMade}`);
  }
  if (!RETRYABLE_OUTCOMES.includes(outcome) || attemptsMade >= maxAttempts(schedule.retry)) {
    return { retry: false, finalStatus: outcome };
  }
  // Elapsed seconds, not wall-clock ones: a 3600-second delay across a DST change is still an hour.
  const earliest = new Date(endedAt.getTime() + schedule.delaySeconds * 1000);
  return { retry: true, at: nextWindowOpening(schedule.window, earliest, timezone) };
}
