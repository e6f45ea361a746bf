import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FORMAT_FUNCTION_NAMES } from '../src/domain/ingest/formatters.js';
import { ERROR_CATALOGUE } from '../src/errors.js';
import { ROOT } from './helpers/spawn-server.js';

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

  it('the README documents every format function', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const name of FORMAT_FUNCTION_NAMES) assert.match(readme, new RegExp(`^\\| [^|]*\`${name}\``, 'm'), `README misses format ${name}`);
  });
});
