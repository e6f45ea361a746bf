// Reading a transformation config: JSON text → a config checked against TransformationConfigSchema.
// Only the config itself is checked here; planIngest checks it against the CSV header and the agent.
import { type TObject, type TRecord, type TSchema, TypeGuard } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { BlockingIssue } from './blocking-issue.js';
import { compileFormat } from './format-chain.js';
import { jsonTypeName } from './json-type.js';
import { isSupportedPhoneCountry } from './phone.js';
import {
  CountryCodeSchema,
  FormatSchema,
  NON_BLANK,
  type TransformationConfig,
  TransformationConfigSchema,
} from './transformation-schema.js';

export type ConfigParseResult = { ok: true; config: TransformationConfig } | { ok: false; issues: BlockingIssue[] };

// Keys that would reach Object.prototype if the parsed config were ever merged or spread.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// Real configs are three levels deep (plus format options); anything deeper is not a config.
const MAX_DEPTH = 32;

/** Parses the text of a transformation file (JSON; a UTF-8 BOM is allowed) and checks its shape. */
export function parseTransformationText(text: string): ConfigParseResult {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (source.trim() === '') return refuse('', 'The transformation config is empty; it must be a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return refuse('', `The transformation config is not valid JSON: ${detail}`);
  }
  return parseTransformationValue(value);
}

/**
 * Checks a config that arrived already parsed (inside a JSON request body) as the text of a file is
 * checked: forbidden keys and hostile nesting first, without recursion, then the shape.
 */
export function parseTransformationValue(value: unknown): ConfigParseResult {
  const forbidden = findForbiddenKeys(value);
  if (forbidden.length > 0) return { ok: false, issues: forbidden };
  return parseTransformationConfig(value);
}

/** Checks an already-parsed value against the config schema; reports every problem found. */
export function parseTransformationConfig(input: unknown): ConfigParseResult {
  if (!isObject(input)) {
    return refuse('', `The transformation config must be a JSON object, not a ${jsonTypeName(input)}.`);
  }
  const issues: BlockingIssue[] = [];
  const config = readValue(TransformationConfigSchema, input, '', false, (path, problem) => {
    issues.push(issue(path, problem));
  });
  if (issues.length > 0) return { ok: false, issues };
  // The walk below and the schema must agree; a config that passed one and not the other is a bug here.
  if (!Value.Check(TransformationConfigSchema, config))
    throw new Error('transformation config walk and schema disagree');
  return { ok: true, config };
}

type Report = (path: string, problem: string) => void;

/**
 * Checks that a schema cannot express, run where the walk meets their schema: the country must be
 * one libphonenumber knows (and is upper-cased), and a format must compile against the catalogue of
 * format functions, which reports each function's options precisely.
 */
const REFINEMENTS = new Map<TSchema, (value: unknown, path: string, report: Report) => unknown>([
  [
    CountryCodeSchema,
    (value, path, report) => {
      if (typeof value !== 'string') report(path, `must be a string, not a ${jsonTypeName(value)}`);
      else if (isSupportedPhoneCountry(value)) return value.toUpperCase();
      else report(path, `'${value}' is not a supported ISO 3166 alpha-2 country code (e.g. IN, US, GB)`);
      return undefined;
    },
  ],
  [
    FormatSchema,
    (value, path, report) => {
      const compiled = compileFormat(value, path);
      if (!compiled.ok) for (const problem of compiled.problems) report(problem.path, problem.message);
      return value;
    },
  ],
]);

/**
 * Walks a value along the config schema and returns its checked copy (null fields left out), or
 * undefined where it is wrong, reporting each problem with its path in the words config authors see.
 * Handles the kinds the config schema uses: objects without extra keys, records, strings, booleans.
 */
function readValue(schema: TSchema, value: unknown, path: string, inRecord: boolean, report: Report): unknown {
  const refine = REFINEMENTS.get(schema);
  if (refine) return refine(value, path, report);
  if (TypeGuard.IsString(schema)) {
    if (typeof value !== 'string') report(path, `must be a string, not a ${jsonTypeName(value)}`);
    else if (schema.pattern === NON_BLANK && value.trim() === '') report(path, 'must not be empty');
    else return value;
    return undefined;
  }
  if (TypeGuard.IsBoolean(schema)) {
    if (typeof value === 'boolean') return value;
    report(path, `must be a boolean (true or false), not a ${jsonTypeName(value)}`);
    return undefined;
  }
  if (!isObject(value)) {
    const like = inRecord ? ' like {"column_name": "..."}' : '';
    report(path, `must be an object${like}, not a ${jsonTypeName(value)}`);
    return undefined;
  }
  if (TypeGuard.IsRecord(schema)) return readRecord(schema, value, path, report);
  if (TypeGuard.IsObject(schema)) return readObject(schema, value, path, report);
  throw new Error(`the transformation schema uses a kind the walk does not know at '${path}'`);
}

function readObject(schema: TObject, value: Record<string, unknown>, path: string, report: Report) {
  const allowed = Object.keys(schema.properties);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) report(join(path, key), `unknown key (allowed here: ${allowed.join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties)) {
    const given = Object.hasOwn(value, key) ? value[key] : undefined;
    if (given === undefined || given === null) {
      if (!TypeGuard.IsOptional(property)) report(join(path, key), `is required${exampleOf(property)}`);
      continue;
    }
    const read = readValue(property, given, join(path, key), false, report);
    if (read !== undefined) out[key] = read;
  }
  return out;
}

function readRecord(schema: TRecord, value: Record<string, unknown>, path: string, report: Report) {
  const entrySchema = Object.values(schema.patternProperties)[0]!;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    const entryPath = `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) {
      report(entryPath, `'${key}' is not allowed as a name`);
      continue;
    }
    const read = readValue(entrySchema, entry, entryPath, true, report);
    if (read !== undefined) out[key] = read;
  }
  return out;
}

/** `: {"column_name": "<phone column>", …}` from the schema's first example, so a missing section shows its shape. */
function exampleOf(schema: TSchema): string {
  const example: unknown = schema.examples?.[0];
  if (!isObject(example)) return '';
  const fields = Object.entries(example).map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`);
  return `: {${fields.join(', ')}}`;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

// Walks the parsed JSON without recursion, so hostile nesting cannot exhaust the stack.
function findForbiddenKeys(root: unknown): BlockingIssue[] {
  const issues: BlockingIssue[] = [];
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_DEPTH) {
      issues.push(issue(path, `is nested more than ${MAX_DEPTH} levels deep`));
      continue;
    }
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value);
    for (const [key, child] of entries) {
      const childPath = Array.isArray(value) ? `${path}${key}` : path === '' ? key : `${path}.${key}`;
      if (!Array.isArray(value) && FORBIDDEN_KEYS.has(key)) {
        issues.push(issue(childPath, `the key '${key}' is not allowed anywhere in the config`));
        continue;
      }
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return issues;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function issue(path: string, problem: string): BlockingIssue {
  const message = path === '' ? problem : `${path}: ${problem}`;
  return { code: 'invalid_transformation', message, details: { path } };
}

function refuse(path: string, message: string): ConfigParseResult {
  return { ok: false, issues: [{ code: 'invalid_transformation', message, details: { path } }] };
}
