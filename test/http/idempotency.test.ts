import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG } from '../helpers/cohorts.js';
import { vendorFields } from '../helpers/batches.js';
import { type Answer, cohortForm as formOf, formBytes, send } from '../helpers/idempotent-requests.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const COHORTS = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
const CSV = 'mobile,name,balance,payment_due,preferred_language\n9876543210,Asha,10,2026-01-01,Hindi\n';
const cohortForm = (csv = CSV) => formOf(csv);

for (const backend of await backends()) {
  describe(`Idempotency-Key on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let globex: SeededTenant;
    let base: string;

    before(async () => {
      t = await createTestApp(backend, { ROSTER_IDEMPOTENCY_LEASE_MS: '600' });
      acme = await seedTenant(t, 'acme');
      globex = await seedTenant(t, 'globex');
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await t?.close();
    });

    const upload = async (key: string | undefined, csv = CSV, apiKey = acme.apiKey, path = `${COHORTS}/upload`) => {
      const form = await cohortForm(csv);
      return send(base, 'POST', path, { key: apiKey, idempotencyKey: key, ...form });
    };
    const json = (method: string, path: string, body: unknown, key: string | undefined, apiKey = acme.apiKey) =>
      send(base, method, path, {
        key: apiKey,
        idempotencyKey: key,
        body: JSON.stringify(body),
        type: 'application/json',
      });
    const cohortCount = async (org = 'acme') =>
      Number(
        (
          await t.backing.storage.db
            .selectFrom('cohorts')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('org_id', '=', org)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const keyRow = (key: string) =>
      t.backing.storage.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('idempotency_key', '=', key)
        .executeTakeFirst();

    it('answers a repeated upload (a new boundary, the same parts) with the first answer, byte for byte, and makes one cohort', async () => {
      const before = await cohortCount();
      const first = await upload('upload-1');
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers['idempotent-replayed'], undefined);
      const again = await upload('upload-1');
      assert.equal(again.status, 200, again.text);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.text, first.text);
      assert.equal(again.headers['content-type'], first.headers['content-type']);
      assert.equal(await cohortCount(), before + 1);
      // Without a key, the same upload makes another cohort.
      assert.equal((await upload(undefined)).status, 200);
      assert.equal(await cohortCount(), before + 2);
    });

    it('refuses the key with another file, another path or another method (422 idempotency_key_reused)', async () => {
      assert.equal((await upload('upload-2')).status, 200);
      const before = await cohortCount();
      const otherFile = await upload('upload-2', `${CSV}9876543211,Ravi,5,2026-01-01,Hindi\n`);
      assert.equal(otherFile.status, 422, otherFile.text);
      assert.equal(JSON.parse(otherFile.text).error.code, 'idempotency_key_reused');
      assert.match(JSON.parse(otherFile.text).error.message, /upload-2.*this route with a different body/);
      const users = [{ user_phone_number: '+919876543218', app_variables: { customer_name: 'A' } }];
      const otherPath = await json('POST', `${COHORTS}/stream`, { name: 'x', users }, 'upload-2');
      assert.equal(otherPath.status, 422, otherPath.text);
      assert.equal(JSON.parse(otherPath.text).error.code, 'idempotency_key_reused');
      assert.match(
        JSON.parse(otherPath.text).error.message,
        /first used for POST \/v1\/orgs\/acme\/.*\/cohorts\/upload\./,
      );
      assert.equal(await cohortCount(), before);
    });

    it('keeps keys per org: another org with the same key gets its own cohort', async () => {
      assert.equal((await upload('shared-key')).status, 200);
      const before = await cohortCount('globex');
      const theirs = await upload('shared-key', CSV, globex.apiKey, `${COHORTS.replace('acme', 'globex')}/upload`);
      assert.equal(theirs.status, 200, theirs.text);
      assert.equal(theirs.headers['idempotent-replayed'], undefined);
      assert.equal(await cohortCount('globex'), before + 1);
    });

    it('lets the key go after a refusal, so the corrected request can use it', async () => {
      const form = await formBytes([
        ['name', 'No config'],
        ['cohort_file', CSV, 'users.csv'],
      ]);
      const refused = await send(base, 'POST', `${COHORTS}/upload`, {
        key: acme.apiKey,
        idempotencyKey: 'fix-me',
        ...form,
      });
      assert.equal(refused.status, 422, refused.text);
      assert.equal(await keyRow('fix-me'), undefined);
      const fixed = await upload('fix-me');
      assert.equal(fixed.status, 200, fixed.text);
      assert.equal(fixed.headers['idempotent-replayed'], undefined);
    });

    it('answers 409 idempotency_in_progress while the first request is still being read, then the first answer', async () => {
      const before = await cohortCount();
      let release!: () => void;
      const hold = new Promise<void>((resolve) => {
        release = resolve;
      });
      const form = await cohortForm();
      const first = send(base, 'POST', `${COHORTS}/upload`, {
        key: acme.apiKey,
        idempotencyKey: 'slow',
        ...form,
        hold,
      });
      for (let i = 0; i < 200 && (await keyRow('slow')) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
      // Longer than the lease: the first request renews its claim while it waits for its body.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const meanwhile = await upload('slow');
      assert.equal(meanwhile.status, 409, meanwhile.text);
      assert.equal(JSON.parse(meanwhile.text).error.code, 'idempotency_in_progress');
      release();
      const answered = await first;
      assert.equal(answered.status, 200, answered.text);
      const after = await upload('slow');
      assert.equal(after.headers['idempotent-replayed'], 'true');
      assert.equal(after.text, answered.text);
      assert.equal(await cohortCount(), before + 1);
    });

    it('replays every JSON create and the other uploads, creating each thing once', async () => {
      const stream = {
        name: 'Streamed',
        users: [{ user_phone_number: '+919876543219', app_variables: { customer_name: 'A' } }],
      };
      const createBatch = {
        batchName: 'Idem batch',
        callingNumbers: [acme.phoneNumberId],
        retry: 1,
        delay: 60,
        timezone: 'Asia/Kolkata',
      };
      const cases: Array<{ name: string; run: (key: string) => Promise<Answer>; count: () => Promise<number> }> = [
        {
          name: 'cohort stream',
          run: (key) => json('POST', `${COHORTS}/stream`, stream, key),
          count: () => cohortCount(),
        },
        {
          name: 'cohort from a URL',
          run: (key) =>
            json(
              'POST',
              COHORTS,
              {
                name: 'Hosted',
                source: { type: 'pre_signed_url', url: 'https://files.example/u.csv' },
                cohort_transformation: SEED_CONFIG,
              },
              key,
            ),
          count: () => cohortCount(),
        },
        {
          name: 'createBatch',
          run: (key) => json('POST', '/api/call/createBatch', createBatch, key),
          count: () => tableCount('batches'),
        },
        {
          name: 'batch upload',
          run: async (key) => {
            const fields = vendorFields(acme.userId, acme.phoneNumberId);
            const form = await formBytes([
              ['file', 'phoneNumber,customer_name\n+14155550123,A\n', 'calls.csv'],
              ...Object.entries(fields).map(([k, v]) => [k, v] as [string, string]),
            ]);
            return send(base, 'POST', '/api/call/upload', { key: acme.apiKey, idempotencyKey: key, ...form });
          },
          count: () => tableCount('batches'),
        },
        {
          name: 'DNC add',
          run: (key) => json('POST', '/api/call/dnc', { phoneNumbers: ['+14155550188'] }, key),
          count: () => tableCount('dnc_numbers'),
        },
        {
          name: 'DNC upload',
          run: async (key) => {
            const form = await formBytes([['file', 'phoneNumber\n+14155550189\n', 'dnc.csv']]);
            return send(base, 'POST', '/api/call/dnc/upload', { key: acme.apiKey, idempotencyKey: key, ...form });
          },
          count: () => tableCount('dnc_numbers'),
        },
      ];
      for (const c of cases) {
        const before = await c.count();
        const first = await c.run(`json-${c.name}`);
        assert.ok(first.status >= 200 && first.status < 300, `${c.name}: ${first.status} ${first.text}`);
        const again = await c.run(`json-${c.name}`);
        assert.equal(again.status, first.status, c.name);
        assert.equal(again.headers['idempotent-replayed'], 'true', c.name);
        assert.equal(again.text, first.text, c.name);
        assert.equal(await c.count(), before + 1, c.name);
        // The whole request was hashed (a form to its last part), so another body would be refused.
        assert.match((await keyRow(`json-${c.name}`))?.request_hash ?? '', /^[0-9a-f]{64}$/, c.name);
      }
      // addCallsToBatch on the batch createBatch made.
      const batchId = (JSON.parse((await cases[2]!.run('json-createBatch')).text) as { data: string }).data;
      const add = (key: string) =>
        json(
          'POST',
          '/api/call/addCallsToBatch',
          { batchId, callData: [{ phoneNumber: '+14155550150', customer_name: 'B' }] },
          key,
        );
      const added = await add('add-calls');
      assert.equal(added.status, 200, added.text);
      const again = await add('add-calls');
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.text, added.text);
    });

    async function tableCount(table: 'batches' | 'dnc_numbers'): Promise<number> {
      const row = await t.backing.storage.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }

    it('refuses a key that is not 1–255 printable characters', async () => {
      for (const key of ['x'.repeat(256), 'tab\there']) {
        const answer = await json('POST', `${COHORTS}/stream`, { name: 'x', users: [] }, key);
        assert.equal(answer.status, 422, answer.text);
        assert.equal(JSON.parse(answer.text).error.code, 'validation_failed');
      }
    });

    it('forgets a key past its retention: the request then runs again', async () => {
      assert.equal((await upload('old-key')).status, 200);
      await t.backing.storage.db
        .updateTable('idempotency_keys')
        .set({ expires_at: '2000-01-01T00:00:00.000Z' })
        .where('idempotency_key', '=', 'old-key')
        .execute();
      const before = await cohortCount();
      const later = await upload('old-key');
      assert.equal(later.status, 200, later.text);
      assert.equal(later.headers['idempotent-replayed'], undefined);
      assert.equal(await cohortCount(), before + 1);
    });

    it('answers the cohort a request created when its answer could not be kept, once its lease has passed', async () => {
      const db = t.backing.storage.db;
      // The answer cannot be stored (as when the process dies between creating and answering).
      if (backend.name === 'sqlite')
        await sql`CREATE TRIGGER refuse_answers BEFORE UPDATE OF response_status ON idempotency_keys
          WHEN NEW.response_status IS NOT NULL BEGIN SELECT RAISE(ABORT, 'no answers'); END`.execute(db);
      else {
        await sql`CREATE FUNCTION refuse_answers() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.response_status IS NOT NULL THEN RAISE EXCEPTION 'no answers'; END IF; RETURN NEW; END $$`.execute(
          db,
        );
        await sql`CREATE TRIGGER refuse_answers BEFORE UPDATE ON idempotency_keys
          FOR EACH ROW EXECUTE FUNCTION refuse_answers()`.execute(db);
      }
      const before = await cohortCount();
      let first: Answer;
      try {
        first = await upload('lost-answer');
        assert.equal(first.status, 200, first.text);
        const row = await keyRow('lost-answer');
        assert.equal(row?.response_status, null);
        assert.equal(row?.recovery_status, 200);
        // Within the lease the key is still held.
        assert.equal((await upload('lost-answer')).status, 409);
        await new Promise((resolve) => setTimeout(resolve, 700));
        // Another body is still refused.
        assert.equal((await upload('lost-answer', `${CSV}9876543211,R,1,x,Hindi\n`)).status, 422);
      } finally {
        await sql`DROP TRIGGER refuse_answers${sql.raw(backend.name === 'sqlite' ? '' : ' ON idempotency_keys')}`.execute(
          db,
        );
        if (backend.name !== 'sqlite') await sql`DROP FUNCTION refuse_answers()`.execute(db);
      }
      const recovered = await upload('lost-answer');
      assert.equal(recovered.status, 200, recovered.text);
      assert.equal(recovered.headers['idempotent-replayed'], 'true');
      assert.equal(recovered.text, first.text);
      const stored = await upload('lost-answer');
      assert.equal(stored.text, first.text);
      assert.equal(stored.headers['idempotent-replayed'], 'true');
      assert.equal(await cohortCount(), before + 1);
    });
  });
}
