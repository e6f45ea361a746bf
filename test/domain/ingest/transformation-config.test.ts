import { SEED_CONFIG } from '../../helpers/seed-config.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseTransformationConfig,
  parseTransformationText,
} from '../../../src/domain/ingest/transformation-config.js';
import { Value } from '@sinclair/typebox/value';
import type { BlockingIssue } from '../../../src/domain/ingest/blocking-issue.js';
import { TransformationConfigSchema } from '../../../src/domain/ingest/transformation-schema.js';

function issuesOf(result: ReturnType<typeof parseTransformationConfig>): BlockingIssue[] {
  assert.ok(!result.ok, 'expected the config to be refused');
  return result.issues;
}

function messagesOf(input: unknown): string[] {
  return issuesOf(parseTransformationConfig(input)).map((issue) => issue.message);
}

describe('parseTransformationConfig', () => {
  it("accepts the vendor's example config unchanged", () => {
    const result = parseTransformationConfig(SEED_CONFIG);
    assert.ok(result.ok);
    assert.deepEqual(result.config, SEED_CONFIG);
  });

  it('accepts user_identifier, required, fallback_value and format', () => {
    const result = parseTransformationConfig({
      phone_number: { column_name: 'mobile' },
      user_identifier: { column_name: 'id', required: true },
      app_variables: {
        due_date: {
          column_name: 'due',
          required: false,
          fallback_value: '',
          format: ['trim', { fn: 'date', input: 'DD/MM/YYYY' }],
        },
      },
      app_overrides: { initial_bot_message: { column_name: 'greeting', fallback_value: 'Hello' } },
    });
    assert.ok(result.ok);
    assert.deepEqual(result.config.user_identifier, { column_name: 'id', required: true });
    assert.equal(result.config.app_variables?.['due_date']?.fallback_value, '');
  });

  it('upper-cases the country code', () => {
    const result = parseTransformationConfig({ phone_number: { column_name: 'm', country_code: 'in' } });
    assert.ok(result.ok);
    assert.equal(result.config.phone_number.country_code, 'IN');
  });

  it('treats null optional fields as absent', () => {
    const result = parseTransformationConfig({
      phone_number: { column_name: 'm', country_code: null },
      user_identifier: null,
      app_overrides: null,
    });
    assert.ok(result.ok);
    assert.deepEqual(result.config, { phone_number: { column_name: 'm' } });
  });

  it('refuses a value that is not an object', () => {
    for (const input of [null, [], 'x', 3]) {
      const [issue] = issuesOf(parseTransformationConfig(input));
      assert.equal(issue?.code, 'invalid_transformation');
      assert.match(issue?.message ?? '', /must be a JSON object/);
    }
  });

  it('refuses a missing phone_number or column_name', () => {
    assert.match(messagesOf({})[0] ?? '', /^phone_number: is required/);
    assert.deepEqual(messagesOf({ phone_number: {} }), ['phone_number.column_name: is required']);
    assert.deepEqual(messagesOf({ phone_number: { column_name: ' ' } }), [
      'phone_number.column_name: must not be empty',
    ]);
  });

  it('refuses an unsupported country code', () => {
    assert.deepEqual(messagesOf({ phone_number: { column_name: 'm', country_code: 'India' } }), [
      "phone_number.country_code: 'India' is not a supported ISO 3166 alpha-2 country code (e.g. IN, US, GB)",
    ]);
  });

  it('refuses wrong types, naming the path', () => {
    assert.deepEqual(
      messagesOf({
        phone_number: { column_name: 5 },
        user_identifier: { column_name: 'id', required: 'yes' },
        app_variables: { a: 'name', b: { column_name: 'b', fallback_value: 0 } },
        app_overrides: [],
      }),
      [
        'phone_number.column_name: must be a string, not a number',
        'user_identifier.required: must be a boolean (true or false), not a string',
        'app_variables.a: must be an object like {"column_name": "..."}, not a string',
        'app_variables.b.fallback_value: must be a string, not a number',
        'app_overrides: must be an object, not a list',
      ],
    );
  });

  it('refuses unknown keys at the top level and inside entries', () => {
    assert.deepEqual(
      messagesOf({
        phone_number: { column_name: 'm', country: 'IN' },
        app_variables: { a: { column_name: 'a', formats: 'trim' } },
        app_overrides: { initial_bot_message: { column_name: 'g', format: 'trim' } },
        cohort_name: 'x',
      }),
      [
        'cohort_name: unknown key (allowed here: phone_number, user_identifier, app_variables, app_overrides)',
        'phone_number.country: unknown key (allowed here: column_name, country_code)',
        'app_variables.a.formats: unknown key (allowed here: column_name, required, fallback_value, format)',
        'app_overrides.initial_bot_message.format: unknown key (allowed here: column_name, required, fallback_value)',
      ],
    );
  });

  it('leaves unknown app_overrides keys to planIngest', () => {
    assert.ok(
      parseTransformationConfig({ phone_number: { column_name: 'm' }, app_overrides: { voice: { column_name: 'v' } } })
        .ok,
    );
  });

  it('refuses invalid format specs with the path of each', () => {
    const messages = messagesOf({
      phone_number: { column_name: 'm' },
      app_variables: { due_date: { column_name: 'd', format: ['trim', { fn: 'date', input: 'DD/MM/YYY' }, 'enum'] } },
    });
    assert.equal(messages.length, 2);
    assert.match(
      messages[0] ?? '',
      /^app_variables\.due_date\.format\[1\]: date: pattern 'DD\/MM\/YYY' has an unknown token 'Y'/,
    );
    assert.equal(messages[1], "app_variables.due_date.format[2]: enum: option 'map' is required");
  });

  it('gives the path of a bad format in details', () => {
    const [issue] = issuesOf(
      parseTransformationConfig({
        phone_number: { column_name: 'm' },
        app_variables: { x: { column_name: 'x', format: 'nope' } },
      }),
    );
    assert.deepEqual(issue?.details, { path: 'app_variables.x.format' });
  });

  it('refuses prototype-polluting names in sections', () => {
    const input = JSON.parse(
      '{"phone_number":{"column_name":"m"},"app_variables":{"__proto__":{"column_name":"x"}}}',
    ) as unknown;
    assert.deepEqual(messagesOf(input), ["app_variables.__proto__: '__proto__' is not allowed as a name"]);
    assert.equal(({} as Record<string, unknown>)['column_name'], undefined);
  });

  it('returns a config that TransformationConfigSchema accepts, nulls dropped and the country upper-cased', () => {
    const result = parseTransformationConfig({
      phone_number: { column_name: 'm', country_code: 'gb' },
      user_identifier: { column_name: 'id', required: null },
      app_variables: { a: { column_name: 'a', format: [{ fn: 'date', input: 'DD/MM/YYYY' }, 'trim'] } },
    });
    assert.ok(result.ok);
    assert.ok(Value.Check(TransformationConfigSchema, result.config));
    assert.deepEqual(result.config.user_identifier, { column_name: 'id' });
    assert.equal(result.config.phone_number.country_code, 'GB');
  });

  it('names the keys the schema allows, in its order, for an unknown key', () => {
    const allowed = Object.keys(TransformationConfigSchema.properties).join(', ');
    assert.deepEqual(messagesOf({ phone_number: { column_name: 'm' }, cohort: 1 }), [
      `cohort: unknown key (allowed here: ${allowed})`,
    ]);
  });

  it('reports every problem at once', () => {
    assert.equal(
      messagesOf({ phone_number: { column_name: 1, country_code: 'ZZ' }, app_variables: { a: {} }, extra: 1 }).length,
      4,
    );
  });
});

