// PostgreSQL for the benchmark: one server (ROSTER_BENCH_DATABASE_URL), a scratch database per use,
// with the test suite's helpers pointed at it.
import * as testPostgres from '../test/helpers/test-postgres.js';

export const BENCH_PG_URL = process.env.ROSTER_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why PostgreSQL cannot be used, or undefined when it answers. */
export async function postgresProblem(): Promise<string | undefined> {
  const problem = await testPostgres.postgresProblem(BENCH_PG_URL);
  return problem === undefined
    ? undefined
    : `PostgreSQL at ${BENCH_PG_URL} is unreachable (${problem}); set ROSTER_BENCH_DATABASE_URL or start it`;
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the bench server; drop() removes it even with connections left. */
export function createScratchDatabase(): Promise<ScratchDatabase> {
  return testPostgres.createScratchDatabase('roster_bench', BENCH_PG_URL);
}
