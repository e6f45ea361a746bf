import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { cliRunner } from '../helpers/cli.js';


interface Cohort {
  cohort_id: string;
  name: string;
  status: string;
  result: { total_records: number; valid_records: number; rejected_records: number } | null;
}

const CONFIG = path.join(ROOT, 'examples/cohort-transformation.json');
// Three good rows and two bad ones: a phone too short for IN, and an empty required name.
const USERS_CSV = [
  'mobile,name,balance,payment_due,preferred_language',
  '9876543210,Asha Verma,"1,500.00",31/07/2024,Hindi',
  '+12015550123,Ben Carter,250,15/08/2024,English',
  '09812345678,Chitra Rao,0,01/09/2024,Tamil',
  '98123,Dev Malhotra,99,01/09/2024,English',
  '9823456789,,1200,01/09/2024,Hindi',
  '',
].join('\n');

describe('roster cohorts and callers against a running server', () => {
  let server: SpawnedServer | undefined;
  let workDir = '';
  let usersFile = '';
  let env: NodeJS.ProcessEnv = {};
  const scope = ['--org', 'demo', '--workspace', 'default', '--deployment', 'demo'];
  let first: Cohort | undefined;
  let second = '';

  const { roster, rosterJson } = cliRunner(() => env);

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'roster-cohort-cli-'));
    usersFile = path.join(workDir, 'users.csv');
    await writeFile(usersFile, USERS_CSV);
    // A first start with an empty database: the demo tenant and its API key, printed once.
    server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    assert.ok(demoKey, `no demo key in:\n${server.stdout()}`);
    env = { ...process.env, ROSTER_URL: server.url, ROSTER_API_KEY: demoKey };
  });

  after(async () => {
    await server?.stop();
    if (server) await rm(server.dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  test('cohorts upload --wait --json prints the completed cohort with counts that match the file', async () => {
    first = await rosterJson<Cohort>('cohorts', 'upload', ...scope, '--name', 'April users', '--file', usersFile, '--config', CONFIG, '--wait');
    assert.equal(first.status, 'completed');
    assert.match(first.cohort_id, /^coh-/);
    assert.deepEqual(first.result, { total_records: 5, valid_records: 3, rejected_records: 2 });
  });

  test('cohorts upload --wait for people prints the counts and a files command that downloads the rejected rows', async () => {
    const result = await roster('cohorts', 'upload', ...scope, '--name', 'April users again', '--file', usersFile, '--config', CONFIG, '--wait');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress bar or noise when stderr is not a terminal');
    assert.match(result.stdout, /^cohort (coh-\S+) \(April users again\) completed in [\d.]+ s$/m);
    assert.match(result.stdout, /^total: +5$/m);
    assert.match(result.stdout, /^valid: +3$/m);
    assert.match(result.stdout, /^rejected: +2$/m);
    second = /^cohort (coh-\S+)/m.exec(result.stdout)?.[1] ?? '';
    const printed = /^ {2}roster (cohorts files .*)$/m.exec(result.stdout)?.[1];
    assert.ok(printed, result.stdout);
    assert.equal(printed, `cohorts files ${scope.join(' ')} ${second} --type rejected_records --out rejected.csv`);
  });

  test('cohorts files --out saves the rejected rows, each with its rejected_reason; without --out they go to stdout', async () => {
    const out = path.join(workDir, 'rejected.csv');
    const [savedRun, streamed] = await Promise.all([
      roster('cohorts', 'files', ...scope, first!.cohort_id, '--type', 'rejected_records', '--out', out, '--json'),
      roster('cohorts', 'files', ...scope, first!.cohort_id, '--type', 'rejected_records'),
    ]);
    assert.equal(savedRun.code, 0, savedRun.stderr);
    const saved = JSON.parse(savedRun.stdout) as { path: string; bytes: number; file_type: string };
    assert.equal(saved.path, out);
    assert.equal(saved.file_type, 'rejected_records');
    const content = await readFile(out, 'utf8');
    assert.equal(saved.bytes, Buffer.byteLength(content));
    const lines = content.replace(/^\uFEFF/, '').trimEnd().split(/\r?\n/);
    assert.equal(lines[0], 'mobile,name,balance,payment_due,preferred_language,rejected_reason');
    assert.equal(lines.length, 1 + 2, content);
    assert.match(lines[1] ?? '', /^98123,Dev Malhotra,99,01\/09\/2024,English,.*too short/);
    assert.match(lines[2] ?? '', /^9823456789,,1200,01\/09\/2024,Hindi,.*'name'.*empty/);
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.equal(streamed.stdout, content);
  });

  test('callers lookup --json answers the variables of the uploaded row, formatted by the config', async () => {
    const caller = await rosterJson<Record<string, unknown>>('callers', 'lookup', ...scope, '+919876543210');
    assert.equal(caller.found, true);
    assert.equal(caller.phone_number, '+919876543210');
    assert.equal(caller.cohort_id, second, 'the latest upload answers');
    assert.deepEqual(caller.app_variables, { customer_name: 'Asha Verma', outstanding_amount: '1500.00', due_date: '2024-07-31' });
    assert.deepEqual(caller.app_overrides, { initial_language_name: 'Hindi' });
  });

  test('callers lookup for people lists the variables, and says not found (exit 0) for an unknown number', async () => {
    const [found, missing] = await Promise.all([roster('callers', 'lookup', ...scope, '09812345678'), roster('callers', 'lookup', ...scope, '+919800000000')]);
    assert.equal(found.code, 0, found.stderr);
    assert.match(found.stdout, /^phone_number: +\+919812345678$/m);
    assert.match(found.stdout, /^app_variables:\n {2}customer_name: +Chitra Rao$/m);
    assert.equal(missing.code, 0, missing.stderr);
    assert.equal(missing.stdout, 'not found: +919800000000 is in no completed cohort of deployment demo\n');
  });

  test('a blocking error exits 1 with the server message and code on stderr, its envelope with --json, and keeps nothing', async () => {
    const config = path.join(workDir, 'wrong-column.json');
    await writeFile(config, JSON.stringify({ phone_number: { column_name: 'phone' }, app_variables: { customer_name: { column_name: 'name' } } }));
    const [refused, json] = await Promise.all([
      roster('cohorts', 'upload', ...scope, '--name', 'Refused', '--file', usersFile, '--config', config, '--wait'),
      roster('cohorts', 'upload', ...scope, '--name', 'Refused', '--file', usersFile, '--config', config, '--json'),
    ]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: Column not found in the CSV header: phone\. The header has: mobile, name, .* \(column_not_found\)$/m);
    assert.equal(json.code, 1);
    const envelope = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(envelope.error.code, 'column_not_found');
    const page = (await (await fetch(`${server!.url}/v1/orgs/demo/workspaces/default/deployments/demo/cohorts`, { headers: { 'x-api-key': String(env.ROSTER_API_KEY) } })).json()) as { total: number };
    assert.equal(page.total, 2, 'the refused uploads left no cohort');
  });

  test('a --file that cannot be read exits 1 before any request', async () => {
    const result = await roster('cohorts', 'upload', ...scope, '--name', 'Nothing', '--file', path.join(workDir, 'missing.csv'), '--config', CONFIG, '--url', 'http://127.0.0.1:9');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: cannot read --file .*missing\.csv: ENOENT/);
  });

  test('cohorts list prints a table with the counts; cohorts get prints key: value lines', async () => {
    const [list, get] = await Promise.all([roster('cohorts', 'list', ...scope, '--sort-order', 'asc'), roster('cohorts', 'get', ...scope, first!.cohort_id)]);
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.split('\n');
    assert.match(header ?? '', /^ID +NAME +STATUS +VALID +REJECTED +TOTAL +CREATED$/);
    assert.match(row ?? '', new RegExp(`^${first!.cohort_id} +April users +completed +3 +2 +5 `));
    assert.match(list.stdout, /^1-2 of 2 cohorts$/m);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^status: +completed$/m);
    assert.match(get.stdout, /^rejected_records: +2$/m);
  });

  test('cohorts delete removes the latest cohort, and lookups fall back to the one before', async () => {
    const deleted = await roster('cohorts', 'delete', ...scope, second);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted cohort ${second}\n`);
    const caller = await rosterJson<{ cohort_id: string }>('callers', 'lookup', ...scope, '+919876543210');
    assert.equal(caller.cohort_id, first!.cohort_id);
  });

  test('--help of cohorts shows an example of each command', async () => {
    const [cohorts, upload] = await Promise.all([roster('cohorts', '--help'), roster('cohorts', 'upload', '--help')]);
    for (const command of ['upload', 'list', 'get', 'files', 'delete']) assert.match(cohorts.stdout, new RegExp(`^ {2}roster cohorts ${command} --org demo `, 'm'));
    assert.match(upload.stdout, /--wait/);
    assert.match(upload.stdout, /\nExample:\n {2}roster cohorts upload --org demo --workspace default --deployment demo /);
  });
});
