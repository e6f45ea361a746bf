import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_DELAY_SECONDS,
  DEFAULT_RETRY,
  DEFAULT_WINDOW,
  parseBatchSchedule,
  type FieldProblem,
  type ScheduleFields,
} from '../../../src/domain/scheduling/calling-window.js';
import { isValidTimeZone } from '../../../src/domain/scheduling/window-clock.js';

function problemsOf(fields: ScheduleFields): FieldProblem[] {
  const parsed = parseBatchSchedule(fields);
  assert.equal(parsed.ok, false, 'expected the fields to be refused');
  return parsed.ok ? [] : parsed.problems;
}

function messageOf(fields: ScheduleFields): string {
  const problems = problemsOf(fields);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  return problems[0]?.message ?? '';
}

function scheduleOf(fields: ScheduleFields) {
  const parsed = parseBatchSchedule(fields);
  assert.ok(parsed.ok, parsed.ok ? '' : JSON.stringify(parsed.problems));
  return parsed.schedule;
}

describe('parseBatchSchedule defaults', () => {
  it('uses UTC, 09:00–18:00, Monday to Friday, 2 retries and 3600 seconds when every field is absent', () => {
    assert.deepEqual(scheduleOf({}), {
      window: { timezone: 'UTC', start: '09:00', end: '18:00', allowedDays: [1, 2, 3, 4, 5] },
      retry: 2,
      delaySeconds: 3600,
    });
    assert.equal(DEFAULT_RETRY, 2);
    assert.equal(DEFAULT_DELAY_SECONDS, 3600);
  });

  it('treats empty and blank fields as absent, as a browser form sends them', () => {
    assert.deepEqual(
      scheduleOf({ timezone: '', callingHour: ' ', allowedDays: '', retry: '', delay: '\t' }),
      scheduleOf({}),
    );
  });

  it('hands out a copy of the default days, never the shared frozen array', () => {
    const schedule = scheduleOf({});
    assert.notEqual(schedule.window.allowedDays, DEFAULT_WINDOW.allowedDays);
    assert.ok(Object.isFrozen(DEFAULT_WINDOW) && Object.isFrozen(DEFAULT_WINDOW.allowedDays));
  });
});

describe('parseBatchSchedule accepts', () => {
  it('the vendor example fields', () => {
    assert.deepEqual(
      scheduleOf({
        timezone: 'America/New_York',
        callingHour: '{"start":"09:00","end":"17:00"}',
        allowedDays: '[1,2,3,4,5]',
        retry: '3',
        delay: '60',
      }),
      {
        window: { timezone: 'America/New_York', start: '09:00', end: '17:00', allowedDays: [1, 2, 3, 4, 5] },
        retry: 3,
        delaySeconds: 60,
      },
    );
  });

  it('an overnight window whose start is after its end', () => {
    assert.deepEqual(scheduleOf({ callingHour: '{"start":"22:00","end":"02:00"}' }).window, {
      ...DEFAULT_WINDOW,
      start: '22:00',
      end: '02:00',
      allowedDays: [1, 2, 3, 4, 5],
    });
  });

  it('single-digit hours, written back as HH:mm', () => {
    const window = scheduleOf({ callingHour: '{"start":"9:05","end":"17:30"}' }).window;
    assert.equal(window.start, '09:05');
    assert.equal(window.end, '17:30');
  });

  it('duplicated days collapsed and sorted', () => {
    assert.deepEqual(scheduleOf({ allowedDays: '[5, 1, 1, 0, 5]' }).window.allowedDays, [0, 1, 5]);
  });

  it('a time zone with surrounding spaces, trimmed', () => {
    assert.equal(scheduleOf({ timezone: ' Asia/Kolkata ' }).window.timezone, 'Asia/Kolkata');
  });

  it('the bounds of retry (0 and 10 retries) and delay (1 and 604800 seconds)', () => {
    assert.equal(scheduleOf({ retry: '0' }).retry, 0);
    assert.equal(scheduleOf({ retry: '10' }).retry, 10);
    assert.equal(scheduleOf({ delay: '1' }).delaySeconds, 1);
    assert.equal(scheduleOf({ delay: '604800' }).delaySeconds, 604800);
  });
});

