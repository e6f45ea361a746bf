import assert from 'node:assert/strict';
import type { TestApp } from './test-app.js';
import type { CohortResult } from '../../src/services/cohorts/cohort-service.js';

export interface UploadParts {
  name?: string;
  csv?: string | Buffer | Blob;
  config?: unknown;
  extra?: Record<string, string>;
}

/** Posts a multipart cohort upload to a listening test server with fetch's FormData. */
export async function uploadCohort(baseUrl: string, path: string, key: string, parts: UploadParts): Promise<Response> {
  const form = new FormData();
  if (parts.name !== undefined) form.append('name', parts.name);
  if (parts.csv !== undefined) form.append('cohort_file', new Blob([parts.csv], { type: 'text/csv' }), 'users.csv');
  if (parts.config !== undefined) {
    const text = typeof parts.config === 'string' ? parts.config : JSON.stringify(parts.config);
    form.append('cohort_transformation_file', new Blob([text], { type: 'application/json' }), 'config.json');
  }
  for (const [name, value] of Object.entries(parts.extra ?? {})) form.append(name, value);
  return fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'x-api-key': key }, body: form });
}

export interface CohortBody {
  cohort_id: string;
  status: string;
  result: CohortResult | null;
  error?: { code: string; message: string };
  created_by: string;
  source_type: string;
}

/**
 * Polls a cohort until it leaves `processing` (the job runner, or the worker process, works in the
 * background). Fails at once, with the worker's output, if the worker process has died.
 */
export async function waitForCohort(t: TestApp, path: string, key: string, timeoutMs = 60_000): Promise<CohortBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = t.worker?.failure();
    if (dead) throw dead;
    const response = await t.call('GET', path, { key });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json() as CohortBody;
    if (body.status !== 'processing') return body;
    if (Date.now() > deadline)
      throw new Error(`cohort still processing after ${timeoutMs} ms${t.worker ? `\n${t.worker.output()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What examples/cohort-users.csv's rejected rows earn, with examples/cohort-transformation.json (README). */
export const EXAMPLE_REJECTIONS = [
  { code: 'format_failed', count: 2, example_row: 8 },
  { code: 'duplicate_phone', count: 1, example_row: 10 },
  { code: 'invalid_phone', count: 1, example_row: 5 },
  { code: 'missing_required_value', count: 1, example_row: 6 },
  { code: 'phone_scientific_notation', count: 1, example_row: 7 },
  { code: 'wrong_field_count', count: 1, example_row: 11 },
];

export { SEED_CONFIG } from './seed-config.js';

/**
 * The text of a CSV file of `header` and `rows` generated lines. One string, which uploadCohort
 * sends as one Blob part: fetch sends a Blob part by part, and a part per row cost the client
 * seconds (160k parts: 3 s alone, 16 s beside a busy server) before the server saw the whole file.
 */
export function csvText(header: string, rows: number, line: (i: number) => string): string {
  const lines = [header];
  for (let i = 0; i < rows; i++) lines.push(line(i));
  return `${lines.join('\n')}\n`;
}
