import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Papa from 'papaparse';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { servedAcme } from '../helpers/test-app.js';

// A file not sorted by phone (most exports are ordered by customer or date). On SQLite the loader
// writes the rows straight into `contacts` while they come in phone order, and stages the rest to
// move it in phone order at the end (sqlite-staging.ts), 1000 phones a transaction: this file
// takes both paths and several moves, with repeats of a row written straight, of a staged row and
// of a repeat, and refused rows among the staged ones. The answers must be the same as ever.

const cohortsPath = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
const HEADER = ['mobile', 'name', 'balance', 'payment_due', 'preferred_language'];
const ROWS = 110_000;

/** A shuffled file with known repeats and refusals: its rows, and what each rejected row should say. */
function shuffledFile(): {
  rows: string[][];
  rejected: Array<[string, string]>;
  firstRowOf: Map<string, number>;
  repeatedFirst: Map<string, number>;
} {
  let state = 20241205;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4_294_967_296;
  };
  const order = Array.from({ length: ROWS }, (_, k) => k);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const rows: string[][] = [];
  const rejected: Array<[string, string]> = [];
  const firstRowOf = new Map<string, number>();
  const phoneOfRow = new Map<number, string>();
  const repeatedFirst = new Map<string, number>();
  for (let i = 0; i < ROWS; i++) {
    const row = i + 2; // the header is row 1
    const name = `Person ${row}`;
    let national = String(9_830_000_000 + order[i]!);
    if (row % 997 === 0) {
      rows.push(['N/A', name, String(row), '2024-07-31', 'Hindi']);
      rejected.push([name, "column 'mobile'"]);
      continue;
    }
    // Repeats: of a row in the first unit (written straight), of a staged row 500 rows back (which
    // may itself be a repeat, or refused: then no repeat), in several forms of the same number.
    const earlier = row === 70_000 ? 10 : row % 1009 === 0 ? row - 500 : undefined;
    const repeated = earlier === undefined ? undefined : phoneOfRow.get(earlier);
    if (repeated !== undefined) national = repeated;
    phoneOfRow.set(row, national);
    const e164 = `+91${national}`;
    const first = firstRowOf.get(e164);
    if (first !== undefined) {
      rejected.push([name, `phone ${e164} repeats row ${first}; the first row is kept`]);
      repeatedFirst.set(e164, first);
    } else firstRowOf.set(e164, row);
    rows.push([row % 2 === 0 ? national : `+91 ${national}`, name, String(row), '2024-07-31', 'Hindi']);
  }
  return { rows, rejected, firstRowOf, repeatedFirst };
}

for (const backend of await backends()) {
  describe(`a file not sorted by phone on ${backend.name}`, { skip: backend.skip }, () => {
    const served = servedAcme(backend);

    it('keeps the first row of each phone and lists every rejection in row order', async () => {
      const { t, acme, base } = served;
      const { rows, rejected, firstRowOf, repeatedFirst } = shuffledFile();
      const csv = Papa.unparse([HEADER, ...rows], { newline: '\n' });
      const response = await uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, {
        name: 'Shuffled',
        csv,
        config: SEED_CONFIG,
      });
      const accepted = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(accepted));
      const cohort = await waitForCohort(t, `${cohortsPath}/${accepted.cohort_id}`, acme.apiKey, 120_000);
      assert.equal(cohort.status, 'completed', JSON.stringify(cohort));
      assert.ok(repeatedFirst.size > 100, `the file repeats ${repeatedFirst.size} phones`);
      assert.equal(cohort.result?.total_records, ROWS);
      assert.equal(cohort.result?.valid_records, firstRowOf.size);
      assert.equal(cohort.result?.rejected_records, rejected.length);

      const file = await t.call('GET', `${cohortsPath}/${cohort.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.equal(file.statusCode, 200, file.body.slice(0, 200));
      const [, ...lines] = Papa.parse<string[]>(file.body.replace(/^\ufeff/, ''), { skipEmptyLines: true }).data;
      assert.equal(lines.length, rejected.length);
      lines.forEach((line, i) => {
        const [name, reason] = rejected[i]!;
        assert.equal(line[1], name, `rejection ${i + 1} in row order`);
        if (reason.startsWith('phone ')) assert.equal(line[5], reason);
        else assert.ok(line[5]?.startsWith(reason), line[5]);
      });

      // A repeated phone answers with the row that came first; so does every phone, sampled.
      const sample = [...[...firstRowOf].filter((_, i) => i % 5000 === 0), ...[...repeatedFirst].slice(0, 20)];
      assert.ok([...repeatedFirst.values()].includes(10), 'a repeat of a row of the first unit');
      for (const [e164, first] of sample) {
        const found = await t.call(
          'GET',
          `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent(e164)}`,
          { key: acme.apiKey },
        );
        const body = found.json() as { found: boolean; app_variables: Record<string, string> };
        assert.equal(body.found, true, e164);
        assert.equal(body.app_variables.customer_name, `Person ${first}`, e164);
      }
    });
  });
}
