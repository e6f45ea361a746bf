import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, type SeededTenant, type TestApp } from '../helpers/test-app.js';
import { until, webhookReceiver } from '../helpers/webhook-receiver.js';

const WS = '/v1/orgs/acme/workspaces/main';
const DAY_MS = 86_400_000;

for (const backend of await backends()) {
  describe(`audit events and webhook deliveries past their retention on ${backend.name}`, {
    skip: backend.skip,
  }, () => {
    let t: TestApp;
    let acme: SeededTenant;

    before(async () => {
      t = await createTestApp(backend, {
        ROSTER_AUDIT_RETENTION_DAYS: '2',
        ROSTER_WEBHOOK_DELIVERY_RETENTION_DAYS: '2',
        ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
        ROSTER_JOB_POLL_MS: '50',
      });
      acme = await seedTenant(t, 'acme');
    });
    after(async () => {
      await t?.close();
    });

    it('the runner prunes the old ones, oldest first, and keeps new ones and pending deliveries', async () => {
      const db = t.backing.storage.db;
      const hook = await webhookReceiver();
      try {
        const created = await t.call('POST', `${WS}/webhooks`, {
          key: acme.apiKey,
          body: { url: hook.url, events: ['cohort.completed'] },
        });
        assert.equal(created.statusCode, 201, created.body);
        const webhookId = (created.json() as { webhook_id: string }).webhook_id;
        for (let i = 0; i < 3; i++)
          assert.equal(
            (await t.call('POST', `${WS}/webhooks/${webhookId}/test`, { key: acme.apiKey })).statusCode,
            202,
          );
        const deliveries = await until('three deliveries sent', async () => {
          const rows = await db.selectFrom('webhook_deliveries').selectAll().orderBy('seq').execute();
          return rows.length === 3 && rows.every((r) => r.status === 'succeeded') ? rows : undefined;
        });
        const events = await db.selectFrom('audit_events').select(['seq', 'event_id']).orderBy('seq').execute();
        assert.ok(events.length >= 10, `${events.length} audit events`);

        // Time passes for the older half of each: three days, past the two kept.
        const old = new Date(Date.now() - 3 * DAY_MS).toISOString();
        const agedEvents = events.slice(0, Math.floor(events.length / 2)).map((e) => e.event_id);
        await db.updateTable('audit_events').set({ occurred_at: old }).where('event_id', 'in', agedEvents).execute();
        const [sent, pending] = deliveries;
        await db
          .updateTable('webhook_deliveries')
          .set({ created_at: old })
          .where('seq', 'in', [sent!.seq, pending!.seq])
          .execute();
        // One of the old deliveries is still being retried: it is kept until it ends.
        await db.updateTable('webhook_deliveries').set({ status: 'pending' }).where('seq', '=', pending!.seq).execute();

        await until('the old audit events pruned', async () => {
          const left = await db
            .selectFrom('audit_events')
            .select('event_id')
            .where('event_id', 'in', agedEvents)
            .execute();
          return left.length === 0 ? true : undefined;
        });
        const kept = await db.selectFrom('audit_events').select('event_id').execute();
        assert.ok(kept.length >= events.length - agedEvents.length, 'the newer events are kept');
        const leftDeliveries = await until('the old delivery pruned', async () => {
          const rows = await db
            .selectFrom('webhook_deliveries')
            .select(['delivery_id', 'seq'])
            .orderBy('seq')
            .execute();
          return rows.length === 2 ? rows : undefined;
        });
        assert.deepEqual(
          leftDeliveries.map((r) => r.delivery_id),
          [pending!.delivery_id, deliveries[2]!.delivery_id],
        );
        const attempts = await db.selectFrom('webhook_attempts').select('delivery_id').execute();
        assert.ok(
          attempts.every((a) => a.delivery_id !== sent!.delivery_id),
          "the pruned delivery's attempts went with it",
        );
      } finally {
        await hook.close();
      }
    });
  });
}
