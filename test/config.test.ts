import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';

describe('config', () => {
  it('defaults to embedded storage on 127.0.0.1:8080 under ./data', () => {
    const config = loadConfig({}, '/srv/roster');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, '/srv/roster/data');
    assert.equal(config.databaseUrl, undefined);
    assert.ok(Object.isFrozen(config));
  });

  it('lists every problem at once', () => {
    assert.throws(
      () => loadConfig({ ROSTER_PORT: 'eighty', ROSTER_DATABASE_URL: 'mysql://x', ROSTER_MASTER_KEY: 'short', ROSTER_LOG_LEVEL: 'loud' }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 4,
    );
  });

  it('refuses a master key that looks like an org key', () => {
    assert.throws(() => loadConfig({ ROSTER_MASTER_KEY: 'rk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }), ConfigError);
  });
});
