import type { Command } from 'commander';
import { type ApiClient, ApiError, clientFrom, queryString } from '../http-client.js';
import { rosterInvocation } from '../invocation.js';
import {
  type Column,
  field,
  type OutputOptions,
  type Page,
  printJson,
  printPage,
  renderRecord,
  renderSection,
  reportApiErrors,
} from '../output.js';
import { addWorkspaceOptions, shellWord } from './deployment-scope.js';
import { addClientOptions, example, wholeNumber } from './resource-commands.js';

const EXAMPLE_ERASURE = 'er_5b0e2f7c9a1d4e3f8b6c0a2d4e6f8091';
// The database part is done when the request is answered; the file rewrite usually takes a second or two.
const POLL_MS = 500;

/** An erasure request as the server answers it (erasure-routes.ts ErasureSchema). */
interface Erasure {
  erasure_id: string;
  status: 'processing' | 'completed' | 'failed';
  phone_numbers: number;
  requested_by: string;
  created_at: string;
  completed_at: string | null;
  removed: Record<string, number>;
  files_rewritten: number;
  files_deleted: number;
  cohorts_pending: number;
  error: { message: string } | null;
}

/** Where erasure requests live: a workspace of an org. */
interface WorkspaceOptions extends OutputOptions {
  org: string;
  workspace: string;
}

interface RequestOptions extends WorkspaceOptions {
  country?: string;
  wait?: boolean;
}

interface ListOptions extends WorkspaceOptions {
  offset?: number;
  limit?: number;
}

/** `/v1/orgs/{org}/workspaces/{ws}/erasure` and what follows it. */
function erasurePath(options: WorkspaceOptions, suffix = ''): string {
  return `/v1/orgs/${encodeURIComponent(options.org)}/workspaces/${encodeURIComponent(options.workspace)}/erasure${suffix}`;
}

/** The command that shows an erasure, ready to paste, with the scope it ran in. */
function getLine(options: WorkspaceOptions, erasureId: string): string {
  return `${rosterInvocation()} erasure get --org ${shellWord(options.org)} --workspace ${shellWord(options.workspace)} ${shellWord(erasureId)}`;
}

const ERASURE_FIELDS: Column[] = [
  field('erasure_id'),
  field('status'),
  field('phone_numbers'),
  field('requested_by'),
  field('created_at'),
  field('completed_at'),
  field('files_rewritten'),
  field('files_deleted'),
  field('cohorts_pending'),
  { header: 'error', value: (item) => String((item.error as Erasure['error'])?.message ?? '-') },
];

/** The sum of some of an erasure's `removed` counts, as one column. */
const removed = (header: string, ...names: string[]): Column => ({
  header,
  value: (item) => {
    const counts = (item.removed ?? {}) as Record<string, unknown>;
    return String(names.reduce((sum, name) => sum + Number(counts[name] ?? 0), 0));
  },
});

const ERASURE_COLUMNS: Column[] = [
  field('erasure_id', 'id'),
  field('status'),
  field('phone_numbers', 'numbers'),
  removed('contacts', 'contacts'),
  removed('calls', 'calls'),
  removed('file rows', 'cohort_file_rows', 'rejected_file_rows'),
  field('files_rewritten', 'files'),
  field('created_at', 'created'),
  field('completed_at', 'completed'),
];

/** An erasure: its JSON with --json, else `key: value` lines with what it removed indented under `removed:`. */
function printErasure(erasure: Erasure, options: OutputOptions): void {
  if (options.json) printJson(erasure);
  else
    process.stdout.write(`${renderRecord({ ...erasure }, ERASURE_FIELDS)}${renderSection('removed', erasure.removed)}`);
}

