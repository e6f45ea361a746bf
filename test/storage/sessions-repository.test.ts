import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as keys from '../../src/storage/repositories/keys-repository.js';
import * as sessions from '../../src/storage/repositories/sessions-repository.js';
import * as orgs from '../../src/storage/repositories/orgs-repository.js';
import * as users from '../../src/storage/repositories/users-repository.js';
import { backends, type TestStorage } from '../helpers/backends.js';

const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const USER = 'b'.repeat(24);

function session(tokenHash: string, overrides: Partial<sessions.SessionRow> = {}): sessions.SessionRow {
  return {
    token_hash: tokenHash,
    key_id: 'key-s',
    is_master: 0,
    key_hash: 'k'.repeat(64),
    created_at: at(0),
    expires_at: at(100),
    ...overrides,
  };
}

for (const backend of await backends()) {
  describe(`sessions repository contract on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestStorage;
    before(async () => {
      t = await backend.open();
      await orgs.insertOrg(t.storage.db, { org_id: 'org-s', name: 'S', created_at: at(0) });
      await users.insertUser(t.storage.db, {
        user_id: USER,
        org_id: 'org-s',
        email: 'ops@example.com',
        name: null,
        created_at: at(0),
      });
      await keys.insertApiKey(t.storage.db, {
        key_id: 'key-s',
        org_id: 'org-s',
        user_id: USER,
        name: 'k',
        prefix: 'rk_SESSIONSKEY',
        key_hash: 'c'.repeat(64),
        workspaces: ['main'],
        created_at: at(0),
      });
    });
    after(async () => {
      await t?.cleanup();
    });

    it('finds a live session joined with its key and the key’s user as they are now', async () => {
      await sessions.insertSession(t.storage.db, session('h-live'));
      const row = await sessions.findLiveSessionWithKey(t.storage.db, 'h-live', at(50));
      assert.ok(row);
      assert.equal(row.key_id, 'key-s');
      assert.equal(Number(row.is_master), 0);
      assert.equal(row.key_hash, 'k'.repeat(64));
      assert.equal(row.org_id, 'org-s');
      assert.equal(row.user_id, USER);
      assert.deepEqual(row.workspaces, ['main']);
      assert.equal(row.user_email, 'ops@example.com');
      assert.equal(row.current_key_hash, 'c'.repeat(64));
      assert.equal(await sessions.findLiveSessionWithKey(t.storage.db, 'h-unknown', at(50)), undefined);
    });

    it('does not find a session at or after its expiry', async () => {
      assert.equal(await sessions.findLiveSessionWithKey(t.storage.db, 'h-live', at(100)), undefined);
      assert.equal(await sessions.findLiveSessionWithKey(t.storage.db, 'h-live', at(101)), undefined);
    });

    it('finds a master-key session with null key columns', async () => {
      await sessions.insertSession(t.storage.db, session('h-master', { key_id: null, is_master: 1 }));
      const master = await sessions.findLiveSessionWithKey(t.storage.db, 'h-master', at(1));
      assert.equal(Number(master?.is_master), 1);
      assert.equal(master?.org_id, null);
      assert.equal(master?.user_email, null);
      assert.equal(master?.current_key_hash, null);
    });

    it('a session goes with the key it was signed in with', async () => {
      await keys.insertApiKey(t.storage.db, {
        key_id: 'key-t',
        org_id: 'org-s',
        user_id: USER,
        name: 't',
        prefix: 'rk_SESSIONSTMP',
        key_hash: 'd'.repeat(64),
        workspaces: '*',
        created_at: at(0),
      });
      await sessions.insertSession(t.storage.db, session('h-temp', { key_id: 'key-t' }));
      assert.equal((await sessions.findLiveSessionWithKey(t.storage.db, 'h-temp', at(1)))?.workspaces, '*');
      assert.equal(await keys.deleteApiKey(t.storage.db, 'org-s', 'key-t'), true);
      assert.equal(await sessions.findLiveSessionWithKey(t.storage.db, 'h-temp', at(1)), undefined);
    });

    it('sweeps only the sessions that expired before the given time', async () => {
      await sessions.insertSession(t.storage.db, session('h-old', { expires_at: at(10) }));
      await sessions.insertSession(t.storage.db, session('h-older', { expires_at: at(5) }));
      assert.equal(await sessions.deleteExpiredSessions(t.storage.db, at(10)), 1, 'expiring at the instant stays');
      assert.equal(await sessions.deleteExpiredSessions(t.storage.db, at(11)), 1);
      assert.ok(await sessions.findLiveSessionWithKey(t.storage.db, 'h-live', at(11)), 'a live session stays');
    });

    it('deletes one session by its token hash, once', async () => {
      assert.equal(await sessions.deleteSession(t.storage.db, 'h-live'), true);
      assert.equal(await sessions.findLiveSessionWithKey(t.storage.db, 'h-live', at(1)), undefined);
      assert.equal(await sessions.deleteSession(t.storage.db, 'h-live'), false);
      assert.ok(await sessions.findLiveSessionWithKey(t.storage.db, 'h-master', at(1)), 'others stay');
    });
  });
}
