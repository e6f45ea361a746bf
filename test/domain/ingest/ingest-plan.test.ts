import { SEED_CONFIG } from '../../helpers/seed-config.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planIngest } from '../../../src/domain/ingest/ingest-plan.js';
import type { BlockingIssue } from '../../../src/domain/ingest/blocking-issue.js';
import type { TransformationConfig } from '../../../src/domain/ingest/transformation-schema.js';
import type { AgentVariable } from '../../../src/domain/tenancy/agent-variable.js';

const HEADER = ['mobile', 'name', 'balance', 'payment_due', 'preferred_language'];
const AGENT: AgentVariable[] = [
  { name: 'customer_name', required: true, default: null, description: null },
  { name: 'outstanding_amount', required: false, default: null, description: null },
  { name: 'due_date', required: false, default: '2024-01-01', description: null },
];

function issues(config: TransformationConfig, header = HEADER, agent = AGENT, options = {}): BlockingIssue[] {
  const result = planIngest(config, header, agent, options);
  assert.ok(!result.ok, 'expected the plan to be refused');
  return result.issues;
}

describe('planIngest', () => {
  it('resolves column indexes, country and required flags', () => {
    const result = planIngest(SEED_CONFIG, HEADER, AGENT, { maxFieldLength: 100 });
    assert.ok(result.ok);
    const { plan } = result;
    assert.equal(plan.phoneIndex, 0);
    assert.equal(plan.country, 'IN');
    assert.deepEqual(
      plan.appVariables.map((c) => [c.key, c.index, c.column, c.required]),
      [
        ['customer_name', 1, 'name', true],
        ['outstanding_amount', 2, 'balance', false],
        ['due_date', 3, 'payment_due', false],
      ],
    );
    assert.deepEqual(
      plan.appOverrides.map((c) => [c.key, c.index]),
      [['initial_language_name', 4]],
    );
    assert.equal(plan.maxFieldLength, 100);
  });

  it('matches header names after trimming surrounding whitespace on both sides', () => {
    const header = [' mobile ', '\tname', 'balance ', 'payment_due', 'preferred_language'];
    const config = { ...SEED_CONFIG, phone_number: { column_name: ' mobile' } };
    const result = planIngest(config, header, AGENT, {});
    assert.ok(result.ok);
    assert.equal(result.plan.phoneIndex, 0);
    assert.deepEqual(result.plan.header, HEADER);
  });

  it('matches header names exactly, not case-insensitively', () => {
    const [issue] = issues(SEED_CONFIG, ['Mobile', 'name', 'balance', 'payment_due', 'preferred_language']);
    assert.equal(issue?.code, 'column_not_found');
  });

  it('uses the default country when the config has none, and none at all when neither is set', () => {
    const config = { ...SEED_CONFIG, phone_number: { column_name: 'mobile' } };
    const withDefault = planIngest(config, HEADER, AGENT, { defaultCountry: 'gb' });
    assert.ok(withDefault.ok);
    assert.equal(withDefault.plan.country, 'GB');
    const without = planIngest(config, HEADER, AGENT, {});
    assert.ok(without.ok);
    assert.equal(without.plan.country, undefined);
  });

  it("prefers the config's country over the default", () => {
    const result = planIngest(SEED_CONFIG, HEADER, AGENT, { defaultCountry: 'US' });
    assert.ok(result.ok);
    assert.equal(result.plan.country, 'IN');
  });

  it('refuses an unsupported default country when the config names none', () => {
    const [issue] = issues({ ...SEED_CONFIG, phone_number: { column_name: 'mobile' } }, HEADER, AGENT, {
      defaultCountry: 'XX',
    });
    assert.equal(issue?.code, 'invalid_transformation');
    assert.match(issue?.message ?? '', /default country 'XX'/);
  });

  it('lists every missing column in one column_not_found issue', () => {
    const [issue, ...rest] = issues(SEED_CONFIG, ['phone', 'name', 'payment_due']);
    assert.equal(rest.length, 0);
    assert.equal(issue?.code, 'column_not_found');
    assert.equal(
      issue?.message,
      'Columns not found in the CSV header: mobile, balance, preferred_language. The header has: phone, name, payment_due',
    );
    assert.deepEqual(issue?.details, {
      missing: ['mobile', 'balance', 'preferred_language'],
      header: ['phone', 'name', 'payment_due'],
    });
  });

  it('says Column for a single missing column, including user_identifier', () => {
    const [issue] = issues({ ...SEED_CONFIG, user_identifier: { column_name: 'cust_id' } });
    assert.equal(issue?.message, `Column not found in the CSV header: cust_id. The header has: ${HEADER.join(', ')}`);
  });

  it('refuses app_overrides keys outside the three allowed', () => {
    const [issue] = issues({
      ...SEED_CONFIG,
      app_overrides: {
        voice: { column_name: 'name' },
        initial_state_name: { column_name: 'name' },
        speed: { column_name: 'name' },
      },
    });
    assert.equal(issue?.code, 'unknown_app_override');
    assert.equal(
      issue?.message,
      'app_overrides keys not allowed: voice, speed. Allowed: initial_bot_message, initial_state_name, initial_language_name',
    );
  });

  it('refuses app_variables keys the agent does not declare, naming them all and the declared ones', () => {
    const config = {
      ...SEED_CONFIG,
      app_variables: { ...SEED_CONFIG.app_variables, a: { column_name: 'name' }, b: { column_name: 'name' } },
    };
    const [issue] = issues(config);
    assert.equal(issue?.code, 'unknown_app_variable');
    assert.equal(
      issue?.message,
      "app_variables keys not found in the agent's variables: a, b. The agent declares: customer_name, outstanding_amount, due_date",
    );
  });

  it('says so when the agent declares no variables', () => {
    const [issue] = issues(
      { phone_number: { column_name: 'mobile' }, app_variables: { a: { column_name: 'name' } } },
      HEADER,
      [],
    );
    assert.match(issue?.message ?? '', /The agent declares no variables$/);
  });

  it('refuses a required agent variable with no mapping', () => {
    const [issue] = issues({
      phone_number: { column_name: 'mobile' },
      app_variables: { due_date: { column_name: 'payment_due' } },
    });
    assert.equal(issue?.code, 'required_variable_not_mapped');
    assert.equal(issue?.message, 'Required agent variables not mapped in app_variables: customer_name');
  });

  it('refuses empty header names, saying which column', () => {
    const [issue] = issues(SEED_CONFIG, ['mobile', ' ', 'name', 'balance', 'payment_due', 'preferred_language', '']);
    assert.equal(issue?.code, 'empty_header');
    assert.equal(issue?.message, 'The CSV header has an empty column name at columns 2, 7; every column needs a name.');
  });

  it('refuses duplicate header names after trimming, naming them and their columns', () => {
    const [issue] = issues(SEED_CONFIG, [...HEADER, 'name ', 'mobile']);
    assert.equal(issue?.code, 'duplicate_header');
    assert.equal(
      issue?.message,
      'The CSV header repeats column names: mobile (columns 1, 7), name (columns 2, 6); every column needs a distinct name.',
    );
  });

  it('refuses a header longer than maxColumns', () => {
    const [issue] = issues(SEED_CONFIG, HEADER, AGENT, { maxColumns: 4 });
    assert.equal(issue?.code, 'too_many_columns');
    assert.equal(issue?.message, 'The CSV header has 5 columns; the limit is 4.');
  });

  it('reports all blocking issues together', () => {
    const config: TransformationConfig = {
      phone_number: { column_name: 'phone' },
      app_variables: { nickname: { column_name: 'nick' } },
      app_overrides: { voice: { column_name: 'name' } },
    };
    const codes = issues(config, ['name', 'name', ''], AGENT, { maxColumns: 2 }).map((i) => i.code);
    assert.deepEqual(codes, [
      'empty_header',
      'duplicate_header',
      'too_many_columns',
      'column_not_found',
      'unknown_app_override',
      'unknown_app_variable',
      'required_variable_not_mapped',
    ]);
  });

  it('refuses an invalid format in a config built in code', () => {
    const config: TransformationConfig = {
      ...SEED_CONFIG,
      app_variables: {
        ...SEED_CONFIG.app_variables,
        due_date: { column_name: 'payment_due', format: { fn: 'date', input: 'QQ' } },
      },
    };
    const [issue] = issues(config);
    assert.equal(issue?.code, 'invalid_transformation');
    assert.match(issue?.message ?? '', /^app_variables\.due_date\.format: date: pattern 'QQ'/);
  });
});
