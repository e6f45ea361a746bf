import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, ROOT } from './spawn-server.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunner {
  /** Runs `roster <args>` as a process (from the sources, through tsx) and collects its output. */
  roster(...args: string[]): Promise<CliResult>;
  /** Runs a command that must succeed with --json and parses what it printed. */
  rosterJson<T = Record<string, unknown>>(...args: string[]): Promise<T>;
}

/** The CLI as a user runs it; `env` is read at each run, so a suite can set it up in before(). */
export function cliRunner(env: () => NodeJS.ProcessEnv): CliRunner {
  async function roster(...args: string[]): Promise<CliResult> {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  }
  async function rosterJson<T>(...args: string[]): Promise<T> {
    const result = await roster(...args, '--json');
    assert.equal(result.code, 0, `roster ${args.join(' ')} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }
  return { roster, rosterJson };
}
