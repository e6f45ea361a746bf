import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipFor } from './helpers/fault-skip.js';
import {
  privatePostgresProblem,
  queryOnce,
  startPrivatePostgres,
  type PrivatePostgres,
} from './helpers/private-postgres.js';
import { privateRedisProblem, startPrivateRedis } from './helpers/private-redis.js';
import { mountSmallDisk, smallDiskProblem, type SmallDisk } from './helpers/small-disk.js';
import { startStoppableS3, type StoppableS3 } from './helpers/stoppable-s3.js';
import { spawn } from 'node:child_process';
import {
  ask,
  assertAliveAndClean,
  assertNoFatal,
  isAlive,
  pause,
  record,
  resume,
  waitForOutput,
} from './helpers/fault-processes.js';
import { TEST_PG_URL } from '../helpers/test-postgres.js';

// The fault-injection harness itself: each fault is real and each recovery is real, so the suites
// built on it prove something. Timings are printed for the report.

describe('a private PostgreSQL', { skip: skipFor(privatePostgresProblem()) }, () => {
  let server: PrivatePostgres;
  before(async () => {
    const started = Date.now();
    server = await startPrivatePostgres();
    process.stdout.write(`# private PostgreSQL: initdb + start in ${Date.now() - started} ms on port ${server.port}\n`);
  });
  after(async () => {
    await server?.destroy();
  });

  it('answers on its own port, not the shared one', async () => {
    assert.notEqual(server.port, 5432);
    const rows = await queryOnce<{ port: string }>(server.url(), 'show port');
    assert.equal(rows[0]!.port, String(server.port));
  });

  it('refuses connections once stopped (fast and immediate) and answers again after start, keeping its data', async () => {
    const database = await server.createDatabase();
    await queryOnce(database.url, 'create table kept (n int)');
    await queryOnce(database.url, 'insert into kept select generate_series(1, 1000)');

    for (const mode of ['fast', 'immediate'] as const) {
      await server.stop(mode);
      assert.equal(server.running(), false);
      await assert.rejects(queryOnce(database.url, 'select 1'), (error: NodeJS.ErrnoException) => {
        assert.equal(error.code, 'ECONNREFUSED', error.message);
        return true;
      });
      const started = Date.now();
      await server.start();
      process.stdout.write(`# private PostgreSQL: start after ${mode} stop in ${Date.now() - started} ms\n`);
      const rows = await queryOnce<{ n: string }>(database.url, 'select count(*) as n from kept');
      assert.equal(rows[0]!.n, '1000', `rows lost across a ${mode} stop`);
    }
    await database.drop();
  });

  it('restarts, cutting open connections, and leaves the shared server alone', async () => {
    const database = await server.createDatabase();
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: database.url });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();
    await server.restart();
    await assert.rejects(client.query('select 1'));
    await client.end().catch(() => undefined);
    assert.ok(errors.length >= 1, 'the open connection saw no error');
    assert.deepEqual(await queryOnce(database.url, 'select 1 as one'), [{ one: 1 }]);
    // The rest of the suite's server is untouched (skip the check where it is not running).
    const shared = await queryOnce(TEST_PG_URL, 'select 1 as one').catch(() => undefined);
    if (shared) assert.deepEqual(shared, [{ one: 1 }]);
    await database.drop();
  });

  it('removes its folder on destroy', async () => {
    const other = await startPrivatePostgres();
    assert.ok(existsSync(path.join(other.folder, 'data', 'PG_VERSION')));
    await other.destroy();
    assert.equal(existsSync(other.folder), false);
    await assert.rejects(queryOnce(other.url(), 'select 1'));
  });
});

describe('a stoppable S3-compatible server', () => {
  let s3: StoppableS3;
  before(async () => {
    s3 = await startStoppableS3();
  });
  after(async () => {
    await s3?.close();
  });

  it('refuses requests while stopped and comes back on the same port with its objects', async () => {
    const { S3Client, PutObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.settings.region,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: s3.settings.accessKeyId, secretAccessKey: s3.settings.secretAccessKey },
    });
    try {
      await client.send(
        new PutObjectCommand({ Bucket: s3.settings.bucket, Key: 'kept/object.txt', Body: 'still here' }),
      );
      await s3.stop();
      assert.equal(s3.running(), false);
      await assert.rejects(client.send(new GetObjectCommand({ Bucket: s3.settings.bucket, Key: 'kept/object.txt' })));
      assert.equal(
        (await ask(`${s3.endpoint}/${s3.settings.bucket}`)).status,
        0,
        'plain HTTP got an answer from a stopped server',
      );
      await s3.start();
      const object = await client.send(new GetObjectCommand({ Bucket: s3.settings.bucket, Key: 'kept/object.txt' }));
      assert.equal(await object.Body!.transformToString(), 'still here');
      assert.deepEqual(await s3.listKeys('kept/'), ['kept/object.txt']);
    } finally {
      client.destroy();
    }
  });
});

