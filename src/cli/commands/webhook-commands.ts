import { type Command, InvalidArgumentError } from 'commander';
import { clientFrom, queryString } from '../http-client.js';
import { rosterInvocation } from '../invocation.js';
import {
  type Column,
  field,
  type Item,
  type OutputOptions,
  type Page,
  printJson,
  printPage,
  printRecord,
  renderTable,
  reportApiErrors,
} from '../output.js';
import { WEBHOOK_EVENTS } from '../../domain/webhooks/webhook-events.js';
import { addWorkspaceOptions, shellWord } from './deployment-scope.js';
import { addClientOptions, example, wholeNumber } from './resource-commands.js';

const EXAMPLE_WEBHOOK = 'wh_4f0c2a1b2c3d4e5f60718293a4b5c6d7';
const EXAMPLE_DELIVERY = 'whd_9e8d7c6b5a4f30211f2e3d4c5b6a7980';

/** Where webhooks live: a workspace of an org. */
interface WorkspaceOptions extends OutputOptions {
  org: string;
  workspace: string;
}

interface CreateOptions extends WorkspaceOptions {
  events: string[];
  secret?: string;
}

interface DeliveriesOptions extends WorkspaceOptions {
  offset?: number;
  limit?: number;
}

interface Attempt {
  attempt: number;
  status_code: number | null;
  error: string | null;
}

