import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { cliRunner, npxProject, shellQuote } from '../helpers/cli.js';

interface Cohort {
  cohort_id: string;
  name: string;
  status: string;
  result: {
    total_records: number;
    valid_records: number;
    rejected_records: number;
    rejections_by_reason: Array<{ code: string; count: number; example_row: number }> | null;
  } | null;
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
  let manyUsersFile = '';
  let env: NodeJS.ProcessEnv = {};
  let masterKey = '';
  const scope = ['--org', 'demo', '--workspace', 'default', '--deployment', 'demo'];
  let first: Cohort | undefined;
  let second = '';

  const { roster, rosterJson, rosterOnTerminal } = cliRunner(() => env);

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'roster-cohort-cli-'));
    usersFile = path.join(workDir, 'users.csv');
    await writeFile(usersFile, USERS_CSV);
    // The same rows and 1,200 more good ones, so the counts need thousands separators.
    manyUsersFile = path.join(workDir, 'many-users.csv');
    const more = Array.from({ length: 1200 }, (_, i) => `${9700000000 + i},Person ${i},${i},31/07/2024,Hindi\n`);
    await writeFile(manyUsersFile, USERS_CSV + more.join(''));
    // A first start with an empty database: the demo tenant and its API key, printed once.
    server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    assert.ok(demoKey, `no demo key in:\n${server.stdout()}`);
    masterKey = /\b(rmk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1] ?? '';
    env = { ...process.env, ROSTER_URL: server.url, ROSTER_API_KEY: demoKey };
  });

  after(async () => {
    await server?.stop();
    if (server) await rm(server.dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  test('cohorts upload --wait --json prints the completed cohort with counts that match the file', async () => {
    first = await rosterJson<Cohort>(
      'cohorts',
      'upload',
      ...scope,
      '--name',
      'April users',
      '--file',
      usersFile,
      '--config',
      CONFIG,
      '--wait',
    );
    assert.equal(first.status, 'completed');
    assert.match(first.cohort_id, /^coh-/);
    assert.deepEqual(first.result, {
      total_records: 5,
      valid_records: 3,
      rejected_records: 2,
      rejections_by_reason: [
        { code: 'invalid_phone', count: 1, example_row: 5 },
        { code: 'missing_required_value', count: 1, example_row: 6 },
      ],
    });
  });

  test('cohorts upload --wait for people prints the counts with thousands separators and a files command that downloads the rejected rows', async () => {
    const result = await roster(
      'cohorts',
      'upload',
      ...scope,
      '--name',
      'April users again',
      '--file',
      manyUsersFile,
      '--config',
      CONFIG,
      '--wait',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress bar or noise when stderr is not a terminal');
    assert.match(result.stdout, /^cohort (coh-\S+) \(April users again\) completed in [\d.]+ s$/m);
    assert.match(result.stdout, /^total: +1,205$/m);
    assert.match(result.stdout, /^valid: +1,203$/m);
    assert.match(result.stdout, /^rejected: +2$/m);
    assert.match(
      result.stdout,
      /^Rejected rows by reason:\n {2}CODE +ROWS +FIRST ROW\n {2}invalid_phone +1 +5\n {2}missing_required_value +1 +6\n$/m,
    );
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
    const lines = content
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split(/\r?\n/);
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
    assert.deepEqual(caller.app_variables, {
      customer_name: 'Asha Verma',
      outstanding_amount: '1500.00',
      due_date: '2024-07-31',
    });
    assert.deepEqual(caller.app_overrides, { initial_language_name: 'Hindi' });
  });

  test('callers lookup for people lists the variables, and says not found (exit 0) for an unknown number', async () => {
    const [found, missing] = await Promise.all([
      roster('callers', 'lookup', ...scope, '09812345678'),
      roster('callers', 'lookup', ...scope, '+919800000000'),
    ]);
    assert.equal(found.code, 0, found.stderr);
    assert.match(found.stdout, /^phone_number: +\+919812345678$/m);
    assert.match(found.stdout, /^app_variables:\n {2}customer_name: +Chitra Rao$/m);
    assert.equal(missing.code, 0, missing.stderr);
    assert.equal(missing.stdout, 'not found: +919800000000 is in no completed cohort of deployment demo\n');
  });

  test('a blocking error exits 1 with the server message and code on stderr, its envelope with --json, and keeps nothing', async () => {
    const config = path.join(workDir, 'wrong-column.json');
    await writeFile(
      config,
      JSON.stringify({
        phone_number: { column_name: 'phone' },
        app_variables: { customer_name: { column_name: 'name' } },
      }),
    );
    const [refused, json] = await Promise.all([
      roster('cohorts', 'upload', ...scope, '--name', 'Refused', '--file', usersFile, '--config', config, '--wait'),
      roster('cohorts', 'upload', ...scope, '--name', 'Refused', '--file', usersFile, '--config', config, '--json'),
    ]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(
      refused.stderr,
      /^error: Column not found in the CSV header: phone\. The header has: mobile, name, .* \(column_not_found\)$/m,
    );
    assert.equal(json.code, 1);
    const envelope = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    assert.equal(envelope.error.code, 'column_not_found');
    const page = (await (
      await fetch(`${server!.url}/v1/orgs/demo/workspaces/default/deployments/demo/cohorts`, {
        headers: { 'x-api-key': String(env.ROSTER_API_KEY) },
      })
    ).json()) as { total: number };
    assert.equal(page.total, 2, 'the refused uploads left no cohort');
  });

  test('a --file that cannot be read exits 1 before any request', async () => {
    const result = await roster(
      'cohorts',
      'upload',
      ...scope,
      '--name',
      'Nothing',
      '--file',
      path.join(workDir, 'missing.csv'),
      '--config',
      CONFIG,
      '--url',
      'http://127.0.0.1:9',
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: cannot read --file .*missing\.csv: ENOENT/);
  });

  test('cohorts list prints a table with the counts; cohorts get prints key: value lines', async () => {
    const [list, get] = await Promise.all([
      roster('cohorts', 'list', ...scope, '--sort-order', 'asc'),
      roster('cohorts', 'get', ...scope, first!.cohort_id),
    ]);
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.split('\n');
    assert.match(header ?? '', /^ID +NAME +STATUS +VALID +REJECTED +TOTAL +CREATED$/);
    assert.match(row ?? '', new RegExp(`^${first!.cohort_id} +April users +completed +3 +2 +5 `));
    assert.match(list.stdout, /^1-2 of 2 cohorts$/m);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^status: +completed$/m);
    assert.match(get.stdout, /^rejected_records: +2$/m);
  });

  test('cohort and caller commands take --org and --workspace from the API key (GET /v1/me) when left out', async () => {
    const caller = await rosterJson<{ cohort_id: string }>(
      'callers',
      'lookup',
      '--deployment',
      'demo',
      '+919876543210',
    );
    assert.equal(caller.cohort_id, second);
    const got = await rosterJson<{ cohort_id: string }>('cohorts', 'get', '--deployment', 'demo', first!.cohort_id);
    assert.equal(got.cohort_id, first!.cohort_id);
    const forPeople = await roster('callers', 'lookup', '--deployment', 'demo', '+919876543210');
    assert.equal(forPeople.code, 0, forPeople.stderr);
    const previous = env;
    env = { ...env, ROSTER_API_KEY: masterKey };
    try {
      const refused = await roster('cohorts', 'list', '--deployment', 'demo');
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^error: the master key belongs to no org: pass --org and --workspace \(or set ROSTER_ORG and ROSTER_WORKSPACE\)\.$/m,
      );
    } finally {
      env = previous;
    }
  });

  test('ROSTER_ORG, ROSTER_WORKSPACE and ROSTER_DEPLOYMENT stand in for the flags, before the key; flags win', async () => {
    const previous = env;
    const run = (vars: NodeJS.ProcessEnv, ...args: string[]) => {
      env = { ...previous, ...vars };
      return roster(...args);
    };
    try {
      const scopeVars = { ROSTER_ORG: 'demo', ROSTER_WORKSPACE: 'default', ROSTER_DEPLOYMENT: 'demo' };
      // The master key belongs to no org: only the variables can name the scope.
      const listed = await run({ ...scopeVars, ROSTER_API_KEY: masterKey }, 'cohorts', 'get', first!.cohort_id);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`^cohort_id: +${first!.cohort_id}$`, 'm'));
      const workspaces = await run({ ...scopeVars, ROSTER_API_KEY: masterKey }, 'workspaces', 'list');
      assert.equal(workspaces.code, 0, workspaces.stderr);
      assert.match(workspaces.stdout, /^default +/m);
      // A flag wins over its variable.
      const flagged = await run(
        { ROSTER_ORG: 'demo', ROSTER_WORKSPACE: 'nowhere', ROSTER_DEPLOYMENT: 'nothing' },
        'callers',
        'lookup',
        '--workspace',
        'default',
        '--deployment',
        'demo',
        '+919876543210',
      );
      assert.equal(flagged.code, 0, flagged.stderr);
      assert.match(flagged.stdout, /^phone_number: +\+919876543210$/m);
      // A variable comes before the key's own workspace (GET /v1/me): this one is out of the key's reach.
      const variable = await run({ ROSTER_WORKSPACE: 'nowhere', ROSTER_DEPLOYMENT: 'demo' }, 'cohorts', 'list');
      assert.equal(variable.code, 1);
      assert.match(variable.stderr, /\(not_found\)$/m);
      // Set to nothing, a variable is unset: the key's org and workspace apply.
      const empty = await run({ ROSTER_ORG: '', ROSTER_WORKSPACE: '', ROSTER_DEPLOYMENT: 'demo' }, 'cohorts', 'list');
      assert.equal(empty.code, 0, empty.stderr);
      assert.match(empty.stdout, /^ID +NAME +STATUS/);
      const help = await run({}, 'cohorts', 'list', '--help');
      const words = help.stdout.replace(/\s+/g, ' ');
      for (const name of Object.keys(scopeVars)) assert.match(words, new RegExp(`\\(env: ${name}\\)`));
    } finally {
      env = previous;
    }
  });

  test('cohorts delete removes the latest cohort, and lookups fall back to the one before', async () => {
    const deleted = await roster('cohorts', 'delete', ...scope, second);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted cohort ${second}\n`);
    const caller = await rosterJson<{ cohort_id: string }>('callers', 'lookup', ...scope, '+919876543210');
    assert.equal(caller.cohort_id, first!.cohort_id);
  });

  test('run through npx, cohorts upload prints its follow-up as `npx roster …`, which works as printed', async () => {
    const project = npxProject(() => env);
    const upload = await project.sh(
      [
        'npx roster cohorts upload',
        ...[...scope, '--name', 'Through npx', '--file', usersFile, '--config', CONFIG, '--wait'].map(shellQuote),
      ].join(' '),
    );
    assert.equal(upload.code, 0, upload.stderr);
    const printed = /^ {2}(npx roster cohorts files .*)$/m.exec(upload.stdout)?.[1];
    assert.ok(printed, upload.stdout);
    const files = await project.sh(printed);
    assert.equal(files.code, 0, files.stderr);
    assert.match(files.stdout, /^saved rejected_records of coh-\S+ to rejected\.csv /);
    const rejected = await readFile(path.join(project.dir, 'rejected.csv'), 'utf8');
    assert.equal(rejected.trimEnd().split(/\r?\n/).length, 1 + 2, rejected);
    const background = await project.sh(
      [
        'npx roster cohorts upload',
        ...[...scope, '--name', 'Through npx again', '--file', usersFile, '--config', CONFIG].map(shellQuote),
      ].join(' '),
    );
    assert.equal(background.code, 0, background.stderr);
    const follow = /^ {2}(npx roster cohorts get .*)$/m.exec(background.stdout)?.[1];
    assert.ok(follow, background.stdout);
    const got = await project.sh(follow);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /^name: +Through npx again$/m);
  });

  test('upload --wait of a file whose every row is rejected prints the counts and reasons, then exits 3', async () => {
    const allBad = path.join(workDir, 'all-bad.csv');
    await writeFile(
      allBad,
      [
        'mobile,name,balance,payment_due,preferred_language',
        '98123,A,1,01/09/2024,Hindi',
        '9823456789,,1,01/09/2024,Hindi',
        '12,B,1,01/09/2024,Hindi',
        '',
      ].join('\n'),
    );
    const args = ['cohorts', 'upload', ...scope, '--name', 'All bad', '--file', allBad, '--config', CONFIG, '--wait'];
    const [people, json] = await Promise.all([roster(...args), roster(...args, '--json')]);
    assert.equal(people.code, 3, people.stderr);
    assert.match(people.stdout, /^cohort (coh-\S+) \(All bad\) completed in [\d.]+ s$/m);
    assert.match(people.stdout, /^valid: +0$/m);
    assert.match(people.stdout, /^ {2}invalid_phone +2 +2\n {2}missing_required_value +1 +3$/m);
    assert.match(people.stderr, /^error: no row of cohort coh-\S+ was imported: all 3 rows were rejected$/m);
    assert.equal(json.code, 3, json.stderr);
    const cohort = JSON.parse(json.stdout) as Cohort;
    assert.equal(cohort.status, 'completed');
    assert.deepEqual(cohort.result, {
      total_records: 3,
      valid_records: 0,
      rejected_records: 3,
      rejections_by_reason: [
        { code: 'invalid_phone', count: 2, example_row: 2 },
        { code: 'missing_required_value', count: 1, example_row: 3 },
      ],
    });
    assert.match(json.stderr, /^error: no row of cohort .* was imported: all 3 rows were rejected$/m);
  });

  test('--fail-on-rejected waits by itself and exits 3 on any rejected row, 0 when none was', async () => {
    const clean = path.join(workDir, 'clean.csv');
    await writeFile(clean, USERS_CSV.split('\n').slice(0, 3).join('\n'));
    const [mixed, good] = await Promise.all([
      roster(
        'cohorts',
        'upload',
        ...scope,
        '--name',
        'Strict',
        '--file',
        usersFile,
        '--config',
        CONFIG,
        '--fail-on-rejected',
      ),
      roster(
        'cohorts',
        'upload',
        ...scope,
        '--name',
        'Strict clean',
        '--file',
        clean,
        '--config',
        CONFIG,
        '--fail-on-rejected',
      ),
    ]);
    assert.equal(mixed.code, 3, mixed.stderr);
    assert.match(mixed.stdout, /^valid: +3$/m);
    assert.match(mixed.stdout, /^Rejected rows by reason:$/m);
    assert.match(mixed.stderr, /^error: 2 of 5 rows of cohort coh-\S+ were rejected \(--fail-on-rejected\)$/m);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^rejected: +0$/m);
    assert.doesNotMatch(good.stdout, /Rejected rows by reason/);
    assert.equal(good.stderr, '');
  });

  test('cohorts validate prints the counts, reasons and rejected rows, uploads nothing, and exits 0, 3 or 1', async () => {
    const clean = path.join(workDir, 'validate-clean.csv');
    await writeFile(clean, USERS_CSV.split('\n').slice(0, 3).join('\n'));
    const brokenConfig = path.join(workDir, 'broken-config.json');
    await writeFile(brokenConfig, JSON.stringify({ phone_number: { column_name: 'no_such_column' } }));
    const countCohorts = async () =>
      (await rosterJson<{ total: number }>('cohorts', 'list', ...scope, '--limit', '100')).total;
    const before = await countCohorts();
    const check = (file: string, config: string, ...more: string[]) =>
      roster('cohorts', 'validate', ...scope, '--file', file, '--config', config, ...more);
    const [mixed, good, refused, json] = await Promise.all([
      check(usersFile, CONFIG),
      check(clean, CONFIG),
      check(usersFile, brokenConfig),
      check(usersFile, CONFIG, '--json'),
    ]);
    assert.equal(mixed.code, 3, mixed.stderr);
    assert.match(mixed.stdout, /checked; nothing was uploaded$/m);
    assert.match(mixed.stdout, /^total: +5\nvalid: +3\nrejected: +2$/m);
    assert.match(mixed.stdout, /^ {2}invalid_phone +1 +5\n {2}missing_required_value +1 +6$/m);
    assert.match(mixed.stdout, /^The rejected rows:\n {2}ROW +CODE +REASON\n {2}5 +invalid_phone +column 'mobile'/m);
    assert.match(mixed.stderr, /^error: 2 of 5 rows would be rejected$/m);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /^rejected: +0$/m);
    assert.equal(good.stderr, '');
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(refused.stderr, /column_not_found|invalid_transformation/);
    assert.equal(json.code, 3, json.stderr);
    const answer = JSON.parse(json.stdout) as { rejected_records: number; rejected_rows: Array<{ row: number }> };
    assert.equal(answer.rejected_records, 2);
    assert.deepEqual(
      answer.rejected_rows.map((r) => r.row),
      [5, 6],
    );
    assert.equal(await countCohorts(), before, 'validate created no cohort');
  });

  test('cohorts get shows the rejected rows by reason on one line', async () => {
    const get = await roster('cohorts', 'get', ...scope, first!.cohort_id);
    assert.equal(get.code, 0, get.stderr);
    assert.match(
      get.stdout,
      /^rejections_by_reason: +invalid_phone 1 \(first row 5\), missing_required_value 1 \(first row 6\)$/m,
    );
  });

  test('on a terminal, upload --wait draws a bar with the share of the file, rows, rows/s and the time left, then the counts', async () => {
    // Big enough that the server reports progress several times while the CLI polls.
    const big = path.join(workDir, 'terminal-users.csv');
    const rows = Array.from({ length: 150_000 }, (_, i) => `${9600000000 + i},Person ${i},${i},31/07/2024,Hindi\n`);
    await writeFile(big, `${USERS_CSV.split('\n')[0]}\n${rows.join('')}`);
    const result = await rosterOnTerminal(
      'cohorts',
      'upload',
      ...scope,
      '--name',
      'On a terminal',
      '--file',
      big,
      '--config',
      CONFIG,
      '--wait',
    );
    assert.equal(result.code, 0, result.stdout);
    // What the terminal showed: each redraw is cut off by an escape sequence (cursor saved, restored,
    // line cleared) or a carriage return.
    const esc = String.fromCharCode(0x1b);
    const frames = result.stdout.split(new RegExp(`${esc}(?:\\[[0-9;?]*[A-Za-z]|[78])|\\r\\n|\\r|\\n`));
    const bars = frames
      .map((frame) => /\[[█░]{30}\] (\d+)% \| ([\d,]+) rows \| ([\d,]+|…) rows\/s \| ETA (.+?) \(/.exec(frame))
      .filter((match) => match !== null);
    assert.ok(bars.length >= 2, `a bar was drawn at least twice:\n${frames.slice(0, 40).join('\n')}`);
    const rowsSeen = bars.map((bar) => Number(bar[2]!.replace(/,/g, '')));
    assert.ok(rowsSeen.at(-1)! > rowsSeen[0]!, `the rows grow: ${rowsSeen.join(' ')}`);
    assert.ok(
      bars.some((bar) => /^[\d,]+$/.test(bar[3]!) && /^\d/.test(bar[4]!)),
      'a rate and a time left once two reports were seen',
    );
    assert.match(result.stdout, /^total: +150,000\r?$/m);
    assert.match(result.stdout, /^valid: +150,000\r?$/m);
  });

  test('cohorts upload --idempotency-key run twice makes one cohort; an upload whose answer never came names its key', async () => {
    const once = ['cohorts', 'upload', ...scope, '--name', 'Sent twice', '--file', usersFile, '--config', CONFIG];
    const first = await rosterJson<Cohort>(...once, '--idempotency-key', 'cli-once');
    const again = await rosterJson<Cohort>(...once, '--idempotency-key', 'cli-once');
    assert.equal(again.cohort_id, first.cohort_id);
    const listed = await rosterJson<{ items: Cohort[] }>('cohorts', 'list', ...scope, '--search', 'Sent twice');
    assert.deepEqual(
      listed.items.map((c) => c.cohort_id),
      [first.cohort_id],
    );
    // A server that takes the upload and drops the connection before answering.
    const dropper = http.createServer((request) => {
      request.once('data', () => request.socket.destroy());
    });
    await new Promise<void>((resolve) => dropper.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = dropper.address() as AddressInfo;
      const lost = await cliRunner(() => ({ ...env, ROSTER_URL: `http://127.0.0.1:${port}` })).roster(...once);
      assert.equal(lost.code, 1, lost.stderr);
      assert.match(lost.stderr, /run the same command with --idempotency-key [0-9a-f-]{36} /);
    } finally {
      dropper.close();
    }
  });

  test('--help of cohorts shows an example of each command', async () => {
    const [cohorts, upload] = await Promise.all([roster('cohorts', '--help'), roster('cohorts', 'upload', '--help')]);
    for (const command of ['validate', 'upload', 'list', 'get', 'files', 'delete'])
      assert.match(cohorts.stdout, new RegExp(`^ {2}roster cohorts ${command} --org demo `, 'm'));
    assert.match(upload.stdout, /--wait/);
    assert.match(upload.stdout, /--fail-on-rejected/);
    assert.match(upload.stdout, /--wait then exits 3/);
    assert.match(
      upload.stdout,
      /\nExample:\n {2}roster cohorts upload --org demo --workspace default --deployment demo /,
    );
  });
});
