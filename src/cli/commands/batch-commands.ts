import { type Command, InvalidArgumentError, Option } from 'commander';
import { fileSize, IDEMPOTENCY_KEY_HELP, textParts, uploadForm } from '../file-upload.js';
import { clientFrom, queryString } from '../http-client.js';
import { rosterInvocation } from '../invocation.js';
import {
  type Column,
  detailLines,
  field,
  formatValue,
  type Item,
  LocalError,
  type OutputOptions,
  type Page,
  printJson,
  printPage,
  renderRecord,
  renderTable,
  reportApiErrors,
} from '../output.js';
import { addClientOptions, example, wholeNumber } from './resource-commands.js';
import { scopeOption } from './scope-env.js';

const EXAMPLE_BATCH = '65f1c2a9e4b0d3f7a1b2c3d4';

interface UploadOptions extends OutputOptions {
  file: string;
  /** --idempotency-key: sent as Idempotency-Key (default: a new one). */
  idempotencyKey?: string;
  userId?: string;
  batchName: string;
  callingNumbers: string;
  batchType?: string;
  enableDnc?: boolean;
  skipInvalid?: boolean;
  retry?: string;
  delay?: string;
  timezone?: string;
  callingHour?: string;
  allowedDays?: string;
}

interface DetailsOptions extends OutputOptions {
  page?: number;
  limit?: number;
  status?: string;
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  search?: string;
}

interface UploadAnswer extends Item {
  batch: { _id: string; batchName: string; callingNumbers: string[]; totalCalls: number };
  skipped: { invalid: number; duplicate: number; dnc: number };
  invalidRows: Array<{ line: number; column: string | null; reason: string }>;
}

interface DetailsAnswer extends Item {
  data: {
    batchId: string;
    batchName: string;
    batchStatus: string;
    page: number;
    limit: number;
    total: number;
    totalPages: number;
    data: Item[];
  };
}

/** `a,b` or a JSON array → the JSON array the vendor's callingNumbers field takes. */
function callingNumbers(value: string): string {
  if (value.trim().startsWith('[')) return value;
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0)
    throw new InvalidArgumentError(
      `expected calling-number ids separated by commas (see \`${rosterInvocation()} numbers list\`)`,
    );
  return JSON.stringify(ids);
}

/** `09:00-17:00` → `{"start":"09:00","end":"17:00"}`; JSON passes as it is, for the server to check. */
function callingHour(value: string): string {
  const range = /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/.exec(value);
  return range ? JSON.stringify({ start: range[1], end: range[2] }) : value;
}

/** `1,2,3,4,5` → `[1,2,3,4,5]`; JSON passes as it is. */
function allowedDays(value: string): string {
  return /^[\d\s,]+$/.test(value)
    ? `[${value
        .split(',')
        .map((day) => day.trim())
        .filter(Boolean)
        .join(',')}]`
    : value;
}

const lastStatus: Column = {
  header: 'last attempt',
  value: (item) => {
    const logs = Array.isArray(item.phoneLogs) ? (item.phoneLogs as Item[]) : [];
    const last = logs.at(-1);
    return last === undefined ? '-' : `${formatValue(last.callStatus)} at ${formatValue(last.createdAt)}`;
  },
};

const BATCH_COLUMNS: Column[] = [
  field('_id', 'id'),
  field('batchName', 'name'),
  field('batchStatus', 'status'),
  field('totalCalls', 'calls'),
  field('agentId', 'agent'),
  field('createdAt', 'created'),
];
// The vendor's details show each call's attempts as its phoneLogs, not a status of its own.
const attemptCount: Column = {
  header: 'attempts',
  value: (item) => String(Array.isArray(item.phoneLogs) ? item.phoneLogs.length : 0),
};
const CALL_COLUMNS: Column[] = [field('_id', 'id'), field('phoneNumber', 'phone'), attemptCount, lastStatus];

