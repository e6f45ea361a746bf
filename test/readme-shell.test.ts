import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliScript } from './helpers/cli.js';
import { ROOT, type SpawnedServer, spawnServer } from './helpers/spawn-server.js';

// The README's `sh` blocks a new user pastes, in order, on the embedded path (SQLite, one machine).
// Every other block is skipped by the heading it sits under, for the reason given here, and printed.
const SKIPPED_HEADINGS: Record<string, string> = {
  '## Two commands': 'npm ci / npm start / npm test: installing and starting is what the test itself does',
  '## Running on PostgreSQL': 'needs a PostgreSQL server (createdb), not the embedded path',
  '### Running at scale: separate API and worker processes': 'PostgreSQL, S3 and Redis processes',
  '## Performance': 'the benchmark: minutes of CPU and the Debian floors (sqlite3, psql)',
  '## Cohort retention':
    'needs the master key, which the embedded path prints once and the blocks do not keep (test/http/cohort-retention.test.ts covers it)',
  '## Webhooks':
    'a local receiver needs the server started with ROSTER_URL_SOURCE_ALLOW_HOSTS=127.0.0.1 (test/http/webhooks.test.ts runs the same flow)',
};

// Commands the README says exit non-zero on the example files, with the status it gives.
const DOCUMENTED_EXITS = [
  // "exit 0 when no row would be rejected, 3 when any would": 7 of examples/cohort-users.csv's 10 rows are.
  /^exit 3 from: npx roster cohorts validate /,
];

// Comment lines that illustrate an answer the test cannot reproduce: a large file part-way through,
// and the calls a lease hands out, which depend on the clock (the batch's calling window).
const ILLUSTRATIVE = /"progress":|"bytes_total":|"leaseId":/;

interface Block {
  heading: string;
  line: number;
  text: string;
}

/** The README's `sh` blocks, each with the nearest heading above it and its line number. */
function shellBlocks(readme: string): Block[] {
  const blocks: Block[] = [];
  const lines = readme.split('\n');
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) {
      const end = lines.indexOf('```', i + 1);
      if (line === '```sh') blocks.push({ heading, line: i + 1, text: lines.slice(i + 1, end).join('\n') });
      i = end;
    } else if (/^#{1,4} /.test(line)) heading = line;
  }
  return blocks;
}

/**
 * The `"key":value` pairs of the README's answers that a run must reproduce: numbers, booleans and
 * strings, but not ids, timestamps or values elided with `…`.
 */
function expectedPairs(block: string): string[] {
  const pairs: string[] = [];
  for (const line of block.split('\n')) {
    if (!line.startsWith('#') || ILLUSTRATIVE.test(line)) continue;
    for (const [pair, value] of line.matchAll(/"[A-Za-z_]+":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)/g)) {
      const v = value ?? '';
      if (/…|\.\.\.|^"[0-9a-f]{24}"$|^"coh-|^"\d{4}-\d\d-\d\dT/.test(v)) continue;
      pairs.push(pair);
    }
  }
  return pairs;
}

/**
 * The lines of the CLI's printed answers a run must reproduce, whitespace collapsed: `key: value`
 * lines (`total:    10`) and the rejection table's `code rows first-row` lines; not ids or `…`.
 */
function expectedLines(block: string): string[] {
  return block
    .split('\n')
    .filter((line) => /^#\s+[a-z_]+:\s+\S|^#\s+[a-z_]+\s+\d+\s+\d+$/.test(line) && !/…|coh-|[0-9a-f]{24}/.test(line))
    .map((line) => collapse(line.slice(1)));
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Runs `script` with bash in `cwd`; resolves with its exit code and output. */
function bash(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-c', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the README shell blocks of the embedded path run as pasted against `roster serve`', () => {
  let server: SpawnedServer;
  let dataDir: string;
  let workDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'roster-readme-data-'));
    workDir = await mkdtemp(path.join(os.tmpdir(), 'roster-readme-cwd-'));
    await symlink(path.join(ROOT, 'examples'), path.join(workDir, 'examples'));
    // What `npm ci` gives the clone: the package's `roster` bin, which `npx roster` runs.
    const bin = path.join(workDir, 'node_modules/.bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'roster'), cliScript(), { mode: 0o755 });
    server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '', ROSTER_JOB_POLL_MS: '100' }, dataDir);
  });

  after(async () => {
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('each block exits 0 and answers what its comments show, ids and timestamps aside', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    // The keys the first start printed, as the README tells the user to copy them.
    const key = /\b(rk_[A-Za-z0-9_-]+)/.exec(server.stdout())?.[1];
    assert.ok(key, `no demo API key in the first start's output:\n${server.stdout()}`);
    const masterKey = /\b(rmk_[A-Za-z0-9_-]+)/.exec(server.stdout())?.[1];
    assert.ok(masterKey, `no master key in the first start's output:\n${server.stdout()}`);
    const setKey = (text: string) =>
      text.replaceAll('rmk_…', masterKey).replaceAll('rk_…', key).replaceAll('http://127.0.0.1:8080', server.url);

    const run: Block[] = [];
    for (const block of shellBlocks(readme)) {
      const skipped = SKIPPED_HEADINGS[block.heading];
      if (skipped !== undefined) console.log(`skipped README line ${block.line} (${block.heading}): ${skipped}`);
      else run.push(block);
    }
    assert.ok(run.length >= 4, 'fewer README blocks than the embedded flow has');

    // One shell for all the blocks, as a reader pastes them one after the other; each block's
    // output and status are kept apart. A failing command is recorded, whatever the block's last.
    const script = run
      .map(
        (block, i) =>
          `exec >"$OUT/${i}.out" 2>"$OUT/${i}.err"; trap 'echo "exit $? from: $BASH_COMMAND" >>"$OUT/${i}.fail"' ERR\n` +
          `${setKey(block.text)}\necho $? >"$OUT/${i}.rc"\n`,
      )
      .join('');
    const outDir = path.join(workDir, '.out');
    await rm(outDir, { recursive: true, force: true });
    await bash('mkdir -p .out', workDir);
    await writeFile(path.join(workDir, '.readme.sh'), `set -o pipefail\nOUT=${outDir}\n${script}`);
    const result = await bash('. ./.readme.sh', workDir);
    assert.equal(result.code, 0, result.stderr);

    for (const [i, block] of run.entries()) {
      const read = (ext: string) => readFile(path.join(outDir, `${i}.${ext}`), 'utf8').catch(() => '');
      const [stdout, stderr, rc, fail] = await Promise.all([read('out'), read('err'), read('rc'), read('fail')]);
      const where = `README line ${block.line} (${block.heading}):\n${stdout}\n${stderr}`;
      assert.equal(rc.trim(), '0', `exit status ${rc.trim() || 'none'}: ${where}`);
      const failed = fail.split('\n').filter((line) => line && !DOCUMENTED_EXITS.some((exit) => exit.test(line)));
      assert.deepEqual(failed, [], `a command failed: ${where}`);
      for (const pair of expectedPairs(block.text))
        assert.ok(stdout.includes(pair), `no ${pair} in the answer: ${where}`);
      const printed = collapse(stdout);
      for (const line of expectedLines(block.text)) assert.ok(printed.includes(line), `no "${line}" printed: ${where}`);
      const shown = expectedPairs(block.text).length + expectedLines(block.text).length;
      console.log(`ran README line ${block.line} (${block.heading}): ${shown} fields and lines as shown`);
    }
  });
});
