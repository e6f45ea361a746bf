import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { spawnServer } from '../helpers/spawn-server.js';

describe('first start with no setup', () => {
  it('prints a master key, a demo key and an example request that works as printed', async () => {
    const server = await spawnServer();
    try {
      const banner = server.stdout();
      assert.match(banner, /rmk_[A-Za-z0-9]{43}/);
      const curl = /curl -s -H 'X-API-Key: (rk_[A-Za-z0-9]+)' (\S+)/.exec(banner);
      assert.ok(curl, `no example request in:\n${banner}`);
      const response = await fetch(curl[2]!, { headers: { 'X-API-Key': curl[1]! } });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { deployment_id: string; agent_id: string };
      assert.equal(body.deployment_id, 'demo');
      const agent = (await (
        await fetch(`${server.url}/v1/orgs/demo/workspaces/default/agents/${body.agent_id}`, {
          headers: { 'X-API-Key': curl[1]! },
        })
      ).json()) as {
        variables: Array<{ name: string; required: boolean }>;
      };
      assert.deepEqual(
        agent.variables.map((v) => [v.name, v.required]),
        [
          ['customer_name', true],
          ['outstanding_amount', false],
          ['due_date', false],
        ],
      );
      const numbers = (await (
        await fetch(`${server.url}/v1/orgs/demo/workspaces/default/phone-numbers`, {
          headers: { 'X-API-Key': curl[1]! },
        })
      ).json()) as { total: number };
      assert.equal(numbers.total, 1);
    } finally {
      await server.stop();
    }
    const again = await spawnServer({}, server.dataDir);
    try {
      assert.doesNotMatch(again.stdout(), /rk_|rmk_/, 'keys were printed a second time');
    } finally {
      await again.stop();
    }
  });

  it('generates and prints nothing with ROSTER_MASTER_KEY set or in production', async () => {
    const variants: Array<Record<string, string>> = [
      { ROSTER_MASTER_KEY: 'a-master-key-of-enough-length-123' },
      { NODE_ENV: 'production' },
    ];
    for (const env of variants) {
      const server = await spawnServer(env);
      try {
        assert.doesNotMatch(server.stdout(), /rk_|rmk_/);
        const orgs = await fetch(`${server.url}/v1/orgs`, {
          headers: { 'X-API-Key': 'a-master-key-of-enough-length-123' },
        });
        assert.equal(orgs.status, 'ROSTER_MASTER_KEY' in env ? 200 : 401);
        if (orgs.status === 200) assert.equal(((await orgs.json()) as { total: number }).total, 0);
      } finally {
        await server.stop();
      }
    }
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const master = 'a-master-key-of-enough-length-123';
    const server = await spawnServer({ ROSTER_MASTER_KEY: master });
    const body = JSON.stringify({ org_id: 'late', name: 'Arrives slowly' });
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = http.request(`${server.url}/v1/orgs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'x-api-key': master },
      });
      request.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
      request.on('error', reject);
      request.write(body.slice(0, 10));
      setTimeout(() => {
        server.child.kill('SIGTERM');
        setTimeout(() => request.end(body.slice(10)), 300);
      }, 200);
    });
    const result = await answer;
    assert.equal(result.status, 201, result.text);
    assert.equal(await server.exited, 0);
  });
});
