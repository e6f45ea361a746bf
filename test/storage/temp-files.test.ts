import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { LocalBlobStore } from '../../src/storage/blobs/local-blob-store.js';
import {
  sweepTemporaryFiles,
  temporaryFileName,
  UNOWNED_TEMPORARY_FILE_MAX_AGE_MS,
} from '../../src/storage/blobs/temp-files.js';
import { ROOT, spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';

const COHORT_UPLOAD = '/v1/orgs/demo/workspaces/default/deployments/demo/cohorts/upload';
const BATCH_UPLOAD = '/api/call/upload';
const LEGACY_NAME = '0f8fad5b-d9cb-469f-a165-70867728950e';
const folders: string[] = [];

after(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function dataFolder(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-temp-files-'));
  folders.push(dir);
  return dir;
}

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

/** Every file and folder under the data folder's temporary and blob folders, relative to it (but the lasting blobs/cohorts). */
async function staged(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const folder of ['uploads-tmp', 'blobs-tmp', 'blobs']) {
    const entries = await readdir(path.join(dataDir, folder), { recursive: true }).catch(() => [] as string[]);
    found.push(...entries.map((entry) => path.join(folder, entry)).filter((entry) => entry !== 'blobs/cohorts'));
  }
  return found.sort();
}

async function plant(dataDir: string, relative: string, ageMs = 0): Promise<string> {
  const file = path.join(dataDir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'mobile,name\n98765');
  if (ageMs > 0) {
    const when = new Date(Date.now() - ageMs);
    await utimes(file, when, when);
  }
  return relative;
}

async function emptyFolder(dataDir: string, relative: string, ageMs: number): Promise<string> {
  const dir = path.join(dataDir, relative);
  await mkdir(dir, { recursive: true });
  const when = new Date(Date.now() - ageMs);
  await utimes(dir, when, when);
  return relative;
}

/**
 * Opens a raw connection and sends a multipart upload's head and part of its file (of a body that
 * claims 10 MB), then waits until the server has started staging it. Answers the open socket.
 */
async function startCutOffUpload(
  server: SpawnedServer,
  key: string,
  urlPath: string,
  field: string,
  stagingFolder: string,
): Promise<net.Socket> {
  const boundary = 'roster-cut-off';
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\ncut off\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="users.csv"\r\nContent-Type: text/csv\r\n\r\n` +
    'mobile,name\r\n' +
    '9876543210,Asha Verma\r\n'.repeat(20_000);
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(
    `POST ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${key}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n${body}`,
  );
  const deadline = Date.now() + 10_000;
  while ((await readdir(path.join(server.dataDir, stagingFolder)).catch(() => [])).length === 0) {
    assert.ok(Date.now() < deadline, `the server staged nothing in ${stagingFolder}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return socket;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function demoKey(server: SpawnedServer): string {
  const key = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
  assert.ok(key, `no demo key in:\n${server.stdout()}`);
  return key;
}

describe('temporary files', () => {
  test('the sweep removes what a stopped process or an old version left, and keeps what a live process may be writing', async () => {
    const dataDir = await dataFolder();
    const hour = 60 * 60 * 1000;
    const gone = await deadPid();
    const removed = [
      await plant(dataDir, `blobs-tmp/${temporaryFileName('', gone)}`),
      await plant(dataDir, `uploads-tmp/${temporaryFileName('.xlsx', gone)}`),
      // Our own pid on a file older than this process: a container restarted with the same pid.
      await plant(dataDir, `blobs-tmp/${temporaryFileName()}`, Math.round(process.uptime() * 1000) + hour),
      await plant(dataDir, `uploads-tmp/${LEGACY_NAME}.csv`, UNOWNED_TEMPORARY_FILE_MAX_AGE_MS + 60_000),
      await plant(dataDir, `blobs-tmp/9@another-host_${LEGACY_NAME}`, UNOWNED_TEMPORARY_FILE_MAX_AGE_MS + 60_000),
      await emptyFolder(dataDir, 'blobs/cohorts/coh-refused', hour),
      await emptyFolder(dataDir, 'blobs/cohorts/coh-refused2/rejected', hour),
      await emptyFolder(dataDir, 'blobs/cohorts/coh-refused2', hour),
    ];
    const kept = [
      await plant(dataDir, `blobs-tmp/${temporaryFileName()}`),
      await plant(
        dataDir,
        `uploads-tmp/${temporaryFileName('.csv', process.ppid)}`,
        2 * UNOWNED_TEMPORARY_FILE_MAX_AGE_MS,
      ),
      await plant(dataDir, `uploads-tmp/${LEGACY_NAME}.csv.recent`),
      await plant(dataDir, `blobs-tmp/9@another-host_${LEGACY_NAME}.recent`),
      await plant(dataDir, 'blobs/cohorts/coh-live/source.csv', hour),
      await emptyFolder(dataDir, 'blobs/cohorts/coh-just-made', 0),
    ];
    const report = await sweepTemporaryFiles(dataDir);
    assert.deepEqual(report.removed.sort(), [...removed].sort());
    const left = await staged(dataDir);
    for (const entry of kept) assert.ok(left.includes(entry), `${entry} was kept`);
    for (const entry of removed) assert.ok(!left.includes(entry), `${entry} was removed`);
  });

  test('a failed local blob write leaves neither its temporary file nor an empty folder', async () => {
    const dataDir = await dataFolder();
    const store = new LocalBlobStore(dataDir);
    const { PassThrough } = await import('node:stream');
    const source = new PassThrough();
    const writing = store.put('cohorts/coh-failing/source.csv', source);
    source.write('mobile,name\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    source.destroy(new Error('client went away'));
    await assert.rejects(writing, /client went away/);
    assert.deepEqual(await staged(dataDir), []);
  });

  test('roster serve: uploads cut off mid-body (cohort and batch) or refused leave no temporary file or cohort folder', async () => {
    const server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    folders.push(server.dataDir);
    try {
      const key = demoKey(server);
      const before = await staged(server.dataDir);
      const cohort = await startCutOffUpload(server, key, COHORT_UPLOAD, 'cohort_file', 'blobs-tmp');
      const batch = await startCutOffUpload(server, key, BATCH_UPLOAD, 'file', 'uploads-tmp');
      cohort.destroy();
      batch.destroy();
      // The same, half-closed: the client ends its side without sending the rest.
      const halfClosed = await startCutOffUpload(server, key, COHORT_UPLOAD, 'cohort_file', 'blobs-tmp');
      halfClosed.end();
      await eventually(
        'the cut-off uploads left nothing behind',
        async () => (await staged(server.dataDir)).join() === before.join(),
      );
      // And one refused whole: its config names columns the file does not have.
      const form = new FormData();
      form.append('name', 'refused');
      form.append(
        'cohort_transformation_file',
        new Blob([await readFile(path.join(ROOT, 'examples/cohort-transformation.json'))], {
          type: 'application/json',
        }),
        'map.json',
      );
      form.append('cohort_file', new Blob(['phone,other\n9876543210,x\n'], { type: 'text/csv' }), 'users.csv');
      const refused = await fetch(`${server.url}${COHORT_UPLOAD}`, {
        method: 'POST',
        headers: { 'x-api-key': key },
        body: form,
      });
      assert.equal(refused.status, 422, await refused.text());
      assert.deepEqual(await staged(server.dataDir), before);
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  test('roster serve killed mid-upload: the next start removes the partial files, and what was planted before it', async () => {
    const first = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    folders.push(first.dataDir);
    const key = demoKey(first);
    const sockets = [
      await startCutOffUpload(first, key, COHORT_UPLOAD, 'cohort_file', 'blobs-tmp'),
      await startCutOffUpload(first, key, BATCH_UPLOAD, 'file', 'uploads-tmp'),
    ];
    const partial = (await staged(first.dataDir)).filter((entry) => /-tmp\/./.test(entry));
    assert.equal(partial.length, 2, `partial files: ${partial.join(', ')}`);
    await first.stop('SIGKILL');
    for (const socket of sockets) socket.destroy();
    const planted = [
      await plant(first.dataDir, `uploads-tmp/${LEGACY_NAME}.csv`, UNOWNED_TEMPORARY_FILE_MAX_AGE_MS + 60_000),
      await plant(first.dataDir, `blobs-tmp/${temporaryFileName('', await deadPid())}`),
      await emptyFolder(first.dataDir, 'blobs/cohorts/coh-refused', 10 * 60_000),
    ];
    assert.deepEqual(
      (await staged(first.dataDir)).filter((entry) => [...partial, ...planted].includes(entry)).sort(),
      [...partial, ...planted].sort(),
    );

    const second = await spawnServer(
      { ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '', ROSTER_LOG_LEVEL: 'info' },
      first.dataDir,
    );
    try {
      const left = await staged(second.dataDir);
      for (const entry of [...partial, ...planted])
        assert.ok(!left.includes(entry), `${entry} is gone: ${left.join(', ')}`);
      assert.match(second.stdout(), /removed temporary files left by stopped processes/);
    } finally {
      await second.stop();
    }
  });
});
