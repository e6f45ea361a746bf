import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { postgresProblem, createScratchDatabase } from '../helpers/test-postgres.js';
import { freePort, ROOT, spawnCommand, spawnServer } from '../helpers/spawn-server.js';

const run = promisify(execFile);
const inCi = process.env.CI === 'true';
const pgProblem = await postgresProblem();
const pgSkip = pgProblem && !inCi ? `PostgreSQL unavailable: ${pgProblem}` : false;

/**
 * A copy of the package as a user has it after `npm ci` (which builds dist/ through `prepare`): the
 * real package.json and its scripts, dist/ freshly built from the sources into this folder (the
 * work tree's own dist/ is left alone), and node_modules/.bin/roster linked to the built CLI the way
 * npm links a bin, so `npm start` and `npm exec roster` run exactly as they would there.
 */
async function builtPackage(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-package-'));
  await copyFile(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  for (const folder of ['migrations', 'console-assets']) await symlink(path.join(ROOT, folder), path.join(dir, folder));
  // tsc writes what it can even when another part of the tree does not type-check at this moment;
  // the typecheck step of `npm test` is what judges types.
  await run(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/typescript/bin/tsc'),
      '-p',
      path.join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      path.join(dir, 'dist'),
    ],
    { cwd: ROOT },
  ).catch(() => undefined);
  const cli = path.join(dir, 'dist/src/cli/index.js');
  await chmod(cli, 0o755);
  const modules = path.join(dir, 'node_modules');
  await mkdir(path.join(modules, '.bin'), { recursive: true });
  for (const entry of await readdir(path.join(ROOT, 'node_modules'))) {
    if (entry !== '.bin') await symlink(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  await symlink(cli, path.join(modules, '.bin/roster'));
  return dir;
}

/** The pids of `pid`'s descendants, from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    const tasks = await readdir(`/proc/${parent}/task`).catch(() => [] as string[]);
    for (const task of tasks) {
      const children = await readFile(`/proc/${parent}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of children.split(/\s+/).filter(Boolean).map(Number)) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** Whether the process runs: a zombie (ended, not yet reaped) runs no code and holds no port. */
function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

interface Launched {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** Runs an npm command in the package copy with a fresh data folder and a free port, until /healthz answers. */
async function launchWithNpm(dir: string, args: string[]): Promise<Launched> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(dir, 'data-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ROSTER_DATA_DIR: dataDir,
    ROSTER_PORT: String(port),
    ROSTER_LOG_LEVEL: 'info',
    ROSTER_DATABASE_URL: '',
    ROSTER_S3_ENDPOINT: '',
  };
  delete env.ROSTER_MASTER_KEY;
  delete env.NODE_ENV;
  // The test runner may itself run under npm; the npm started here sets its own.
  for (const name of Object.keys(env)) if (name.startsWith('npm_')) delete env[name];
  const child = spawn('npm', args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const url = `http://127.0.0.1:${port}`;
  await until(
    `npm ${args.join(' ')} serving`,
    async () => {
      if (child.exitCode !== null) throw new Error(`npm ${args.join(' ')} exited ${child.exitCode}: ${out}`);
      return answers(url);
    },
    60_000,
  );
  return { child, url, output: () => out };
}

/** SIGTERM to npm only (not its process group): the server drains and exits, nothing is left running. */
async function assertSigtermStopsEverything(launched: Launched): Promise<void> {
  const npmPid = launched.child.pid!;
  const tree = await descendants(npmPid);
  assert.ok(tree.length >= 1, `npm has no child process: ${launched.output()}`);
  const npmExited = new Promise((resolve) => launched.child.once('exit', resolve));
  launched.child.kill('SIGTERM');
  try {
    await until('every process npm started gone', () => tree.every((pid) => !alive(pid)), 8_000);
    await until('the port closed', async () => !(await answers(launched.url)), 2_000);
    await npmExited;
  } finally {
    for (const pid of tree) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  assert.match(
    launched.output(),
    /shutting down: finishing in-flight requests/,
    'the server drained as on its own SIGTERM',
  );
  assert.doesNotMatch(launched.output(), /shutdown timed out|fatal: /);
}

describe('signals reach the server however it was started', () => {
  let dir = '';

  before(async () => {
    dir = await builtPackage();
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('npm start: SIGTERM to npm stops the server (the start script execs node) and leaves no process', async () => {
    const launched = await launchWithNpm(dir, ['start']);
    const tree = await descendants(launched.child.pid!);
    assert.equal(tree.length, 1, 'node runs in place of the shell npm starts');
    await assertSigtermStopsEverything(launched);
  });

  test('npm exec roster serve: SIGTERM to npm stops the server although the shell between them does not pass it on', async () => {
    // `npm exec roster serve` runs `sh -c "'roster' serve"` with node_modules/.bin on PATH; inside the
    // package itself npm first installs the package into its npx cache (running `prepare`), which -c
    // skips. The processes are the same: npm, a shell, then node through the bin's shebang. --offline
    // and a private cache keep npm from looking anything up or leaving anything behind.
    const launched = await launchWithNpm(dir, [
      'exec',
      '--offline',
      '--cache',
      path.join(dir, '.npm-cache'),
      '-c',
      'roster serve',
    ]);
    const tree = await descendants(launched.child.pid!);
    assert.ok(tree.length >= 2, `npm runs roster through a shell: ${tree.join(', ')}`);
    await assertSigtermStopsEverything(launched);
    assert.match(launched.output(), /the npm process that started it \(pid \d+\) is gone; stopping as on SIGTERM/);
  });

  test('roster serve: SIGTERM and SIGINT each drain and exit 0', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '', ROSTER_LOG_LEVEL: 'info' });
      try {
        assert.equal(await server.stop(signal), 0, server.stderr());
        assert.equal(await answers(server.url), false);
        assert.match(server.stdout(), /shutting down/);
      } finally {
        await rm(server.dataDir, { recursive: true, force: true });
      }
    }
  });

  test('roster worker: SIGTERM stops it with exit 0', { skip: pgSkip }, async () => {
    const database = await createScratchDatabase('roster_signals');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-signals-'));
    try {
      const worker = await spawnCommand(
        ['worker'],
        { ROSTER_DATABASE_URL: database.url, ROSTER_DATA_DIR: dataDir, ROSTER_S3_ENDPOINT: '' },
        /roster worker is processing jobs/,
      );
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
      assert.match(worker.output(), /worker stopping/);
    } finally {
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
