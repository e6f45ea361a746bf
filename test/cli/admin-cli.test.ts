import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliRunner } from '../helpers/cli.js';
import { CLI } from '../helpers/spawn-server.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Starts `roster serve` on a fresh data dir and resolves with the keys its first-start banner prints. */
async function startServer(
  port: number,
  dataDir: string,
): Promise<{ child: ChildProcess; masterKey: string; demoKey: string }> {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      ROSTER_DATA_DIR: dataDir,
      ROSTER_PORT: String(port),
      ROSTER_LOG_LEVEL: 'warn',
      ROSTER_MASTER_KEY: '',
      ROSTER_DATABASE_URL: '',
      NODE_ENV: 'test',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`server did not start in time: ${stdout}\n${stderr}`);
    const masterKey = /\b(rmk_[A-Za-z0-9]+)/.exec(stdout)?.[1];
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(stdout)?.[1];
    if (masterKey && demoKey) {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (health?.status === 200) return { child, masterKey, demoKey };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('roster admin and key commands against a running server', () => {
  let server: ChildProcess | undefined;
  let dataDir = '';
  let env: NodeJS.ProcessEnv = {};

  const { roster, rosterJson } = cliRunner(() => env);

  const inWorkspace = ['--org', 'acme', '--workspace', 'support'];
  let userId = '';
  let keyId = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'roster-cli-'));
    const port = await freePort();
    const started = await startServer(port, dataDir);
    server = started.child;
    assert.match(started.demoKey, /^rk_/);
    env = { ...process.env, ROSTER_URL: `http://127.0.0.1:${port}`, ROSTER_API_KEY: started.masterKey };
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  test('orgs create prints the new org as key: value lines', async () => {
    const result = await roster('orgs', 'create', '--id', 'acme', '--name', 'Acme Lending');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^org_id:\s+acme$/m);
    assert.match(result.stdout, /^name:\s+Acme Lending$/m);
  });

  test('workspaces create --json prints the server answer as one JSON document', async () => {
    const workspace = await rosterJson(
      'workspaces',
      'create',
      '--org',
      'acme',
      '--id',
      'support',
      '--name',
      'Support line',
    );
    assert.deepEqual(
      { org_id: workspace.org_id, workspace_id: workspace.workspace_id, name: workspace.name },
      { org_id: 'acme', workspace_id: 'support', name: 'Support line' },
    );
  });

  test('users create returns a 24-hex user id', async () => {
    const user = await rosterJson('users', 'create', '--org', 'acme', '--email', 'ops@acme.example', '--name', 'Ops');
    assert.match(String(user.user_id), /^[0-9a-f]{24}$/);
    userId = String(user.user_id);
  });

  test('agents create sends repeated --variable flags after the variables file', async () => {
    const file = path.join(dataDir, 'vars.json');
    await writeFile(
      file,
      JSON.stringify([
        { name: 'customer_name', required: true, description: 'Greeting name' },
        { name: 'due_date', default: null },
      ]),
    );
    const agent = await rosterJson(
      'agents',
      'create',
      ...inWorkspace,
      '--id',
      'collections',
      '--name',
      'Collections',
      '--variables-file',
      file,
      '--variable',
      'amount:required',
      '--variable',
      'note',
    );
    assert.deepEqual(
      (agent.variables as Array<{ name: string; required: boolean }>).map(({ name, required }) => ({ name, required })),
      [
        { name: 'customer_name', required: true },
        { name: 'due_date', required: false },
        { name: 'amount', required: true },
        { name: 'note', required: false },
      ],
    );
  });

  test('deployments create links a deployment to the agent', async () => {
    const deployment = await rosterJson(
      'deployments',
      'create',
      ...inWorkspace,
      '--id',
      'prod',
      '--name',
      'Production',
      '--agent',
      'collections',
      '--default-country',
      'IN',
    );
    assert.equal(deployment.agent_id, 'collections');
    assert.equal(deployment.default_country, 'IN');
  });

  test('numbers create registers a calling number with a 24-hex _id', async () => {
    const number = await rosterJson(
      'numbers',
      'create',
      ...inWorkspace,
      '--number',
      '+14155550123',
      '--agent',
      'collections',
      '--label',
      'US outbound',
    );
    assert.match(String(number._id), /^[0-9a-f]{24}$/);
    assert.equal(number.phone_number, '+14155550123');
  });

  test('agents list prints a table with a header row and the page position', async () => {
    const result = await roster('agents', 'list', ...inWorkspace);
    assert.equal(result.code, 0, result.stderr);
    const [header, row] = result.stdout.split('\n');
    assert.match(header ?? '', /^ID\s+NAME\s+VARIABLES/);
    assert.match(row ?? '', /^collections\s+Collections\s+customer_name \(required\)/);
    assert.match(result.stdout, /^1-1 of 1 agents$/m);
  });

  test('keys create --json prints the secret once, starting with rk_', async () => {
    const key = await rosterJson(
      'keys',
      'create',
      '--org',
      'acme',
      '--user',
      userId,
      '--name',
      'billing sync',
      '--workspaces',
      'support',
    );
    assert.match(String(key.key), /^rk_/);
    assert.deepEqual(key.workspaces, ['support']);
    keyId = String(key.key_id);
  });

  test('keys list --json prints the server page with the new key and no secret', async () => {
    const page = await rosterJson<{ total: number; items: Array<Record<string, unknown>> }>(
      'keys',
      'list',
      '--org',
      'acme',
    );
    assert.equal(page.total, 1);
    assert.equal(page.items[0]?.key_id, keyId);
    assert.equal(page.items[0]?.key, undefined);
  });

  test('keys revoke removes the key from the list', async () => {
    const result = await roster('keys', 'revoke', '--org', 'acme', keyId);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `revoked API key ${keyId}\n`);
    const page = await rosterJson<{ total: number }>('keys', 'list', '--org', 'acme');
    assert.equal(page.total, 0);
  });

  test('creating an org id twice exits 1 with the server message on stderr', async () => {
    const result = await roster('orgs', 'create', '--id', 'acme', '--name', 'Again');
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^error: .*acme.* \(already_exists\)\n$/);
  });

  test('keys create --help documents the command with an Example', async () => {
    const result = await roster('keys', 'create', '--help');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /--all-workspaces/);
    assert.match(result.stdout, /\nExample:\n {2}roster keys create --org acme /);
  });
});
