import assert from 'node:assert/strict';

/** The JSON type of a value as a vendor's page shows it: arrays, null and integers told apart from objects and numbers. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Every place where `actual` differs in shape from `documented`: the same keys at every level and
 * the same JSON type for every value. Each element of an actual array is held to the documented
 * array's first element (an empty documented array says nothing about its elements). Values are
 * not compared: ids, counts and dates differ from the vendor's example by nature.
 */
export function shapeDifferences(actual: unknown, documented: unknown, path = '$'): string[] {
  const want = jsonType(documented);
  const got = jsonType(actual);
  if (want !== got) return [`${path}: documented ${want}, got ${got}`];
  if (want === 'array') {
    const [example] = documented as unknown[];
    if (example === undefined) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeDifferences(item, example, `${path}[${i}]`));
  }
  if (want !== 'object') return [];
  const a = actual as Record<string, unknown>;
  const d = documented as Record<string, unknown>;
  const missing = Object.keys(d)
    .filter((key) => !(key in a))
    .map((key) => `${path}.${key}: documented, missing`);
  const extra = Object.keys(a)
    .filter((key) => !(key in d))
    .map((key) => `${path}.${key}: not documented`);
  const nested = Object.keys(d)
    .filter((key) => key in a)
    .flatMap((key) => shapeDifferences(a[key], d[key], `${path}.${key}`));
  return [...missing, ...extra, ...nested];
}

/**
 * Asserts `actual` has the documented example's shape (keys and JSON types at every level), naming
 * every difference. `additions` names, by exact path (`$.result.rejections_by_reason`), the keys
 * Roster adds beyond the vendor on purpose: only those may be there undocumented; every documented
 * key must still be present with its type.
 */
export function assertSameShape(
  actual: unknown,
  documented: unknown,
  what: string,
  options: { additions?: readonly string[] } = {},
): void {
  const allowed = new Set((options.additions ?? []).map((path) => `${path}: not documented`));
  const differences = shapeDifferences(actual, documented).filter((difference) => !allowed.has(difference));
  assert.deepEqual(differences, [], `${what} differs from the documented example:\n${differences.join('\n')}`);
}
