// Reads and checks the options of one format function, collecting every problem instead of
// stopping at the first, so a config author sees all mistakes in one answer.
import { jsonTypeName } from './json-type.js';

/** Reads typed options from a format spec object and records what is wrong with them. */
export class OptionReader {
  readonly problems: string[] = [];
  private readonly seen = new Set<string>(['fn']);

  constructor(
    private readonly options: Readonly<Record<string, unknown>>,
    private readonly fn: string,
  ) {}

  /** An optional string option; with `required`, its absence is a problem. Null counts as absent. */
  string(name: string, required = false): string | undefined {
    const value = this.take(name);
    if (value === undefined) {
      if (required) this.problem(`option '${name}' is required`);
      return undefined;
    }
    if (typeof value !== 'string') return this.wrongType(name, 'a string');
    return value;
  }

  /** A string option restricted to a fixed set of values. */
  choice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(`option '${name}' must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    return undefined;
  }

  /** An optional boolean option. */
  boolean(name: string): boolean | undefined {
    const value = this.take(name);
    if (value === undefined || typeof value === 'boolean') return value;
    return this.wrongType(name, 'true or false');
  }

  /** An optional whole-number option within [min, max]. */
  integer(name: string, min: number, max: number): number | undefined {
    const value = this.take(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return this.wrongType(name, `a whole number from ${min} to ${max}`);
    }
    return value;
  }

  /** An optional non-empty list of non-empty strings. */
  stringList(name: string): string[] | undefined {
    const value = this.take(name);
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.trim() !== '')) {
      return this.wrongType(name, 'a non-empty list of non-empty strings');
    }
    return value as string[];
  }

  /** A required non-empty object whose values are all strings, as [key, value] pairs. */
  stringMap(name: string): Array<[string, string]> | undefined {
    const value = this.take(name);
    if (value === undefined) {
      this.problem(`option '${name}' is required`);
      return undefined;
    }
    if (typeof value !== 'object' || Array.isArray(value)) return this.wrongType(name, 'an object of strings');
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return this.wrongType(name, 'a non-empty object');
    const pairs: Array<[string, string]> = [];
    for (const [key, mapped] of entries) {
      if (typeof mapped === 'string') pairs.push([key, mapped]);
      else this.problem(`option '${name}' maps '${key}' to a ${jsonTypeName(mapped)}; it must map to a string`);
    }
    return pairs;
  }

  /** Records a problem that the function itself detected. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Records every option the function never read, then returns all problems. */
  finish(knownOptions: readonly string[]): string[] {
    for (const key of Object.keys(this.options)) {
      if (this.seen.has(key)) continue;
      const known = knownOptions.length > 0 ? `options: ${knownOptions.join(', ')}` : 'it takes no options';
      this.problem(`unknown option '${key}' for ${this.fn} (${known})`);
    }
    return this.problems;
  }

  private take(name: string): unknown {
    this.seen.add(name);
    const value = Object.hasOwn(this.options, name) ? this.options[name] : undefined;
    return value === null ? undefined : value;
  }

  private wrongType(name: string, expected: string): undefined {
    this.problem(`option '${name}' must be ${expected}`);
    return undefined;
  }
}
