import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { verifyRosterSignature } from '../../examples/verify-webhook.mjs';
import { backends } from '../helpers/backends.js';
import { createScratchDatabase } from '../helpers/e2e-databases.js';
import {
  E2E_MASTER_KEY,
  e2eCall,
  setUpTenant,
  uploadSeedCohort,
  waitForCohortOverHttp,
} from '../helpers/e2e-tenant.js';
import { spawnServer } from '../helpers/spawn-server.js';
import { until } from '../helpers/webhook-receiver.js';

const WS = '/v1/orgs/acme/workspaces/main';
const SECRET = 'whsec_crash_test_secret_0123456789';

interface Arrival {
  eventId: string;
  type: string;
  verified: boolean;
}

/** Leaves the first delivery unanswered (the server is killed while it waits), answers 204 after. */
async function receiver() {
  const arrivals: Arrival[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      arrivals.push({
        eventId: String(request.headers['roster-event-id']),
        type: (JSON.parse(body) as { type: string }).type,
        verified: verifyRosterSignature(SECRET, request.headers['roster-signature'], body),
      });
      if (arrivals.length > 1) response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    arrivals,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const backend of await backends()) {
  describe(`a webhook delivery whose server is killed mid-POST on ${backend.name}`, { skip: backend.skip }, () => {
    it('is sent again after a restart, with the same event id and a valid signature, and recorded once it succeeds', async () => {
      const database = backend.name === 'postgres' ? await createScratchDatabase() : undefined;
      const env: Record<string, string> = {
        ROSTER_MASTER_KEY: E2E_MASTER_KEY,
        ROSTER_JOB_LEASE_MS: '1500',
        ROSTER_JOB_POLL_MS: '100',
        ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
        ...(database ? { ROSTER_DATABASE_URL: database.url } : {}),
      };
      const hook = await receiver();
      let server = await spawnServer(env);
      // The server changes at the restart: each request goes to the one running then.
      const call = (method: string, path: string, body?: unknown) => e2eCall(server.url, method, path, body);
      try {
        await setUpTenant(server.url, { default_country: 'IN' });
        const created = await call('POST', `${WS}/webhooks`, {
          url: hook.url,
          events: ['cohort.completed'],
          secret: SECRET,
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const cohort = await uploadSeedCohort(
          server.url,
          'One',
          'mobile,name,balance,payment_due,preferred_language\n9876500001,Asha,1,2024-07-31,Hindi\n',
        );
        assert.equal((await waitForCohortOverHttp(server.url, cohort.cohort_id)).status, 'completed');
        const first = await until('the first POST', async () => hook.arrivals[0]);
        server.child.kill('SIGKILL');
        await server.exited;

        server = await spawnServer(env, server.dataDir);
        const again = await until('the POST after the restart', async () => hook.arrivals[1], 60_000);
        assert.equal(again.eventId, first.eventId, 'the same event: a receiver drops the repeat by its id');
        assert.equal(again.type, 'cohort.completed');
        assert.ok(first.verified && again.verified, 'both signatures verify with the documented snippet');
        const deliveries = await until('the delivery recorded as succeeded', async () => {
          const listed = await call('GET', `${WS}/webhooks/${created.body.webhook_id as string}/deliveries`);
          const items = listed.body.items as Array<{ status: string; attempts: Array<{ status_code: number }> }>;
          return items[0]?.status === 'succeeded' ? items : undefined;
        });
        assert.equal(deliveries.length, 1, 'one delivery: the kill did not make a second');
        assert.deepEqual(
          deliveries[0]!.attempts.map((a) => a.status_code),
          [204],
          'the POST the kill cut short has no answer to record',
        );
      } finally {
        await server.stop('SIGKILL');
        await hook.close();
        await database?.drop();
      }
    });
  });
}
