import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FORMAT_FUNCTION_NAMES } from '../src/domain/ingest/format-chain.js';
import { ROW_REJECTION_CODE_NAMES } from '../src/domain/ingest/row-rejection.js';
import { ERROR_CATALOGUE } from '../src/errors.js';
import { ROOT, spawnServer } from './helpers/spawn-server.js';

describe('docs stay in sync with the code', () => {
  it('the README lists every error code with its status', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      assert.match(readme, new RegExp(`\\| \`${code}\` \\| ${entry.status} \\|`), `README misses ${code}`);
    }
  });

  it('.env.example names every setting config.ts reads, and nothing else', async () => {
    const source = await readFile(path.join(ROOT, 'src/config.ts'), 'utf8');
    const example = await readFile(path.join(ROOT, '.env.example'), 'utf8');
    const read = new Set([...source.matchAll(/'((?:ROSTER_|NODE_ENV)[A-Z_]*)'/g)].map((m) => m[1]));
    const listed = new Set([...example.matchAll(/^#?\s*((?:ROSTER_|NODE_ENV)[A-Z_]*)=/gm)].map((m) => m[1]));
    assert.deepEqual([...read].sort(), [...listed].sort());
  });

  it('the README configuration table names every setting', async () => {
    const source = await readFile(path.join(ROOT, 'src/config.ts'), 'utf8');
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const [, name] of source.matchAll(/'((?:ROSTER_|NODE_ENV)[A-Z_]*)'/g)) {
      assert.match(readme, new RegExp(`^\\|[^\\n]*\`${name}\``, 'm'), `README configuration misses ${name}`);
    }
  });

  it("the README's webhook verification is examples/verify-webhook.mjs's, word for word", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const example = await readFile(path.join(ROOT, 'examples/verify-webhook.mjs'), 'utf8');
    const start = example.indexOf('/**\n * True when');
    const verify = example.slice(start, example.indexOf('\n}\n', start) + 3);
    assert.ok(start >= 0 && verify.includes('export function verifyRosterSignature'), 'the example lost its function');
    assert.ok(readme.includes(verify), 'README shows another verifyRosterSignature than examples/verify-webhook.mjs');
  });

  it('the README documents every row rejection code, and no other', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Row rejection codes'), readme.indexOf('## Batches'));
    const listed = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed, ROW_REJECTION_CODE_NAMES);
  });

  it('the README documents every format function', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const name of FORMAT_FUNCTION_NAMES)
      assert.match(readme, new RegExp(`^\\| [^|]*\`${name}\``, 'm'), `README misses format ${name}`);
  });
});

/** The README's code blocks in one language, in order. */
function codeBlocks(readme: string, language: string): string[] {
  return [...readme.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\``, 'gm'))].map((m) => m[1] ?? '');
}

/** The block under a README heading (the first of that language after it). */
function blockAfter(readme: string, heading: string, language: string): string {
  const at = readme.indexOf(`${heading}\n`);
  assert.ok(at >= 0, `README has no heading ${heading}`);
  const block = codeBlocks(readme.slice(at), language)[0];
  assert.ok(block !== undefined, `no ${language} block after ${heading}`);
  return block;
}

// Variables every shell (or login) sets: a README line assigning one would change the reader's shell.
const SHELL_VARIABLES = [
  'USER',
  'HOME',
  'PATH',
  'PWD',
  'OLDPWD',
  'SHELL',
  'LOGNAME',
  'HOSTNAME',
  'UID',
  'IFS',
  'LANG',
  'TERM',
];

