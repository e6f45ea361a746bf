import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  FATAL_EXIT_CODE,
  PROCESS_GUARD_LINE,
  UNCAUGHT_EXCEPTION_MARKER,
  UNHANDLED_REJECTION_MARKER,
} from '../src/process-guard.js';
import { CLI, ROOT } from './helpers/spawn-server.js';

const GUARD = path.join(ROOT, 'src/process-guard.ts');

/** Runs an ES module snippet in a fresh node (with tsx, so it can import the sources) and collects its output. */
async function runSnippet(code: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [exitCode] = (await once(child, 'close')) as [number | null];
  return { code: exitCode, stdout, stderr };
}

describe('the process guard', () => {
  test('an unhandled rejection is one "fatal: unhandled rejection" line on stderr with the error, and exit 70', async () => {
    const result = await runSnippet(
      `import { installProcessGuard } from ${JSON.stringify(GUARD)};
       installProcessGuard();
       setTimeout(() => console.log('still running'), 2000);
       Promise.reject(new Error('nobody awaited me'));`,
    );
    assert.equal(result.code, FATAL_EXIT_CODE);
    assert.match(result.stderr, PROCESS_GUARD_LINE);
    assert.ok(result.stderr.startsWith(`${UNHANDLED_REJECTION_MARKER}: Error: nobody awaited me`), result.stderr);
    assert.doesNotMatch(result.stdout, /still running/, 'it exits at once rather than running on');
  });

  test('once given the process logger, an uncaught exception goes through it at level fatal, and exit 70', async () => {
    const result = await runSnippet(
      `import pino from 'pino';
       import { installProcessGuard } from ${JSON.stringify(GUARD)};
       installProcessGuard().useLogger(pino());
       setTimeout(() => { throw new TypeError('a bug'); }, 10);`,
    );
    assert.equal(result.code, FATAL_EXIT_CODE);
    const line = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      level: number;
      msg: string;
      err: { message: string; type: string };
    };
    assert.equal(line.level, 60);
    assert.equal(line.msg, UNCAUGHT_EXCEPTION_MARKER);
    assert.match(result.stdout, PROCESS_GUARD_LINE);
    assert.deepEqual([line.err.type, line.err.message], ['TypeError', 'a bug']);
  });

  test('roster serve that cannot start (its port taken) says why and exits 1, not through the guard', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-guard-'));
    try {
      const env = {
        ...process.env,
        ROSTER_DATA_DIR: dataDir,
        ROSTER_PORT: String(port),
        ROSTER_LOG_LEVEL: 'warn',
        ROSTER_DATABASE_URL: '',
        ROSTER_S3_ENDPOINT: '',
      };
      const child = spawn(process.execPath, [...CLI, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 1, output);
      assert.match(output, /roster serve could not start: listen EADDRINUSE/);
      assert.doesNotMatch(output, PROCESS_GUARD_LINE);
    } finally {
      blocker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
