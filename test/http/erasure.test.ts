import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { text } from 'node:stream/consumers';
import { backends } from '../helpers/backends.js';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { SEED_CONFIG, uploadCohort, waitForCohort } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { type Delivery, until, webhookReceiver } from '../helpers/webhook-receiver.js';

const WS = '/v1/orgs/acme/workspaces/main';
const INBOUND = `${WS}/deployments/inbound`;
const FOLLOW_UP = `${WS}/deployments/follow-up`;
const HEADER = 'mobile,name,balance,payment_due,preferred_language';
// The number erased, and its digits as a file may hold them in any of its forms.
const TARGET = '+919876500001';
const TARGET_DIGITS = '9876500001';

interface Erasure {
  erasure_id: string;
  status: string;
  phone_numbers: number;
  removed: Record<string, number>;
  files_rewritten: number;
  files_deleted: number;
  cohorts_pending: number;
  error: unknown;
}

/** Lines of a text that hold the target's digits, whatever separates them. */
function linesWithTarget(content: string): string[] {
  return content.split(/\r?\n/).filter((line) => line.replace(/\D/g, '').includes(TARGET_DIGITS));
}

for (const backend of await backends()) {
  describe(`erasure requests on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const clock = new Date('2026-12-07T15:00:00Z'); // a Monday, 10:00 in New York: calls can be leased

    before(async () => {
      t = await createTestApp(
        backend,
        { ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1', ROSTER_JOB_POLL_MS: '50', ROSTER_WEBHOOK_RETRY_BASE_MS: '100' },
        { now: () => clock },
      );
      acme = await seedTenant(t, 'acme');
      await seedTenant(t, 'globex');
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const second = await t.call('POST', `${WS}/deployments`, {
        body: { deployment_id: 'follow-up', name: 'Follow-up', agent_id: 'collections', default_country: 'IN' },
      });
      assert.equal(second.statusCode, 201, second.body);
    });
    after(async () => {
      await t?.close();
    });

    async function upload(deployment: string, name: string, rows: string[], wait = true): Promise<string> {
      const response = await uploadCohort(base, `${deployment}/cohorts/upload`, acme.apiKey, {
        name,
        csv: `${HEADER}\n${rows.join('\n')}\n`,
        config: SEED_CONFIG,
      });
      const body = (await response.json()) as { cohort_id: string };
      assert.equal(response.status, 200, JSON.stringify(body));
      if (wait) {
        const done = await waitForCohort(t, `${deployment}/cohorts/${body.cohort_id}`, acme.apiKey);
        assert.equal(done.status, 'completed', JSON.stringify(done));
      }
      return body.cohort_id;
    }
    const lookup = async (deployment: string, phone: string) =>
      (await t.call('GET', `${deployment}/callers/${encodeURIComponent(phone)}`, { key: acme.apiKey })).json() as {
        found: boolean;
        cohort_id?: string;
      };
    const download = (deployment: string, cohortId: string, type: string) =>
      t.call('GET', `${deployment}/cohorts/${cohortId}/files?file_type=${type}`, { key: acme.apiKey });
    const erase = (body: unknown, key = acme.apiKey) => t.call('POST', `${WS}/erasure`, { key, body });
    const erasure = async (id: string) =>
      (await t.call('GET', `${WS}/erasure/${id}`, { key: acme.apiKey })).json() as Erasure;
    const completed = (id: string) =>
      until(`erasure ${id} completed`, async () => {
        const now = await erasure(id);
        return now.status === 'processing' ? undefined : now;
      });

    /** Every stored object of a cohort, read back from the store itself (disk or S3), by key. */
    async function storedFiles(cohortId: string): Promise<Map<string, string>> {
      const keys = t.s3
        ? await t.s3.listKeys(`cohorts/${cohortId}/`)
        : await readdir(path.join(t.backing.dataDir, 'blobs', 'cohorts', cohortId), { recursive: true }).then(
            (names) => names.map((name) => `cohorts/${cohortId}/${name}`),
            () => [],
          );
      const files = new Map<string, string>();
      for (const key of keys) {
        const local = path.join(t.backing.dataDir, 'blobs', key);
        if (
          !t.s3 &&
          !(await readFile(local).then(
            () => true,
            () => false,
          ))
        )
          continue; // a folder
        files.set(key, await text(await t.blobs.get(key)));
      }
      return files;
    }

    it('removes a number from every deployment, batch, call log, delivery and stored file, and nothing else', async () => {
      const hook = await webhookReceiver();
      const events = () => hook.received.map((r) => JSON.parse(r.body) as Delivery['event']);
      try {
        const subscribed = await t.call('POST', `${WS}/webhooks`, {
          key: acme.apiKey,
          body: { url: hook.url, events: ['call.reported', 'erasure.completed'] },
        });
        assert.equal(subscribed.statusCode, 201, subscribed.body);
        const inbound = await upload(INBOUND, 'Inbound', [
          '9876500001,Asha,10,01/01/2026,Hindi',
          '9876500002,Ravi,20,01/01/2026,Hindi',
          // Refused (no name): the number is in the rejection file, written as the file had it.
          '+91 98765 00001,,5,01/01/2026,Hindi',
          '9876500003,"Mehta, Priya",30,01/01/2026,Hindi',
        ]);
        const followUp = await upload(FOLLOW_UP, 'Follow-up', [
          '09876500004,Kiran,1,01/01/2026,Tamil',
          '+919876500001,Asha again,2,01/01/2026,Tamil',
        ]);
        // A cohort without the number: its files are read, not written.
        const clean = await upload(INBOUND, 'Clean', ['9876500005,Dev,1,01/01/2026,Hindi']);
        const cleanBefore = await storedFiles(clean);

        const batch = await uploadBatch(
          base,
          acme.apiKey,
          { name: 'c.csv', content: `phoneNumber,customer_name\n${TARGET},Asha\n+919876500002,Ravi\n` },
          vendorFields(acme.userId, acme.phoneNumberId, { retry: '0' }),
        );
        assert.equal(batch.status, 200, JSON.stringify(batch.body));
        const batchId = (batch.body.batch as { _id: string })._id;
        const leased = await t.call('POST', '/api/call/dialer/lease', {
          key: acme.apiKey,
          body: { max: 5, lease_seconds: 60 },
        });
        const calls = (leased.json() as { calls: Array<{ callId: string; leaseId: string; phoneNumber: string }> })
          .calls;
        const targetCall = calls.find((c) => c.phoneNumber.replace(/\D/g, '').endsWith(TARGET_DIGITS));
        assert.ok(targetCall, leased.body);
        const reported = await t.call('POST', '/api/call/dialer/report', {
          key: acme.apiKey,
          body: { callId: targetCall.callId, leaseId: targetCall.leaseId, callStatus: 'completed', callDuration: 30 },
        });
        assert.equal(reported.statusCode, 200, reported.body);
        await until('the call.reported delivery', async () => events().find((e) => e.type === 'call.reported'));

        // In another tenant, the same number stays.
        const globex = await t.call('PUT', `/v1/orgs/globex/workspaces/main/deployments/inbound/callers/${TARGET}`, {
          body: { app_variables: { customer_name: 'Globex Asha' } },
        });
        assert.equal(globex.statusCode, 200, globex.body);

        const answer = await erase({ phone_numbers: ['09876500001', '+91 98765 00001'], country: 'in' });
        assert.equal(answer.statusCode, 202, answer.body);
        const first = answer.json() as Erasure;
        assert.equal(first.phone_numbers, 1, 'the two spellings are one number');
        assert.equal(answer.headers.location, `${WS}/erasure/${first.erasure_id}`);
        // The database part is done when the answer arrives.
        assert.deepEqual(
          { contacts: first.removed.contacts, calls: first.removed.calls, call_logs: first.removed.call_logs },
          { contacts: 2, calls: 1, call_logs: 1 },
        );
        assert.equal(first.removed.webhook_deliveries, 1, 'the call.reported delivery named the number');
        assert.equal((await lookup(INBOUND, TARGET)).found, false);
        assert.equal((await lookup(FOLLOW_UP, TARGET)).found, false);
        assert.equal((await lookup(INBOUND, '+919876500002')).cohort_id, inbound);
        assert.equal((await lookup(FOLLOW_UP, '+919876500004')).cohort_id, followUp);
        const globexLookup = await t.call(
          'GET',
          `/v1/orgs/globex/workspaces/main/deployments/inbound/callers/${TARGET}`,
        );
        assert.equal((globexLookup.json() as { found: boolean }).found, true);

        const details = await t.call('GET', `/api/call/batch-details/${batchId}`, { key: acme.apiKey });
        const detail = details.json() as { data: { total: number; data: Array<{ phoneNumber: string }> } };
        assert.deepEqual(
          detail.data.data.map((c) => c.phoneNumber),
          ['919876500002'],
        );
        const listed = await t.call('GET', '/api/call/batches', { key: acme.apiKey });
        assert.ok(!listed.body.includes(TARGET_DIGITS), listed.body);
        const deliveries = await t.call(
          'GET',
          `${WS}/webhooks/${(subscribed.json() as { webhook_id: string }).webhook_id}/deliveries`,
          {
            key: acme.apiKey,
          },
        );
        assert.ok(!deliveries.body.includes(TARGET_DIGITS), 'no stored delivery names the number');

        const done = await completed(first.erasure_id);
        assert.equal(done.status, 'completed', JSON.stringify(done));
        assert.deepEqual(done.removed, {
          contacts: 2,
          calls: 1,
          call_logs: 1,
          webhook_deliveries: 1,
          cohort_file_rows: 3,
          rejected_file_rows: 1,
        });
        assert.equal(done.files_rewritten, 3, 'the two source files and one rejection file');
        assert.equal(done.files_deleted, 0);
        assert.equal(done.cohorts_pending, 0);

        // Downloads, and the store itself, hold the number nowhere; everyone else is still there.
        const source = await download(INBOUND, inbound, 'cohort');
        assert.equal(source.statusCode, 200, source.body);
        assert.deepEqual(linesWithTarget(source.body), []);
        assert.deepEqual(source.body.trim().split(/\r?\n/), [
          HEADER,
          '9876500002,Ravi,20,01/01/2026,Hindi',
          '9876500003,"Mehta, Priya",30,01/01/2026,Hindi',
        ]);
        const rejected = await download(INBOUND, inbound, 'rejected_records');
        assert.equal(rejected.statusCode, 200, rejected.body);
        assert.deepEqual(
          rejected.body
            .replace(/^\ufeff/, '')
            .trim()
            .split(/\r?\n/),
          [`${HEADER},rejected_reason`],
        );
        const followSource = await download(FOLLOW_UP, followUp, 'cohort');
        assert.deepEqual(followSource.body.trim().split(/\r?\n/), [HEADER, '09876500004,Kiran,1,01/01/2026,Tamil']);
        for (const cohortId of [inbound, followUp]) {
          const stored = await storedFiles(cohortId);
          assert.ok(stored.size >= 1, `cohort ${cohortId} has files`);
          for (const [key, content] of stored) assert.deepEqual(linesWithTarget(content), [], key);
        }
        assert.deepEqual(await storedFiles(clean), cleanBefore, 'a file without the number is left as it was');
        // The cohorts count what they still serve.
        const inboundRow = (await t.call('GET', `${INBOUND}/cohorts/${inbound}`, { key: acme.apiKey })).json() as {
          result: { valid_records: number };
        };
        assert.equal(inboundRow.result.valid_records, 2);

        const event = await until('the erasure.completed delivery', async () =>
          events().find((e) => e.type === 'erasure.completed'),
        );
        assert.equal(event.data.erasure_id, first.erasure_id);
        assert.equal(event.data.status, 'completed');
        assert.ok(!JSON.stringify(event).includes(TARGET_DIGITS), 'the event does not name the number');

        const page = await t.call('GET', `${WS}/erasure`, { key: acme.apiKey });
        assert.equal(page.statusCode, 200, page.body);
        assert.equal((page.json() as { items: Erasure[] }).items[0]!.erasure_id, first.erasure_id);
        assert.ok(!page.body.includes(TARGET_DIGITS), 'the request does not keep the numbers');
      } finally {
        await hook.close();
      }
    });

    it('waits for a cohort still processing, which never publishes the number; its downloads wait too', async () => {
      await t.jobs.stop();
      let restarted = false;
      try {
        const pending = await upload(
          INBOUND,
          'Still processing',
          ['9876500001,Asha,10,01/01/2026,Hindi', '9876500006,Isha,1,01/01/2026,Hindi'],
          false,
        );
        const answer = await erase({ phone_numbers: [TARGET] });
        assert.equal(answer.statusCode, 202, answer.body);
        const first = answer.json() as Erasure;
        assert.equal(first.status, 'processing');
        assert.ok(first.cohorts_pending >= 1);
        const blocked = await download(INBOUND, pending, 'cohort');
        assert.equal(blocked.statusCode, 409, blocked.body);
        assert.equal((blocked.json() as { error: { code: string } }).error.code, 'erasure_in_progress');
        await t.jobs.start();
        restarted = true;
        const row = await waitForCohort(t, `${INBOUND}/cohorts/${pending}`, acme.apiKey);
        assert.equal(row.status, 'completed');
        assert.equal((await lookup(INBOUND, TARGET)).found, false);
        assert.equal((await lookup(INBOUND, '+919876500006')).cohort_id, pending);
        const done = await completed(first.erasure_id);
        assert.equal(done.status, 'completed', JSON.stringify(done));
        assert.equal(done.removed.contacts, 1, 'dropped when the cohort was published');
        assert.equal(done.removed.cohort_file_rows, 1);
        const got = (await t.call('GET', `${INBOUND}/cohorts/${pending}`, { key: acme.apiKey })).json() as {
          result: { valid_records: number };
        };
        assert.equal(got.result.valid_records, 1);
        const source = await download(INBOUND, pending, 'cohort');
        assert.equal(source.statusCode, 200, source.body);
        assert.deepEqual(linesWithTarget(source.body), []);
        for (const [key, content] of await storedFiles(pending)) assert.deepEqual(linesWithTarget(content), [], key);
      } finally {
        if (!restarted) await t.jobs.start();
      }
    });

    it('refuses numbers it cannot read, naming them, and erases nothing; another tenant cannot reach it', async () => {
      const bad = await erase({ phone_numbers: [TARGET, '12', 'not a number'] });
      assert.equal(bad.statusCode, 422, bad.body);
      const envelope = bad.json() as {
        error: { code: string; message: string; data: { details: { invalid: unknown[] } } };
      };
      assert.equal(envelope.error.code, 'invalid_phone_number');
      assert.equal(envelope.error.data.details.invalid.length, 2);
      assert.match(envelope.error.message, /index 1/);
      const empty = await erase({ phone_numbers: [] });
      assert.equal(empty.statusCode, 422, empty.body);
      const country = await erase({ phone_numbers: ['9876500001'], country: 'ZZ' });
      assert.equal(country.statusCode, 422, country.body);
      assert.match(country.body, /\/body\/country/);
      const globexKey = (await seedTenant(t, 'initech')).apiKey;
      const foreign = await erase({ phone_numbers: [TARGET] }, globexKey);
      assert.equal(foreign.statusCode, 404, foreign.body);
      const listed = (await t.call('GET', `${WS}/erasure`, { key: acme.apiKey })).json() as { total: number };
      const again = await t.call('GET', `${WS}/erasure/er_nope`, { key: acme.apiKey });
      assert.equal(again.statusCode, 404, again.body);
      assert.equal(listed.total, 2, 'only the two requests of the tests before');
    });

    it('writes a rewritten file in the encoding it was uploaded in', async () => {
      const rows = (name: string) => [
        HEADER,
        `9876500001,${name},1,01/01/2026,Hindi`,
        `9876500008,${name} Other,2,01/01/2026,Hindi`,
      ];
      const latin = rows('Zoë');
      const utf16 = rows('Zoë 日本');
      const uploads = [
        { encoding: 'windows-1252', bytes: Buffer.from(`${latin.join('\r\n')}\r\n`, 'latin1') },
        {
          encoding: 'utf-16le',
          bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${utf16.join('\n')}\n`, 'utf16le')]),
        },
      ];
      const ids: string[] = [];
      for (const file of uploads) {
        const response = await uploadCohort(base, `${INBOUND}/cohorts/upload`, acme.apiKey, {
          name: file.encoding,
          csv: file.bytes,
          config: SEED_CONFIG,
        });
        const body = (await response.json()) as { cohort_id: string };
        assert.equal(response.status, 200, JSON.stringify(body));
        assert.equal((await waitForCohort(t, `${INBOUND}/cohorts/${body.cohort_id}`, acme.apiKey)).status, 'completed');
        ids.push(body.cohort_id);
      }
      const answer = await erase({ phone_numbers: [TARGET] });
      assert.equal(answer.statusCode, 202, answer.body);
      const done = await completed((answer.json() as Erasure).erasure_id);
      assert.equal(done.removed.cohort_file_rows, 2, JSON.stringify(done));
      const latinFile = await download(INBOUND, ids[0]!, 'cohort');
      assert.equal(latinFile.headers['content-type'], 'text/csv; charset=windows-1252');
      assert.deepEqual(latinFile.rawPayload.toString('latin1').trim().split('\r\n'), [latin[0], latin[2]]);
      const utf16File = await download(INBOUND, ids[1]!, 'cohort');
      assert.equal(utf16File.headers['content-type'], 'text/csv; charset=utf-16le');
      assert.deepEqual([...utf16File.rawPayload.subarray(0, 2)], [0xff, 0xfe], 'with its byte-order mark');
      assert.deepEqual(utf16File.rawPayload.subarray(2).toString('utf16le').trim().split('\r\n'), [utf16[0], utf16[2]]);
    });
  });
}
