import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { packageVersion } from '../../src/cli/package-version.js';
import { cliRunner } from '../helpers/cli.js';
import { ROOT } from '../helpers/spawn-server.js';

const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };

describe('roster --version', () => {
  const { roster } = cliRunner(() => process.env);

  test('--version and -V print the version in package.json and exit 0', async () => {
    const [long, short] = await Promise.all([roster('--version'), roster('-V')]);
    assert.deepEqual(long, { code: 0, stdout: `${manifest.version}\n`, stderr: '' });
    assert.deepEqual(short, { code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  test('the version is found from the build (dist/src/cli) as from the sources', () => {
    const built = pathToFileURL(path.join(ROOT, 'dist/src/cli/index.js')).href;
    assert.equal(packageVersion(built), manifest.version);
  });

  test("installed in another project, roster's own package.json answers, not the project's", async () => {
    const project = await mkdtemp(path.join(tmpdir(), 'roster-installed-'));
    try {
      const installed = path.join(project, 'node_modules/roster');
      await mkdir(path.join(installed, 'dist/src/cli'), { recursive: true });
      await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'app', version: '7.0.0' }));
      await writeFile(path.join(installed, 'package.json'), JSON.stringify({ name: 'roster', version: '1.2.3' }));
      assert.equal(packageVersion(pathToFileURL(path.join(installed, 'dist/src/cli/index.js')).href), '1.2.3');
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
