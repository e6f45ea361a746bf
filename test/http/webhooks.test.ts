import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyRosterSignature } from '../../examples/verify-webhook.mjs';
import { backends } from '../helpers/backends.js';
import { uploadBatch, vendorFields } from '../helpers/batches.js';
import { SEED_CONFIG, uploadCohort, waitForCohort } from '../helpers/cohorts.js';
import { ROOT } from '../helpers/spawn-server.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { type Delivery, until, webhookReceiver } from '../helpers/webhook-receiver.js';

const WS = '/v1/orgs/acme/workspaces/main';
const COHORTS = `${WS}/deployments/inbound/cohorts`;

for (const backend of await backends()) {
  describe(`webhooks on ${backend.name}`, { skip: backend.skip }, () => {
    let t: TestApp;
    let acme: SeededTenant;
    let base: string;
    const clock = new Date('2026-12-07T15:00:00Z'); // a Monday, 10:00 in New York

    before(async () => {
      t = await createTestApp(
        backend,
        { ROSTER_WEBHOOK_RETRY_BASE_MS: '100', ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1', ROSTER_JOB_POLL_MS: '50' },
        { now: () => clock },
      );
      acme = await seedTenant(t, 'acme');
      await seedTenant(t, 'globex');
      base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await t?.close();
    });

    const subscribe = async (url: string, events: string[], key = acme.apiKey) => {
      const response = await t.call('POST', `${WS}/webhooks`, { key, body: { url, events } });
      assert.equal(response.statusCode, 201, response.body);
      return response.json() as { webhook_id: string; secret: string; secret_hint: string; events: string[] };
    };
    const deliveries = async (webhookId: string) => {
      const response = await t.call('GET', `${WS}/webhooks/${webhookId}/deliveries?limit=100`, { key: acme.apiKey });
      assert.equal(response.statusCode, 200, response.body);
      return (response.json() as { items: Delivery[] }).items;
    };

    it('signs a cohort.completed delivery, retries it after two failures and records the three attempts', async () => {
      let secret = '';
      const hook = await webhookReceiver(() => secret, [500, 503]);
      try {
        const created = await subscribe(hook.url, ['cohort.completed']);
        secret = created.secret;
        assert.match(secret, /^whsec_/);
        assert.equal(created.secret_hint, `…${secret.slice(-4)}`);
        const listed = await t.call('GET', `${WS}/webhooks`, { key: acme.apiKey });
        assert.equal(JSON.stringify(listed.json()).includes(secret), false, 'the secret is shown once only');

        const upload = await uploadCohort(base, `${COHORTS}/upload`, acme.apiKey, {
          name: 'Hooked',
          csv: 'mobile,name,balance,payment_due,preferred_language\n9876543210,Asha,10,2026-01-01,Hindi\n',
          config: SEED_CONFIG,
        });
        const cohortId = ((await upload.json()) as { cohort_id: string }).cohort_id;
        await waitForCohort(t, `${COHORTS}/${cohortId}`, acme.apiKey);
        const done = await until('the third attempt', async () => {
          const [delivery] = await deliveries(created.webhook_id);
          return delivery?.status === 'succeeded' ? delivery : undefined;
        });
        assert.deepEqual(
          done.attempts.map((a) => a.status_code),
          [500, 503, 200],
        );
        assert.match(done.attempts[0]!.error ?? '', /answered 500/);
        assert.equal(hook.received.length, 3);
        for (const request of hook.received) {
          assert.ok(request.verified, 'the documented snippet verifies the signature');
          assert.equal(request.headers['roster-event-id'], done.event_id);
          assert.equal(request.headers['roster-event-type'], 'cohort.completed');
          assert.equal(request.body, hook.received[0]!.body, 'every attempt sends the same body');
        }
        const event = JSON.parse(hook.received[0]!.body) as Delivery['event'];
        assert.deepEqual(Object.keys(event), ['id', 'type', 'created_at', 'data']);
        assert.equal(event.type, 'cohort.completed');
        const got = (await t.call('GET', `${COHORTS}/${cohortId}`, { key: acme.apiKey })).json();
        assert.deepEqual(event.data, got, 'data is the cohort as GET answers it');
        // A signature under another secret, or an old one, is refused by the snippet.
        assert.equal(
          verifyRosterSignature('whsec_other', hook.received[0]!.headers['roster-signature'], hook.received[0]!.body),
          false,
        );
        const old = Math.floor(Date.now() / 1000) + 6 * 60;
        assert.equal(
          verifyRosterSignature(secret, hook.received[0]!.headers['roster-signature'], hook.received[0]!.body, old),
          false,
        );

        // A resend is a new attempt of the same event.
        const resent = await t.call(
          'POST',
          `${WS}/webhooks/${created.webhook_id}/deliveries/${done.delivery_id}/resend`,
          { key: acme.apiKey },
        );
        assert.equal(resent.statusCode, 202, resent.body);
        const again = await until('the resend', async () => {
          const [delivery] = await deliveries(created.webhook_id);
          return delivery?.status === 'succeeded' && delivery.attempts.length === 4 ? delivery : undefined;
        });
        assert.equal(again.event_id, done.event_id);
        assert.equal(hook.received.length, 4);
      } finally {
        await hook.close();
      }
    });

    it('announces cohort.failed, call.reported and batch.completed to the webhooks that subscribe to them', async () => {
      const secret = { value: '' };
      const hook = await webhookReceiver(() => secret.value);
      try {
        const created = await subscribe(hook.url, ['cohort.failed', 'call.reported', 'batch.completed']);
        secret.value = created.secret;
        // A URL cohort whose URL is refused fails.
        const failing = await t.call('POST', COHORTS, {
          key: acme.apiKey,
          body: {
            name: 'Refused',
            source: { type: 'pre_signed_url', url: 'http://10.1.2.3/u.csv' },
            cohort_transformation: SEED_CONFIG,
          },
        });
        assert.equal(failing.statusCode, 200, failing.body);
        const batch = await uploadBatch(
          base,
          acme.apiKey,
          { name: 'c.csv', content: 'phoneNumber,customer_name\n+14155550123,Ann\n' },
          vendorFields(acme.userId, acme.phoneNumberId, { retry: '0' }),
        );
        assert.equal(batch.status, 200, JSON.stringify(batch.body));
        const leased = await t.call('POST', '/api/call/dialer/lease', {
          key: acme.apiKey,
          body: { max: 5, lease_seconds: 60 },
        });
        const [call] = (leased.json() as { calls: Array<{ callId: string; leaseId: string }> }).calls;
        assert.ok(call, leased.body);
        const reported = await t.call('POST', '/api/call/dialer/report', {
          key: acme.apiKey,
          body: { callId: call.callId, leaseId: call.leaseId, callStatus: 'completed', callDuration: 30 },
        });
        assert.equal(reported.statusCode, 200, reported.body);
        const types = await until('three events', async () => {
          const found = await deliveries(created.webhook_id);
          return found.length === 3 && found.every((d) => d.status === 'succeeded') ? found : undefined;
        });
        assert.deepEqual(types.map((d) => d.event_type).sort(), ['batch.completed', 'call.reported', 'cohort.failed']);
        const byType = new Map(types.map((d) => [d.event_type, d.event.data]));
        assert.equal(byType.get('cohort.failed')!.status, 'failed');
        assert.equal(byType.get('call.reported')!._id as string, call.callId);
        assert.equal(byType.get('batch.completed')!.batchStatus, 'completed');
        assert.ok(hook.received.every((r) => r.verified));
      } finally {
        await hook.close();
      }
    });

    it('refuses URLs that are not http(s) on a public address, and checks again at delivery', async () => {
      for (const url of [
        'ftp://example.com/x',
        'http://10.0.0.7/hook',
        'http://localhost:9/hook',
        'http://[::1]/hook',
        'not a url',
      ]) {
        const response = await t.call('POST', `${WS}/webhooks`, {
          key: acme.apiKey,
          body: { url, events: ['cohort.completed'] },
        });
        assert.equal(response.statusCode, 422, `${url}: ${response.body}`);
        assert.equal((response.json() as { error: { code: string } }).error.code, 'webhook_url_refused', url);
      }
      // A webhook whose host later resolves to a private address (here: stored as such) is not called.
      const created = await subscribe('http://127.0.0.1:9/hooks', ['cohort.completed']);
      await t.backing.storage.db
        .updateTable('webhooks')
        .set({ url: 'http://localhost:9/hooks' })
        .where('webhook_id', '=', created.webhook_id)
        .execute();
      const test = await t.call('POST', `${WS}/webhooks/${created.webhook_id}/test`, { key: acme.apiKey });
      assert.equal(test.statusCode, 202, test.body);
      const refused = await until('the refused attempt', async () => {
        const [delivery] = await deliveries(created.webhook_id);
        return delivery && delivery.attempts.length > 0 ? delivery : undefined;
      });
      assert.match(refused.attempts[0]!.error ?? '', /localhost resolves to a loopback address/);
      assert.equal(refused.attempts[0]!.status_code, null);
      assert.equal(refused.event_type, 'webhook.test');
      const busy = await t.call(
        'POST',
        `${WS}/webhooks/${created.webhook_id}/deliveries/${refused.delivery_id}/resend`,
        { key: acme.apiKey },
      );
      if (refused.status === 'pending') assert.equal(busy.statusCode, 409, busy.body);
      const removed = await t.call('DELETE', `${WS}/webhooks/${created.webhook_id}`, { key: acme.apiKey });
      assert.equal(removed.statusCode, 200, removed.body);
      // Its deliveries and their attempts went with it.
      const db = t.backing.storage.db;
      assert.deepEqual(
        await db
          .selectFrom('webhook_deliveries')
          .select('delivery_id')
          .where('webhook_id', '=', created.webhook_id)
          .execute(),
        [],
      );
      assert.deepEqual(
        await db
          .selectFrom('webhook_attempts')
          .select('attempt')
          .where('delivery_id', '=', refused.delivery_id)
          .execute(),
        [],
      );
    });

    it('stops retrying once the retry window since the first attempt has passed: the delivery ends failed', async () => {
      const hook = await webhookReceiver(
        () => '',
        Array.from({ length: 50 }, () => 500),
      );
      try {
        const created = await subscribe(hook.url, ['cohort.completed']);
        await t.call('POST', `${WS}/webhooks/${created.webhook_id}/test`, { key: acme.apiKey });
        const first = await until('the first failed attempt', async () => {
          const [delivery] = await deliveries(created.webhook_id);
          return delivery?.attempts.length === 1 ? delivery : undefined;
        });
        assert.equal(first.status, 'pending');
        assert.ok(first.next_attempt_at !== null);
        // As if the first attempt had been a day and an hour ago (ROSTER_WEBHOOK_RETRY_HOURS is 24).
        await t.backing.storage.db
          .updateTable('webhook_deliveries')
          .set({ first_attempt_at: new Date(Date.now() - 25 * 3_600_000).toISOString() })
          .where('delivery_id', '=', first.delivery_id)
          .execute();
        const failed = await until('the delivery to fail', async () => {
          const [delivery] = await deliveries(created.webhook_id);
          return delivery?.status === 'failed' ? delivery : undefined;
        });
        assert.equal(failed.next_attempt_at, null);
        assert.ok(failed.attempts.length >= 2 && failed.attempts.every((a) => a.status_code === 500));
        const attempts = failed.attempts.length;
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.equal((await deliveries(created.webhook_id))[0]!.attempts.length, attempts, 'no attempt after failing');
      } finally {
        await hook.close();
      }
    });

    it("keeps each workspace's webhooks to keys that reach it", async () => {
      const created = await subscribe('http://127.0.0.1:9/hooks', ['cohort.completed']);
      const globexKey = (await seedTenant(t, 'initech')).apiKey;
      for (const [method, url] of [
        ['GET', `${WS}/webhooks`],
        ['GET', `${WS}/webhooks/${created.webhook_id}/deliveries`],
        ['DELETE', `${WS}/webhooks/${created.webhook_id}`],
        ['POST', `${WS}/webhooks/${created.webhook_id}/test`],
      ] as const) {
        const response = await t.call(method, url, { key: globexKey });
        assert.equal(response.statusCode, 404, `${method} ${url}: ${response.body}`);
      }
      const missing = await t.call('GET', `${WS}/webhooks/wh_nope/deliveries`, { key: acme.apiKey });
      assert.equal(missing.statusCode, 404);
    });

    it('the documented receiver (examples/verify-webhook.mjs) verifies a test delivery', async () => {
      const secret = 'whsec_documented_example_secret';
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const child = spawn(process.execPath, [path.join(ROOT, 'examples/verify-webhook.mjs')], {
        env: { ...process.env, WEBHOOK_SECRET: secret, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        await until('the receiver to listen', async () => (output.includes('listening') ? true : undefined), 10_000);
        const response = await t.call('POST', `${WS}/webhooks`, {
          key: acme.apiKey,
          body: { url: `http://127.0.0.1:${port}/`, events: ['cohort.completed'], secret },
        });
        assert.equal(response.statusCode, 201, response.body);
        const webhookId = (response.json() as { webhook_id: string }).webhook_id;
        const sent = await t.call('POST', `${WS}/webhooks/${webhookId}/test`, { key: acme.apiKey });
        const { event_id: eventId } = sent.json() as { event_id: string };
        await until('the receiver to verify it', async () =>
          output.includes(`verified webhook.test ${eventId}`) ? true : undefined,
        );
        // The attempt is recorded once the receiver's answer has come back, a moment after it printed.
        const delivery = await until('the attempt to be recorded', async () => {
          const [found] = await deliveries(webhookId);
          return found?.status === 'succeeded' ? found : undefined;
        });
        assert.equal(delivery.attempts.at(-1)!.status_code, 204);
      } finally {
        child.kill();
      }
    });
  });
}
