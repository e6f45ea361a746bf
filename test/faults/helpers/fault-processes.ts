import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawnCommand, spawnServer, type SpawnedServer } from '../../helpers/spawn-server.js';
import { E2E_MASTER_KEY } from '../../helpers/e2e-tenant.js';
import { onProcessExit } from '../../helpers/exit-cleanup.js';

/**
 * What the process-level handler (src/process-guard.ts) logs before exiting on an unhandled
 * rejection ("fatal: unhandled rejection") or an uncaught exception ("fatal: uncaught exception").
 */
export const FATAL_LINE = /fatal: (?:unhandled|uncaught)/;

/** What the harness needs of a spawned process: the child and everything it printed. */
export interface WatchedProcess {
  child: ChildProcess;
  output(): string;
}

/** Kills `child` (SIGKILL) if the test process exits first, so a failed test leaves no roster running. */
export function killOnExit(child: ChildProcess): void {
  const unregister = onProcessExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.once('exit', unregister);
}

/** `roster serve` (test/helpers/spawn-server.ts) with the e2e master key, killed at process exit; `output()` joins stdout and stderr. */
export async function spawnFaultServer(
  env: Record<string, string>,
  dataDir?: string,
  args: string[] = ['serve'],
): Promise<SpawnedServer & WatchedProcess> {
  const server = await spawnServer({ ROSTER_MASTER_KEY: E2E_MASTER_KEY, ...env }, dataDir, args);
  killOnExit(server.child);
  return { ...server, output: () => `${server.stdout()}${server.stderr()}` };
}

/**
 * A `roster worker` with these settings, ready to claim jobs and killed at process exit; added to
 * `fleet` (when given) so the test can check or stop every worker it started.
 */
export async function spawnFaultWorker(env: Record<string, string>, fleet?: WatchedProcess[]): Promise<WatchedProcess> {
  const worker = await spawnCommand(['worker'], env, /processing jobs/);
  killOnExit(worker.child);
  fleet?.push(worker);
  return worker;
}

/** Kills (SIGKILL) every process of `fleet` still running: a test's clean-up. */
export function killAll(fleet: WatchedProcess[]): void {
  for (const member of fleet) if (isAlive(member.child)) member.child.kill('SIGKILL');
}

/** True while the process runs (it may be stopped by SIGSTOP). */
export function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Asserts the process is still running and never printed the process guard's fatal line. */
export function assertAliveAndClean(name: string, watched: WatchedProcess): void {
  assert.ok(
    isAlive(watched.child),
    `${name} died (${watched.child.signalCode ?? `exit code ${watched.child.exitCode}`}):\n${watched.output().slice(-4000)}`,
  );
  assertNoFatal(name, watched);
}

/** Asserts the process never printed the process guard's fatal line (whether or not it still runs). */
export function assertNoFatal(name: string, watched: WatchedProcess): void {
  const output = watched.output();
  const at = output.search(FATAL_LINE);
  assert.equal(at, -1, `${name} logged ${FATAL_LINE}:\n${output.slice(Math.max(0, at - 500), at + 2000)}`);
}

/**
 * Waits until `read()` (a process's output) matches `pattern` after character `from` (so a marker
 * printed before the fault does not count); answers the match. Fails past `timeoutMs`.
 */
export async function waitForOutput(
  read: () => string,
  pattern: RegExp,
  options: { from?: number; timeoutMs?: number } = {},
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const match = read()
      .slice(options.from ?? 0)
      .match(pattern);
    if (match) return match;
    if (Date.now() > deadline)
      throw new Error(
        `output did not match ${pattern} within ${options.timeoutMs ?? 30_000} ms:\n${read().slice(-4000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Freezes the process (SIGSTOP): it keeps its sockets and leases but does nothing, like a long GC pause or a stalled VM. */
export function pause(child: ChildProcess): void {
  assert.ok(child.pid !== undefined && isAlive(child), 'cannot pause a process that is not running');
  process.kill(child.pid, 'SIGSTOP');
}

/** Lets a paused process run again (SIGCONT). */
export function resume(child: ChildProcess): void {
  assert.ok(child.pid !== undefined && isAlive(child), 'cannot resume a process that is not running');
  process.kill(child.pid, 'SIGCONT');
}

/** One HTTP answer reduced to what fault tests check; status 0 when the request itself failed (refused, reset). */
export interface Answer {
  status: number;
  /** `error.code` of the envelope, the socket error's code when status is 0, else undefined. */
  code: string | undefined;
  retryAfter: string | null;
  body: unknown;
  /** Milliseconds since the epoch when the answer came. */
  at: number;
}

/** Fetch options; `dispatcher` is an undici Agent to send through (default: the global one). */
export type AskInit = Omit<RequestInit, 'dispatcher'> & { dispatcher?: object };

/** Sends a request and answers its status, error code and Retry-After; never throws. */
export async function ask(url: string, init: AskInit = {}, timeoutMs = 10_000): Promise<Answer> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) } as RequestInit);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
    return {
      status: response.status,
      code: typeof code === 'string' ? code : undefined,
      retryAfter: response.headers.get('retry-after'),
      body,
      at: Date.now(),
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return {
      status: 0,
      code: cause?.code ?? (error as Error).name,
      retryAfter: null,
      body: (error as Error).message,
      at: Date.now(),
    };
  }
}

/** A probe run in a loop in the background; `stop()` ends the loop and answers every result seen, in order (or the probe's error). */
export interface Recorder<T> {
  /** Everything seen so far. */
  seen(): T[];
  stop(): Promise<T[]>;
}

/**
 * Runs `probe` again and again (a pause of `intervalMs` between runs) until stopped, keeping every
 * result: a test asserts on the whole history (e.g. a lookup never answered 500 during the fault).
 * Always stop it (in a `finally`): a running recorder keeps the test process alive.
 */
export function record<T>(probe: () => Promise<T>, intervalMs = 100): Recorder<T> {
  const results: T[] = [];
  let running = true;
  let failure: unknown;
  // A probe that throws ends the loop; the error comes out of stop(), never as an unhandled rejection.
  const loop = (async () => {
    try {
      while (running) {
        results.push(await probe());
        if (running) await new Promise((resolve) => setTimeout(resolve, intervalMs));
      }
    } catch (error) {
      failure = error;
    }
  })();
  return {
    seen: () => results,
    async stop() {
      running = false;
      await loop;
      if (failure !== undefined) throw failure;
      return results;
    },
  };
}

/** Counts of each distinct value, e.g. `{"200": 14, "503 service_unavailable": 6}`: readable in an assertion message and in the report. */
export function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const name = answer.code && answer.status !== 200 ? `${answer.status} ${answer.code}` : String(answer.status);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
