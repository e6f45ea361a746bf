import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { backends } from '../helpers/backends.js';
import { onProcessExit } from '../helpers/exit-cleanup.js';
import { EXAMPLE_REJECTIONS, SEED_CONFIG, uploadCohort, waitForCohort, type CohortBody } from '../helpers/cohorts.js';
import { ROOT } from '../helpers/spawn-server.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const run = promisify(execFile);
const HEADER = 'mobile,name,balance,payment_due,preferred_language';

function errorOf(body: unknown) {
  return (body as { error: { code: string; message: string; data: { details: unknown } } }).error;
}

for (const backend of await backends({ scaleOut: true })) {
  describe(`cohorts on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let globex: SeededTenant;
    let base: string;
    const cohortsPath = '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts';
    const lookup = (phone: string, key = acme.apiKey) =>
      t.call('GET', `/v1/orgs/acme/workspaces/main/deployments/inbound/callers/${encodeURIComponent(phone)}`, { key });

    async function upload(name: string, csv: string | Buffer, config: unknown = SEED_CONFIG) {
      const response = await uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, { name, csv, config });
      const body = (await response.json()) as CohortBody;
      assert.equal(response.status, 200, JSON.stringify(body));
      return waitForCohort(t, `${cohortsPath}/${body.cohort_id}`, acme.apiKey);
    }

    async function expectRefused(parts: Parameters<typeof uploadCohort>[3], status: number, code: string) {
      const response = await uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, { name: 'Refused', ...parts });
      const body = await response.json();
      assert.equal(response.status, status, JSON.stringify(body));
      assert.equal(errorOf(body).code, code);
      return errorOf(body);
    }

    before(async () => {
      t = await createTestApp(backend, { ROSTER_MAX_UPLOAD_BYTES: '200000', ROSTER_INGEST_BATCH_SIZE: '3' });
      acme = await seedTenant(t, 'acme');
      globex = await seedTenant(t, 'globex');
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await t?.close();
    });

    it("accepts the vendor's curl byte for byte and completes", async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'roster-curl-'));
      onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
      await writeFile(path.join(dir, 'users.csv'), `${HEADER}\n9876543210,Asha,1500,2024-07-31,Hindi\n`);
      await writeFile(path.join(dir, 'config.json'), JSON.stringify(SEED_CONFIG));
      const url = `${base}/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts/upload`;
      const { stdout } = await run(
        'curl',
        [
          '--silent',
          '--request',
          'POST',
          '--url',
          url,
          '--header',
          'Content-Type: multipart/form-data',
          '--header',
          `X-API-Key: ${acme.apiKey}`,
          '--form',
          'name=April Users Batch 1',
          '--form',
          'cohort_file=@users.csv',
          '--form',
          'cohort_transformation_file=@config.json',
        ],
        { cwd: dir },
      );
      const body = JSON.parse(stdout) as CohortBody & { name: string; result: null };
      assert.equal(body.name, 'April Users Batch 1');
      assert.equal(body.status, 'processing');
      assert.equal(body.result, null);
      assert.equal(body.source_type, 'file_upload');
      assert.equal(body.created_by, 'ops@acme.example');
      assert.match(body.cohort_id, /^coh-[a-z0-9]+$/);
      const done = await waitForCohort(
        t,
        `/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts/${body.cohort_id}`,
        acme.apiKey,
      );
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, {
        total_records: 1,
        valid_records: 1,
        rejected_records: 0,
        rejections_by_reason: [],
      });
      const caller = (await lookup('+919876543210')).json() as {
        found: boolean;
        app_variables: Record<string, string>;
        app_overrides: Record<string, string>;
      };
      assert.equal(caller.found, true);
      assert.deepEqual(caller.app_variables, {
        customer_name: 'Asha',
        outstanding_amount: '1500',
        due_date: '2024-07-31',
      });
      assert.deepEqual(caller.app_overrides, { initial_language_name: 'Hindi' });
    });

    it("normalises the seed's three phone forms to one number and rejects the repeats naming the first row", async () => {
      const done = await upload(
        'Phones',
        `${HEADER}\n9811111111,A,1,x,Hindi\n09811111111,B,1,x,Hindi\n+919811111111,C,1,x,Hindi\n`,
      );
      assert.deepEqual(done.result, {
        total_records: 3,
        valid_records: 1,
        rejected_records: 2,
        rejections_by_reason: [{ code: 'duplicate_phone', count: 2, example_row: 3 }],
      });
      const rejected = await t.call('GET', `${cohortsPath}/${done.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.match(rejected.body, /phone \+919811111111 repeats row 2/);
      assert.equal(
        ((await lookup('09811111111')).json() as { app_variables: { customer_name: string } }).app_variables
          .customer_name,
        'A',
      );
    });

    it('rejects bad rows one by one with reasons, keeps the rest, and counts exactly', async () => {
      const csv = await readFile(path.join(ROOT, 'examples/cohort-users.csv'), 'utf8');
      const config = JSON.parse(
        await readFile(path.join(ROOT, 'examples/cohort-transformation.json'), 'utf8'),
      ) as unknown;
      const done = await upload('Examples', csv, config);
      assert.deepEqual(done.result, {
        total_records: 10,
        valid_records: 3,
        rejected_records: 7,
        rejections_by_reason: EXAMPLE_REJECTIONS,
      });
      const file = await t.call('GET', `${cohortsPath}/${done.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      assert.equal(file.statusCode, 200);
      assert.match(String(file.headers['content-type']), /^text\/csv/);
      assert.match(String(file.headers['content-disposition']), /attachment; filename=".*rejected_records\.csv"/);
      const lines = file.body
        .replace(/^\ufeff/, '')
        .trim()
        .split('\r\n');
      assert.equal(lines[0], `${HEADER},rejected_reason`);
      assert.equal(lines.length - 1, 7, file.body);
      assert.match(file.body, /row has 3 fields but the header has 5/);
      assert.match(file.body, /98123/);
      assert.match(file.body, /scientific notation/i);
      assert.match(file.body, /payment_due/);
      // A rejected '+91…' phone is neutralised for spreadsheets.
      assert.match(file.body, /'\+919876543210/);
      const asha = (await lookup('9876543210')).json() as {
        app_variables: Record<string, string>;
        user_identifier: string;
      };
      assert.deepEqual(asha.app_variables, {
        customer_name: 'Asha Verma',
        outstanding_amount: '1500.00',
        due_date: '2024-07-31',
      });
    });

    it('a short and a long row each fill exactly the header plus rejected_reason, last, in the rejection file', async () => {
      const done = await upload(
        'Ragged',
        `${HEADER}\n9811111112,Short,5\n9811111113,Long,1,2024-07-31,Hindi,extra one,=extra two\n`,
      );
      assert.deepEqual(done.result, {
        total_records: 2,
        valid_records: 0,
        rejected_records: 2,
        rejections_by_reason: [{ code: 'wrong_field_count', count: 2, example_row: 2 }],
      });
      const file = await t.call('GET', `${cohortsPath}/${done.cohort_id}/files?file_type=rejected_records`, {
        key: acme.apiKey,
      });
      // What Python's csv.DictReader does: every row keyed by the header, none left over.
      const parsed = Papa.parse<Record<string, string>>(file.body.replace(/^\ufeff/, ''), {
        header: true,
        skipEmptyLines: true,
      });
      assert.deepEqual(parsed.meta.fields, [...HEADER.split(','), 'rejected_reason']);
      assert.deepEqual(parsed.errors, []);
      const [short, long] = parsed.data;
      assert.deepEqual(short, {
        mobile: '9811111112',
        name: 'Short',
        balance: '5',
        payment_due: '',
        preferred_language: '',
        rejected_reason: 'row has 3 fields but the header has 5',
      });
      assert.deepEqual(Object.keys(long ?? {}), [...HEADER.split(','), 'rejected_reason']);
      assert.equal(long?.preferred_language, 'Hindi');
      assert.equal(
        long?.rejected_reason,
        'row has 7 fields but the header has 5; the fields past the last column, left out of this file: "extra one", "=extra two"',
      );
    });

    it('refuses each blocking problem whole with 422 and keeps nothing', async () => {
      const before = ((await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number }).total;
      await expectRefused(
        { csv: `${HEADER}\n1,2,3,4,5\n`, config: '{"phone_number": ' },
        422,
        'invalid_transformation',
      );
      const missing = await expectRefused(
        { csv: 'phone,full_name\n9811111111,x\n', config: SEED_CONFIG },
        422,
        'column_not_found',
      );
      assert.match(missing.message, /mobile/);
      assert.match(missing.message, /balance/);
      await expectRefused({ csv: `${HEADER}\n`, config: SEED_CONFIG }, 422, 'no_data_rows');
      await expectRefused(
        {
          csv: `${HEADER}\n1,2,3,4,5\n`,
          config: { ...SEED_CONFIG, app_overrides: { voice: { column_name: 'name' } } },
        },
        422,
        'unknown_app_override',
      );
      const unknownVars = await expectRefused(
        {
          csv: `${HEADER}\n1,2,3,4,5\n`,
          config: {
            ...SEED_CONFIG,
            app_variables: { ...SEED_CONFIG.app_variables, a: { column_name: 'name' }, b: { column_name: 'name' } },
          },
        },
        422,
        'unknown_app_variable',
      );
      assert.match(unknownVars.message, /not found in the agent's variables: a, b/);
      await expectRefused(
        { csv: `${HEADER}\n1,2,3,4,5\n`, config: { phone_number: { column_name: 'mobile' }, app_variables: {} } },
        422,
        'required_variable_not_mapped',
      );
      await expectRefused(
        { csv: 'mobile,name,name,balance,payment_due,preferred_language\n1,2,3,4,5,6\n', config: SEED_CONFIG },
        422,
        'duplicate_header',
      );
      await expectRefused(
        { csv: 'mobile,,name,balance,payment_due,preferred_language\n1,2,3,4,5,6\n', config: SEED_CONFIG },
        422,
        'empty_header',
      );
      await expectRefused({ csv: `${HEADER}\n1,2,3,4,5\n` }, 422, 'missing_file');
      await expectRefused(
        { csv: `${HEADER}\n${'9811111111,x,1,2,3\n'.repeat(20_000)}`, config: SEED_CONFIG },
        413,
        'file_too_large',
      );
      await expectRefused(
        { name: 'bad/name!', csv: `${HEADER}\n1,2,3,4,5\n`, config: SEED_CONFIG },
        422,
        'validation_failed',
      );
      const after = ((await t.call('GET', cohortsPath, { key: acme.apiKey })).json() as { total: number }).total;
      assert.equal(after, before);
      const kept = (
        (await t.call('GET', `${cohortsPath}?limit=100`, { key: acme.apiKey })).json() as {
          items: Array<{ cohort_id: string }>;
        }
      ).items.map((i) => i.cohort_id);
      assert.deepEqual((await t.storedCohortIds()).sort(), kept.sort(), 'a refused upload left a file behind');
    });

    it('reads UTF-16, Windows-1252, semicolons, tabs, pipes, CRLF and quoted newlines', async () => {
      const cases: Array<[string, Buffer, string]> = [
        [
          'Utf16',
          Buffer.concat([
            Buffer.from([0xff, 0xfe]),
            iconv.encode(`${HEADER}\r\n9822222221,Zoë Ñandú,1,x,Hindi\r\n`, 'utf-16le'),
          ]),
          'Zoë Ñandú',
        ],
        ['Win1252', iconv.encode(`${HEADER}\n9822222222,José Müller,1,x,Hindi\n`, 'windows-1252'), 'José Müller'],
        [
          'Semicolons',
          Buffer.from(`${HEADER.replaceAll(',', ';')}\r\n9822222223;"Doe; John";1;x;Hindi\r\n`),
          'Doe; John',
        ],
        ['Tabs', Buffer.from(`${HEADER.replaceAll(',', '\t')}\n9822222224\tTab Person\t1\tx\tHindi\n`), 'Tab Person'],
        ['Pipes', Buffer.from(`${HEADER.replaceAll(',', '|')}\n9822222225|"Pipe\nPerson"|1|x|Hindi\n`), 'Pipe\nPerson'],
        ['Bom', Buffer.from(`\ufeff${HEADER}\n9822222226,Bom Person,1,x,Hindi\n`), 'Bom Person'],
      ];
      for (const [name, csv] of cases) {
        const done = await upload(name, csv);
        assert.equal(done.status, 'completed', `${name}: ${JSON.stringify(done)}`);
        assert.deepEqual(
          done.result,
          { total_records: 1, valid_records: 1, rejected_records: 0, rejections_by_reason: [] },
          name,
        );
      }
      for (const [index, [, , expected]] of cases.entries()) {
        const caller = (await lookup(`98222222${21 + index}`)).json() as { app_variables: { customer_name: string } };
        assert.equal(caller.app_variables.customer_name, expected);
      }
    });

    it('lets the latest upload win among three overlapping cohorts uploaded at once', async () => {
      const phones = ['9833333331', '9833333332', '9833333333'];
      const csv = (tag: string) => `${HEADER}\n${phones.map((p) => `${p},${tag},1,x,Hindi`).join('\n')}\n`;
      const responses = await Promise.all(
        ['First', 'Second', 'Third'].map((tag) =>
          uploadCohort(base, `${cohortsPath}/upload`, acme.apiKey, { name: tag, csv: csv(tag), config: SEED_CONFIG }),
        ),
      );
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as CohortBody[];
      for (const body of bodies)
        assert.equal((await waitForCohort(t, `${cohortsPath}/${body.cohort_id}`, acme.apiKey)).status, 'completed');
      // Acceptance order decides: the cohort listed newest first is the one lookups must return.
      const newest = (
        (
          await t.call('GET', `${cohortsPath}?sort_by=created_at&sort_order=desc&limit=1`, { key: acme.apiKey })
        ).json() as { items: Array<{ cohort_id: string; name: string }> }
      ).items[0]!;
      for (const phone of phones) {
        const caller = (await lookup(phone)).json() as { cohort_id: string; app_variables: { customer_name: string } };
        assert.equal(caller.cohort_id, newest.cohort_id);
        assert.equal(caller.app_variables.customer_name, newest.name);
      }
      // Delete the newest: lookups fall back to the next-latest at once.
      assert.equal(
        (await t.call('DELETE', `${cohortsPath}/${newest.cohort_id}`, { key: acme.apiKey })).statusCode,
        200,
      );
      const next = (
        (
          await t.call('GET', `${cohortsPath}?sort_by=created_at&sort_order=desc&limit=1`, { key: acme.apiKey })
        ).json() as { items: Array<{ cohort_id: string }> }
      ).items[0]!;
      assert.equal(((await lookup(phones[0]!)).json() as { cohort_id: string }).cohort_id, next.cohort_id);
      assert.equal((await t.call('GET', `${cohortsPath}/${newest.cohort_id}`, { key: acme.apiKey })).statusCode, 404);
    });

    it('answers an unknown caller with found: false and the normalised number', async () => {
      const response = await lookup('098 7777 7777');
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { found: false, phone_number: '+919877777777' });
      for (const phone of ['%2B919876543210', '9876543210']) {
        const unknownDeployment = await t.call(
          'GET',
          `/v1/orgs/acme/workspaces/main/deployments/nope/callers/${phone}`,
          { key: acme.apiKey },
        );
        assert.equal(unknownDeployment.statusCode, 404, phone);
      }
      const invalid = await lookup('not-a-phone');
      assert.equal(invalid.statusCode, 422);
      assert.equal(errorOf(invalid.json()).code, 'invalid_phone_number');
    });

    it('answers a phone-shaped caller id libphonenumber refuses with 200 found: false, and 422 only for no number', async () => {
      for (const phone of ['+915500000001', '5500000001', '+91 55000 00001']) {
        const response = await lookup(phone);
        assert.equal(response.statusCode, 200, `${phone}: ${response.body}`);
        assert.deepEqual(response.json(), { found: false, phone_number: '+915500000001' }, phone);
      }
      const scheduling = await t.call(
        'GET',
        '/api/scheduling/v1/orgs/acme/workspaces/main/deployments/inbound/callers/%2B915500000001',
        { key: acme.apiKey },
      );
      assert.deepEqual(scheduling.json(), { found: false, phone_number: '+915500000001' });
      for (const phone of ['abc', '+91', '1234567890123456789']) {
        const refused = await lookup(phone);
        assert.equal(refused.statusCode, 422, phone);
        assert.equal(errorOf(refused.json()).code, 'invalid_phone_number', phone);
      }
    });

    it('lists with paging, search and sort', async () => {
      const page = (
        await t.call('GET', `${cohortsPath}?limit=2&sort_by=name&sort_order=asc`, { key: acme.apiKey })
      ).json() as { items: Array<{ name: string }>; total: number; next_page_uri: string };
      assert.equal(page.items.length, 2);
      assert.ok(page.total >= 8);
      assert.ok(page.items[0]!.name <= page.items[1]!.name);
      assert.match(page.next_page_uri, /offset=2/);
      const search = (await t.call('GET', `${cohortsPath}?search=utf`, { key: acme.apiKey })).json() as {
        items: Array<{ name: string }>;
        total: number;
      };
      assert.deepEqual(
        search.items.map((i) => i.name),
        ['Utf16'],
      );
      const bad = await t.call('GET', `${cohortsPath}?limit=500`, { key: acme.apiKey });
      assert.equal(bad.statusCode, 422);
    });

    it('returns the original file and the transformation used', async () => {
      const list = (await t.call('GET', `${cohortsPath}?search=Examples`, { key: acme.apiKey })).json() as {
        items: Array<{ cohort_id: string }>;
      };
      const id = list.items[0]!.cohort_id;
      const original = await t.call('GET', `${cohortsPath}/${id}/files?file_type=cohort`, { key: acme.apiKey });
      assert.equal(original.body, await readFile(path.join(ROOT, 'examples/cohort-users.csv'), 'utf8'));
      const config = await t.call('GET', `${cohortsPath}/${id}/files?file_type=cohort_transformation`, {
        key: acme.apiKey,
      });
      assert.deepEqual(
        config.json(),
        JSON.parse(await readFile(path.join(ROOT, 'examples/cohort-transformation.json'), 'utf8')),
      );
    });

    it("answers 404 for another tenant's cohorts, files and callers", async () => {
      const list = (await t.call('GET', `${cohortsPath}?limit=1`, { key: acme.apiKey })).json() as {
        items: Array<{ cohort_id: string }>;
      };
      const id = list.items[0]!.cohort_id;
      for (const url of [`${cohortsPath}/${id}`, `${cohortsPath}/${id}/files?file_type=cohort`, cohortsPath]) {
        assert.equal((await t.call('GET', url, { key: globex.apiKey })).statusCode, 404, url);
      }
      // globex's own deployment cannot see acme's cohort either.
      assert.equal(
        (
          await t.call('GET', `/v1/orgs/globex/workspaces/main/deployments/inbound/cohorts/${id}`, {
            key: globex.apiKey,
          })
        ).statusCode,
        404,
      );
      assert.equal((await lookup('9876543210', globex.apiKey)).statusCode, 404);
      const upload = await uploadCohort(base, `${cohortsPath}/upload`, globex.apiKey, {
        name: 'x',
        csv: `${HEADER}\n1,2,3,4,5\n`,
        config: SEED_CONFIG,
      });
      assert.equal(upload.status, 404);
    });
  });
}
