import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { SEED_CONFIG, uploadCohort, waitForCohort } from '../helpers/cohorts.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { until } from '../helpers/webhook-receiver.js';

const WS = '/v1/orgs/acme/workspaces/main';
const COHORTS = `${WS}/deployments/inbound/cohorts`;

/** A receiver that takes each delivery and never answers it, noting whether Roster has given up on it. */
async function silentReceiver() {
  const requests: Array<{ type: string; open: boolean }> = [];
  const server = http.createServer((request) => {
    const seen = { type: '', open: true };
    requests.push(seen);
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => (seen.type = (JSON.parse(body) as { type: string }).type));
    request.socket.on('close', () => (seen.open = false));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const backend of await backends()) {
  describe(`webhook deliveries beside other jobs on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;

    before(async () => {
      // One slot for ingest and one for deliveries: a delivery in the ingest's slot would stop it.
      t = await createTestApp(backend, {
        ROSTER_JOB_CONCURRENCY: '1',
        ROSTER_WEBHOOK_CONCURRENCY: '1',
        ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
        ROSTER_JOB_POLL_MS: '50',
      });
      acme = await seedTenant(t, 'acme');
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await t?.close();
    });

    const upload = async (name: string) => {
      const response = await uploadCohort(base, `${COHORTS}/upload`, acme.apiKey, {
        name,
        csv: 'mobile,name,balance,payment_due,preferred_language\n9876500001,Asha,1,01/01/2026,Hindi\n',
        config: SEED_CONFIG,
      });
      assert.equal(response.status, 200);
      const { cohort_id: id } = (await response.json()) as { cohort_id: string };
      return waitForCohort(t, `${COHORTS}/${id}`, acme.apiKey);
    };

    it('a receiver that does not answer never holds up an ingest', async () => {
      const receiver = await silentReceiver();
      try {
        const created = await t.call('POST', `${WS}/webhooks`, {
          key: acme.apiKey,
          body: { url: receiver.url, events: ['cohort.completed'] },
        });
        assert.equal(created.statusCode, 201, created.body);
        assert.equal((await upload('First')).status, 'completed');
        const held = await until('the first delivery to arrive', async () =>
          receiver.requests.find((r) => r.type === 'cohort.completed'),
        );
        // The delivery waits for its answer (up to 10 s) in the delivery slot; the next cohort is
        // ingested meanwhile in its own.
        assert.equal((await upload('Second')).status, 'completed');
        assert.ok(held.open, 'the second cohort completed only after the first delivery gave up waiting');
      } finally {
        await receiver.close();
      }
    });
  });
}
