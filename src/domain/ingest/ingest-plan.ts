// Checks a parsed config against one CSV header and the agent, and resolves everything a row
// needs (column indexes, compiled formats, required flags) once, before the first row.
import { compileFormat, type CompiledFormat } from './format-chain.js';
import { isSupportedPhoneCountry } from './phone.js';
import type { BlockingIssue } from './blocking-issue.js';
import {
  ALLOWED_APP_OVERRIDES,
  type AppOverrideMapping,
  type AppVariableMapping,
  type TransformationConfig,
} from './transformation-schema.js';
import type { AgentVariable } from '../tenancy/agent-variable.js';
import { listNames } from './value-text.js';

export interface PlanOptions {
  /** The deployment's country for national numbers when the config sets no country_code. */
  defaultCountry?: string;
  maxColumns?: number;
  maxFieldLength?: number;
}

/** One mapped column, resolved for fast row processing. */
export interface PlannedColumn {
  /** The output key: the variable or override name, or 'user_identifier'. */
  readonly key: string;
  readonly index: number;
  /** The header name, trimmed, for reasons. */
  readonly column: string;
  readonly required: boolean;
  readonly fallback: string | undefined;
  readonly format: CompiledFormat | undefined;
}

/** Everything transformRow needs, resolved once per upload. */
export interface IngestPlan {
  /** Header names with surrounding whitespace trimmed. */
  readonly header: readonly string[];
  readonly phoneIndex: number;
  readonly phoneColumn: string;
  /** ISO 3166 alpha-2, or undefined when only +E.164 input is accepted. */
  readonly country: string | undefined;
  readonly userIdentifier: PlannedColumn | undefined;
  readonly appVariables: readonly PlannedColumn[];
  readonly appOverrides: readonly PlannedColumn[];
  /** Infinity when there is no limit. */
  readonly maxFieldLength: number;
}

export type PlanResult = { ok: true; plan: IngestPlan } | { ok: false; issues: BlockingIssue[] };

/** Checks a config against the CSV header and the agent's variables; reports every blocking issue at once. */
export function planIngest(
  config: TransformationConfig,
  header: string[],
  agentVariables: AgentVariable[],
  options: PlanOptions,
): PlanResult {
  const names = header.map((name) => name.trim());
  const issues: BlockingIssue[] = [...checkHeader(names, options.maxColumns)];
  const indexOf = new Map<string, number>();
  names.forEach((name, index) => {
    if (name !== '' && !indexOf.has(name)) indexOf.set(name, index);
  });

  const missing: string[] = [];
  const resolve = (columnName: string): number => {
    const index = indexOf.get(columnName.trim());
    if (index === undefined) {
      if (!missing.includes(columnName.trim())) missing.push(columnName.trim());
      return -1;
    }
    return index;
  };

  const phoneIndex = resolve(config.phone_number.column_name);
  const userIdentifier = config.user_identifier;
  const userIdentifierIndex = userIdentifier === undefined ? -1 : resolve(userIdentifier.column_name);
  const variableEntries = Object.entries(config.app_variables ?? {});
  const overrideEntries = Object.entries(config.app_overrides ?? {});
  const variableIndexes = variableEntries.map(([, mapping]) => resolve(mapping.column_name));
  const overrideIndexes = overrideEntries.map(([, mapping]) => resolve(mapping.column_name));
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'Column' : 'Columns';
    issues.push({
      code: 'column_not_found',
      message: `${noun} not found in the CSV header: ${listNames(missing)}. The header has: ${listNames(names)}`,
      details: { missing, header: names },
    });
  }

  issues.push(...checkAgent(variableEntries, overrideEntries, agentVariables));

  const country = resolveCountry(config, options.defaultCountry, issues);
  const declared = new Map(agentVariables.map((variable) => [variable.name, variable]));
  const appVariables = variableEntries.map(([key, mapping], i) =>
    plannedColumn(key, mapping, variableIndexes[i] ?? -1, names, declared.get(key)?.required === true, issues),
  );
  const appOverrides = overrideEntries.map(([key, mapping], i) =>
    plannedColumn(key, mapping, overrideIndexes[i] ?? -1, names, false, issues),
  );
  if (issues.length > 0) return { ok: false, issues };

  return {
    ok: true,
    plan: {
      header: names,
      phoneIndex,
      phoneColumn: names[phoneIndex] ?? config.phone_number.column_name,
      country,
      userIdentifier:
        userIdentifier === undefined
          ? undefined
          : plannedColumn('user_identifier', userIdentifier, userIdentifierIndex, names, false, issues),
      appVariables,
      appOverrides,
      maxFieldLength: options.maxFieldLength ?? Number.POSITIVE_INFINITY,
    },
  };
}

