import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as XLSX from '@e965/xlsx';
import { ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { cliRunner } from '../helpers/cli.js';


// Five rows: two to call, one invalid (+447700900123 is no valid UK number), one repeat of the first,
// and +919812345678, which the test puts on the do-not-call list first.
const CONTACTS = path.join(ROOT, 'examples/batch-contacts.csv');

describe('roster batches and dnc against a running server', () => {
  let server: SpawnedServer | undefined;
  let workDir = '';
  let env: NodeJS.ProcessEnv = {};
  let userId = '';
  let numberId = '';
  let batchId = '';

  const { roster, rosterJson } = cliRunner(() => env);

  const uploadArgs = () => ['batches', 'upload', '--file', CONTACTS, '--user-id', userId, '--batch-name', 'May campaign', '--calling-numbers', numberId];

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'roster-batch-cli-'));
    server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    const masterKey = /\b(rmk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    assert.ok(masterKey && demoKey, `no keys in:\n${server.stdout()}`);
    env = { ...process.env, ROSTER_URL: server.url, ROSTER_API_KEY: demoKey };
    // The demo tenant's user and calling number: setup, read over HTTP rather than through the CLI under test.
    const read = async (url: string, key: string) => (await (await fetch(`${server!.url}${url}`, { headers: { 'x-api-key': key } })).json()) as { items: Array<Record<string, string>> };
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
    assert.deepEqual((added.invalid as Array<{ value: string }>).map((entry) => entry.value), ['not-a-phone']);
    const list = await roster('dnc', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^PHONE +REASON +ADDED\n\+919812345678 +asked not to be called +\d{4}-/);
  });

  test('batches upload exits 1 listing each invalid row when --skip-invalid is not given', async () => {
    const result = await roster(...uploadArgs());
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error: 1 row is invalid; nothing was imported\..* \(invalid_rows\)\n {2}line 4, phoneNumber: .*\+447700900123/);
  });

  test('batches upload --json sends the vendor fields from flags and reports what it skipped', async () => {
    const answer = await rosterJson<{ batch: { _id: string; totalCalls: number; callingNumbers: string[] }; skipped: Record<string, number>; invalidRows: Array<{ line: number }> }>(
      ...uploadArgs(),
      '--enable-dnc',
      '--skip-invalid',
      '--retry', '2',
      '--delay', '30',
      '--timezone', 'America/New_York',
      '--calling-hour', '08:30-20:00',
      '--allowed-days', '1,3,5',
    );
    batchId = answer.batch._id;
    assert.equal(answer.batch.totalCalls, 2);
    assert.deepEqual(answer.batch.callingNumbers, [numberId]);
    assert.deepEqual(answer.skipped, { invalid: 1, duplicate: 1, dnc: 1 });
    assert.deepEqual(answer.invalidRows.map((row) => row.line), [4]);
    const page = await rosterJson<{ items: Array<Record<string, unknown>> }>('batches', 'list');
    const batch = page.items.find((item) => item._id === batchId);
    assert.ok(batch, JSON.stringify(page));
    assert.deepEqual(
      { batchName: batch.batchName, enableDNC: batch.enableDNC, retry: batch.retry, delay: batch.delay, timezone: batch.timezone, callingHour: batch.callingHour, allowedDays: batch.allowedDays },
      { batchName: 'May campaign', enableDNC: true, retry: 2, delay: 30, timezone: 'America/New_York', callingHour: { start: '08:30', end: '20:00' }, allowedDays: [1, 3, 5] },
    );
  });

  test('batches details lists each call with its status and attempts', async () => {
    const [json, table] = await Promise.all([roster('batches', 'details', batchId, '--sort-by', 'phoneNumber', '--json'), roster('batches', 'details', batchId, '--sort-by', 'phoneNumber')]);
    assert.equal(json.code, 0, json.stderr);
    const details = JSON.parse(json.stdout) as { data: { batchStatus: string; total: number; data: Array<Record<string, unknown>> } };
    assert.equal(details.data.batchStatus, 'running');
    assert.equal(details.data.total, 2);
    assert.deepEqual(
      details.data.data.map((call) => [call.phoneNumber, call.callStatus, call.attempts, call.customer_name]),
      [
        ['12015550123', 'pending', 0, 'Ben Carter'],
        ['919876543210', 'pending', 0, 'Asha Verma'],
      ],
    );
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^status: +running$/m);
    assert.match(table.stdout, /^ID +PHONE +STATUS +ATTEMPTS +LAST ATTEMPT\n[0-9a-f]{24} +12015550123 +pending +0 +-$/m);
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
    XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet([['name', 'phoneNumber'], ['Asha', '+919876543210'], ['Ben', '(201) 555-0123'], ['Nobody', 'n/a']]), 'Opt-outs');
    const file = path.join(workDir, 'opt-outs.xlsx');
    await writeFile(file, XLSX.write(book, { bookType: 'xlsx', type: 'buffer' }) as Buffer);
    const answer = await rosterJson<{ added: number; invalid: Array<{ value: string }> }>('dnc', 'import', '--file', file, '--country', 'US', '--reason', 'opted out');
    assert.equal(answer.added, 2);
    assert.deepEqual(answer.invalid.map((entry) => entry.value), ['n/a']);
    const page = (await (await fetch(`${server!.url}/api/call/dnc?limit=100`, { headers: { 'x-api-key': String(env.ROSTER_API_KEY) } })).json()) as { items: Array<{ phoneNumber: string }> };
    assert.deepEqual(page.items.map((item) => item.phoneNumber).sort(), ['+12015550123', '+919876543210']);
  });

  test('--help of batches and dnc shows an example of each command', async () => {
    const [batches, upload, dnc] = await Promise.all([roster('batches', '--help'), roster('batches', 'upload', '--help'), roster('dnc', '--help')]);
    for (const command of ['upload', 'list', 'details', 'pause', 'resume', 'cancel']) assert.match(batches.stdout, new RegExp(`^ {2}roster batches ${command}\\b`, 'm'));
    for (const command of ['add', 'list', 'remove', 'import']) assert.match(dnc.stdout, new RegExp(`^ {2}roster dnc ${command}\\b`, 'm'));
    assert.match(upload.stdout, /--calling-hour <start-end> +\[callingHour\]/);
    assert.match(upload.stdout, /\nExample:\n {2}roster batches upload --file /);
  });
});
