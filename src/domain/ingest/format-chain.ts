// Format chains for app_variables: `format` is one function or a list applied in order.
import { FORMAT_FUNCTION_DEFS, optionNames, type FormatFunctionDoc } from './format-catalogue.js';
import { OptionReader } from './format-option-reader.js';
import { jsonTypeName } from './json-type.js';
import type { CompiledStep } from './format-step.js';
import { isBlank } from './value-text.js';

export type FormatResult = { ok: true; value: string } | { ok: false; fn: string; message: string };

/** A value refused by a format chain: the function (with its key option) and why. */
export class FormatFailure {
  constructor(
    readonly fn: string,
    readonly message: string,
  ) {}
}

/** A compiled chain, built once per upload and run for every row. */
export interface CompiledFormat {
  /** The functions in order, as named in failure reasons (e.g. `date(DD/MM/YYYY)`). */
  readonly labels: readonly string[];
  /** True when the chain contains `default`, the only function that fills a blank value. */
  readonly fillsBlank: boolean;
  /** Fast path: the formatted value, or the failure (no allocation on success). */
  run(value: string): string | FormatFailure;
  /** The same as run, as a plain result object. */
  apply(value: string): FormatResult;
}

/** Every format function with its one-line summary, options and failure messages (README source). */
export const FORMAT_FUNCTIONS: readonly FormatFunctionDoc[] = FORMAT_FUNCTION_DEFS.map(
  ({ name, summary, options, failures, example }) => ({ name, summary, options, failures, example }),
);

export const FORMAT_FUNCTION_NAMES: readonly string[] = FORMAT_FUNCTION_DEFS.map((def) => def.name);

const DEFS_BY_NAME = new Map(FORMAT_FUNCTION_DEFS.map((def) => [def.name, def]));

/** A problem with a format spec: where (e.g. `app_variables.due_date.format[1]`) and what. */
export interface FormatProblem {
  path: string;
  message: string;
}

/**
 * Compiles a format spec (or list of specs) into a chain. Every problem is reported, each with its
 * place under `path`; `message` joins them as `<path>: <problem>; …`.
 */
export function compileFormat(
  spec: unknown,
  path: string,
):
  | { ok: true; apply: (value: string) => FormatResult; compiled: CompiledFormat }
  | { ok: false; message: string; problems: FormatProblem[] } {
  const specs = Array.isArray(spec) ? spec : [spec];
  const steps: CompiledStep[] = [];
  const problems: FormatProblem[] = [];
  specs.forEach((one: unknown, index) => {
    const where = Array.isArray(spec) ? `${path}[${index}]` : path;
    const step = compileStep(one, where, problems);
    if (step !== undefined) steps.push(step);
  });
  if (problems.length > 0) {
    return { ok: false, message: problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems };
  }
  const compiled = chain(steps);
  return { ok: true, apply: compiled.apply, compiled };
}

function compileStep(spec: unknown, where: string, problems: FormatProblem[]): CompiledStep | undefined {
  let name: string;
  let options: Readonly<Record<string, unknown>>;
  if (typeof spec === 'string') {
    name = spec;
    options = {};
  } else if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    options = spec as Record<string, unknown>;
    const fn = Object.hasOwn(options, 'fn') ? options['fn'] : undefined;
    if (typeof fn !== 'string') {
      problems.push({
        path: where,
        message: `a format object needs "fn", the function name (one of: ${FORMAT_FUNCTION_NAMES.join(', ')})`,
      });
      return undefined;
    }
    name = fn;
  } else {
    problems.push({
      path: where,
      message: `a format must be a function name or an object with "fn", not a ${jsonTypeName(spec)}`,
    });
    return undefined;
  }
  const def = DEFS_BY_NAME.get(name);
  if (def === undefined) {
    problems.push({
      path: where,
      message: `unknown format function '${name}' (functions: ${FORMAT_FUNCTION_NAMES.join(', ')})`,
    });
    return undefined;
  }
  const reader = new OptionReader(options, name);
  const step = def.compile(reader);
  const stepProblems = reader.finish(optionNames(def));
  for (const problem of stepProblems) problems.push({ path: where, message: `${name}: ${problem}` });
  return stepProblems.length > 0 ? undefined : step;
}

function chain(steps: readonly CompiledStep[]): CompiledFormat {
  const run = (value: string): string | FormatFailure => {
    let current = value;
    for (const step of steps) {
      // Blank values reach only `default`; the caller decides what an empty result means.
      if (!step.fillsBlank && isBlank(current)) continue;
      const out = step.run(current);
      if (typeof out !== 'string') return new FormatFailure(step.label, out.message);
      current = out;
    }
    return current;
  };
  return {
    labels: steps.map((step) => step.label),
    fillsBlank: steps.some((step) => step.fillsBlank),
    run,
    apply: (value) => {
      const out = run(value);
      return typeof out === 'string' ? { ok: true, value: out } : { ok: false, fn: out.fn, message: out.message };
    },
  };
}