describe('parseBatchSchedule refuses', () => {
  it('an unknown time zone, with examples', () => {
    assert.equal(
      messageOf({ timezone: 'Mars/Base' }),
      "timezone 'Mars/Base' is not an IANA time zone (e.g. America/New_York, Asia/Kolkata)",
    );
    assert.deepEqual(
      problemsOf({ timezone: '+05:30' }).map((p) => p.field),
      ['timezone'],
    );
  });

  it('callingHour that is not JSON, naming the parser error', () => {
    assert.match(messageOf({ callingHour: '{start: 09:00}' }), /^callingHour is not valid JSON: .+/);
  });

  it('callingHour of the wrong shape', () => {
    const shape = 'callingHour must be {"start":"HH:MM","end":"HH:MM"}';
    for (const raw of [
      '"09:00-17:00"',
      '["09:00","17:00"]',
      'null',
      '{"start":"09:00"}',
      '{"start":9,"end":17}',
      '{"start":"09:00","end":"17:00","tz":"UTC"}',
    ]) {
      assert.equal(messageOf({ callingHour: raw }), shape, raw);
    }
  });

  it('a start or end that is not a time of day, each reported', () => {
    assert.equal(
      messageOf({ callingHour: '{"start":"25:00","end":"17:00"}' }),
      "callingHour.start '25:00' is not a time of day (00:00–23:59)",
    );
    assert.deepEqual(
      problemsOf({ callingHour: '{"start":"9am","end":"17:60"}' }).map((p) => p.message),
      [
        "callingHour.start '9am' is not a time of day (00:00–23:59)",
        "callingHour.end '17:60' is not a time of day (00:00–23:59)",
      ],
    );
  });

  it('a start equal to its end', () => {
    assert.equal(messageOf({ callingHour: '{"start":"09:00","end":"9:00"}' }), 'callingHour start and end are equal');
  });

  it('allowedDays that is not JSON', () => {
    assert.match(messageOf({ allowedDays: 'mon,tue' }), /^allowedDays is not valid JSON: .+/);
  });

  it('allowedDays that is not an array of whole numbers', () => {
    const shape = 'allowedDays must be a JSON array of whole numbers 0–6 (0 = Sunday)';
    for (const raw of ['1', '{"days":[1]}', '["1","2"]', '[1.5]', '[null]'])
      assert.equal(messageOf({ allowedDays: raw }), shape, raw);
  });

  it('each day outside 0–6', () => {
    assert.equal(messageOf({ allowedDays: '[1,7]' }), 'allowedDays has 7, outside 0–6');
    assert.deepEqual(
      problemsOf({ allowedDays: '[-1,7,7]' }).map((p) => p.message),
      ['allowedDays has -1, outside 0–6', 'allowedDays has 7, outside 0–6'],
    );
  });

  it('an empty allowedDays', () => {
    assert.equal(messageOf({ allowedDays: '[]' }), 'allowedDays is empty');
  });

  it('retry outside 0–10 or not a whole number', () => {
    for (const raw of ['11', '-1', '2.5', 'three', '1e1'])
      assert.equal(
        messageOf({ retry: raw }),
        'retry must be a whole number of retries after the first call, from 0 to 10',
        raw,
      );
  });

  it('delay outside 1–604800 seconds or not a whole number', () => {
    for (const raw of ['0', '604801', '1.5', '60s', '99999999999999999999']) {
      assert.equal(messageOf({ delay: raw }), 'delay must be a whole number of seconds from 1 to 604800', raw);
    }
  });

  it('with every problem reported, each naming its field', () => {
    const problems = problemsOf({
      timezone: 'Mars/Base',
      callingHour: '{"start":"25:00","end":"17:00"}',
      allowedDays: '[]',
      retry: '11',
      delay: '0',
    });
    assert.deepEqual(
      problems.map((p) => p.field),
      ['timezone', 'callingHour', 'allowedDays', 'retry', 'delay'],
    );
  });
});

describe('isValidTimeZone', () => {
  it('accepts IANA names and refuses offsets, unknown names and blanks', () => {
    for (const zone of ['America/New_York', 'Asia/Kolkata', 'UTC', 'Etc/GMT+5'])
      assert.equal(isValidTimeZone(zone), true, zone);
    for (const zone of ['Mars/Base', '+05:30', 'XYZ', '', 'local']) assert.equal(isValidTimeZone(zone), false, zone);
  });
});
