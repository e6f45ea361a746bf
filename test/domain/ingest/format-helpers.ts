// Shared assertions for the format function tests.
import assert from 'node:assert/strict';
import { compileFormat, type FormatResult } from '../../../src/domain/ingest/format-chain.js';

/** Compiles a spec that must be valid and applies it to one value. */
export function applyFormat(spec: unknown, value: string): FormatResult {
  const compiled = compileFormat(spec, 'format');
  assert.ok(compiled.ok, `expected a valid spec, got ${compiled.ok ? '' : compiled.message}`);
  return compiled.apply(value);
}

/** The formatted value of a spec that must succeed. */
export function formatted(spec: unknown, value: string): string {
  const result = applyFormat(spec, value);
  assert.ok(result.ok, `expected ${JSON.stringify(value)} to pass, got ${JSON.stringify(result)}`);
  return result.value;
}

/** The failure (function label and message) of a spec that must fail. */
export function failure(spec: unknown, value: string): string {
  const result = applyFormat(spec, value);
  assert.ok(!result.ok, `expected ${JSON.stringify(value)} to fail, got ${JSON.stringify(result)}`);
  return `${result.fn}: ${result.message}`;
}

/** The joined problems of a spec that must be refused at compile time. */
export function specProblems(spec: unknown, path = 'format'): string {
  const compiled = compileFormat(spec, path);
  assert.ok(!compiled.ok, `expected ${JSON.stringify(spec)} to be refused`);
  return compiled.message;
}
