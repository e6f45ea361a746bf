import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch, FormData } from 'undici';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;

describe('a refused upload leaves its keep-alive connection usable', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let url = '';
  before(async () => {
    // The most any upload may send is then 4 MB (+1 MB for its other parts): past that, a refused
    // upload's connection is closed rather than read to the end.
    t = await createTestApp(sqlite, {
      ROSTER_MAX_UPLOAD_BYTES: String(4 * 1024 * 1024),
      ROSTER_BATCH_MAX_BYTES: '1024',
    });
    tenant = await seedTenant(t, 'keepalive');
    url = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await t?.close();
  });

  it('answers the next request on the same connection after refusing a file over the limit mid-body', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      const form = new FormData();
      form.set('name', 'Big');
      form.set('cohort_transformation_file', new Blob(['{}']), 'config.json');
      form.set('cohort_file', new Blob(['mobile\n', 'x'.repeat(12 * 1024 * 1024)]), 'users.csv');
      const refused = await undiciFetch(
        `${url}/v1/orgs/${tenant.orgId}/workspaces/${tenant.workspaceId}/deployments/${tenant.deploymentId}/cohorts/upload`,
        {
          method: 'POST',
          headers: { 'x-api-key': TEST_MASTER_KEY },
          body: form,
          dispatcher: agent,
        },
      );
      assert.equal(refused.status, 413, await refused.clone().text());
      await refused.arrayBuffer();
      const next = await undiciFetch(`${url}/healthz`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
      assert.equal(next.status, 200);
    } finally {
      await agent.close();
    }
  });

  const uploadPath = () =>
    `/v1/orgs/${tenant.orgId}/workspaces/${tenant.workspaceId}/deployments/${tenant.deploymentId}/cohorts/upload`;

  it('reads the rest of a body refused before its end (a config over its limit), so the client gets the answer and can go on', async () => {
    // The config part is refused at its own 1 MB limit, while 3.5 MB of the body is still to come:
    // the multipart reader stops there, and the server must read the rest itself.
    const agent = new Agent({ connections: 1 });
    try {
      const form = new FormData();
      form.set('name', 'Big config');
      form.set('cohort_transformation_file', new Blob(['{"a":"', 'x'.repeat(1536 * 1024), '"}']), 'config.json');
      form.set('cohort_file', new Blob(['mobile\n', '9'.repeat(3 * 1024 * 1024)]), 'users.csv');
      const refused = await undiciFetch(`${url}${uploadPath()}`, {
        method: 'POST',
        headers: { 'x-api-key': TEST_MASTER_KEY },
        body: form,
        dispatcher: agent,
      });
      const body = (await refused.json()) as { error: { code: string } };
      assert.equal(refused.status, 422, JSON.stringify(body));
      assert.equal(body.error.code, 'invalid_transformation');
      const next = await undiciFetch(`${url}/healthz`, { dispatcher: agent, signal: AbortSignal.timeout(5000) });
      assert.equal(next.status, 200);
    } finally {
      await agent.close();
    }
  });

  it('closes the connection of a refused upload that goes on sending past the largest upload allowed', {
    timeout: 60_000,
  }, async () => {
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const boundary = 'drainlimit';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="cohort_transformation_file"; filename="c.json"\r\n\r\n`;
    const declared = 64 * 1024 * 1024;
    socket.write(
      `POST ${uploadPath()} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${TEST_MASTER_KEY}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${declared}\r\n\r\n${head}`,
    );
    // Sends up to the declared 64 MB, far past the 5 MB the server reads of a refused body.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    while (sent < declared - head.length - chunk.length && !socket.destroyed && socket.writable) {
      if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
      sent += chunk.length;
    }
    await closed;
    assert.match(answer, /^HTTP\/1\.1 422 /, `the refusal was not answered before the close: ${answer.slice(0, 200)}`);
    assert.ok(sent < 16 * 1024 * 1024, `the server read ${sent} bytes of a refused body before closing`);
    const health = await undiciFetch(`${url}/healthz`);
    assert.equal(health.status, 200);
  });
});
