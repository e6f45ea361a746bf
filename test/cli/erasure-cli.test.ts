import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliRunner } from '../helpers/cli.js';
import { ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const USERS = path.join(ROOT, 'examples/cohort-users.csv');
const CONFIG = path.join(ROOT, 'examples/cohort-transformation.json');
const SCOPE = ['--org', 'demo', '--workspace', 'default', '--deployment', 'demo'];
const WORKSPACE = ['--org', 'demo', '--workspace', 'default'];

interface Erasure {
  erasure_id: string;
  status: string;
  phone_numbers: number;
  removed: Record<string, number>;
  files_rewritten: number;
  cohorts_pending: number;
  error: { message: string } | null;
}

interface Deployment {
  deployment_id: string;
  cohort_retention_days: number | null;
  cohort_retention_strict: boolean;
  cohort_retention_next_run_at: string | null;
}

/** Polls `until` a check answers something, for what a job finishes after a command returned. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// The commands speak HTTP, whatever the server stores in: they run against the embedded server
// (test/http/erasure.test.ts and cohort-retention.test.ts cover both backends behind the routes).
describe('roster erasure, deployments retention and callers put/delete against a running server', () => {
  let server: SpawnedServer | undefined;
  let env: NodeJS.ProcessEnv = {};
  let masterKey = '';
  let cohortId = '';
  let erasureId = '';

  const { roster, rosterJson } = cliRunner(() => env);
  const lookup = (phone: string) => rosterJson<{ found: boolean }>('callers', 'lookup', ...SCOPE, phone);
  const asMaster = (...args: string[]) => roster(...args, '--api-key', masterKey);

  before(async () => {
    // A first start with an empty database: the demo tenant and its API key, printed once.
    server = await spawnServer({
      ROSTER_DATABASE_URL: '',
      ROSTER_S3_ENDPOINT: '',
      // The file rewrite is a job: pick it up without the default half-second wait.
      ROSTER_JOB_POLL_MS: '50',
    });
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    assert.ok(demoKey, `no demo key in:\n${server.stdout()}`);
    masterKey = /\b(rmk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1] ?? '';
    env = { ...process.env, ROSTER_URL: server.url, ROSTER_API_KEY: demoKey };
    for (const name of ['ROSTER_ORG', 'ROSTER_WORKSPACE', 'ROSTER_DEPLOYMENT']) delete env[name];
    const cohort = await rosterJson<{ cohort_id: string; status: string }>(
      'cohorts',
      'upload',
      ...SCOPE,
      '--name',
      'April users',
      '--file',
      USERS,
      '--config',
      CONFIG,
      '--wait',
    );
    assert.equal(cohort.status, 'completed');
    cohortId = cohort.cohort_id;
  });

  after(async () => {
    await server?.stop();
    if (server) await rm(server.dataDir, { recursive: true, force: true });
  });

  test('erasure request --wait erases the numbers a cohort holds: exit 0, the counts, and lookups answer found: false', async () => {
    assert.equal((await lookup('+919876543210')).found, true);
    assert.equal((await lookup('09812345678')).found, true);
    // 9876543210 is in the file twice (the second row rejected as a repeat), 09812345678 once.
    const result = await roster('erasure', 'request', '+919876543210', '09812345678', '--country', 'IN', '--wait');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    erasureId = /^erasure_id: +(er_\w+)$/m.exec(result.stdout)?.[1] ?? '';
    assert.ok(erasureId, result.stdout);
    assert.match(result.stdout, /^status: +completed$/m);
    assert.match(result.stdout, /^phone_numbers: +2$/m);
    assert.match(result.stdout, /^files_rewritten: +2$/m);
    assert.match(result.stdout, /^cohorts_pending: +0$/m);
    assert.match(result.stdout, /^error: +-$/m);
    assert.match(
      result.stdout,
      /^removed:\n {2}contacts: +2\n {2}calls: +0\n {2}call_logs: +0\n {2}webhook_deliveries: +0\n {2}cohort_file_rows: +3\n {2}rejected_file_rows: +1\n$/m,
    );

    assert.equal((await lookup('+919876543210')).found, false);
    assert.equal((await lookup('09812345678')).found, false);
    assert.equal((await lookup('+12015550123')).found, true, 'a number not named is kept');
    const [stored, rejected] = await Promise.all([
      roster('cohorts', 'files', ...SCOPE, cohortId, '--type', 'cohort'),
      roster('cohorts', 'files', ...SCOPE, cohortId, '--type', 'rejected_records'),
    ]);
    assert.equal(stored.code, 0, stored.stderr);
    assert.equal(rejected.code, 0, rejected.stderr);
    for (const file of [stored.stdout, rejected.stdout]) {
      assert.equal(file.includes('9876543210'), false, file);
      assert.equal(file.includes('9812345678'), false, file);
    }
    assert.match(stored.stdout, /Ben Carter/);
  });

  test('erasure get prints the request as --wait left it; --json answers the same erasure', async () => {
    const [shown, json] = await Promise.all([
      roster('erasure', 'get', erasureId),
      rosterJson<Erasure>('erasure', 'get', erasureId),
    ]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`^erasure_id: +${erasureId}$`, 'm'));
    assert.match(shown.stdout, /^status: +completed$/m);
    assert.equal(json.erasure_id, erasureId);
    assert.equal(json.status, 'completed');
    assert.equal(json.phone_numbers, 2);
    assert.deepEqual(json.removed, {
      contacts: 2,
      calls: 0,
      call_logs: 0,
      webhook_deliveries: 0,
      cohort_file_rows: 3,
      rejected_file_rows: 1,
    });
    assert.equal(json.error, null);
  });

  test('erasure request without --wait prints the processing request and the get command that follows it', async () => {
    const result = await roster('erasure', 'request', '+919845678901');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^status: +processing$/m);
    assert.match(result.stdout, /^cohorts_pending: +1$/m);
    const id = /^erasure_id: +(er_\w+)$/m.exec(result.stdout)?.[1] ?? '';
    const follow = /^ {2}roster (erasure get .*)$/m.exec(result.stdout)?.[1];
    assert.equal(follow, `erasure get --org demo --workspace default ${id}`);
    const done = await until('the erasure to complete', async () => {
      const shown = await roster(...(follow ?? '').split(' '));
      assert.equal(shown.code, 0, shown.stderr);
      return /^status: +completed$/m.test(shown.stdout) ? shown.stdout : undefined;
    });
    // The number was only in a rejected row (an impossible date): its row goes from the stored file and the rejections.
    assert.match(done, /^ {2}contacts: +0$/m);
    assert.match(done, /^ {2}cohort_file_rows: +1\n {2}rejected_file_rows: +1$/m);
  });

  test('erasure list shows the requests newest first, a page at a time', async () => {
    const [all, first, json] = await Promise.all([
      roster('erasure', 'list'),
      roster('erasure', 'list', '--limit', '1', '--offset', '1'),
      rosterJson<{ items: Erasure[]; total: number }>('erasure', 'list', ...WORKSPACE),
    ]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.split('\n');
    assert.match(lines[0] ?? '', /^ID +STATUS +NUMBERS +CONTACTS +CALLS +FILE ROWS +FILES +CREATED +COMPLETED$/);
    assert.match(lines[1] ?? '', /^er_\w+ +completed +1 +0 +0 +2 +2 /);
    assert.match(lines[2] ?? '', new RegExp(`^${erasureId} +completed +2 +2 +0 +4 +2 `));
    assert.match(all.stdout, /^1-2 of 2 erasure requests$/m);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`^${erasureId} `, 'm'));
    assert.match(first.stdout, /^2-2 of 2 erasure requests$/m);
    assert.equal(json.total, 2);
    assert.equal(json.items[1]?.erasure_id, erasureId);
  });

  test('an unreadable number exits 1 with invalid_phone_number naming each bad one, and erases nothing', async () => {
    const args = ['erasure', 'request', '+12015550123', 'abc', '12'];
    const [refused, json] = await Promise.all([roster(...args), roster(...args, '--json')]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^error: 2 of the phone numbers cannot be read .*Nothing was erased\. \(invalid_phone_number\)$/m,
    );
    assert.match(refused.stderr, /^ {2}abc: .*not a phone number$/m);
    assert.match(refused.stderr, /^ {2}12: /m);
    assert.equal(json.code, 1);
    const envelope = JSON.parse(json.stdout) as {
      error: { code: string; data: { details: { invalid: Array<{ index: number; phone_number: string }> } } };
    };
    assert.equal(envelope.error.code, 'invalid_phone_number');
    assert.deepEqual(
      envelope.error.data.details.invalid.map((entry) => [entry.index, entry.phone_number]),
      [
        [1, 'abc'],
        [2, '12'],
      ],
    );
    assert.equal((await lookup('+12015550123')).found, true);
    assert.equal((await rosterJson<{ total: number }>('erasure', 'list')).total, 2);
  });

  test('erasure get of an id the workspace does not have exits 1 (not_found)', async () => {
    const result = await roster('erasure', 'get', 'er_00000000000000000000000000000000');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: .*\(not_found\)$/m);
  });

  test('callers put sets a caller that lookups answer at once, with its variables and overrides', async () => {
    const result = await roster(
      'callers',
      'put',
      ...SCOPE,
      '+919876543210',
      '--var',
      'customer_name=Asha Verma',
      '--var',
      'outstanding_amount=1500',
      '--override',
      'initial_language_name=Hindi',
      '--user-identifier',
      'CUST-001',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^phone_number: +\+919876543210$/m);
    assert.match(result.stdout, /^cohort_name: +Single caller$/m);
    assert.match(result.stdout, /^user_identifier: +CUST-001$/m);
    assert.match(result.stdout, /^app_variables:\n {2}customer_name: +Asha Verma\n {2}outstanding_amount: +1500$/m);
    assert.match(result.stdout, /^app_overrides:\n {2}initial_language_name: +Hindi$/m);
    const caller = await rosterJson<{ found: boolean; cohort_name: string; app_variables: Record<string, string> }>(
      'callers',
      'lookup',
      ...SCOPE,
      '9876543210',
    );
    assert.equal(caller.found, true);
    assert.equal(caller.cohort_name, 'Single caller');
    assert.deepEqual(caller.app_variables, { customer_name: 'Asha Verma', outstanding_amount: '1500' });
  });

  test('callers put refuses what a file row would be refused for: exit 1 with the code', async () => {
    const [unknown, missing, badPair] = await Promise.all([
      roster('callers', 'put', ...SCOPE, '+919876543210', '--var', 'customer_name=A', '--var', 'nickname=B'),
      roster('callers', 'put', ...SCOPE, '+919876543210', '--var', 'outstanding_amount=1'),
      roster('callers', 'put', ...SCOPE, '+919876543210', '--var', 'customer_name'),
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: .*nickname.*\(unknown_app_variable\)$/m);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .*customer_name \(required_variable_not_mapped\)$/m);
    assert.equal(badPair.code, 1);
    assert.match(badPair.stderr, /expected name=value/);
    assert.equal(((await lookup('+919876543210')) as { cohort_name?: string }).cohort_name, 'Single caller');
  });

  test('callers delete removes the number from every cohort; a second delete says not found, exit 0', async () => {
    const deleted = await roster('callers', 'delete', ...SCOPE, '09876543210');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stdout, /^deleted \+919876543210 from cohort coh-\S+\n$/);
    assert.equal((await lookup('+919876543210')).found, false);
    const again = await rosterJson<{ phone_number: string; deleted: boolean; cohort_ids: string[] }>(
      'callers',
      'delete',
      ...SCOPE,
      '+919876543210',
    );
    assert.deepEqual(again, { phone_number: '+919876543210', deleted: false, cohort_ids: [] });
    const [text, invalid] = await Promise.all([
      roster('callers', 'delete', ...SCOPE, '+919876543210'),
      roster('callers', 'delete', ...SCOPE, 'abc'),
    ]);
    assert.equal(text.stdout, 'not found: +919876543210 is in no cohort of deployment demo\n');
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /\(invalid_phone_number\)$/m);
  });

  test('deployments retention shows the policy; the master key sets it with --days and --strict, and --off removes it', async () => {
    const shown = await roster('deployments', 'retention', 'demo');
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(
      shown.stdout,
      'deployment: demo\n' +
        'retention:  off (cohorts are kept)\n' +
        'strict:     no (an old cohort that is still the newest holder of a number is kept)\n' +
        'last run:   -\n' +
        'next run:   -\n',
    );

    const set = await asMaster('deployments', 'retention', ...WORKSPACE, 'demo', '--days', '30', '--strict');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^retention: +30 days$/m);
    assert.match(set.stdout, /^strict: +yes /m);
    assert.match(set.stdout, /^next run: +\d{4}-\d\d-\d\dT/m);
    const read = await rosterJson<Deployment>('deployments', 'retention', 'demo');
    assert.equal(read.cohort_retention_days, 30);
    assert.equal(read.cohort_retention_strict, true);

    const strictOff = await asMaster('deployments', 'retention', ...WORKSPACE, 'demo', '--no-strict', '--json');
    assert.equal(strictOff.code, 0, strictOff.stderr);
    const relaxed = JSON.parse(strictOff.stdout) as Deployment;
    assert.equal(relaxed.cohort_retention_days, 30, '--no-strict alone keeps the days');
    assert.equal(relaxed.cohort_retention_strict, false);

    const off = await asMaster('deployments', 'retention', ...WORKSPACE, 'demo', '--off');
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /^retention: +off \(cohorts are kept\)$/m);
    assert.match(off.stdout, /^next run: +-$/m);
    // 30 days kept everything uploaded today.
    assert.equal((await lookup('+12015550123')).found, true);
  });

  test('deployments retention refuses what it cannot set: an org key (admin_key_required), --days with --off, days out of range', async () => {
    const [orgKey, both, tooLong, missing] = await Promise.all([
      roster('deployments', 'retention', 'demo', '--days', '30'),
      roster('deployments', 'retention', 'demo', '--days', '30', '--off'),
      roster('deployments', 'retention', 'demo', '--days', '3651', '--url', 'http://127.0.0.1:9'),
      roster('deployments', 'retention', 'nope'),
    ]);
    assert.equal(orgKey.code, 1);
    assert.match(orgKey.stderr, /^error: .*\(admin_key_required\)$/m);
    assert.equal(both.code, 1);
    assert.match(both.stderr, /cannot be used with option '--off'/);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /expected a whole number of days from 1 to 3650/);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: Deployment 'nope' not found\. \(not_found\)$/m);
    assert.equal((await rosterJson<Deployment>('deployments', 'retention', 'demo')).cohort_retention_days, null);
  });
});