/** Polls the erasure until it leaves processing; a failed poll names the command that follows it, since the rewrite goes on. */
async function waitForErasure(client: ApiClient, options: WorkspaceOptions, erasure: Erasure): Promise<Erasure> {
  let current = erasure;
  while (current.status === 'processing') {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    try {
      current = await client.request<Erasure>(
        'GET',
        erasurePath(options, `/${encodeURIComponent(erasure.erasure_id)}`),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      throw new ApiError(
        error.status,
        error.code,
        `${error.message} (the erasure goes on on the server: ${getLine(options, erasure.erasure_id)})`,
        error.details,
        error.body,
      );
    }
  }
  return current;
}

/** erasure request|get|list: right-to-erasure requests of a workspace. */
export function registerErasureCommands(program: Command): void {
  const group = program
    .command('erasure')
    .description(
      'Right-to-erasure requests of a workspace: phone numbers removed from every cohort of every deployment, ' +
        'from batches with their call logs, from webhook deliveries that name them and from the stored cohort and ' +
        'rejection files. Do-not-call entries are kept.',
    );
  const leaf = (name: string, description: string) => addWorkspaceOptions(group.command(name).description(description));

  addClientOptions(
    leaf(
      'request',
      'Erase phone numbers from the workspace and print the request. When it is answered, lookups already answer ' +
        'found: false and the calls are gone; the stored files are then rewritten without the numbers (status ' +
        'processing, then completed). Exits 1 with invalid_phone_number, listing each number that cannot be read, ' +
        'and nothing is erased; not_found when the workspace does not exist.',
    )
      .argument('<phone...>', 'one or more numbers (at most 1000): E.164, or national with --country')
      .option('--country <code>', 'ISO 3166-1 alpha-2 country for national numbers, e.g. IN')
      .option(
        '--wait',
        `poll every ${POLL_MS} ms until the files are rewritten: exit 0 when the request completed, 1 when it failed`,
      ),
  )
    .addHelpText(
      'after',
      '\nThe numbers themselves are not kept: the request records how many there were and what was removed.\n' +
        'Without --wait, follow it with `roster erasure get <erasure_id>`; a webhook can subscribe to\n' +
        'erasure.completed instead.\n' +
        example([
          'roster erasure request +919876543210 +12015550123 --wait',
          'roster erasure request 09876543210 --country IN --org demo --workspace default --json',
        ]),
    )
    .action(
      reportApiErrors(async (phones: string[], options: RequestOptions, command: Command) => {
        const client = clientFrom(command);
        const requested = await client.request<Erasure>('POST', erasurePath(options), {
          phone_numbers: phones,
          country: options.country,
        });
        const erasure = options.wait ? await waitForErasure(client, options, requested) : requested;
        printErasure(erasure, options);
        if (erasure.status === 'failed') {
          process.stderr.write(
            `error: erasure ${erasure.erasure_id} failed: ${erasure.error?.message ?? 'no reason given'}\n`,
          );
          process.exitCode = 1;
        } else if (erasure.status === 'processing' && !options.json)
          process.stdout.write(
            `\nThe stored files are being rewritten. Follow it with:\n  ${getLine(options, erasure.erasure_id)}\n`,
          );
      }),
    );

  addClientOptions(
    leaf(
      'get',
      'Show one erasure request: its status, what it removed and how many cohorts are still to be rewritten. ' +
        'Exits 1 (not_found) for an id the workspace does not have.',
    ).argument('<erasure_id>', "the request's id (er_…)"),
  )
    .addHelpText('after', example([`roster erasure get ${EXAMPLE_ERASURE}`]))
    .action(
      reportApiErrors(async (erasureId: string, options: WorkspaceOptions, command: Command) => {
        const erasure = await clientFrom(command).request<Erasure>(
          'GET',
          erasurePath(options, `/${encodeURIComponent(erasureId)}`),
        );
        printErasure(erasure, options);
      }),
    );

  addClientOptions(
    leaf('list', "List the workspace's erasure requests, newest first, one page at a time.")
      .option('--offset <n>', 'how many to skip (default: 0)', wholeNumber(0))
      .option('--limit <n>', 'how many to show, 1 to 100 (default: 10)', wholeNumber(1)),
  )
    .addHelpText(
      'after',
      '\nWith --json every count is listed (removed.call_logs, webhook_deliveries, rejected_file_rows, …).\n' +
        example(['roster erasure list', 'roster erasure list --org acme --workspace support --limit 100 --json']),
    )
    .action(
      reportApiErrors(async (options: ListOptions, command: Command) => {
        const page = await clientFrom(command).request<Page>(
          'GET',
          erasurePath(options, queryString({ offset: options.offset, limit: options.limit })),
        );
        printPage(page, options, ERASURE_COLUMNS, 'erasure requests');
      }),
    );

  group.addHelpText(
    'after',
    example([
      'roster erasure request +919876543210 --wait',
      `roster erasure get ${EXAMPLE_ERASURE}`,
      'roster erasure list',
    ]),
  );
}
