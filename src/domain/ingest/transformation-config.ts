// Reading a transformation config: JSON text → a checked, normalised TransformationConfig.
// Only the shape is checked here; planIngest checks it against the CSV header and the agent.
import { compileFormat } from './formatters.js';
import { describe } from './format-options.js';
import { isSupportedPhoneCountry } from './phone.js';
import type {
  AppOverrideMapping,
  AppVariableMapping,
  BlockingIssue,
  TransformationConfig,
  UserIdentifierMapping,
} from './transformation-types.js';

export * from './transformation-types.js';
export { planIngest, type IngestPlan, type PlannedColumn, type PlanOptions } from './ingest-plan.js';

export type ConfigParseResult = { ok: true; config: TransformationConfig } | { ok: false; issues: BlockingIssue[] };

// Keys that would reach Object.prototype if the parsed config were ever merged or spread.
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// Real configs are three levels deep (plus format options); anything deeper is not a config.
const MAX_DEPTH = 32;

const TOP_LEVEL_KEYS = ['phone_number', 'user_identifier', 'app_variables', 'app_overrides'];
const PHONE_KEYS = ['column_name', 'country_code'];
const USER_IDENTIFIER_KEYS = ['column_name', 'required'];
const OVERRIDE_KEYS = ['column_name', 'required', 'fallback_value'];
const VARIABLE_KEYS = ['column_name', 'required', 'fallback_value', 'format'];

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
  const forbidden = findForbiddenKeys(value);
  if (forbidden.length > 0) return { ok: false, issues: forbidden };
  return parseTransformationConfig(value);
}

/** Checks an already-parsed value against the config shape; reports every problem found. */
export function parseTransformationConfig(input: unknown): ConfigParseResult {
  const issues: BlockingIssue[] = [];
  const report = (path: string, problem: string) => issues.push(issue(path, problem));
  if (!isObject(input)) {
    return refuse('', `The transformation config must be a JSON object, not a ${describe(input)}.`);
  }
  checkKeys(input, '', TOP_LEVEL_KEYS, report);

  const phone = readPhone(input, report);
  const config: TransformationConfig = { phone_number: phone ?? { column_name: '' } };

  const userIdentifier = readSection(input, 'user_identifier', report);
  if (userIdentifier !== undefined) {
    checkKeys(userIdentifier, 'user_identifier', USER_IDENTIFIER_KEYS, report);
    const mapping: UserIdentifierMapping = { column_name: readColumnName(userIdentifier, 'user_identifier', report) };
    const required = readOptional(userIdentifier, 'required', 'boolean', 'user_identifier', report);
    if (required !== undefined) mapping.required = required;
    config.user_identifier = mapping;
  }

  const variables = readSection(input, 'app_variables', report);
  if (variables !== undefined) {
    config.app_variables = readEntries(variables, 'app_variables', report, (entry, path) => {
      checkKeys(entry, path, VARIABLE_KEYS, report);
      const mapping: AppVariableMapping = readOverride(entry, path, report);
      if (Object.hasOwn(entry, 'format') && entry['format'] !== null) {
        const compiled = compileFormat(entry['format'], `${path}.format`);
        if (!compiled.ok) for (const problem of compiled.problems) report(problem.path, problem.message);
        mapping.format = entry['format'] as AppVariableMapping['format'];
      }
      return mapping;
    });
  }

  const overrides = readSection(input, 'app_overrides', report);
  if (overrides !== undefined) {
    config.app_overrides = readEntries(overrides, 'app_overrides', report, (entry, path) => {
      checkKeys(entry, path, OVERRIDE_KEYS, report);
      return readOverride(entry, path, report);
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, config };
}

type Report = (path: string, problem: string) => void;

function readPhone(input: Record<string, unknown>, report: Report): TransformationConfig['phone_number'] | undefined {
  if (!Object.hasOwn(input, 'phone_number') || input['phone_number'] === null) {
    report('phone_number', 'is required: {"column_name": "<phone column>", "country_code": "IN"}');
    return undefined;
  }
  const section = readSection(input, 'phone_number', report);
  if (section === undefined) return undefined;
  checkKeys(section, 'phone_number', PHONE_KEYS, report);
  const phone: TransformationConfig['phone_number'] = { column_name: readColumnName(section, 'phone_number', report) };
  const country = readOptional(section, 'country_code', 'string', 'phone_number', report);
  if (country !== undefined) {
    if (isSupportedPhoneCountry(country)) phone.country_code = country.toUpperCase();
    else report('phone_number.country_code', `'${country}' is not a supported ISO 3166 alpha-2 country code (e.g. IN, US, GB)`);
  }
  return phone;
}

function readOverride(entry: Record<string, unknown>, path: string, report: Report): AppOverrideMapping {
  const mapping: AppOverrideMapping = { column_name: readColumnName(entry, path, report) };
  const required = readOptional(entry, 'required', 'boolean', path, report);
  if (required !== undefined) mapping.required = required;
  const fallback = readOptional(entry, 'fallback_value', 'string', path, report);
  if (fallback !== undefined) mapping.fallback_value = fallback;
  return mapping;
}

/** An optional object section; null counts as absent. */
function readSection(input: Record<string, unknown>, key: string, report: Report): Record<string, unknown> | undefined {
  const value = Object.hasOwn(input, key) ? input[key] : undefined;
  if (value === undefined || value === null) return undefined;
  if (isObject(value)) return value;
  report(key, `must be an object, not a ${describe(value)}`);
  return undefined;
}

function readEntries<T>(
  section: Record<string, unknown>,
  path: string,
  report: Report,
  read: (entry: Record<string, unknown>, path: string) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, entry] of Object.entries(section)) {
    const entryPath = `${path}.${key}`;
    if (FORBIDDEN_KEYS.has(key)) {
      report(entryPath, `'${key}' is not allowed as a name`);
      continue;
    }
    if (!isObject(entry)) {
      report(entryPath, `must be an object like {"column_name": "..."}, not a ${describe(entry)}`);
      continue;
    }
    out[key] = read(entry, entryPath);
  }
  return out;
}

function readColumnName(entry: Record<string, unknown>, path: string, report: Report): string {
  const value = Object.hasOwn(entry, 'column_name') ? entry['column_name'] : undefined;
  if (value === undefined || value === null) report(`${path}.column_name`, 'is required');
  else if (typeof value !== 'string') report(`${path}.column_name`, `must be a string, not a ${describe(value)}`);
  else if (value.trim() === '') report(`${path}.column_name`, 'must not be empty');
  else return value;
  return '';
}

function readOptional<K extends 'string' | 'boolean'>(
  entry: Record<string, unknown>,
  key: string,
  type: K,
  path: string,
  report: Report,
): (K extends 'string' ? string : boolean) | undefined {
  const value = Object.hasOwn(entry, key) ? entry[key] : undefined;
  if (value === undefined || value === null) return undefined;
  if (typeof value === type) return value as K extends 'string' ? string : boolean;
  report(`${path}.${key}`, `must be a ${type === 'string' ? 'string' : 'boolean (true or false)'}, not a ${describe(value)}`);
  return undefined;
}

function checkKeys(entry: Record<string, unknown>, path: string, allowed: readonly string[], report: Report): void {
  for (const key of Object.keys(entry)) {
    if (!allowed.includes(key)) report(path === '' ? key : `${path}.${key}`, `unknown key (allowed here: ${allowed.join(', ')})`);
  }
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