describe('parseTransformationText', () => {
  it('parses JSON text, with or without a UTF-8 BOM', () => {
    assert.ok(parseTransformationText(JSON.stringify(SEED_CONFIG)).ok);
    assert.ok(parseTransformationText(`\ufeff${JSON.stringify(SEED_CONFIG)}`).ok);
  });

  it('refuses a syntax error with a clear message', () => {
    const result = parseTransformationText('{"phone_number": {"column_name": "m",}}');
    assert.ok(!result.ok);
    assert.equal(result.issues[0]?.code, 'invalid_transformation');
    assert.match(result.issues[0]?.message ?? '', /^The transformation config is not valid JSON: /);
  });

  it('refuses empty text', () => {
    const result = parseTransformationText('  \n');
    assert.ok(!result.ok);
    assert.equal(result.issues[0]?.message, 'The transformation config is empty; it must be a JSON object.');
  });

  it('refuses __proto__ and constructor keys anywhere, naming where', () => {
    const result = parseTransformationText(
      '{"phone_number":{"column_name":"m"},"__proto__":{"polluted":1},"app_variables":{"a":{"column_name":"a","format":{"fn":"enum","map":{"constructor":"x"}}}}}',
    );
    assert.ok(!result.ok);
    assert.deepEqual(result.issues.map((i) => i.message).sort(), [
      "__proto__: the key '__proto__' is not allowed anywhere in the config",
      "app_variables.a.format.map.constructor: the key 'constructor' is not allowed anywhere in the config",
    ]);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses absurdly deep nesting without overflowing the stack', () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const result = parseTransformationText(`{"phone_number":{"column_name":"m"},"x":${deep}}`);
    assert.ok(!result.ok);
    assert.ok(result.issues.some((i) => /nested more than/.test(i.message)));
  });
});
