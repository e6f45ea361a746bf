import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, ROOT } from './spawn-server.js';

/** Output kept per stream: enough for the last errors, bounded however long a suite runs. */
const KEEP_CHARS = 64 * 1024;
const READY = /roster worker is processing jobs/;

/** Every worker child still running; killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A `roster worker` process the harness supervises: stopped and restarted on demand, its death reported. */
export interface TestWorker {
  /** Spawns the process and resolves once it says it is processing jobs (jobs wait in the queue until then). */
  start(): Promise<void>;
  /**
   * SIGTERM (once a start in progress has settled), SIGKILL after a grace period; rejects if the
   * process died, never became ready or did not exit cleanly.
   */
  stop(): Promise<void>;
  /** Why to fail, with its output, when the process died without being stopped or never became ready. */
  failure(): Error | undefined;
  /** The running process's id, if one is running. */
  pid(): number | undefined;
  /** What it printed (stdout, where pino logs, and stderr), the last 64 kB of each. */
  output(): string;
}

function tail(text: string): string {
  return text.length > KEEP_CHARS ? text.slice(-KEEP_CHARS) : text;
}

/**
 * The environment of the worker: the test's settings only. ROSTER_* and NODE_ENV of the shell
 * running the tests are dropped, so the worker sees exactly the config the in-process app was built with.
 */
function workerEnv(settings: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('ROSTER_') && name !== 'NODE_ENV') env[name] = value;
  }
  // The ready line is logged at info.
  return { ...env, ...settings, ROSTER_LOG_LEVEL: 'info' };
}

/** A `roster worker` (CLI from spawn-server.ts) with these ROSTER_* settings; call `start()`. */
export function testWorker(
  settings: Record<string, string>,
  options: { readyTimeoutMs?: number; stopTimeoutMs?: number } = {},
): TestWorker {
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stdout = '';
  let stderr = '';
  let stopping = false;
  let died: Error | undefined;

  const output = () => `--- worker stdout ---\n${stdout}\n--- worker stderr ---\n${stderr}`;

  let starting: Promise<void> | undefined;

  function start(): Promise<void> {
    if (child) return Promise.reject(new Error('the test worker is already running'));
    starting = spawnAndWait();
    return starting;
  }

  async function spawnAndWait(): Promise<void> {
    stdout = '';
    stderr = '';
    stopping = false;
    died = undefined;
    const spawned = spawn(process.execPath, [...CLI, 'worker'], {
      cwd: ROOT,
      env: workerEnv(settings),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = spawned;
    live.add(spawned);
    spawned.stdout!.on('data', (chunk: Buffer) => (stdout = tail(stdout + chunk.toString('utf8'))));
    spawned.stderr!.on('data', (chunk: Buffer) => (stderr = tail(stderr + chunk.toString('utf8'))));
    spawned.on(
      'error',
      (error) => (died ??= new Error(`the roster worker process could not be started: ${error.message}`)),
    );
    exited = new Promise<void>((resolve) => {
      spawned.on('exit', (code, signal) => {
        live.delete(spawned);
        if (child === spawned) child = undefined;
        if (!stopping) {
          died = new Error(
            `the roster worker process (pid ${spawned.pid}) died unexpectedly with ${signal ?? `exit code ${code}`}\n${output()}`,
          );
          process.stderr.write(`${died.message}\n`);
        } else if (code !== 0) {
          died = new Error(
            `the roster worker process (pid ${spawned.pid}) did not stop cleanly after SIGTERM (${signal ?? `exit code ${code}`})\n${output()}`,
          );
        }
        resolve();
      });
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (!READY.test(stdout)) {
      if (died) throw died;
      if (Date.now() > deadline) {
        const late = new Error(`the roster worker process did not start within ${readyTimeoutMs} ms\n${output()}`);
        await halt().catch(() => undefined);
        died = late;
        throw late;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function stop(): Promise<void> {
    await starting?.catch(() => undefined);
    await halt();
  }

  async function halt(): Promise<void> {
    const running = child;
    if (running) {
      stopping = true;
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    if (died) throw died;
  }

  return { start, stop, failure: () => died, pid: () => child?.pid, output };
}
