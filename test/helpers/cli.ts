import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onProcessExit } from './exit-cleanup.js';
import { CLI, ROOT } from './spawn-server.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunner {
  /** Runs `roster <args>` as a process (CLI: built, or the sources through tsx) and collects its output. */
  roster(...args: string[]): Promise<CliResult>;
  /** Runs a command that must succeed with --json and parses what it printed. */
  rosterJson<T = Record<string, unknown>>(...args: string[]): Promise<T>;
  /**
   * Runs `roster <args>` on a terminal: util-linux's `script` gives it a pseudo-terminal 160 columns
   * wide, so what it draws only for people (progress bars) is drawn. Both streams arrive as one, with
   * the terminal's carriage returns and escape sequences.
   */
  rosterOnTerminal(...args: string[]): Promise<CliResult>;
}

// What npm puts in the environment of what it starts. A suite run by `npm test` inherits them; roster
// reads them to tell how it was started, so the runner drops them to run it as from a plain shell.
const NPM_INVOCATION = ['npm_execpath', 'npm_command', 'npm_lifecycle_event', 'npm_config_user_agent'];

function fromShell(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = { ...env };
  for (const name of NPM_INVOCATION) delete clean[name];
  return clean;
}

async function collect(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** The CLI as a user runs it; `env` is read at each run, so a suite can set it up in before(). */
export function cliRunner(env: () => NodeJS.ProcessEnv): CliRunner {
  async function roster(...args: string[]): Promise<CliResult> {
    return collect(process.execPath, [...CLI, ...args], fromShell(env()), ROOT);
  }
  async function rosterJson<T>(...args: string[]): Promise<T> {
    const result = await roster(...args, '--json');
    assert.equal(result.code, 0, `roster ${args.join(' ')} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }
  async function rosterOnTerminal(...args: string[]): Promise<CliResult> {
    const command = [process.execPath, ...CLI, ...args].map(shellQuote).join(' ');
    return collect('script', ['-qefc', `stty cols 160 rows 40; exec ${command}`, '/dev/null'], fromShell(env()), ROOT);
  }
  return { roster, rosterJson, rosterOnTerminal };
}

/** A word as `sh` reads it back, for building command lines. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `roster` as a shell script (an installed package's bin): runs CLI with this test's node. */
export function cliScript(): string {
  return `#!/bin/sh\nexec ${[process.execPath, ...CLI].map(shellQuote).join(' ')} "$@"\n`;
}

export interface NpxProject {
  /** The project folder: `npx roster` run in it finds roster in its node_modules/.bin. */
  dir: string;
  /** Runs a command line with `sh -c` in the project folder, e.g. one roster printed. */
  sh(commandLine: string): Promise<CliResult>;
}

/**
 * A project folder where roster is installed as a dependency's bin (cliScript), so that the real
 * `npx roster …` works in it as it does where roster is installed: npx runs the bin with npm's
 * variables set. Removed when the test process ends.
 */
export function npxProject(env: () => NodeJS.ProcessEnv): NpxProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'roster-npx-'));
  onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'node_modules', '.bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'roster'), cliScript());
  chmodSync(path.join(bin, 'roster'), 0o755);
  return { dir, sh: (commandLine) => collect('sh', ['-c', commandLine], fromShell(env()), dir) };
}