describe('a private Redis', { skip: skipFor(privateRedisProblem()) }, () => {
  it('refuses connections while stopped and starts again empty', async () => {
    const redis = await startPrivateRedis();
    try {
      const { Redis } = await import('ioredis');
      const client = new Redis(redis.url, {
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        lazyConnect: true,
        retryStrategy: () => null,
      });
      await client.connect();
      await client.set('k', 'v');
      assert.equal(await client.get('k'), 'v');
      client.disconnect();
      await redis.stop();
      assert.equal(redis.running(), false);
      assert.equal((await ask(`http://127.0.0.1:${redis.port}/`)).code, 'ECONNREFUSED');
      await redis.start();
      const again = new Redis(redis.url, { lazyConnect: true });
      await again.connect();
      assert.equal(await again.get('k'), null, 'nothing is saved across a restart');
      again.disconnect();
    } finally {
      await redis.close();
    }
  });
});

const diskProblem = await smallDiskProblem();

describe('a small disk', { skip: skipFor(diskProblem) }, () => {
  let disk: SmallDisk;
  before(async () => {
    if (diskProblem) throw new Error(`CI=true and ${diskProblem}`);
    disk = await mountSmallDisk(8);
  });
  after(async () => {
    await disk?.unmount();
  });

  it('fills to what is asked, makes writes fail with ENOSPC, and frees again', async () => {
    const total = await disk.available();
    assert.ok(total > 7 * 1024 * 1024 && total <= 8 * 1024 * 1024, `available ${total}`);
    const left = await disk.fill(64 * 1024);
    assert.ok(left >= 64 * 1024 && left < 64 * 1024 + 8192, `left ${left}`);
    await writeFile(path.join(disk.dataDir, 'fits.bin'), Buffer.alloc(16 * 1024));
    assert.equal(await disk.fill(), 0);
    await assert.rejects(writeFile(path.join(disk.dataDir, 'too-big.bin'), Buffer.alloc(64 * 1024)), {
      code: 'ENOSPC',
    });
    assert.deepEqual(
      (await readdir(disk.dataDir)).sort(),
      ['fits.bin', 'too-big.bin'],
      'the filler must stay outside the data folder',
    );
    await disk.free();
    assert.ok((await disk.available()) > 7 * 1024 * 1024);
    await writeFile(path.join(disk.dataDir, 'too-big.bin'), Buffer.alloc(64 * 1024));
  });

  it('unmounts and removes its mount point', async () => {
    const other = await mountSmallDisk(1);
    await other.unmount();
    assert.equal(existsSync(other.mountPoint), false);
  });
});

describe('process watching', () => {
  it('reads output for a marker, pauses and resumes a process, and catches a death or the fatal line', async () => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        "let n = 0; setInterval(() => console.log('tick ' + n++), 50); process.stdin.on('data', (d) => { if (String(d).startsWith('die')) { console.error('fatal: unhandled rejection'); process.exit(1); } });",
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const watched = { child, output: () => out };
    try {
      await waitForOutput(watched.output, /tick 3\b/, { timeoutMs: 5000 });
      assertAliveAndClean('ticker', watched);
      pause(child);
      // What the ticker wrote just before the signal may still be in the pipe: let it arrive first.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const frozenAt = out.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(out.length, frozenAt, 'a paused process kept printing');
      resume(child);
      await waitForOutput(watched.output, /tick \d+/, { from: frozenAt, timeoutMs: 5000 });
      const ticks = record(async () => out.length, 20);
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.ok((await ticks.stop()).length >= 3);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.write('die\n');
      await exited;
      assert.equal(isAlive(child), false);
      assert.throws(() => assertNoFatal('ticker', watched), /fatal/);
      assert.throws(() => assertAliveAndClean('ticker', watched), /died/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