function printUpload(answer: UploadAnswer): void {
  const { batch, skipped } = answer;
  const lines = [
    `created batch ${batch._id} (${batch.batchName}): ${batch.totalCalls} call${batch.totalCalls === 1 ? '' : 's'}`,
    `skipped: ${skipped.invalid} invalid, ${skipped.duplicate} repeated, ${skipped.dnc} on the do-not-call list`,
  ];
  if (answer.invalidRows.length > 0)
    lines.push('invalid rows:', ...detailLines(answer.invalidRows).map((line) => `  ${line}`));
  lines.push('', 'Follow it with:', `  ${rosterInvocation()} batches details ${batch._id}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * The batch and one page of its calls. `batchSize` is given when a filter or search narrowed the
 * calls: the answer's total then counts the matching calls only, and is shown as such.
 */
function printDetails(answer: DetailsAnswer, batchSize?: number): void {
  const { data } = answer;
  const calls: Column =
    batchSize === undefined
      ? field('total', 'calls')
      : { header: 'matching calls', value: () => `${data.total} of ${batchSize}` };
  const head = renderRecord(data, [
    field('batchId', 'batch'),
    field('batchName', 'name'),
    field('batchStatus', 'status'),
    calls,
  ]);
  if (data.data.length === 0) {
    const none = batchSize === undefined ? 'no calls' : 'no matching calls';
    process.stdout.write(`${head}\n${none}${data.total > 0 ? ` on page ${data.page}` : ''}\n`);
    return;
  }
  const more = data.page < data.totalPages ? `; next: --page ${data.page + 1}` : '';
  process.stdout.write(
    `${head}\n${renderTable(data.data, CALL_COLUMNS)}\npage ${data.page} of ${data.totalPages}${more}\n`,
  );
}

/** The user an org API key acts for (GET /v1/me); the master key has none, so it must pass --user-id. */
async function keyUserId(command: Command): Promise<string> {
  const me = await clientFrom(command).request<{ user_id: string | null }>('GET', '/v1/me');
  if (me.user_id === null)
    throw new LocalError(
      `The master key acts for no user: pass --user-id (see \`${rosterInvocation()} users list --org <org_id>\`).`,
    );
  return me.user_id;
}

/** batches upload|list|details|pause|resume|cancel: whom to call, with the vendor's batch API. */
export function registerBatchCommands(program: Command): void {
  const group = program
    .command('batches')
    .description(
      'Batches: contacts to call for one agent, inside their calling windows (the vendor batch API under /api/call).',
    );

  addClientOptions(
    group
      .command('upload')
      .description(
        'Create a batch from a .csv, .xlsx or .xls file (first sheet), streamed with a progress bar on a terminal. ' +
          "The file needs a header with phoneNumber and the agent's required variables. Each flag is one of the " +
          "vendor's form fields (named in brackets); unset ones take the server's defaults.",
      )
      .requiredOption('--file <contacts>', 'the contacts: .csv, .xlsx or .xls')
      .option('--idempotency-key <key>', IDEMPOTENCY_KEY_HELP)
      .option(
        '--user-id <user_id>',
        "[userId] the 24-hex user the batch belongs to (default: the API key's own user, from GET /v1/me; the master key must name one, see `roster users list`)",
      )
      .requiredOption('--batch-name <name>', '[batchName] a name to recognise it by')
      .requiredOption(
        '--calling-numbers <ids>',
        '[callingNumbers] calling-number ids separated by commas, all of one agent (see `roster numbers list`)',
        callingNumbers,
      )
      .addOption(new Option('--batch-type <type>', '[batchType] (default: outbound)').choices(['outbound', 'mixed']))
      .option('--enable-dnc', '[enableDNC="true"] skip numbers on the do-not-call list')
      .option(
        '--skip-invalid',
        '[type="true"] import the valid rows and report the rest; without it any invalid row refuses the file',
      )
      .option('--retry <n>', '[retry] retries after the first call, 0-10; 0 calls once (default: 2)')
      .option('--delay <seconds>', '[delay] seconds between attempts, 1-604800 (default: 3600)')
      .option('--timezone <iana>', '[timezone] zone of the calling window, e.g. America/New_York (default: UTC)')
      .option(
        '--calling-hour <start-end>',
        '[callingHour] the window, e.g. 09:00-17:00; a start after the end is overnight (default: 09:00-18:00)',
        callingHour,
      )
      .option(
        '--allowed-days <days>',
        '[allowedDays] days to call, 0 = Sunday, e.g. 1,2,3,4,5 (the default)',
        allowedDays,
      ),
  )
    .addHelpText(
      'after',
      '\nIt exits 1 when the server refuses the file, e.g. invalid_rows (422) listing each invalid row.\n' +
        example([
          'roster batches upload --file examples/batch-contacts.csv --user-id 64e5f12345abcdef12345678 \\',
          '    --batch-name "Marketing Campaign May 2025" --calling-numbers 64e5f12345abcdef87654321 --enable-dnc --skip-invalid \\',
          '    --retry 2 --delay 3600 --timezone America/New_York --calling-hour 09:00-17:00 --allowed-days 1,2,3,4,5',
        ]),
    )
    .action(
      reportApiErrors(async (options: UploadOptions, command: Command) => {
        const bytes = await fileSize(options.file, '--file');
        const fields = textParts({
          userId: options.userId ?? (await keyUserId(command)),
          batchName: options.batchName,
          batchType: options.batchType,
          callingNumbers: options.callingNumbers,
          enableDNC: options.enableDnc ? 'true' : undefined,
          type: options.skipInvalid ? 'true' : undefined,
          retry: options.retry,
          delay: options.delay,
          timezone: options.timezone,
          callingHour: options.callingHour,
          allowedDays: options.allowedDays,
        });
        const answer = await uploadForm<UploadAnswer>(
          command,
          options,
          '/api/call/upload',
          [...fields, { name: 'file', file: options.file }],
          { shown: options.file, bytes },
        );
        if (options.json) printJson(answer);
        else printUpload(answer);
      }),
    );

  addClientOptions(
    group
      .command('list')
      .description('List the batches of the workspaces the key reaches, one page at a time.')
      .addOption(scopeOption('org', '--org <org_id>', 'the org (only with the master key, which must name one)'))
      .option('--offset <n>', 'how many to skip (default: 0)', wholeNumber(0))
      .option('--limit <n>', 'how many to show, 1 to 100 (default: 10)', wholeNumber(1)),
  )
    .addHelpText('after', example(['roster batches list', 'roster batches list --org acme --offset 10 --json']))
    .action(
      reportApiErrors(
        async (options: OutputOptions & { org?: string; offset?: number; limit?: number }, command: Command) => {
          const page = await clientFrom(command).request<Page>(
            'GET',
            `/api/call/batches${queryString({ org_id: options.org, offset: options.offset, limit: options.limit })}`,
          );
          printPage(page, options, BATCH_COLUMNS, 'batches');
        },
      ),
    );

  addClientOptions(
    group
      .command('details')
      .description(
        'Show a batch (status active, paused or completed) and one page of its calls, each with its reported attempts (--json: every phoneLog).',
      )
      .argument('<batch_id>', "the batch's id")
      .option('--page <n>', 'which page, from 1 (default: 1)', wholeNumber(1))
      .option('--limit <n>', 'calls per page, 1 to 1000 (default: 10)', wholeNumber(1))
      .addOption(
        new Option(
          '--status <callStatus>',
          'only calls in this status, e.g. failed (a shorthand for --filter)',
        ).conflicts('filter'),
      )
      .option(
        '--filter <json>',
        'the vendor filter: call fields or variables matched exactly, e.g. \'{"callStatus":"failed"}\' or \'{"name":"Emily Davis"}\'',
      )
      .option(
        '--sort-by <field>',
        'order by createdAt (default), phoneNumber, callStatus, attempts, _id or any variable; ties keep file order',
      )
      .addOption(new Option('--sort-order <order>', 'asc or desc (default: asc)').choices(['asc', 'desc']))
      .option('--search <text>', 'calls whose phone number or a variable contains it'),
  )
    .addHelpText(
      'after',
      example([
        `roster batches details ${EXAMPLE_BATCH}`,
        `roster batches details ${EXAMPLE_BATCH} --status failed --sort-by attempts --sort-order desc --json`,
      ]),
    )
    .action(
      reportApiErrors(async (batchId: string, options: DetailsOptions, command: Command) => {
        const filter = options.status === undefined ? options.filter : JSON.stringify({ callStatus: options.status });
        const query = queryString({
          page: options.page,
          limit: options.limit,
          filter,
          sortBy: options.sortBy,
          sortOrder: options.sortOrder,
          search: options.search,
        });
        const client = clientFrom(command);
        const detailsPath = `/api/call/batch-details/${encodeURIComponent(batchId)}`;
        const answer = await client.request<DetailsAnswer>('GET', `${detailsPath}${query}`);
        if (options.json) {
          printJson(answer);
          return;
        }
        // A filtered total is not the batch's size: one unfiltered call tells that.
        const narrowed = filter !== undefined || options.search !== undefined;
        const batchSize = narrowed
          ? (await client.request<DetailsAnswer>('GET', `${detailsPath}?limit=1`)).data.total
          : undefined;
        printDetails(answer, batchSize);
      }),
    );

  const lifecycle = [
    ['pause', 'paused', 'Pause a running batch: no call of it is handed to a dialer until it is resumed.'],
    ['resume', 'resumed', 'Resume a paused batch.'],
    ['cancel', 'cancelled', 'Cancel a batch for good: its open calls are cancelled and never dialled.'],
  ] as const;
  for (const [action, past, description] of lifecycle) {
    addClientOptions(
      group
        .command(action)
        .description(`${description} Exits 1 (invalid_state) from a state that does not allow it.`)
        .argument('<batch_id>', "the batch's id"),
    )
      .addHelpText('after', example([`roster batches ${action} ${EXAMPLE_BATCH}`]))
      .action(
        reportApiErrors(async (batchId: string, options: OutputOptions, command: Command) => {
          const answer = await clientFrom(command).request<{ batch: Item }>(
            'POST',
            `/api/call/batches/${encodeURIComponent(batchId)}/${action}`,
          );
          if (options.json) printJson(answer);
          else process.stdout.write(`${past} batch ${batchId}: status ${formatValue(answer.batch.batchStatus)}\n`);
        }),
      );
  }

  group.addHelpText(
    'after',
    example([
      `roster batches upload --file contacts.xlsx --user-id 64e5f12345abcdef12345678 --batch-name "May" --calling-numbers 64e5f12345abcdef87654321`,
      'roster batches list',
      `roster batches details ${EXAMPLE_BATCH} --status failed`,
      `roster batches pause ${EXAMPLE_BATCH}`,
      `roster batches resume ${EXAMPLE_BATCH}`,
      `roster batches cancel ${EXAMPLE_BATCH}`,
    ]),
  );
}
