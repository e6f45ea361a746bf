import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AgentVariable } from '../../../src/domain/tenancy/agent-variable.js';
import {
  inlineTransformer,
  type PlanInput,
  type TransformPool,
  transformPool,
} from '../../../src/services/cohorts/row-transformer.js';
import { SEED_CONFIG } from '../../helpers/seed-config.js';

const AGENT: AgentVariable[] = [
  { name: 'customer_name', required: true, default: null, description: null },
  { name: 'outstanding_amount', required: false, default: null, description: null },
  { name: 'due_date', required: false, default: null, description: null },
];
const HEADER = ['mobile', 'name', 'balance', 'payment_due', 'preferred_language'];

/** The same config read with another default country and another phone column: other answers. */
const INDIA: PlanInput = { config: SEED_CONFIG, header: HEADER, agentVariables: AGENT, options: {} };
const US: PlanInput = {
  config: { ...SEED_CONFIG, phone_number: { column_name: 'mobile', country_code: 'US' } },
  header: HEADER,
  agentVariables: AGENT,
  options: {},
};

function unit(first: number, count: number): string[][] {
  return Array.from({ length: count }, (_, i) => [
    i % 7 === 3 ? 'N/A' : `${i % 2 ? '98' : '201'}${String(first + i).padStart(8, '0')}`,
    `customer ${first + i}`,
    String(i * 10),
    '2024-07-31',
    i % 2 ? 'Hindi' : 'English',
  ]);
}

describe('transform workers kept for one file after another (transformPool)', () => {
  let pool: TransformPool;
  before(() => {
    pool = transformPool(2);
  });
  after(async () => {
    await pool?.close();
  });

  it('answers each file by its own plan, files interleaved, exactly as the calling thread would', async () => {
    const india = pool.transformer(INDIA);
    const us = pool.transformer(US);
    const units = [unit(0, 50), unit(1000, 50), unit(2000, 50), unit(3000, 50)];
    const answers = await Promise.all(units.flatMap((rows) => [india.transform(rows), us.transform(rows)]));
    const expected = await Promise.all(
      units.flatMap((rows) => [inlineTransformer(INDIA).transform(rows), inlineTransformer(US).transform(rows)]),
    );
    assert.deepEqual(answers, expected);
    // The two plans do answer differently (US numbers are refused as Indian and the other way).
    assert.notDeepEqual(answers[0]!.kept, answers[1]!.kept);
    await india.close();
    await us.close();
  });

  it('serves a new file after earlier ones closed, and refuses a file whose plan cannot be built, unit by unit', async () => {
    const broken = pool.transformer({ ...INDIA, header: ['nothing', 'mapped'] });
    await assert.rejects(broken.transform(unit(0, 5)), /plan refused in a transform worker/);
    await assert.rejects(broken.transform(unit(5, 5)), /plan refused in a transform worker/);
    await broken.close();
    const again = pool.transformer(INDIA);
    assert.deepEqual(await again.transform(unit(0, 20)), await inlineTransformer(INDIA).transform(unit(0, 20)));
    await again.close();
    assert.equal(pool.broken, false);
  });
});