function checkHeader(names: readonly string[], maxColumns: number | undefined): BlockingIssue[] {
  const issues: BlockingIssue[] = [];
  const emptyPositions: number[] = [];
  const positions = new Map<string, number[]>();
  names.forEach((name, index) => {
    if (name === '') emptyPositions.push(index + 1);
    else {
      const at = positions.get(name);
      if (at === undefined) positions.set(name, [index + 1]);
      else at.push(index + 1);
    }
  });
  if (emptyPositions.length > 0) {
    const where = emptyPositions.length === 1 ? `column ${emptyPositions[0]}` : `columns ${emptyPositions.join(', ')}`;
    issues.push({
      code: 'empty_header',
      message: `The CSV header has an empty column name at ${where}; every column needs a name.`,
      details: { positions: emptyPositions },
    });
  }
  const duplicates = [...positions].filter(([, at]) => at.length > 1).map(([name, at]) => ({ name, positions: at }));
  if (duplicates.length > 0) {
    const list = duplicates.map((d) => `${d.name} (columns ${d.positions.join(', ')})`).join(', ');
    issues.push({
      code: 'duplicate_header',
      message: `The CSV header repeats column names: ${list}; every column needs a distinct name.`,
      details: { duplicates },
    });
  }
  if (maxColumns !== undefined && names.length > maxColumns) {
    issues.push({
      code: 'too_many_columns',
      message: `The CSV header has ${names.length} columns; the limit is ${maxColumns}.`,
      details: { columns: names.length, max_columns: maxColumns },
    });
  }
  return issues;
}

function checkAgent(
  variableEntries: ReadonlyArray<readonly [string, AppVariableMapping]>,
  overrideEntries: ReadonlyArray<readonly [string, AppOverrideMapping]>,
  agentVariables: readonly AgentVariable[],
): BlockingIssue[] {
  const issues: BlockingIssue[] = [];
  const allowedOverrides: readonly string[] = ALLOWED_APP_OVERRIDES;
  const unknownOverrides = overrideEntries.map(([key]) => key).filter((key) => !allowedOverrides.includes(key));
  if (unknownOverrides.length > 0) {
    issues.push({
      code: 'unknown_app_override',
      message: `app_overrides keys not allowed: ${listNames(unknownOverrides)}. Allowed: ${ALLOWED_APP_OVERRIDES.join(', ')}`,
      details: { unknown: unknownOverrides, allowed: [...ALLOWED_APP_OVERRIDES] },
    });
  }
  const declaredNames = agentVariables.map((variable) => variable.name);
  const unknownVariables = variableEntries.map(([key]) => key).filter((key) => !declaredNames.includes(key));
  if (unknownVariables.length > 0) {
    const declared =
      declaredNames.length > 0 ? `The agent declares: ${listNames(declaredNames)}` : 'The agent declares no variables';
    issues.push({
      code: 'unknown_app_variable',
      message: `app_variables keys not found in the agent's variables: ${listNames(unknownVariables)}. ${declared}`,
      details: { unknown: unknownVariables, declared: declaredNames },
    });
  }
  const mapped = new Set(variableEntries.map(([key]) => key));
  const unmapped = agentVariables
    .filter((variable) => variable.required && !mapped.has(variable.name))
    .map((v) => v.name);
  if (unmapped.length > 0) {
    issues.push({
      code: 'required_variable_not_mapped',
      message: `Required agent variables not mapped in app_variables: ${listNames(unmapped)}`,
      details: { unmapped },
    });
  }
  return issues;
}

function resolveCountry(
  config: TransformationConfig,
  defaultCountry: string | undefined,
  issues: BlockingIssue[],
): string | undefined {
  const configured = config.phone_number.country_code;
  if (configured !== undefined) {
    if (isSupportedPhoneCountry(configured)) return configured.toUpperCase();
    issues.push({
      code: 'invalid_transformation',
      message: `phone_number.country_code: '${configured}' is not a supported ISO 3166 alpha-2 country code (e.g. IN, US, GB)`,
      details: { path: 'phone_number.country_code' },
    });
    return undefined;
  }
  if (defaultCountry === undefined) return undefined;
  if (isSupportedPhoneCountry(defaultCountry)) return defaultCountry.toUpperCase();
  // The deployment's own setting is wrong; the config can still fix the upload by naming one.
  issues.push({
    code: 'invalid_transformation',
    message: `The deployment's default country '${defaultCountry}' is not a supported ISO 3166 alpha-2 code; set phone_number.country_code in the config.`,
    details: { path: 'phone_number.country_code' },
  });
  return undefined;
}

function plannedColumn(
  key: string,
  mapping: AppVariableMapping | AppOverrideMapping,
  index: number,
  names: readonly string[],
  requiredByAgent: boolean,
  issues: BlockingIssue[],
): PlannedColumn {
  let format: CompiledFormat | undefined;
  // A config built in code (not through parseTransformationConfig) may carry a bad format.
  if ('format' in mapping && mapping.format !== undefined) {
    const path = `app_variables.${key}.format`;
    const compiled = compileFormat(mapping.format, path);
    if (compiled.ok) format = compiled.compiled;
    else {
      for (const problem of compiled.problems) {
        issues.push({
          code: 'invalid_transformation',
          message: `${problem.path}: ${problem.message}`,
          details: { path: problem.path },
        });
      }
    }
  }
  return {
    key,
    index,
    column: names[index] ?? mapping.column_name,
    required: mapping.required === true || requiredByAgent,
    fallback: 'fallback_value' in mapping ? mapping.fallback_value : undefined,
    format,
  };
}