// Checked here as well as by the server, whose schema error for an unknown event does not name the known ones.
function eventList(value: string): string[] {
  const events = value
    .split(',')
    .map((event) => event.trim())
    .filter((event) => event !== '');
  const unknown = events.filter((event) => !(WEBHOOK_EVENTS as readonly string[]).includes(event));
  if (events.length === 0 || unknown.length > 0)
    throw new InvalidArgumentError(
      `expected events separated by commas, from: ${WEBHOOK_EVENTS.join(', ')}${unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
  return [...new Set(events)];
}

/** `/v1/orgs/{org}/workspaces/{ws}/webhooks` and what follows it. */
function webhooksPath(options: WorkspaceOptions, suffix = ''): string {
  return `/v1/orgs/${encodeURIComponent(options.org)}/workspaces/${encodeURIComponent(options.workspace)}/webhooks${suffix}`;
}

/** The command that lists a webhook's deliveries, ready to paste, with the scope it ran in. */
function deliveriesLine(options: WorkspaceOptions, webhookId: string): string {
  return `${rosterInvocation()} webhooks deliveries --org ${shellWord(options.org)} --workspace ${shellWord(options.workspace)} ${shellWord(webhookId)}`;
}

function lastAttempt(item: Item): Attempt | undefined {
  const attempts = (item.attempts ?? []) as Attempt[];
  return attempts.reduce<Attempt | undefined>((last, a) => (last && last.attempt > a.attempt ? last : a), undefined);
}

const WEBHOOK_COLUMNS: Column[] = [
  field('webhook_id', 'id'),
  field('url'),
  field('events'),
  field('secret_hint', 'secret'),
  field('created_at', 'created'),
];

const DELIVERY_COLUMNS: Column[] = [
  field('delivery_id', 'id'),
  field('event_type', 'event'),
  field('status'),
  { header: 'attempts', value: (item) => String(((item.attempts ?? []) as Attempt[]).length) },
  {
    // The receiver's status when it answered, else why there was no answer (a timeout, a refused address).
    header: 'last result',
    value: (item) => {
      const last = lastAttempt(item);
      if (last === undefined) return '-';
      return last.status_code === null ? (last.error ?? '-') : String(last.status_code);
    },
  },
  field('next_attempt_at', 'next attempt'),
];

/** webhooks create|list|delete|deliveries|test|resend: signed POSTs of a workspace's events to a URL. */
export function registerWebhookCommands(program: Command): void {
  const group = program
    .command('webhooks')
    .description(
      "Webhooks of a workspace: Roster POSTs each subscribed event to the webhook's URL, signed with its secret " +
        '(Roster-Signature), and retries a delivery the receiver does not answer with 2xx.',
    );
  const leaf = (name: string, description: string) => addWorkspaceOptions(group.command(name).description(description));

  addClientOptions(
    leaf(
      'create',
      'Subscribe a URL to events and print the webhook with its signing secret, shown this once. The URL must be ' +
        'http(s) and resolve to public addresses only: exit 1 (webhook_url_refused) otherwise.',
    )
      .argument('<url>', 'where Roster POSTs the events, e.g. https://hooks.example.com/roster')
      .requiredOption('--events <events>', `the events, separated by commas: ${WEBHOOK_EVENTS.join(', ')}`, eventList)
      .option('--secret <secret>', 'your own signing secret, 16-200 printable characters (default: Roster makes one)'),
  )
    .addHelpText(
      'after',
      '\nThe secret signs every delivery: Roster-Signature is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">\n' +
        '(examples/verify-webhook.mjs checks it). It is not shown again, so store it now; with --json it is the\n' +
        '"secret" field of the answer. `roster webhooks test` then shows the receiver works. The URL is an\n' +
        'argument, not a flag: --url names the Roster server, as on every command.\n' +
        example([
          'roster webhooks create https://hooks.example.com/roster --events cohort.completed,cohort.failed',
          'roster webhooks create https://hooks.example.com/calls --events call.reported --workspace support --json',
        ]),
    )
    .action(
      reportApiErrors(async (url: string, options: CreateOptions, command: Command) => {
        const created = await clientFrom(command).request<Item>('POST', webhooksPath(options), {
          url,
          events: options.events,
          secret: options.secret,
        });
        printRecord(created, options);
        if (!options.json) process.stderr.write('Store the secret now: it is not shown again.\n');
      }),
    );

  addClientOptions(leaf('list', "List the workspace's webhooks (their secrets show by their last four characters)."))
    .addHelpText(
      'after',
      example(['roster webhooks list', 'roster webhooks list --org acme --workspace support --json']),
    )
    .action(
      reportApiErrors(async (options: WorkspaceOptions, command: Command) => {
        const answer = await clientFrom(command).request<{ items: Item[] }>('GET', webhooksPath(options));
        if (options.json) printJson(answer);
        else
          process.stdout.write(
            answer.items.length === 0 ? 'no webhooks\n' : renderTable(answer.items, WEBHOOK_COLUMNS),
          );
      }),
    );

  addClientOptions(
    leaf('delete', 'Delete a webhook and its deliveries; pending deliveries are not sent.').argument(
      '<webhook_id>',
      "the webhook's id",
    ),
  )
    .addHelpText('after', example([`roster webhooks delete ${EXAMPLE_WEBHOOK}`]))
    .action(
      reportApiErrors(async (webhookId: string, options: WorkspaceOptions, command: Command) => {
        const answer = await clientFrom(command).request(
          'DELETE',
          webhooksPath(options, `/${encodeURIComponent(webhookId)}`),
        );
        if (options.json) printJson(answer);
        else process.stdout.write(`deleted webhook ${webhookId}\n`);
      }),
    );

  addClientOptions(
    leaf(
      'deliveries',
      "List a webhook's deliveries, newest first: each event sent, its status (pending, succeeded or failed), " +
        'how many attempts it took, the result of the last one (the status code, else why there was none) and, while ' +
        'pending, when it is tried next.',
    )
      .argument('<webhook_id>', "the webhook's id")
      .option('--offset <n>', 'how many to skip (default: 0)', wholeNumber(0))
      .option('--limit <n>', 'how many to show, 1 to 100 (default: 10)', wholeNumber(1)),
  )
    .addHelpText(
      'after',
      '\nWith --json every attempt is listed (started_at, duration_ms, status_code, error), with the event as sent.\n' +
        example([
          `roster webhooks deliveries ${EXAMPLE_WEBHOOK}`,
          `roster webhooks deliveries ${EXAMPLE_WEBHOOK} --limit 100 --json`,
        ]),
    )
    .action(
      reportApiErrors(async (webhookId: string, options: DeliveriesOptions, command: Command) => {
        const query = queryString({ offset: options.offset, limit: options.limit });
        const page = await clientFrom(command).request<Page>(
          'GET',
          webhooksPath(options, `/${encodeURIComponent(webhookId)}/deliveries${query}`),
        );
        printPage(page, options, DELIVERY_COLUMNS, 'deliveries');
      }),
    );

  addClientOptions(
    leaf(
      'test',
      'Send a webhook.test event to the webhook now, whatever it subscribes to, and print its delivery and event ids.',
    ).argument('<webhook_id>', "the webhook's id"),
  )
    .addHelpText('after', example([`roster webhooks test ${EXAMPLE_WEBHOOK}`]))
    .action(
      reportApiErrors(async (webhookId: string, options: WorkspaceOptions, command: Command) => {
        const answer = await clientFrom(command).request<{ delivery_id: string; event_id: string }>(
          'POST',
          webhooksPath(options, `/${encodeURIComponent(webhookId)}/test`),
        );
        if (options.json) {
          printJson(answer);
          return;
        }
        process.stdout.write(
          `sent a webhook.test event to ${webhookId}: delivery ${answer.delivery_id}, event ${answer.event_id}\n` +
            `Follow it with:\n  ${deliveriesLine(options, webhookId)}\n`,
        );
      }),
    );

  addClientOptions(
    leaf(
      'resend',
      'Send a delivery again now (a succeeded or failed one), retried from there like a new one. Exits 1 ' +
        '(delivery_pending) while it is still pending.',
    )
      .argument('<webhook_id>', "the webhook's id")
      .argument('<delivery_id>', "the delivery's id (see `roster webhooks deliveries`)"),
  )
    .addHelpText('after', example([`roster webhooks resend ${EXAMPLE_WEBHOOK} ${EXAMPLE_DELIVERY}`]))
    .action(
      reportApiErrors(async (webhookId: string, deliveryId: string, options: WorkspaceOptions, command: Command) => {
        const answer = await clientFrom(command).request<{ delivery_id: string; status: string }>(
          'POST',
          webhooksPath(
            options,
            `/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(deliveryId)}/resend`,
          ),
        );
        if (options.json) {
          printJson(answer);
          return;
        }
        process.stdout.write(
          `sending delivery ${answer.delivery_id} again (status ${answer.status})\n` +
            `Follow it with:\n  ${deliveriesLine(options, webhookId)}\n`,
        );
      }),
    );

  group.addHelpText(
    'after',
    example([
      'roster webhooks create https://hooks.example.com/roster --events cohort.completed,batch.completed',
      'roster webhooks list',
      `roster webhooks test ${EXAMPLE_WEBHOOK}`,
      `roster webhooks deliveries ${EXAMPLE_WEBHOOK}`,
      `roster webhooks resend ${EXAMPLE_WEBHOOK} ${EXAMPLE_DELIVERY}`,
      `roster webhooks delete ${EXAMPLE_WEBHOOK}`,
    ]),
  );
}
