import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onProcessExit } from './exit-cleanup.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Whether every source file under src/ has its built file in dist/src/, at least as new. */
function builtIsCurrent(): boolean {
  const sources = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) =>
    file.endsWith('.ts'),
  );
  return sources.every((file) => {
    const built = statSync(path.join(ROOT, 'dist/src', file.replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
    return built !== undefined && built.mtimeMs >= statSync(path.join(ROOT, 'src', file)).mtimeMs;
  });
}

/**
 * How tests run `roster` (node and these arguments): the built CLI, as users run it, when dist/ is
 * current (`npm test` builds first), else the sources through tsx, which compiles each process's
 * modules as it loads them (about a second more per start). A file run on its own after editing
 * src/ without `npm run build` still runs what is in src/.
 */
export const CLI = builtIsCurrent()
  ? [path.join(ROOT, 'dist/src/cli/index.js')]
  : ['--import', 'tsx', path.join(ROOT, 'src/cli/index.ts')];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  port: number;
  dataDir: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * A data folder for a server the test gave none: removed when the test process ends (not at stop,
 * since a test may start another server on the same folder, or read its files after).
 */
async function madeDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-e2e-'));
  onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts `roster serve` as a real process on a free port and waits until /healthz answers. */
export async function spawnServer(
  env: Record<string, string> = {},
  dataDir?: string,
  args: string[] = ['serve'],
): Promise<SpawnedServer> {
  const dir = dataDir ?? (await madeDataDir());
  const port = await freePort();
  const childEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ROSTER_DATA_DIR: dir,
    ROSTER_PORT: String(port),
    ROSTER_LOG_LEVEL: 'warn',
    ...env,
  };
  for (const name of ['ROSTER_MASTER_KEY', 'NODE_ENV']) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${err}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not start in time: ${err}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    url,
    port,
    dataDir: dir,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts `roster worker` (or another command) and waits until its output matches `ready`. */
export async function spawnCommand(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<{ child: ChildProcess; output(): string; exited: Promise<number | null> }> {
  const childEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ROSTER_LOG_LEVEL: 'info',
    ...env,
  };
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out)) {
    if (child.exitCode !== null) break;
    if (Date.now() > deadline) throw new Error(`not ready in time: ${out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => out, exited };
}
