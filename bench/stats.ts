// Repetition and medians: the issue asks for the median of at least 3 runs of anything under 10 s.
export const SHORT_RUN_SECONDS = 10;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The value at quantile q (0–1) of samples sorted ascending, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/**
 * Runs `once` until there are 3 runs, or stops after the first when it took 10 s or more
 * (a long run is its own average). `secondsOf` reads the duration from a run's result.
 */
export async function repeat<T>(once: (run: number) => Promise<T>, secondsOf: (result: T) => number): Promise<T[]> {
  const runs: T[] = [await once(1)];
  if (secondsOf(runs[0] as T) >= SHORT_RUN_SECONDS) return runs;
  while (runs.length < 3) runs.push(await once(runs.length + 1));
  return runs;
}

/** Median of one numeric field over runs. */
export function medianOf<T>(runs: readonly T[], field: (run: T) => number): number {
  return median(runs.map(field));
}
