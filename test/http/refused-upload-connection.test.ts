import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Agent, fetch as undiciFetch, FormData } from 'undici';
import { backends } from '../helpers/backends.js';
import { createTestApp, seedTenant, TEST_MASTER_KEY, type SeededTenant, type TestApp } from '../helpers/test-app.js';

const sqlite = (await backends())[0]!;

describe('an upload answered before its body was read: the connection', () => {
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

  /**
   * Sends a multipart body with one file part in two halves, 500 ms apart, reading nothing until
   * both are sent (as clients that read only once their body is sent do); answers what came back
   * once the server closed, and any error the connection raised.
   */
  async function sendSlowlyThenRead(
    path: string,
    part: { name: string; filename: string; half: Buffer },
    closeHeader: boolean,
  ): Promise<{ answer: string; failure?: Error; fin: boolean }> {
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let failure: Error | undefined;
    socket.on('error', (error) => (failure ??= error));
    socket.pause();
    const boundary = 'lingering';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n\r\n`;
    const first = Buffer.concat([Buffer.from(head), part.half]);
    const rest = Buffer.concat([part.half, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const write = (data: string | Buffer) =>
      new Promise<Error | undefined>((resolve) => socket.write(data, (error) => resolve(error ?? undefined)));
    const writeError =
      (await write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${closeHeader ? 'Connection: close\r\n' : ''}x-api-key: ${TEST_MASTER_KEY}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${first.length + rest.length}\r\n\r\n`,
      )) ??
      (await write(first)) ??
      (await new Promise((resolve) => setTimeout(resolve, 500)).then(() => write(rest)));
    let answer = '';
    let fin = false;
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('end', () => (fin = true));
    socket.resume();
    await once(socket, 'close');
    return { answer, failure: writeError ?? failure, fin };
  }

  // Closing a socket whose request body is still coming makes the kernel answer with a reset, which
  // throws the answer away before a client that reads late has read it (it sees EPIPE or
  // ECONNRESET instead): RFC 9112 §9.6 asks for a half-close, reading on, then the close.
  it('answers a refused upload on a connection the client asked to close, and closes it only once the client has stopped sending', async () => {
    // The config is over its 1 MB limit within the first half: the server answers while the client
    // is still sending (HTTP/1.0 clients and many scripts send `Connection: close`).
    const { answer, failure, fin } = await sendSlowlyThenRead(
      uploadPath(),
      { name: 'cohort_transformation_file', filename: 'c.json', half: Buffer.alloc(1536 * 1024, 'x') },
      true,
    );
    assert.equal(failure, undefined, `the connection failed: ${failure?.message}`);
    assert.ok(fin, 'the server did not close its side with a FIN');
    assert.match(answer, /^HTTP\/1\.1 422 /, `no refusal was read: ${answer.slice(0, 200)}`);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.match(answer, /"code":"invalid_transformation"/);
  });

  it('answers a mapping suggestion, which closes the connection after reading the header row, while the client is still sending the file', async () => {
    const { answer, failure, fin } = await sendSlowlyThenRead(
      `${uploadPath().replace(/\/upload$/, '')}/mapping-suggestion`,
      {
        name: 'cohort_file',
        filename: 'users.csv',
        half: Buffer.from(`mobile,name\n${'9811000000,A\n'.repeat(120_000)}`),
      },
      false,
    );
    assert.equal(failure, undefined, `the connection failed: ${failure?.message}`);
    assert.ok(fin, 'the server did not close its side with a FIN');
    assert.match(answer, /^HTTP\/1\.1 200 /, `no suggestion was read: ${answer.slice(0, 200)}`);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    assert.match(answer, /"columns":\["mobile","name"\]/);
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

describe('a stopping server and the connections it answered before their bodies were read', () => {
  it('closes them at once rather than waiting for their clients to stop sending', async () => {
    const t = await createTestApp(sqlite);
    try {
      const url = new URL(await t.app.listen({ host: '127.0.0.1', port: 0 }));
      // Half-open allowed: the server's FIN does not end the client's side, as for a client still sending.
      const socket = net.connect({ port: Number(url.port), host: '127.0.0.1', allowHalfOpen: true });
      await once(socket, 'connect');
      socket.on('error', () => undefined);
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      const closed = once(socket, 'close');
      // No key: refused before a byte of the 10 MB body is read; the client goes on holding it open.
      socket.write(
        'POST /v1/orgs/o/workspaces/w/deployments/d/cohorts/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' +
          `Content-Type: multipart/form-data; boundary=b\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n${'x'.repeat(64 * 1024)}`,
      );
      await once(socket, 'end');
      assert.match(answer, /^HTTP\/1\.1 401 /, answer.slice(0, 200));
      // The lingering connection would otherwise be read on for 5 s of quiet.
      const stopped = await Promise.race([
        t.app.close().then(() => 'stopped'),
        new Promise((resolve) => setTimeout(resolve, 3000, 'still waiting')),
      ]);
      assert.equal(stopped, 'stopped', 'app.close() waited on a connection whose client already had its answer');
      socket.destroy();
      await closed;
    } finally {
      await t.close();
    }
  });
});
