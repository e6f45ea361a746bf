import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as XLSX from '@e965/xlsx';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { insertDnc } from '../../src/storage/repositories/dnc-repository.js';
import { backends } from '../helpers/backends.js';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { batchVendorError } from '../helpers/error-envelopes.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const CSV =
  'phoneNumber,customer_name,outstanding_amount,account_id\n9811000001,Asha,100,A1\n+919811000002,Ben,200,B2\n09811000001,Asha again,1,A3\n9811000003,Chitra,300,C3\n';

function errorOf(body: Record<string, unknown>) {
  const error = batchVendorError(body);
  return { code: error.code, message: error.message, data: { details: error.details } };
}

for (const backend of await backends({ scaleOut: true })) {
  describe(`batch upload and details on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let globex: SeededTenant;
    let base: string;
    let numberId: string;
    // Monday 2026-12-07 10:00 in New York.
    const clock = new Date('2026-12-07T15:00:00Z');
    before(async () => {
      t = await createTestApp(backend, {}, { now: () => clock });
      acme = await seedTenant(t, 'acme');
      globex = await seedTenant(t, 'globex');
      const number = await t.call('POST', '/v1/orgs/acme/workspaces/main/phone-numbers', {
        body: { phone_number: '+918000000001', agent_id: 'collections' },
      });
      numberId = (number.json() as { _id: string })._id;
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it("accepts the vendor's example request with a CSV and answers its shape", async () => {
      const { status, body } = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'contacts.csv', content: CSV },
        vendorFields(acme.userId, numberId),
      );
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.success, true);
      const batch = body.batch as { _id: string; batchName: string; callingNumbers: string[]; totalCalls: number };
      assert.match(batch._id, /^[0-9a-f]{24}$/);
      assert.equal(batch.batchName, 'Marketing Campaign May 2025');
      assert.deepEqual(batch.callingNumbers, [numberId]);
      assert.equal(batch.totalCalls, 3);
      assert.deepEqual(body.skipped, { invalid: 0, duplicate: 1, dnc: 0 });
      const details = await t.call(
        'GET',
        `/api/call/batch-details/${batch._id}?limit=2&sortBy=phoneNumber&sortOrder=asc`,
        { key: null, headers: { authorization: `Bearer ${acme.apiKey}` } },
      );
      assert.equal(details.statusCode, 200, details.body);
      const data = (
        details.json() as {
          data: { total: number; totalPages: number; batchStatus: string; data: Array<Record<string, unknown>> };
        }
      ).data;
      assert.equal(data.total, 3);
      assert.equal(data.totalPages, 2);
      assert.equal(data.batchStatus, 'active');
      assert.equal(data.data[0]!.phoneNumber, '919811000001');
      assert.equal(data.data[0]!.customer_name, 'Asha');
      assert.equal(data.data[0]!.account_id, 'A1', 'extra columns are kept');
      assert.deepEqual(data.data[0]!.phoneLogs, []);
      const search = (
        await t.call('GET', `/api/call/batch-details/${batch._id}?search=chitra`, { key: acme.apiKey })
      ).json() as { data: { total: number } };
      assert.equal(search.data.total, 1, JSON.stringify(search));
      // Search reads values, never the variables' names: every call has a customer_name.
      const byName = (
        await t.call('GET', `/api/call/batch-details/${batch._id}?search=customer`, { key: acme.apiKey })
      ).json() as { data: { total: number } };
      assert.equal(byName.data.total, 0);
      const filtered = (
        await t.call(
          'GET',
          `/api/call/batch-details/${batch._id}?filter=${encodeURIComponent('{"callStatus":"failed"}')}`,
          { key: acme.apiKey },
        )
      ).json() as { data: { total: number } };
      assert.equal(filtered.data.total, 0);
    });

    it("accepts the vendor's example request with an .xlsx and an .xls file, reading numbers as people see them", async () => {
      const rows: Array<[number | string, string, number, Date]> = [
        [9811600001, 'Asha', 1500.5, new Date(Date.UTC(2024, 6, 31))],
        [919811600002, 'Ben', 200, new Date(Date.UTC(2024, 7, 15))],
        ['09811600001', 'Asha again', 1, new Date(Date.UTC(2024, 7, 15))],
      ];
      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet('Contacts');
      sheet.addRow(['phoneNumber', 'customer_name', 'outstanding_amount', 'due_date']);
      for (const row of rows) sheet.addRow(row);
      sheet.getCell('C4').value = { formula: 'C2*2', result: 3001 };
      workbook.addWorksheet('Ignored').addRow(['nothing', 'here']);
      const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
      const book = XLSX.utils.book_new();
      XLSX.utils.book_append_sheet(
        book,
        XLSX.utils.aoa_to_sheet([['phoneNumber', 'customer_name', 'outstanding_amount', 'due_date'], ...rows], {
          cellDates: true,
        }),
        'Contacts',
      );
      const xls = Buffer.from(XLSX.write(book, { bookType: 'biff8', type: 'buffer' }) as Buffer);
      for (const [name, content] of [
        ['contacts.xlsx', xlsx],
        ['contacts.xls', xls],
      ] as const) {
        const { status, body } = await uploadBatch(
          base,
          acme.apiKey,
          { name, content },
          vendorFields(acme.userId, numberId),
        );
        assert.equal(status, 200, `${name}: ${JSON.stringify(body)}`);
        assert.equal((body.batch as { totalCalls: number }).totalCalls, 2, name);
        assert.deepEqual(body.skipped, { invalid: 0, duplicate: 1, dnc: 0 }, name);
        const details = (
          await t.call(
            'GET',
            `/api/call/batch-details/${(body.batch as { _id: string })._id}?sortBy=phoneNumber&sortOrder=asc`,
            { key: acme.apiKey },
          )
        ).json() as {
          data: { data: Array<Record<string, string>> };
        };
        const [asha, ben] = details.data.data;
        assert.equal(asha!.phoneNumber, '919811600001', name);
        assert.equal(asha!.outstanding_amount, '1500.5', name);
        assert.equal(asha!.due_date, '2024-07-31', name);
        assert.equal(
          ben!.phoneNumber,
          '919811600002',
          `${name}: a 12-digit number stored as a number keeps every digit`,
        );
      }
    });

    it('answers each malformed request with 400 and a precise message', async () => {
      const file = { name: 'c.csv', content: CSV };
      const cases: Array<
        [string, { name: string; content: string } | undefined, Record<string, string>, string, RegExp]
      > = [
        ['missing file', undefined, vendorFields(acme.userId, numberId), 'invalid_batch_field', /file is required/],
        ['empty file', { name: 'c.csv', content: '' }, vendorFields(acme.userId, numberId), 'empty_file', /empty/],
        [
          'invalid batchType',
          file,
          vendorFields(acme.userId, numberId, { batchType: 'inbound' }),
          'invalid_batch_field',
          /batchType must be "outbound" or "mixed"/,
        ],
        ['malformed userId', file, vendorFields('not-an-id', numberId), 'invalid_batch_field', /not a valid user id/],
        [
          'missing fields',
          file,
          { batchType: 'outbound' },
          'invalid_batch_field',
          /userId is required.*batchName is required.*callingNumbers is required/,
        ],
        [
          'unsupported type',
          { name: 'c.txt', content: CSV },
          vendorFields(acme.userId, numberId),
          'unsupported_file_type',
          /\.csv, \.xlsx or \.xls/,
        ],
        [
          'bad callingHour JSON',
          file,
          vendorFields(acme.userId, numberId, { callingHour: '{start:9}' }),
          'invalid_batch_field',
          /callingHour is not valid JSON/,
        ],
        [
          'unknown timezone',
          file,
          vendorFields(acme.userId, numberId, { timezone: 'Mars/Base' }),
          'invalid_batch_field',
          /Mars\/Base/,
        ],
        [
          'days outside 0-6',
          file,
          vendorFields(acme.userId, numberId, { allowedDays: '[1,7]' }),
          'invalid_batch_field',
          /allowedDays/,
        ],
        [
          'retry out of range',
          file,
          vendorFields(acme.userId, numberId, { retry: '50' }),
          'invalid_batch_field',
          /retry/,
        ],
        [
          'missing phoneNumber column',
          { name: 'c.csv', content: 'phone,customer_name\n1,2\n' },
          vendorFields(acme.userId, numberId),
          'missing_columns',
          /phoneNumber/,
        ],
      ];
      for (const [label, f, fields, code, message] of cases) {
        const { status, body } = await uploadBatch(base, acme.apiKey, f, fields);
        assert.equal(status, 400, `${label}: ${JSON.stringify(body)}`);
        assert.equal(errorOf(body).code, code, label);
        assert.match(errorOf(body).message, message, label);
      }
    });

    it('answers 404 for an unknown user, foreign calling numbers and an agent without a language', async () => {
      const file = { name: 'c.csv', content: CSV };
      const user = await uploadBatch(base, acme.apiKey, file, vendorFields('0'.repeat(24), numberId));
      assert.equal(user.status, 404);
      assert.equal(errorOf(user.body).code, 'user_not_found');
      const foreign = await uploadBatch(base, acme.apiKey, file, vendorFields(acme.userId, globex.phoneNumberId));
      assert.equal(foreign.status, 404);
      assert.equal(errorOf(foreign.body).code, 'calling_numbers_not_found');
      await t.call('POST', '/v1/orgs/acme/workspaces/main/agents', {
        body: { agent_id: 'mute', name: 'Mute', variables: [] },
      });
      const mute = (
        await t.call('POST', '/v1/orgs/acme/workspaces/main/phone-numbers', {
          body: { phone_number: '+918000000002', agent_id: 'mute' },
        })
      ).json() as { _id: string };
      const noLanguage = await uploadBatch(base, acme.apiKey, file, vendorFields(acme.userId, mute._id));
      assert.equal(noLanguage.status, 404);
      assert.equal(errorOf(noLanguage.body).code, 'agent_language_missing');
    });

    it('refuses a file with invalid rows when type="false", listing line, column and reason; imports the rest with "true"', async () => {
      const csv = 'phoneNumber,customer_name\n9811100001,Asha\nabc,Ben\n9811100003,\n9811100004,Dev\n';
      const strict = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: csv },
        vendorFields(acme.userId, numberId, { type: 'false' }),
      );
      assert.equal(strict.status, 422);
      const details = errorOf(strict.body).data.details as {
        invalid_count: number;
        rows: Array<{ line: number; column: string; reason: string }>;
      };
      assert.equal(details.invalid_count, 2);
      assert.deepEqual(
        details.rows.map((r) => [r.line, r.column]),
        [
          [3, 'phoneNumber'],
          [4, 'customer_name'],
        ],
      );
      const lenient = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: csv },
        vendorFields(acme.userId, numberId, { type: 'true' }),
      );
      assert.equal(lenient.status, 200);
      assert.equal((lenient.body.batch as { totalCalls: number }).totalCalls, 2);
      assert.deepEqual(lenient.body.skipped, { invalid: 2, duplicate: 0, dnc: 0 });
    });

    it('skips numbers on the do-not-call list only when enableDNC is "true"', async () => {
      await insertDnc(t.backing.storage.db, 'acme', 'main', ['+919811200002'], 'asked', clock.toISOString());
      const csv = 'phoneNumber,customer_name\n9811200001,A\n9811200002,B\n';
      const withDnc = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: csv },
        vendorFields(acme.userId, numberId, { enableDNC: 'true' }),
      );
      assert.deepEqual(withDnc.body.skipped, { invalid: 0, duplicate: 0, dnc: 1 });
      const without = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: csv },
        vendorFields(acme.userId, numberId, { enableDNC: 'false' }),
      );
      assert.equal((without.body.batch as { totalCalls: number }).totalCalls, 2);
    });

    it('leaves no batch behind when an insert fails halfway', async () => {
      const db = t.backing.storage.db;
      const count = async () =>
        Number(
          (
            await db
              .selectFrom('batches')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      const before = await count();
      // A real fault inside the transaction: the database refuses one particular call row.
      if (backend.dialect === 'sqlite') {
        await sql`create trigger refuse_call before insert on calls when new.phone = '+919811300600' begin select raise(abort, 'forced failure'); end`.execute(
          db,
        );
      } else {
        await sql`create function refuse_call() returns trigger language plpgsql as $$ begin if new.phone = '+919811300600' then raise exception 'forced failure'; end if; return new; end $$`.execute(
          db,
        );
        await sql`create trigger refuse_call before insert on calls for each row execute function refuse_call()`.execute(
          db,
        );
      }
      const rows = Array.from({ length: 1000 }, (_, i) => `98113${String(i).padStart(5, '0')},Person ${i}`).join('\n');
      const { status } = await uploadBatch(
        base,
        acme.apiKey,
        { name: 'c.csv', content: `phoneNumber,customer_name\n${rows}\n` },
        vendorFields(acme.userId, numberId),
      );
      await sql`drop trigger refuse_call ${sql.raw(backend.dialect === 'sqlite' ? '' : 'on calls')}`.execute(db);
      assert.equal(status, 500);
      assert.equal(await count(), before);
      const stray = await db.selectFrom('calls').select('call_id').where('phone', 'like', '+9198113%').execute();
      assert.equal(stray.length, 0);
    });

    it("answers 404 for another tenant's batch", async () => {
      const list = (await t.call('GET', '/api/call/batches?limit=1', { key: acme.apiKey })).json() as {
        items: Array<{ _id: string }>;
        total: number;
      };
      assert.ok(list.total >= 1);
      const id = list.items[0]!._id;
      assert.equal((await t.call('GET', `/api/call/batch-details/${id}`, { key: globex.apiKey })).statusCode, 404);
      assert.equal((await t.call('POST', `/api/call/batches/${id}/pause`, { key: globex.apiKey })).statusCode, 404);
      assert.equal(
        ((await t.call('GET', '/api/call/batches', { key: globex.apiKey })).json() as { total: number }).total,
        0,
      );
    });
  });
}
