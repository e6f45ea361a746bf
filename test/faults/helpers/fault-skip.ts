/** True under CI=true, where a missing fault-injection prerequisite fails the run instead of skipping. */
export const IN_CI = process.env.CI === 'true';

/**
 * The `skip` option for a suite that needs `problem` absent: false when there is no problem or under
 * CI=true (the suite then runs and fails on it), else the reason, also printed so a skip is never silent.
 */
export function skipFor(problem: string | undefined): string | false {
  if (problem === undefined || IN_CI) return false;
  process.stderr.write(`skipping fault-injection suite: ${problem}\n`);
  return problem;
}