describe('the README shell blocks run as pasted, in order', () => {
  it('use only variables an earlier line (or the same block) sets, and set none the shell already sets', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const assigned = new Set<string>();
    for (const block of codeBlocks(readme, 'sh')) {
      const lines = block.split('\n').map((line) => line.replace(/(^|\s)#.*$/, ''));
      for (const line of lines) {
        // `NAME=…` and `export A=… B=…` at the start of a command, and `for NAME in`.
        const exported = /^\s*export\s+(.*)$/.exec(line)?.[1];
        const words = exported ?? /^\s*((?:[A-Za-z_]\w*=\S*\s*)+)/.exec(line)?.[1] ?? '';
        for (const [, name] of words.matchAll(/(?:^|\s)([A-Za-z_]\w*)=/g)) assigned.add(name ?? '');
        for (const [, name] of line.matchAll(/\bfor\s+([A-Za-z_]\w*)\s+in\b/g)) assigned.add(name ?? '');
      }
      for (const [, name] of block.matchAll(/\$\{?([A-Za-z_]\w*)/g))
        assert.ok(assigned.has(name ?? ''), `README uses $${name} before any line sets it:\n${block}`);
    }
    for (const name of SHELL_VARIABLES) assert.ok(!assigned.has(name), `a README block sets the shell's own $${name}`);
  });

  it('"Running at scale" waits for /readyz to answer 200, a bounded number of tries, instead of sleeping', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const block = blockAfter(readme, '### Running at scale: separate API and worker processes', 'sh');
    assert.doesNotMatch(block, /^\s*sleep \d+\s*$/m, 'a fixed sleep before the checks');
    assert.match(block, /for \w+ in \$\(seq \d+\); do curl -sf [^\n]*\/readyz" && break; sleep [\d.]+; done/);
  });
});

/** The first JSON object that starts right after `marker` in `text` (braces balanced; the README's answers hold no braces in strings). */
function objectAfter(text: string, marker: string): string | undefined {
  const at = text.indexOf(`${marker}{`);
  if (at === -1) return undefined;
  const start = at + marker.length;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

describe('the README cohort example is what examples/ holds and what a server answers', () => {
  it('the config under "Transformation config" is examples/cohort-transformation.json', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const example = JSON.parse(await readFile(path.join(ROOT, 'examples/cohort-transformation.json'), 'utf8'));
    assert.deepEqual(JSON.parse(blockAfter(readme, '### Transformation config', 'json')), example);
  });

  it('uploading the README config with examples/cohort-users.csv to a server gives the counts, rejections and lookup the README shows', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const flow = blockAfter(readme, '### The flow, with the files in `examples/`', 'sh');
    // The answers the README shows: comment lines, a JSON answer possibly wrapped over several.
    const shown = flow
      .split('\n')
      .filter((line) => line.startsWith('#'))
      .map((line) => line.replace(/^# ?/, ''));
    const result = JSON.parse(objectAfter(shown.join(''), '"result":') ?? 'null') as {
      total_records: number;
      rejected_records: number;
    } | null;
    assert.ok(result, 'the README flow shows no result');
    const callerStart = shown.findIndex((line) => line.startsWith('{"found":true'));
    const caller = JSON.parse(shown.slice(callerStart).join('').trim()) as Record<string, unknown>;
    const header = shown.findIndex((line) => line.endsWith(',rejected_reason'));
    const rejectedShown = shown.slice(header + 1, header + 1 + result.rejected_records);

    const server = await spawnServer({ ROSTER_DATABASE_URL: '', ROSTER_S3_ENDPOINT: '' });
    try {
      const key = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1] ?? '';
      assert.ok(key, server.stdout());
      const base = `${server.url}/v1/orgs/demo/workspaces/default/deployments/demo`;
      const get = (url: string) => fetch(`${base}${url}`, { headers: { 'x-api-key': key } });
      const form = new FormData();
      form.set('name', 'April Users Batch 1');
      form.set('cohort_file', new Blob([await readFile(path.join(ROOT, 'examples/cohort-users.csv'))]), 'users.csv');
      form.set(
        'cohort_transformation_file',
        new Blob([blockAfter(readme, '### Transformation config', 'json')], { type: 'application/json' }),
        'map.json',
      );
      const accepted = await fetch(`${base}/cohorts/upload`, {
        method: 'POST',
        headers: { 'x-api-key': key },
        body: form,
      });
      const cohort = (await accepted.json()) as { cohort_id: string; status: string; result: unknown };
      assert.equal(accepted.status, 200, JSON.stringify(cohort));
      let current = cohort;
      for (const deadline = Date.now() + 30_000; current.status === 'processing'; ) {
        assert.ok(Date.now() < deadline, 'the cohort is still processing after 30 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
        current = (await (await get(`/cohorts/${cohort.cohort_id}`)).json()) as typeof cohort;
      }
      assert.equal(current.status, 'completed', JSON.stringify(current));
      assert.deepEqual(current.result, result);

      const file = (await (await get(`/cohorts/${cohort.cohort_id}/files?file_type=rejected_records`)).text())
        .replace(/^\uFEFF/, '')
        .replaceAll('"', '');
      const rows = file.trimEnd().split(/\r?\n/);
      assert.equal(rows[0], shown[header]);
      assert.equal(rows.length - 1, rejectedShown.length);
      for (const [index, line] of rejectedShown.entries()) {
        // The README shortens some rows with "...": each part it shows is in the row, in order.
        const pattern = line
          .split(/\s*\.\.\.\s*/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*');
        assert.match(rows[index + 1] ?? '', new RegExp(`^${pattern}`), `rejected row ${index + 1}`);
      }

      const found = (await (await get('/callers/9876543210')).json()) as Record<string, unknown>;
      for (const name of ['found', 'phone_number', 'cohort_name', 'user_identifier', 'app_variables', 'app_overrides'])
        assert.deepEqual(found[name], caller[name], name);
    } finally {
      await server.stop();
    }
  });
});
