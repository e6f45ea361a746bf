import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rosterInvocation } from '../../src/cli/invocation.js';

describe('the command roster prints for its follow-ups', () => {
  test('run from a shell it is roster', () => {
    assert.equal(rosterInvocation({ PATH: '/usr/bin' }), 'roster');
  });

  test('started by npm (npx, npm exec, an npm script) it is npx roster', () => {
    const npx = { npm_command: 'exec', npm_lifecycle_event: 'npx', npm_execpath: '/usr/lib/npm-cli.js' };
    assert.equal(
      rosterInvocation({ ...npx, npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64' }),
      'npx roster',
    );
    assert.equal(rosterInvocation({ npm_lifecycle_event: 'import-users' }), 'npx roster');
  });

  test('started by pnpm or yarn it names that package manager', () => {
    assert.equal(
      rosterInvocation({ npm_execpath: '/p/pnpm.cjs', npm_config_user_agent: 'pnpm/9.1.0 npm/? node/v20' }),
      'pnpm exec roster',
    );
    assert.equal(
      rosterInvocation({ npm_execpath: '/y/yarn.js', npm_config_user_agent: 'yarn/1.22.22 npm/? node/v20' }),
      'yarn roster',
    );
  });
});
