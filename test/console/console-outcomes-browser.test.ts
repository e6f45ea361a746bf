import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { backends } from '../helpers/backends.js';
import { ARTIFACTS, browserSkip, launchBrowser } from '../helpers/browser.js';
import { waitForCohort } from '../helpers/cohorts.js';
import { SEED_CONFIG } from '../helpers/seed-config.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';

// The cohort page while a large file is processed (a progress bar that moves) and after an upload
// whose rows were mostly rejected (a warning and the reasons, not a green success), in Chromium.

const sqlite = (await backends())[0]!;
const HEADER = 'mobile,name,balance,payment_due,preferred_language';

/** `rows` rows of the seed config's columns; every `badEvery`-th phone is letters (0: none). */
function csvOf(rows: number, badEvery: number): string {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const phone = badEvery > 0 && i % badEvery !== 0 ? `no-phone-${i}` : `${9800000000 + i}`;
    lines.push(`${phone},Customer ${i},${100 + i},2024-07-31,English`);
  }
  return `${lines.join('\n')}\n`;
}

describe('cohort outcomes in a real browser', { skip: browserSkip() }, () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let base: string;
  let browser: Browser;
  let page: Page;
  let deployment: string;

  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });

  /** Uploads through the API (as any client may) and answers the cohort id. */
  async function upload(name: string, csv: string): Promise<string> {
    const form = new FormData();
    form.append('name', name);
    form.append('cohort_file', new Blob([csv]), 'users.csv');
    form.append('cohort_transformation_file', new Blob([JSON.stringify(SEED_CONFIG)]), 'map.json');
    const accepted = await fetch(`${base}/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts/upload`, {
      method: 'POST',
      headers: { 'x-api-key': tenant.apiKey },
      body: form,
    });
    const body = (await accepted.json()) as { cohort_id: string };
    assert.equal(accepted.status, 200, JSON.stringify(body));
    return body.cohort_id;
  }

  before(async () => {
    t = await createTestApp(sqlite, { ROSTER_RATE_LIMIT_MAX: '0', ROSTER_INGEST_BATCH_SIZE: '500' });
    tenant = await seedTenant(t, 'acme');
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    deployment = `${base}/console/orgs/acme/workspaces/main/deployments/inbound`;
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${base}/console/sign-in`);
    await page.getByLabel('API key').fill(tenant.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console/orgs/acme`);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('draws a progress bar that moves while a 200,000-row cohort is processed, then the counts', async () => {
    const cohortId = await upload('Large', csvOf(200_000, 0));
    await page.goto(`${deployment}/cohorts/${cohortId}`);
    const bar = page.locator('progress#ingest-progress[value]');
    await bar.waitFor({ timeout: 60_000 });
    const first = Number(await bar.getAttribute('value'));
    const max = Number(await bar.getAttribute('max'));
    // The page swaps in a new bar as it polls: wait until it shows more of the file read. (Polled from
    // here: the console's CSP allows no string evaluation in the page.)
    let later = first;
    for (const deadline = Date.now() + 60_000; later <= first && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      later = Number((await bar.getAttribute('value', { timeout: 1000 }).catch(() => null)) ?? first);
    }
    assert.ok(later > first && later <= max, `the bar moved from ${first} to ${later} of ${max}`);
    const text = await page.locator('.ingest-progress').innerText();
    assert.match(text, /rows/i, text);
    await shot('cohort-progress');
    await page.locator('#cohort-status[data-done="completed"]').waitFor({ timeout: 120_000 });
    assert.deepEqual(await page.locator('#cohort-status dd').first().innerText(), '200,000');
  });

  it('warns, not green, when most rows were rejected, and lists the reasons', async () => {
    // 10 rows: one kept, nine with a phone of letters.
    const cohortId = await upload('Mostly rejected', csvOf(10, 10));
    // Opened once the cohort is done, so the page is drawn done by the server, not by its polling.
    await waitForCohort(t, `/v1/orgs/acme/workspaces/main/deployments/inbound/cohorts/${cohortId}`, tenant.apiKey);
    await page.goto(`${deployment}/cohorts/${cohortId}`);
    await page.locator('#cohort-status[data-done="completed"]').waitFor({ timeout: 30_000 });
    const warning = page.locator('.warning[role="alert"]');
    assert.equal(await warning.count(), 1);
    assert.match(await warning.innerText(), /9 of 10 rows were rejected/);
    const reasons = await page.locator('table:has(caption:text("Rejected rows by reason")) tbody tr').allInnerTexts();
    assert.equal(reasons.length, 1, reasons.join('\n'));
    assert.match(reasons[0]!, /invalid_phone\s+9\s+3/);
    await shot('cohort-mostly-rejected');
  });
});
