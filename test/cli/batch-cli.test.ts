import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as XLSX from '@e965/xlsx';
import { ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { cliRunner, npxProject, shellQuote } from '../helpers/cli.js';

// Five rows: two to call, one invalid (+447700900123 is no valid UK number), one repeat of the first,
// and +919812345678, which the test puts on the do-not-call list first.
const CONTACTS = path.join(ROOT, 'examples/batch-contacts.csv');

describe('roster batches and dnc against a running server', () => {
  let server: SpawnedServer | undefined;
  let workDir = '';
  let env: NodeJS.ProcessEnv = {};
  let userId = '';
  let masterKey = '';
  let numberId = '';
  let batchId = '';

  const { roster, rosterJson } = cliRunner(() => env);

  const uploadArgs = () => [
    'batches',
    'upload',
    '--file',
    CONTACTS,
    '--user-id',
    userId,
    '--batch-name',
    'May campaign',
    '--calling-numbers',
    numberId,
  ];

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'roster-batch-cli-'));
    server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    masterKey = /\b(rmk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1] ?? '';
    assert.ok(masterKey && demoKey, `no keys in:\n${server.stdout()}`);
    env = { ...process.env, ROSTER_URL: server.url, ROSTER_API_KEY: demoKey };
    // The demo tenant's user and calling number: setup, read over HTTP rather than through the CLI under test.
    const read = async (url: string, key: string) =>
      (await (await fetch(`${server!.url}${url}`, { headers: { 'x-api-key': key } })).json()) as {
        items: Array<Record<string, string>>;
      };
    userId = (await read('/v1/orgs/demo/users', masterKey)).items[0]?.user_id ?? '';
    numberId = (await read('/v1/orgs/demo/workspaces/default/phone-numbers', demoKey)).items[0]?._id ?? '';
    assert.match(userId, /^[0-9a-f]{24}$/);
    assert.match(numberId, /^[0-9a-f]{24}$/);
  });

  after(async () => {
    await server?.stop();
    if (server) await rm(server.dataDir, { recursive: true, force: true });
    await rm(workDir, { recursive: true, force: true });
  });

  test('dnc add puts a number on the list and reports the unreadable ones; dnc list shows it', async () => {
    const added = await rosterJson('dnc', 'add', '+919812345678', 'not-a-phone', '--reason', 'asked not to be called');
    assert.equal(added.added, 1);
    assert.equal(added.alreadyListed, 0);
    assert.deepEqual(
      (added.invalid as Array<{ value: string }>).map((entry) => entry.value),
      ['not-a-phone'],
    );
    const list = await roster('dnc', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^PHONE +REASON +ADDED\n\+919812345678 +asked not to be called +\d{4}-/);
  });

  test('batches upload exits 1 listing each invalid row when --skip-invalid is not given', async () => {
    const result = await roster(...uploadArgs());
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^error: 1 row is invalid; nothing was imported\..* \(invalid_rows\)\n {2}line 4, phoneNumber: .*\+447700900123/,
    );
  });

  test('batches upload --json sends the vendor fields from flags and reports what it skipped', async () => {
    const answer = await rosterJson<{
      batch: { _id: string; totalCalls: number; callingNumbers: string[] };
      skipped: Record<string, number>;
      invalidRows: Array<{ line: number }>;
    }>(
      ...uploadArgs(),
      '--enable-dnc',
      '--skip-invalid',
      '--retry',
      '2',
      '--delay',
      '30',
      '--timezone',
      'America/New_York',
      '--calling-hour',
      '08:30-20:00',
      '--allowed-days',
      '1,3,5',
    );
    batchId = answer.batch._id;
    assert.equal(answer.batch.totalCalls, 2);
    assert.deepEqual(answer.batch.callingNumbers, [numberId]);
    assert.deepEqual(answer.skipped, { invalid: 1, duplicate: 1, dnc: 1 });
    assert.deepEqual(
      answer.invalidRows.map((row) => row.line),
      [4],
    );
    const page = await rosterJson<{ items: Array<Record<string, unknown>> }>('batches', 'list');
    const batch = page.items.find((item) => item._id === batchId);
    assert.ok(batch, JSON.stringify(page));
    assert.deepEqual(
      {
        batchName: batch.batchName,
        enableDNC: batch.enableDNC,
        retry: batch.retry,
        delay: batch.delay,
        timezone: batch.timezone,
        callingHour: batch.callingHour,
        allowedDays: batch.allowedDays,
      },
      {
        batchName: 'May campaign',
        enableDNC: true,
        retry: 2,
        delay: 30,
        timezone: 'America/New_York',
        callingHour: { start: '08:30', end: '20:00' },
        allowedDays: [1, 3, 5],
      },
    );
  });

  test('batches details lists each call with its reported attempts', async () => {
    const [json, table] = await Promise.all([
      roster('batches', 'details', batchId, '--sort-by', 'phoneNumber', '--json'),
      roster('batches', 'details', batchId, '--sort-by', 'phoneNumber'),
    ]);
    assert.equal(json.code, 0, json.stderr);
    const details = JSON.parse(json.stdout) as {
      data: { batchStatus: string; total: number; data: Array<Record<string, unknown>> };
    };
    assert.equal(details.data.batchStatus, 'active');
    assert.equal(details.data.total, 2);
    assert.deepEqual(
      details.data.data.map((call) => [call.phoneNumber, call.phoneLogs, call.customer_name]),
      [
        ['12015550123', [], 'Ben Carter'],
        ['919876543210', [], 'Asha Verma'],
      ],
    );
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^status: +active$/m);
    assert.match(table.stdout, /^calls: +2$/m);
    assert.match(table.stdout, /^ID +PHONE +ATTEMPTS +LAST ATTEMPT\n[0-9a-f]{24} +12015550123 +0 +-$/m);
  });

  test('batches details --status or --search counts the matching calls against the batch size', async () => {
    const [none, pending, search] = await Promise.all([
      roster('batches', 'details', batchId, '--status', 'failed'),
      roster('batches', 'details', batchId, '--status', 'pending'),
      roster('batches', 'details', batchId, '--search', 'Ben'),
    ]);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /^matching calls: 0 of 2$/m);
    assert.doesNotMatch(none.stdout, /^calls:/m);
    assert.match(none.stdout, /\nno matching calls\n$/);
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(pending.stdout, /^matching calls: 2 of 2$/m);
    assert.match(pending.stdout, /^page 1 of 1$/m);
    assert.equal(search.code, 0, search.stderr);
    assert.match(search.stdout, /^matching calls: 1 of 2$/m);
    assert.match(search.stdout, /^[0-9a-f]{24} +12015550123 +0 +-$/m);
  });

  test('batches pause, resume and cancel change its status; a resume after cancel exits 1 with invalid_state', async () => {
    const paused = await roster('batches', 'pause', batchId);
    assert.equal(paused.stdout, `paused batch ${batchId}: status paused\n`, paused.stderr);
    const resumed = await rosterJson<{ batch: { batchStatus: string } }>('batches', 'resume', batchId);
    assert.equal(resumed.batch.batchStatus, 'running');
    const cancelled = await rosterJson<{ batch: { batchStatus: string } }>('batches', 'cancel', batchId);
    assert.equal(cancelled.batch.batchStatus, 'cancelled');
    const refused = await roster('batches', 'resume', batchId);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: .*cancelled.* \(invalid_state\)\n$/);
  });

  test('dnc remove takes a number off the list; removing it again exits 1 with not_found', async () => {
    const removed = await roster('dnc', 'remove', '+919812345678');
    assert.equal(removed.stdout, 'removed +919812345678 from the do-not-call list\n', removed.stderr);
    const again = await roster('dnc', 'remove', '+919812345678');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\(not_found\)\n$/);
  });

  test('dnc import streams an .xlsx file and adds its phoneNumber column', async () => {
    const book = XLSX.utils.book_new();
    XLSX.utils.book_append_sheet(
      book,
      XLSX.utils.aoa_to_sheet([
        ['name', 'phoneNumber'],
        ['Asha', '+919876543210'],
        ['Ben', '(201) 555-0123'],
        ['Nobody', 'n/a'],
      ]),
      'Opt-outs',
    );
    const file = path.join(workDir, 'opt-outs.xlsx');
    await writeFile(file, XLSX.write(book, { bookType: 'xlsx', type: 'buffer' }) as Buffer);
    const answer = await rosterJson<{ added: number; invalid: Array<{ value: string }> }>(
      'dnc',
      'import',
      '--file',
      file,
      '--country',
      'US',
      '--reason',
      'opted out',
    );
    assert.equal(answer.added, 2);
    assert.deepEqual(
      answer.invalid.map((entry) => entry.value),
      ['n/a'],
    );
    const page = (await (
      await fetch(`${server!.url}/api/call/dnc?limit=100`, { headers: { 'x-api-key': String(env.ROSTER_API_KEY) } })
    ).json()) as { items: Array<{ phoneNumber: string }> };
    assert.deepEqual(page.items.map((item) => item.phoneNumber).sort(), ['+12015550123', '+919876543210']);
  });

  test("batches upload without --user-id takes the org key's own user from GET /v1/me", async () => {
    const args = uploadArgs().filter((arg, i, all) => arg !== '--user-id' && all[i - 1] !== '--user-id');
    const answer = await rosterJson<{ batch: { _id: string } }>(...args, '--skip-invalid');
    const page = await rosterJson<{ items: Array<Record<string, unknown>> }>('batches', 'list');
    assert.equal(page.items.find((item) => item._id === answer.batch._id)?.userId, userId);
  });

  test('run through npx, batches upload prints its follow-up as `npx roster …`, which works as printed', async () => {
    const project = npxProject(() => env);
    const upload = await project.sh(
      ['npx roster', ...uploadArgs(), '--skip-invalid', '--batch-name', 'Through npx']
        .map((word, i) => (i === 0 ? word : shellQuote(word)))
        .join(' '),
    );
    assert.equal(upload.code, 0, upload.stderr);
    const printed = /^ {2}(npx roster batches details ([0-9a-f]{24}))$/m.exec(upload.stdout);
    assert.ok(printed?.[1], upload.stdout);
    const details = await project.sh(printed[1]);
    assert.equal(details.code, 0, details.stderr);
    assert.match(details.stdout, new RegExp(`^batch: +${printed[2]}\\nname: +Through npx$`, 'm'));
  });

  test('ROSTER_ORG and ROSTER_WORKSPACE stand in for --org and --workspace of batches list and dnc', async () => {
    const previous = env;
    env = { ...env, ROSTER_API_KEY: masterKey, ROSTER_ORG: 'demo', ROSTER_WORKSPACE: 'default' };
    try {
      const [batches, dnc] = await Promise.all([roster('batches', 'list'), roster('dnc', 'list')]);
      assert.equal(batches.code, 0, batches.stderr);
      assert.match(batches.stdout, new RegExp(`^${batchId} +May campaign +`, 'm'));
      assert.equal(dnc.code, 0, dnc.stderr);
      assert.match(dnc.stdout, /^PHONE +REASON +ADDED$/m);
      env = { ...env, ROSTER_ORG: 'nowhere' };
      const flagged = await roster('batches', 'list', '--org', 'demo');
      assert.equal(flagged.code, 0, flagged.stderr);
      assert.match(flagged.stdout, new RegExp(`^${batchId} +`, 'm'));
    } finally {
      env = previous;
    }
  });

  test('batches upload without --user-id exits 1 with the master key, which acts for no user', async () => {
    const previous = env;
    env = { ...env, ROSTER_API_KEY: masterKey };
    try {
      const args = uploadArgs().filter((arg, i, all) => arg !== '--user-id' && all[i - 1] !== '--user-id');
      const result = await roster(...args);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^error: The master key acts for no user: pass --user-id/);
    } finally {
      env = previous;
    }
  });

  test('--help of batches and dnc shows an example of each command', async () => {
    const [batches, upload, dnc] = await Promise.all([
      roster('batches', '--help'),
      roster('batches', 'upload', '--help'),
      roster('dnc', '--help'),
    ]);
    for (const command of ['upload', 'list', 'details', 'pause', 'resume', 'cancel'])
      assert.match(batches.stdout, new RegExp(`^ {2}roster batches ${command}\\b`, 'm'));
    for (const command of ['add', 'list', 'remove', 'import'])
      assert.match(dnc.stdout, new RegExp(`^ {2}roster dnc ${command}\\b`, 'm'));
    assert.match(upload.stdout, /--calling-hour <start-end> +\[callingHour\]/);
    assert.match(upload.stdout, /\nExample:\n {2}roster batches upload --file /);
  });
});
