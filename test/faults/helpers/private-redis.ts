import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../../helpers/spawn-server.js';
import { onProcessExit } from '../../helpers/exit-cleanup.js';

/** Undefined when `redis-server` can be run, else why not. */
export function privateRedisProblem(): string | undefined {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'redis-server is not installed (apt-get install redis-server)';
  }
}

/** A redis-server of the test's own on a free port of 127.0.0.1, in memory only. */
export interface PrivateRedis {
  port: number;
  url: string;
  /** Starts it (empty: nothing is saved) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Kills it (SIGKILL: clients see the connection reset, as on a crash) and waits for the exit. */
  stop(): Promise<void>;
  running(): boolean;
  /** Stops it for good; also done at process exit. */
  close(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Starts `redis-server --port N --save '' --appendonly no` on a free port. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';
  const unregister = onProcessExit(() => child?.kill('SIGKILL'));

  async function start(): Promise<void> {
    if (child) return;
    output = '';
    const spawned = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = spawned;
    spawned.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    spawned.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    exited = new Promise((resolve) =>
      spawned.on('exit', () => {
        if (child === spawned) child = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (!child) throw new Error(`redis-server exited at start:\n${output}`);
      if (Date.now() > deadline)
        throw new Error(`redis-server did not accept connections on ${port} within 10 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(): Promise<void> {
    child?.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop,
    running: () => child !== undefined,
    async close() {
      await stop();
      unregister();
    },
  };
}
