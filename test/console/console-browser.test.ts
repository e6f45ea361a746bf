import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, browserSkip, launchBrowser } from '../helpers/browser.js';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG } from '../helpers/seed-config.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;
const ROWS = 4000;
/** Above the test cohort (about 180 KB), so one larger file shows the limit. */
const MAX_UPLOAD_BYTES = 1024 * 1024;

/** A cohort CSV of the seed config's columns: ROWS good rows and one whose phone is no number. */
function cohortCsv(): string {
  const lines = ['mobile,name,balance,payment_due,preferred_language'];
  for (let i = 0; i < ROWS; i++)
    lines.push(`98${String(10_000_000 + i).slice(0, 8)},Customer ${i},${100 + i},2024-07-31,English`);
  lines.splice(3, 0, 'N/A,Bad Row,5,2024-07-31,Hindi');
  return `${lines.join('\n')}\n`;
}

async function batchXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Contacts');
  sheet.addRow(['phoneNumber', 'customer_name', 'outstanding_amount']);
  sheet.addRow(['+14155550111', 'Ada', '120']);
  sheet.addRow(['+14155550112', 'Grace', '80']);
  sheet.addRow(['+14155550113', 'Linus', '45']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('web console in a real browser', { skip: browserSkip() }, () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let deployment: string;
  let webhookId: string;

  const shot = async (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    t = await createTestApp(sqlite, {
      ROSTER_RATE_LIMIT_MAX: '0',
      ROSTER_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      // The webhook step's receiver listens on 127.0.0.1, which webhooks may only call when allowed.
      ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
      ROSTER_WEBHOOK_RETRY_BASE_MS: '100',
      // Jobs, and the sweeps that start retention runs (every 20 polls), without the default waits.
      ROSTER_JOB_POLL_MS: '100',
    });
    tenant = await seedTenant(t, 'acme');
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
    deployment = `${base}/console/orgs/acme/workspaces/main/deployments/inbound`;
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('signs in with an org key and lands on its workspaces', async () => {
    await page.goto(`${base}/console/`);
    assert.match(page.url(), /\/console\/sign-in/);
    await shot('sign-in');
    await page.getByLabel('API key').fill(tenant.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/orgs/acme`);
    assert.equal(
      await page.evaluate<number>('localStorage.length + sessionStorage.length'),
      0,
      'nothing kept in web storage',
    );
    assert.equal(await page.evaluate<string>('document.cookie'), '', 'the session cookie is HttpOnly');
    await shot('workspaces');
    await page.getByRole('link', { name: 'Inbound' }).click();
    await page.waitForURL(deployment);
    assert.equal(
      await page
        .locator('tbody th code')
        .allTextContents()
        .then((names) => names.join(',')),
      'customer_name,outstanding_amount,due_date',
    );
    await shot('deployment');
  });

  it('uploads a cohort with a bad row: progress, then completed with counts and the rejection file', async () => {
    await page.goto(`${deployment}/cohorts/new`);
    await page.getByLabel('Cohort name').fill('April users');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from(cohortCsv()) });
    await page.getByLabel('Transformation config (JSON)').setInputFiles({
      name: 'map.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(SEED_CONFIG)),
    });
    // Record every value the progress bar shows while the file goes up.
    // A string, not a function: the test runner's transpiler would add helpers the page does not have.
    await page.evaluate(`(() => {
      const bar = document.querySelector('progress');
      const seen = (window.seen = []);
      const original = Object.getOwnPropertyDescriptor(HTMLProgressElement.prototype, 'value');
      Object.defineProperty(bar, 'value', { get: () => original.get.call(bar), set: (v) => { seen.push(v); original.set.call(bar, v); } });
    })()`);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#cohort-status[data-done]').waitFor({ timeout: 60_000 });
    const seen = await page.evaluate<number[]>('window.seen');
    assert.ok(seen.length > 0 && seen.at(-1) === 100, `progress went up to 100: ${seen.join(',')}`);
    assert.equal(await page.locator('#cohort-status').getAttribute('data-done'), 'completed');
    const facts = await page.locator('#cohort-status dd').allTextContents();
    const count = new Intl.NumberFormat('en-US');
    // Rows, imported, rejected, and the phones lookups answer from it (all of them: it is the latest).
    assert.deepEqual(
      facts,
      [count.format(ROWS + 1), count.format(ROWS), '1', count.format(ROWS)],
      'counts with thousands separators',
    );
    assert.equal(await page.getByRole('heading', { name: 'Completed' }).count(), 1);
    await shot('cohort-upload');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download the rejected rows (CSV)' }).click();
    const file = await readFile((await (await download).path())!, 'utf8');
    const lines = file
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    assert.equal(lines.length, 2);
    assert.equal(lines[0], 'mobile,name,balance,payment_due,preferred_language,rejected_reason');
    assert.match(lines[1]!, /^N\/A,Bad Row,5,2024-07-31,Hindi,/);
  });

  it('lists cohorts with search and shows a cohort with its files', async () => {
    await page.goto(`${deployment}/cohorts?search=april`);
    await page.getByRole('link', { name: 'April users' }).click();
    await page.getByRole('heading', { name: 'Cohort April users' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'The rejected rows', exact: true }).count(), 1);
    await shot('cohort-detail');
    await page.goto(`${deployment}/cohorts`);
    await shot('cohort-list');
  });

  it("updates a processing cohort's page by itself until it is completed", async () => {
    await t.runner.stop();
    const form = new FormData();
    form.append('name', 'Arrives later');
    form.append(
      'cohort_file',
      new Blob(['mobile,name,balance,payment_due,preferred_language\n9830000001,Zoya,1,2024-01-01,English\n']),
      'later.csv',
    );
    form.append('cohort_transformation_file', new Blob([JSON.stringify(SEED_CONFIG)]), 'map.json');
    const accepted = await fetch(`${base}/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts/upload`, {
      method: 'POST',
      headers: { 'x-api-key': tenant.apiKey },
      body: form,
    });
    const { cohort_id: cohortId } = (await accepted.json()) as { cohort_id: string };
    await page.goto(`${deployment}/cohorts/${cohortId}`);
    assert.match(await page.locator('#cohort-status').innerText(), /processing/);
    await t.runner.start();
    await page.locator('#cohort-status[data-done="completed"]').waitFor({ timeout: 30_000 });
    assert.deepEqual(await page.locator('#cohort-status dd').allTextContents(), ['1', '1', '0', '1']);
  });

  it('looks a caller up and shows the cohort that answers with its variables', async () => {
    await page.goto(`${deployment}/callers`);
    await page.getByLabel('Phone number').fill('9810000002');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByRole('heading', { name: /Found/ }).waitFor();
    assert.match(await page.locator('main').innerText(), /April users[\s\S]*customer_name\s+Customer 2/);
    await shot('caller-lookup');
    await page.getByLabel('Phone number').fill('12');
    await page.getByRole('button', { name: 'Look up' }).click();
    assert.equal(await page.getByLabel('Phone number').getAttribute('aria-invalid'), 'true');
    assert.ok(await page.locator('#phone-error').isVisible());
  });

  it('shows a blocking error next to the field it concerns', async () => {
    await page.goto(`${deployment}/cohorts/new`);
    await page.getByLabel('Cohort name').fill('Broken');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'users.csv', mimeType: 'text/csv', buffer: Buffer.from('phone,name\n9810000001,A\n') });
    await page.getByLabel('Transformation config (JSON)').setInputFiles({
      name: 'map.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(SEED_CONFIG)),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const message = page.locator('[data-error-for="cohort_transformation_file"]');
    await message.waitFor({ state: 'visible' });
    assert.match(await message.innerText(), /not found in the CSV header: .*mobile/);
    assert.equal(await page.locator('#cohort_transformation_file').getAttribute('aria-invalid'), 'true');
    await shot('cohort-blocking-error');
  });

  it('"Check file" shows what would be imported and rejected in place, uploads nothing, and Upload then sends the same form', async () => {
    await page.goto(`${deployment}/cohorts/new`);
    const csv =
      'mobile,name,balance,payment_due,preferred_language\n9810000101,Kept,1,2024-07-31,Hindi\nN/A,Bad,1,2024-07-31,Hindi\n9810000101,Again,1,2024-07-31,Hindi\n';
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'check.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByLabel('Transformation config (JSON)').setInputFiles({
      name: 'map.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(SEED_CONFIG)),
    });
    const cohorts = async () =>
      (
        (
          await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts', { key: tenant.apiKey })
        ).json() as { total: number }
      ).total;
    const before = await cohorts();
    // No name typed: a check needs none.
    await page.getByRole('button', { name: 'Check file' }).click();
    await page.locator('#check-result').waitFor();
    assert.deepEqual(await page.locator('#check-result dd').allTextContents(), ['3', '1', '2']);
    assert.match(await page.locator('#check-rejected-rows').innerText(), /repeats row 2/);
    assert.equal(await page.getByRole('heading', { name: 'Check' }).count(), 1);
    assert.equal(await cohorts(), before, 'nothing was uploaded');
    await shot('cohort-check');
    await page.getByLabel('Cohort name').fill('Checked first');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#cohort-status[data-done]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#cohort-status').getAttribute('data-done'), 'completed');
    assert.deepEqual(await page.locator('#cohort-status dd').allTextContents(), ['3', '1', '2', '1']);
  });

  it('refuses a file over the upload limit in the page, before sending it', async () => {
    await page.goto(`${deployment}/cohorts/new`);
    let posted = false;
    page.on('request', (request) => (posted ||= request.method() === 'POST'));
    await page.getByLabel('Cohort name').fill('Too big');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.alloc(MAX_UPLOAD_BYTES + 1, 'a') });
    await page.getByLabel('Transformation config (JSON)').setInputFiles({
      name: 'map.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(SEED_CONFIG)),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const message = page.locator('[data-error-for="cohort_file"]');
    await message.waitFor({ state: 'visible' });
    assert.match(await message.innerText(), /the largest accepted is 1\.0 MB/);
    assert.equal(posted, false);
  });

  it('builds the mapping from the CSV header in the browser and uploads with it', async () => {
    await page.goto(`${deployment}/cohorts/new`);
    await page.getByLabel('Cohort name').fill('Built here');
    await page.getByLabel('CSV file').setInputFiles({
      name: 'users.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('phone_number;customer_name;due_date\n+919820000001;Mira;2024-08-01\n'),
    });
    await page.getByLabel("Build the mapping here from the CSV's header").check();
    await page.getByLabel('Phone number (required)').waitFor();
    assert.equal(await page.getByLabel('customer_name (required)').inputValue(), 'customer_name');
    assert.equal(await page.getByLabel('outstanding_amount', { exact: true }).inputValue(), '');
    await shot('cohort-mapping-builder');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#cohort-status[data-done]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#cohort-status').getAttribute('data-done'), 'completed');
  });

  it('starts a required variable unmapped and refuses to upload until it is chosen; pre-selects a name match', async () => {
    const posted: string[] = [];
    const watch = (request: { method(): string; url(): string }) => {
      if (request.method() === 'POST' && request.url().endsWith('/cohorts')) posted.push(request.url());
    };
    page.on('request', watch);
    await page.goto(`${deployment}/cohorts/new`);
    await page.getByLabel('Cohort name').fill('Mapped by hand');
    await page.getByLabel("Build the mapping here from the CSV's header").check();
    await page.getByLabel('CSV file').setInputFiles({
      name: 'users.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('mobile,name,Outstanding Amount,lang\n9820000003,Ravi,"1,200.50",Hindi\n'),
    });
    await page.locator('#mapping-builder[data-ready]').waitFor();
    const customer = page.getByLabel('customer_name (required)');
    assert.equal(await customer.inputValue(), '', 'the first column is not taken for a required variable');
    assert.equal(await page.getByLabel('Phone number (required)').inputValue(), 'mobile');
    assert.equal(await page.getByLabel('outstanding_amount', { exact: true }).inputValue(), 'Outstanding Amount');
    const amountRow = page.locator('tr[data-variable="outstanding_amount"]');
    assert.equal(await amountRow.locator('.badge-matched').innerText(), 'matched by name');
    assert.equal(await page.locator('tr[data-variable="customer_name"] .badge-matched').count(), 0);

    await page.getByRole('button', { name: 'Upload' }).click();
    const message = page.locator('[data-error-for="map-var-0"]');
    await message.waitFor({ state: 'visible' });
    assert.match(await message.innerText(), /Choose the column that holds customer_name/);
    assert.equal(await customer.getAttribute('aria-invalid'), 'true');
    assert.deepEqual(posted, [], 'nothing was sent');
    await shot('cohort-mapping-refused');

    await customer.selectOption('name');
    await amountRow.getByRole('button', { name: 'Add format step' }).click();
    await amountRow.getByLabel('Format function').selectOption('number');
    await amountRow.getByLabel('locale').fill('en-IN');
    await page.getByLabel('initial_language_name', { exact: true }).selectOption('lang');
    const config = JSON.parse(await page.locator('#mapping-json').innerText()) as unknown;
    assert.deepEqual(config, {
      phone_number: { column_name: 'mobile' },
      app_variables: {
        customer_name: { column_name: 'name' },
        outstanding_amount: { column_name: 'Outstanding Amount', format: { fn: 'number', locale: 'en-IN' } },
      },
      app_overrides: { initial_language_name: { column_name: 'lang' } },
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download config.json' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'config.json');
    assert.deepEqual(JSON.parse(await readFile((await download.path())!, 'utf8')), config);
    await shot('cohort-mapping-refused-then-mapped');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.locator('#cohort-status[data-done]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#cohort-status').getAttribute('data-done'), 'completed');
    page.off('request', watch);
    const caller = await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/callers/9820000003', {
      key: tenant.apiKey,
    });
    const found = caller.json() as { app_variables: Record<string, string>; app_overrides: Record<string, string> };
    assert.deepEqual(found.app_variables, { customer_name: 'Ravi', outstanding_amount: '1200.50' });
    assert.deepEqual(found.app_overrides, { initial_language_name: 'Hindi' });
  });

  it('deletes a cohort after asking, and its callers are gone', async () => {
    await page.goto(`${deployment}/cohorts?search=built`);
    await page.getByRole('link', { name: 'Built here' }).click();
    await page.getByRole('link', { name: 'Delete this cohort…' }).click();
    assert.match(await page.locator('main').innerText(), /Delete cohort Built here/);
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Cohort Built here' }).waitFor();
    await page.getByRole('link', { name: 'Delete this cohort…' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText(/Cohort coh-[a-z0-9]+ was deleted/).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Built here' }).count(), 0);
    const lookup = await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/callers/+919820000001', {
      key: tenant.apiKey,
    });
    assert.equal((lookup.json() as { found: boolean }).found, false);
  });

  it('uploads a batch from an .xlsx file with the vendor fields, then pauses it', async () => {
    await page.goto(`${base}/console/orgs/acme/workspaces/main/batches/new`);
    await page.getByLabel('Contacts file').setInputFiles({
      name: 'contacts.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: await batchXlsx(),
    });
    await page.getByLabel('Batch name').fill('May campaign');
    await page.getByLabel('Time zone').selectOption('America/New_York');
    // Every hour of every day, so the dialer below gets the calls whenever the test runs.
    await page.getByLabel('From').fill('00:00');
    await page.getByLabel('Until').fill('23:59');
    await page.getByLabel('Saturday').check();
    await page.getByLabel('Sunday').check();
    await page.getByLabel('Retries after the first call').fill('1');
    await shot('batch-upload');
    await page.getByRole('button', { name: 'Upload batch' }).click();
    await page.getByText('Batch created with 3 calls').waitFor();
    assert.match(
      await page.locator('.facts').innerText(),
      /00:00–23:59 America\/New_York, Sun Mon Tue Wed Thu Fri Sat/,
    );
    assert.equal(await page.locator('tbody tr').count(), 3);
    // A dialer makes one attempt: the details show its status and the attempt log.
    const leased = await t.call('POST', '/api/call/dialer/lease', {
      key: tenant.apiKey,
      body: { max: 1, lease_seconds: 60 },
    });
    const [call] = (leased.json() as { calls: Array<{ callId: string; leaseId: string; phoneNumber: string }> }).calls;
    assert.ok(call, leased.body);
    const report = await t.call('POST', '/api/call/dialer/report', {
      key: tenant.apiKey,
      body: { callId: call.callId, leaseId: call.leaseId, callStatus: 'no_answer', callDuration: 12 },
    });
    assert.equal(report.statusCode, 200, report.body);
    await page.reload();
    const row = page.locator('tbody tr', { hasText: call.phoneNumber });
    assert.match(await row.innerText(), /pending\s+1\s[\s\S]*no_answer 12 s/);
    await shot('batch-details');
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText('The batch is now paused.').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('The batch is now running.').waitFor();
    await page.getByRole('link', { name: 'Cancel batch…' }).click();
    await page.getByRole('button', { name: 'Cancel the batch' }).click();
    await page.getByText('The batch is now cancelled.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Pause' }).count(), 0);
    await page.goto(`${base}/console/orgs/acme/workspaces/main/batches`);
    assert.equal(await page.getByRole('link', { name: 'May campaign' }).count(), 1);
    await shot('batch-list');
  });

  it('shows a batch field error inline', async () => {
    await page.goto(`${base}/console/orgs/acme/workspaces/main/batches/new`);
    await page.getByLabel('Contacts file').setInputFiles({
      name: 'contacts.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: await batchXlsx(),
    });
    await page.getByLabel('Batch name').fill('Bad window');
    await page.getByLabel('From').fill('10:00');
    await page.getByLabel('Until').fill('10:00');
    await page.getByRole('button', { name: 'Upload batch' }).click();
    const message = page.locator('[data-error-for="callingHour"]');
    await message.waitFor({ state: 'visible' });
    assert.match(await message.innerText(), /start and end are equal/);
  });

  it('adds and removes a do-not-call number', async () => {
    await page.goto(`${base}/console/orgs/acme/workspaces/main/dnc`);
    await page.getByLabel('Numbers to add').fill('+14155550199');
    await page.getByLabel('Reason (optional)').fill('asked us to stop');
    await page.getByRole('button', { name: 'Add to the list' }).click();
    await page.getByText('Added 1').waitFor();
    await shot('dnc');
    await page.getByRole('button', { name: 'Remove +14155550199' }).click();
    await page.getByText('Removed +14155550199.').waitFor();
  });

  it("shows the org's audit trail with the console's writes, phone numbers masked", async () => {
    await page.goto(`${base}/console/orgs/acme`);
    await page.getByRole('link', { name: 'audit trail' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    const removal = page
      .getByRole('row')
      .filter({ hasText: 'POST /console/orgs/acme/workspaces/main/dnc/remove' })
      .first();
    await removal.waitFor();
    const text = await removal.innerText();
    assert.match(text, /ops@acme\.example/);
    assert.match(text, /console/);
    assert.match(text, /success/);
    const table = await page.locator('table').innerText();
    assert.doesNotMatch(table, /14155550199/, 'a whole phone number in the audit trail');
    await shot('audit-trail');
    await page.getByRole('link', { name: 'Failures' }).click();
    await page.waitForURL(/outcome=failure/);
    const failures = await page.locator('tbody').innerText();
    assert.doesNotMatch(failures, /\bsuccess\b/);
  });

  it("lists the workspace's webhooks, sends a test event and shows its delivery succeed, then resends it", async () => {
    const received: string[] = [];
    const receiver = http.createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => {
        body += chunk;
      });
      request.on('end', () => {
        received.push(body);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
      const created = await t.call('POST', '/v1/orgs/acme/workspaces/main/webhooks', {
        key: tenant.apiKey,
        body: { url: hookUrl, events: ['batch.completed', 'call.reported'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      webhookId = (created.json() as { webhook_id: string }).webhook_id;

      await page.goto(`${base}/console/orgs/acme`);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: hookUrl });
      assert.match(await row.innerText(), /batch\.completed, call\.reported/);
      await shot('webhooks');
      await row.getByRole('button', { name: 'Send test event' }).click();
      await page.getByText('A webhook.test event is on its way').waitFor();
      await shot('webhooks-test-sent');
      await page.getByRole('row').filter({ hasText: hookUrl }).getByRole('link', { name: 'Deliveries' }).click();
      await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();

      // The runner sends it in the background: reload until the page shows it succeeded, with a bound.
      const delivered = async (attempts: number) => {
        const delivery = page.locator('tbody tr').first();
        const deadline = Date.now() + 30_000;
        for (;;) {
          const text = await delivery.innerText();
          if (/succeeded/.test(text) && (text.match(/HTTP 200/g) ?? []).length === attempts) return text;
          assert.ok(Date.now() < deadline, `not delivered ${attempts} time(s) within 30 s: ${text}`);
          await page.waitForTimeout(200);
          await page.reload();
        }
      };
      assert.match(await delivered(1), /webhook\.test/);
      assert.equal(received.length, 1);
      assert.equal((JSON.parse(received[0]!) as { type: string }).type, 'webhook.test');
      await shot('webhook-deliveries');

      await page.getByRole('button', { name: 'Resend' }).click();
      await page.getByText(/Delivery whd_[0-9a-f]+ is being sent again/).waitFor();
      await delivered(2);
      assert.equal(received.length, 2);
      assert.equal(received[1], received[0], 'the same event, sent again');
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('erases a number held by a cohort: a form error names unreadable entries, then the request shows processing, then completed', async () => {
    const dep = '/v1/orgs/acme/workspaces/main/deployments/inbound';
    const found = async (phone: string) =>
      (
        (await t.call('GET', `${dep}/callers/${encodeURIComponent(phone)}`, { key: tenant.apiKey })).json() as {
          found: boolean;
        }
      ).found;
    assert.equal(await found('+919810000005'), true, 'the April cohort holds the number');
    await page.goto(`${base}/console/orgs/acme`);
    await page.getByRole('link', { name: 'Erasure requests' }).click();
    await page.getByRole('heading', { name: 'Erasure requests' }).waitFor();
    assert.match(await page.locator('main').innerText(), /No erasure requests yet/);
    await page.getByRole('link', { name: 'Erase phone numbers…' }).click();
    await page.getByRole('heading', { name: 'Erase phone numbers' }).waitFor();
    const warning = await page.locator('.warning').innerText();
    assert.match(warning, /cannot be undone/);
    assert.match(warning, /Do-not-call entries are kept/);

    // Unreadable entries: the form comes back with them named and the text kept; nothing is erased.
    const typed = '9810000005\nnot a number, 12';
    const numbers = page.getByLabel('Phone numbers to erase');
    await numbers.fill(typed);
    await page.getByLabel('Country for national numbers (optional)').fill('in');
    await page.getByRole('button', { name: 'Erase these numbers' }).click();
    const problem = page.locator('[data-error-for="phone_numbers"]');
    await problem.waitFor({ state: 'visible' });
    const problemText = await problem.innerText();
    assert.match(problemText, /Nothing was erased/);
    assert.match(problemText, /entry 2, not a number: phone number 'not a number' is not a phone number/);
    assert.match(problemText, /entry 3, 12: phone number '12' is too short/);
    assert.doesNotMatch(problemText, /entry 1\b/);
    assert.equal(await numbers.inputValue(), typed);
    assert.equal(await numbers.getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Country for national numbers (optional)').inputValue(), 'IN');
    assert.equal(await found('+919810000005'), true, 'nothing was erased');
    await shot('erasure-invalid');

    // With the job runner stopped, the request stays processing: the database part is done at once.
    await t.runner.stop();
    try {
      await numbers.fill('9810000005');
      await page.getByRole('button', { name: 'Erase these numbers' }).click();
      await page.getByText(/Erasure er_[0-9a-f]{32} was taken/).waitFor();
      const card = page.locator('section[data-erasure]');
      assert.equal(await card.count(), 1);
      assert.equal(await card.getAttribute('data-status'), 'processing');
      assert.match(await card.innerText(), /processing[\s\S]*still to be written again[\s\S]*Reload/);
      assert.equal(await found('+919810000005'), false, 'lookups stop finding it before the files are rewritten');
      await shot('erasure-processing');
    } finally {
      await t.runner.start();
    }

    // The job rewrites the stored files in the background: reload until the page shows it completed, with a bound.
    const card = page.locator('section[data-erasure]').first();
    const deadline = Date.now() + 30_000;
    while ((await card.getAttribute('data-status')) !== 'completed') {
      assert.notEqual(await card.getAttribute('data-status'), 'failed', await card.innerText());
      assert.ok(Date.now() < deadline, `not completed within 30 s: ${await card.innerText()}`);
      await page.waitForTimeout(200);
      await page.getByRole('link', { name: 'Reload' }).first().click();
      await card.waitFor();
    }
    assert.equal(await page.getByText(/was taken/).count(), 0, 'a reload drops the notice');
    const facts = Object.fromEntries(
      await card
        .locator('.facts > div')
        .evaluateAll((divs) =>
          divs.map((d) => [d.querySelector('dt')?.textContent, d.querySelector('dd')?.textContent]),
        ),
    ) as Record<string, string>;
    assert.equal(facts.Numbers, '1');
    assert.equal(facts['Requested by'], 'ops@acme.example');
    assert.equal(facts['Contacts removed'], '1');
    assert.equal(facts['Cohort file rows removed'], '1');
    assert.equal(facts['Rejected-rows file rows removed'], '0');
    assert.equal(facts['Cohorts still to rewrite'], '0');
    assert.match(facts.Completed ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    await shot('erasure-completed');

    // The stored file of the cohort that held it no longer does; its neighbours are still there.
    const cohorts = (await t.call('GET', `${dep}/cohorts?search=April`, { key: tenant.apiKey })).json() as {
      items: Array<{ cohort_id: string }>;
    };
    const file = await t.call('GET', `${dep}/cohorts/${cohorts.items[0]!.cohort_id}/files?file_type=cohort`, {
      key: tenant.apiKey,
    });
    assert.equal(file.statusCode, 200);
    assert.doesNotMatch(file.body, /9810000005/);
    assert.match(file.body, /9810000006,Customer 6/);
  });

  it("shows the deployment's cohort retention to an org key, without the form that changes it", async () => {
    await page.goto(deployment);
    const section = page.getByRole('region', { name: 'Cohort retention' });
    const text = await section.innerText();
    assert.match(text, /Keep cohorts\s+kept until deleted/);
    assert.match(text, /Last run\s+never/);
    assert.match(text, /Next run\s+none \(no policy\)/);
    assert.match(text, /Only the master key changes this policy/);
    assert.equal(await page.getByRole('button', { name: 'Save retention' }).count(), 0);
    // Posting the form anyway, with the session's token: the master key is needed.
    const refused = await page.evaluate<{ status: number; code: string }>(`(async () => {
      const token = document.querySelector('meta[name="csrf-token"]').content;
      const response = await fetch(location.pathname + '/retention', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: '_csrf=' + encodeURIComponent(token) + '&cohort_retention_days=1' });
      return { status: response.status, code: (await response.json()).error.code };
    })()`);
    assert.deepEqual(refused, { status: 403, code: 'admin_key_required' });
    const unchanged = (await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound')).json() as {
      cohort_retention_days: number | null;
    };
    assert.equal(unchanged.cohort_retention_days, null);
  });

  it('reads at 360 px wide without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    for (const [name, url] of [
      ['narrow-cohort-upload', `${deployment}/cohorts/new`],
      ['narrow-batch-upload', `${base}/console/orgs/acme/workspaces/main/batches/new`],
      ['narrow-deployment', deployment],
      ['narrow-webhooks', `${base}/console/orgs/acme/workspaces/main/webhooks`],
      ['narrow-webhook-deliveries', `${base}/console/orgs/acme/workspaces/main/webhooks/${webhookId}/deliveries`],
      ['narrow-erasure', `${base}/console/orgs/acme/workspaces/main/erasure`],
      ['narrow-erasure-form', `${base}/console/orgs/acme/workspaces/main/erasure/new`],
    ] as const) {
      await page.goto(url);
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - document.documentElement.clientWidth',
      );
      assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow} px`);
      await shot(name);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('is usable from the keyboard: a skip link first, and focus is visible', async () => {
    await page.goto(`${deployment}/callers`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement.textContent'), 'Skip to content');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    assert.notEqual(outline, 'none');
  });

  it('refuses a forged POST without the CSRF token', async () => {
    // A same-origin fetch carries the session cookie but not the token: what an injected script or a forged form would send.
    const status = await page.evaluate<{ status: number; code: string }>(`(async () => {
      const response = await fetch('/console/orgs/acme/workspaces/main/dnc', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: 'numbers=%2B14155550177' });
      return { status: response.status, code: (await response.json()).error.code };
    })()`);
    assert.deepEqual(status, { status: 403, code: 'csrf_rejected' });
  });

  it('signs out, after which the old session cookie no longer works', async () => {
    const cookie = (await context.cookies(`${base}/console/`)).find((c) => c.name === 'roster_session');
    assert.ok(cookie, 'a session cookie');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    await page.goto(`${deployment}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/console\/sign-in$/);
    const replay = await fetch(`${base}/console/orgs/acme`, {
      headers: { cookie: `roster_session=${cookie.value}` },
      redirect: 'manual',
    });
    assert.equal(replay.status, 303);
    assert.match(replay.headers.get('location') ?? '', /^\/console\/sign-in/);
  });
  it("signs in with the master key and sets the deployment's cohort retention; a bad number of days is refused by its field", async () => {
    await page.getByLabel('API key').fill(TEST_MASTER_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/`);
    await page.goto(deployment);
    const section = page.getByRole('region', { name: 'Cohort retention' });
    const days = section.getByLabel('Keep cohorts for (days)');
    assert.equal(await days.inputValue(), '');
    await days.fill('90');
    await section.getByLabel(/Strict/).check();
    await section.getByRole('button', { name: 'Save retention' }).click();
    await page.getByText('The cohort retention policy was saved').waitFor();
    let text = await section.innerText();
    assert.match(text, /Keep cohorts\s+90 days/);
    assert.match(text, /Strict\s+yes/);
    assert.match(text, /Next run\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    assert.equal(await days.inputValue(), '90');
    assert.equal(await section.getByLabel(/Strict/).isChecked(), true);
    const saved = (await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound')).json() as {
      cohort_retention_days: number | null;
      cohort_retention_strict: boolean;
    };
    assert.deepEqual([saved.cohort_retention_days, saved.cohort_retention_strict], [90, true]);
    await shot('deployment-retention');

    // A new policy runs with the runner's next sweep: reload until the page shows its last run, with a bound.
    const deadline = Date.now() + 30_000;
    while (/Last run\s+never/.test(text)) {
      assert.ok(Date.now() < deadline, `no retention run within 30 s: ${text}`);
      await page.waitForTimeout(500);
      await page.reload();
      text = await section.innerText();
    }
    assert.match(text, /Last run\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    // Every cohort is newer than 90 days: the run deleted none.
    const lookup = await t.call('GET', '/v1/orgs/acme/workspaces/main/deployments/inbound/callers/+919810000006');
    assert.equal((lookup.json() as { found: boolean }).found, true);

    // The server checks the days too (the browser's own check is turned off to reach it).
    await page.evaluate(`document.querySelector('form[action$="/retention"]').noValidate = true`);
    await days.fill('0');
    await section.getByRole('button', { name: 'Save retention' }).click();
    const problem = page.locator('[data-error-for="cohort_retention_days"]');
    await problem.waitFor({ state: 'visible' });
    assert.match(await problem.innerText(), /whole number of days from 1 to 3650/);
    assert.equal(await days.getAttribute('aria-invalid'), 'true');
    assert.equal(await days.inputValue(), '0');

    // Emptied, the policy is removed.
    await days.fill('');
    await section.getByLabel(/Strict/).uncheck();
    await section.getByRole('button', { name: 'Save retention' }).click();
    await page.getByText('The cohort retention policy was saved').waitFor();
    text = await section.innerText();
    assert.match(text, /Keep cohorts\s+kept until deleted/);
    assert.match(text, /Next run\s+none \(no policy\)/);
  });
});
