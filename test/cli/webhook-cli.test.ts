import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { verifyRosterSignature } from '../../examples/verify-webhook.mjs';
import { cliRunner } from '../helpers/cli.js';
import { spawnServer, type SpawnedServer } from '../helpers/spawn-server.js';
import { type Delivery, until, webhookReceiver } from '../helpers/webhook-receiver.js';

describe('roster webhooks against a running server', () => {
  let server: SpawnedServer | undefined;
  let hook: Awaited<ReturnType<typeof webhookReceiver>> | undefined;
  let env: NodeJS.ProcessEnv = {};
  let masterKey = '';
  let webhookId = '';
  let secret = '';
  let deliveryId = '';

  const { roster, rosterJson } = cliRunner(() => env);

  const deliveriesOf = async (id: string) =>
    (await rosterJson<{ items: Delivery[] }>('webhooks', 'deliveries', id)).items;
  const delivery = async (id: string) => (await deliveriesOf(webhookId)).find((d) => d.delivery_id === id);

  before(async () => {
    hook = await webhookReceiver();
    // A first start with an empty database: the demo tenant and its API key, printed once. The
    // receiver is on 127.0.0.1, which Roster calls only when the operator allows it.
    server = await spawnServer({
      ROSTER_DATABASE_URL: '',
      ROSTER_S3_ENDPOINT: '',
      ROSTER_URL_SOURCE_ALLOW_HOSTS: '127.0.0.1',
      ROSTER_WEBHOOK_RETRY_BASE_MS: '100',
      // Deliveries are jobs: pick them up without the default half-second wait.
      ROSTER_JOB_POLL_MS: '50',
    });
    const demoKey = /\b(rk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1];
    assert.ok(demoKey, `no demo key in:\n${server.stdout()}`);
    masterKey = /\b(rmk_[A-Za-z0-9]+)/.exec(server.stdout())?.[1] ?? '';
    env = { ...process.env, ROSTER_URL: server.url, ROSTER_API_KEY: demoKey };
    for (const name of ['ROSTER_ORG', 'ROSTER_WORKSPACE', 'ROSTER_DEPLOYMENT']) delete env[name];
  });

  after(async () => {
    await server?.stop();
    if (server) await rm(server.dataDir, { recursive: true, force: true });
    await hook?.close();
  });

  test('webhooks create prints the webhook with its secret and says to store it; list shows only its hint', async () => {
    const created = await roster('webhooks', 'create', hook!.url, '--events', 'cohort.completed,batch.completed');
    assert.equal(created.code, 0, created.stderr);
    webhookId = /^webhook_id: +(wh_\w+)$/m.exec(created.stdout)?.[1] ?? '';
    secret = /^secret: +(whsec_\S+)$/m.exec(created.stdout)?.[1] ?? '';
    assert.ok(webhookId && secret, created.stdout);
    assert.match(created.stdout, /^events: +cohort\.completed, batch\.completed$/m);
    assert.match(created.stdout, new RegExp(`^secret_hint: +…${secret.slice(-4)}$`, 'm'));
    assert.equal(created.stderr, 'Store the secret now: it is not shown again.\n');

    const [list, json] = await Promise.all([roster('webhooks', 'list'), roster('webhooks', 'list', '--json')]);
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.split('\n');
    assert.match(header ?? '', /^ID +URL +EVENTS +SECRET +CREATED$/);
    assert.match(row ?? '', new RegExp(`^${webhookId} +${hook!.url} +cohort\\.completed, batch\\.completed +…`));
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as { items: unknown[] }).items.length, 1);
    for (const output of [list.stdout, json.stdout]) assert.equal(output.includes(secret), false, 'shown once only');
  });

  test('webhooks test sends a signed POST to the receiver, and deliveries shows it succeeded', async () => {
    const sent = await roster('webhooks', 'test', webhookId);
    assert.equal(sent.code, 0, sent.stderr);
    const ids = /^sent a webhook\.test event to (\S+): delivery (whd_\w+), event (evt_\w+)$/m.exec(sent.stdout);
    assert.ok(ids, sent.stdout);
    assert.equal(ids[1], webhookId);
    deliveryId = ids[2] ?? '';
    const follow = /^ {2}roster (webhooks deliveries .*)$/m.exec(sent.stdout)?.[1];
    assert.equal(follow, `webhooks deliveries --org demo --workspace default ${webhookId}`);

    const post = await until('the POST to the receiver', async () =>
      hook!.received.find((r) => r.headers['roster-delivery-id'] === deliveryId),
    );
    assert.equal(post.method, 'POST');
    assert.match(String(post.headers['roster-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyRosterSignature(secret, post.headers['roster-signature'], post.body), true);
    assert.equal((JSON.parse(post.body) as { id: string; type: string }).id, ids[3]);
    assert.equal(post.headers['roster-event-type'], 'webhook.test');

    const done = await until('the delivery to succeed', async () => {
      const found = await delivery(deliveryId);
      return found?.status === 'succeeded' ? found : undefined;
    });
    assert.deepEqual(
      done.attempts.map((a) => [a.attempt, a.status_code, a.error]),
      [[1, 200, null]],
    );
    // The follow-up runs as printed: a table of the deliveries.
    const table = await roster(...(follow ?? '').split(' '));
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID +EVENT +STATUS +ATTEMPTS +LAST RESULT +NEXT ATTEMPT$/m);
    assert.match(table.stdout, new RegExp(`^${deliveryId} +webhook\\.test +succeeded +1 +200 +-$`, 'm'));
    assert.match(table.stdout, /^1-1 of 1 deliveries$/m);
  });

  test('webhooks resend sends a delivery again: a second attempt, and a second POST', async () => {
    const resent = await roster('webhooks', 'resend', webhookId, deliveryId);
    assert.equal(resent.code, 0, resent.stderr);
    assert.match(resent.stdout, new RegExp(`^sending delivery ${deliveryId} again \\(status pending\\)$`, 'm'));
    const done = await until('the second attempt', async () => {
      const found = await delivery(deliveryId);
      return found?.status === 'succeeded' && found.attempts.length === 2 ? found : undefined;
    });
    assert.deepEqual(
      done.attempts.map((a) => [a.attempt, a.status_code]),
      [
        [1, 200],
        [2, 200],
      ],
    );
    assert.equal(hook!.received.filter((r) => r.headers['roster-delivery-id'] === deliveryId).length, 2);
  });

  test('a URL Roster does not call exits 1 with webhook_url_refused on stderr (its envelope with --json)', async () => {
    const args = ['webhooks', 'create', 'http://10.0.0.1/x', '--events', 'cohort.completed'];
    const [refused, json] = await Promise.all([roster(...args), roster(...args, '--json')]);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /^error: The webhook URL names a private address.*\(webhook_url_refused\)$/m);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'webhook_url_refused');
  });

  test('an unknown event exits 1 before any request, naming the events there are', async () => {
    const result = await roster(
      'webhooks',
      'create',
      hook!.url,
      '--events',
      'cohort.completed,cohort.done',
      '--url',
      'http://127.0.0.1:9',
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error: .*expected events separated by commas, from: cohort\.completed, cohort\.failed, batch\.completed, call\.reported, erasure\.completed \(unknown: cohort\.done\)$/m,
    );
  });

  test('the master key names the workspace with --org and --workspace; without them it exits 1 saying so', async () => {
    const previous = env;
    env = { ...env, ROSTER_API_KEY: masterKey };
    try {
      const [refused, listed] = await Promise.all([
        roster('webhooks', 'list'),
        roster('webhooks', 'list', '--org', 'demo', '--workspace', 'default'),
      ]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error: the master key belongs to no org: pass --org and --workspace/m);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`^${webhookId} `, 'm'));
    } finally {
      env = previous;
    }
  });

  test('webhooks delete removes the webhook; deleting it again exits 1 (not_found)', async () => {
    const deleted = await roster('webhooks', 'delete', webhookId);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted webhook ${webhookId}\n`);
    const [list, again] = await Promise.all([roster('webhooks', 'list'), roster('webhooks', 'delete', webhookId)]);
    assert.equal(list.stdout, 'no webhooks\n');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\(not_found\)$/m);
  });
});
