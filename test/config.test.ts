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
      () =>
        loadConfig({
          ROSTER_PORT: 'eighty',
          ROSTER_DATABASE_URL: 'mysql://x',
          ROSTER_MASTER_KEY: 'short',
          ROSTER_LOG_LEVEL: 'loud',
        }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 4,
    );
  });

  it('keeps 64 MB free on the data folder’s disk unless told otherwise (0 turns it off)', () => {
    assert.equal(loadConfig({}).diskReserveBytes, 64 * 1024 * 1024);
    assert.equal(loadConfig({ ROSTER_DISK_RESERVE_MB: '0' }).diskReserveBytes, 0);
    assert.equal(loadConfig({ ROSTER_DISK_RESERVE_MB: '512' }).diskReserveBytes, 512 * 1024 * 1024);
    assert.throws(() => loadConfig({ ROSTER_DISK_RESERVE_MB: '-1' }), ConfigError);
  });

  it('refuses a master key that looks like an org key', () => {
    assert.throws(() => loadConfig({ ROSTER_MASTER_KEY: 'rk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }), ConfigError);
  });

  it('bounds CSV rows at 1 MiB for cohorts and batches alike, and never below the field length', () => {
    const config = loadConfig({});
    assert.equal(config.cohorts.maxRowBytes, 1024 * 1024);
    assert.equal(config.batches.maxRowBytes, 1024 * 1024);
    assert.equal(
      loadConfig({ ROSTER_MAX_ROW_BYTES: '4096', ROSTER_MAX_FIELD_LENGTH: '4096' }).batches.maxRowBytes,
      4096,
    );
    assert.throws(
      () => loadConfig({ ROSTER_MAX_ROW_BYTES: '4096', ROSTER_MAX_FIELD_LENGTH: '8192' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /ROSTER_MAX_ROW_BYTES \(4096\) must be at least ROSTER_MAX_FIELD_LENGTH \(8192\)/.test(error.message),
    );
    assert.throws(() => loadConfig({ ROSTER_MAX_ROW_BYTES: '100' }), /ROSTER_MAX_ROW_BYTES must be between 1024/);
  });
});
