import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { type Command, Option } from 'commander';
import { clientFrom, queryString } from '../http-client.js';
import {
  type Column,
  field,
  type Item,
  LocalError,
  type Page,
  printError,
  printJson,
  printPage,
  printRecord,
  renderRecord,
  reportApiErrors,
} from '../output.js';
import { fileSize, IDEMPOTENCY_KEY_HELP, uploadForm } from '../file-upload.js';
import { formatCount } from '../../domain/ingest/progress-text.js';
import { type CohortProgress, progressSummary } from '../cohort-progress.js';
import { rosterInvocation } from '../invocation.js';
import { formatBytes } from '../progress.js';
import {
  addDeploymentOptions,
  deploymentArgs,
  deploymentPath,
  type DeploymentOptions,
  EXAMPLE_DEPLOYMENT,
  shellWord,
} from './deployment-scope.js';
import { addClientOptions, example, wholeNumber } from './resource-commands.js';
import {
  type CohortResult,
  EXIT_ROWS_REJECTED,
  rejectedVerdict,
  rejectionLines,
  rejectionsInline,
} from './cohort-outcome.js';
import { DEFAULT_OUTAGE_SECONDS, waitForCohort } from './cohort-wait.js';
import { validate } from './cohort-validate.js';

const FILE_TYPES = ['rejected_records', 'cohort', 'cohort_transformation'] as const;

interface UploadOptions extends DeploymentOptions {
  name: string;
  file: string;
  /** --idempotency-key: sent as Idempotency-Key (default: a new one). */
  idempotencyKey?: string;
  config: string;
  wait?: boolean;
  failOnRejected?: boolean;
  outageTimeout: number;
}

interface ListOptions extends DeploymentOptions {
  offset?: number;
  limit?: number;
  sortBy?: string;
  sortOrder?: string;
  search?: string;
}

interface FilesOptions extends DeploymentOptions {
  type: (typeof FILE_TYPES)[number];
  out?: string;
}

/** A cohort as the server answers it; only the fields the CLI reads are typed. */
interface Cohort extends Item {
  cohort_id: string;
  name: string;
  status: 'processing' | 'completed' | 'failed';
  result: CohortResult | null;
  error?: { code: string; message: string; details: unknown };
  progress?: CohortProgress;
}

type Count = 'total_records' | 'valid_records' | 'rejected_records';

const count = (name: Count, header: string): Column => ({
  header,
  value: (item) => {
    const result = item.result as CohortResult | null;
    return result === null ? '-' : String(result[name]);
  },
});

const COLUMNS: Column[] = [
  field('cohort_id', 'id'),
  field('name'),
  field('status'),
  count('valid_records', 'valid'),
  count('rejected_records', 'rejected'),
  count('total_records', 'total'),
  field('created_at', 'created'),
];

const FIELDS: Column[] = [
  field('cohort_id'),
  field('name'),
  field('status'),
  field('source_type'),
  count('total_records', 'total_records'),
  count('valid_records', 'valid_records'),
  count('rejected_records', 'rejected_records'),
  { header: 'rejections_by_reason', value: (item) => rejectionsInline(item.result as CohortResult | null) },
  { header: 'progress', value: (item) => progressSummary(item.progress as CohortProgress | undefined) },
  {
    header: 'error',
    value: (item) =>
      item.error ? `${String((item.error as Item).message)} (${String((item.error as Item).code)})` : '-',
  },
  field('created_by'),
  field('created_at'),
  field('updated_at'),
];

function cohortsPath(options: DeploymentOptions, suffix = ''): string {
  return `${deploymentPath(options)}/cohorts${suffix}`;
}

/** The command that downloads a cohort's rejected rows, ready to paste. */
function rejectedFilesLine(options: DeploymentOptions, cohortId: string): string {
  return `${rosterInvocation()} cohorts files ${deploymentArgs(options)} ${shellWord(cohortId)} --type rejected_records --out rejected.csv`;
}

/** The end of `upload --wait` for people: the counts, the rejected rows by reason, and where they are. */
function printOutcome(cohort: Cohort, options: DeploymentOptions, seconds: number): void {
  const result = cohort.result ?? { total_records: 0, valid_records: 0, rejected_records: 0 };
  const counted = (name: Count, header: string): Column => ({
    header,
    value: () => formatCount(result[name]),
  });
  const lines = [
    `cohort ${cohort.cohort_id} (${cohort.name}) completed in ${seconds.toFixed(1)} s`,
    renderRecord(cohort, [
      counted('total_records', 'total'),
      counted('valid_records', 'valid'),
      counted('rejected_records', 'rejected'),
    ]).trimEnd(),
  ];
  const byReason = rejectionLines(result);
  if (byReason.length > 0) lines.push('', ...byReason);
  if (result.rejected_records > 0)
    lines.push(
      '',
      'The rejected rows, each with its rejected_reason:',
      `  ${rejectedFilesLine(options, cohort.cohort_id)}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function upload(options: UploadOptions, command: Command): Promise<void> {
  const bytes = (await fileSize(options.file, '--file')) + (await fileSize(options.config, '--config'));
  const started = Date.now();
  const parts = [
    { name: 'name', value: options.name },
    { name: 'cohort_transformation_file', file: options.config, contentType: 'application/json' },
    { name: 'cohort_file', file: options.file, contentType: 'text/csv' },
  ];
  const cohort = await uploadForm<Cohort>(command, options, cohortsPath(options, '/upload'), parts, {
    shown: options.file,
    bytes,
  });
  if (!options.wait) {
    printRecord(cohort, options, FIELDS);
    if (!options.json)
      process.stdout.write(
        `\nIt is processed in the background. Follow it with:\n  ${rosterInvocation()} cohorts get ${deploymentArgs(options)} ${cohort.cohort_id}\n`,
      );
    return;
  }
  const final = await waitForCohort(
    clientFrom(command),
    options,
    cohort,
    cohortsPath(options, `/${encodeURIComponent(cohort.cohort_id)}`),
    options.outageTimeout,
  );
  if (options.json) printJson(final);
  if (final.status === 'failed') {
    printError(
      `cohort ${final.cohort_id} failed: ${final.error?.message ?? 'no reason given'}`,
      final.error?.code ?? 'failed',
      final.error?.details ?? null,
    );
    process.exitCode = 1;
    return;
  }
  if (!options.json) printOutcome(final, options, (Date.now() - started) / 1000);
  const verdict = final.result && rejectedVerdict(final.cohort_id, final.result, options.failOnRejected === true);
  if (verdict !== undefined) {
    process.stderr.write(`error: ${verdict}\n`);
    process.exitCode = EXIT_ROWS_REJECTED;
  }
}

/** Streams a response body to stdout, waiting for it to drain rather than buffering the whole file. */
async function toStdout(body: AsyncIterable<Buffer>): Promise<void> {
  // `… | head`: a reader that stops early is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  for await (const chunk of body) if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}

async function files(cohortId: string, options: FilesOptions, command: Command): Promise<void> {
  const body = await clientFrom(command).download(
    cohortsPath(options, `/${encodeURIComponent(cohortId)}/files${queryString({ file_type: options.type })}`),
  );
  if (options.out === undefined || options.out === '-') {
    await toStdout(body);
    return;
  }
  try {
    await pipeline(body, createWriteStream(options.out));
  } catch (error) {
    await unlink(options.out).catch(() => undefined);
    throw new LocalError(`cannot save ${options.type} to ${options.out}: ${(error as Error).message}`);
  }
  const bytes = (await stat(options.out)).size;
  if (options.json) printJson({ cohort_id: cohortId, file_type: options.type, path: options.out, bytes });
  else process.stdout.write(`saved ${options.type} of ${cohortId} to ${options.out} (${formatBytes(bytes)})\n`);
}

/** cohorts validate|upload|list|get|delete|files: who is calling, from CSV files of known users. */
export function registerCohortCommands(program: Command): void {
  const group = program
    .command('cohorts')
    .description('Cohorts of a deployment: CSV files of known users that caller lookups answer from.');
  const leaf = (name: string, description: string) =>
    addDeploymentOptions(group.command(name).description(description));

  addClientOptions(
    leaf(
      'upload',
      'Upload a CSV and its transformation config as a new cohort. The file is streamed, so any size works; ' +
        'a progress bar shows on a terminal. A blocking problem (a config column missing from the header, an unknown ' +
        "variable, …) refuses the upload: exit 1 with the server's message and code.",
    )
      .requiredOption('--name <name>', 'the cohort name: 1-50 letters, digits, spaces, _ or -')
      .requiredOption('--file <users.csv>', 'the CSV of users, with a header row')
      .option('--idempotency-key <key>', IDEMPOTENCY_KEY_HELP)
      .requiredOption(
        '--config <map.json>',
        "the transformation config: CSV columns to the agent's variables (README: Transformation config)",
      )
      .option(
        '--wait',
        'poll until the cohort is completed or failed, then print its counts and its rejected rows by reason; exit 1 if it failed, 3 if it completed with no row imported. On a terminal a bar shows its progress',
      )
      .addOption(
        new Option(
          '--fail-on-rejected',
          'exit 3 when any row was rejected, not only when every row was (implies --wait)',
        ).implies({
          wait: true,
        }),
      )
      .option(
        '--outage-timeout <seconds>',
        'with --wait: how long polls may fail in a row (server unreachable, 429, 502, 503, 504) before giving up with exit 1',
        wholeNumber(0),
        DEFAULT_OUTAGE_SECONDS,
      ),
  )
    .addHelpText(
      'after',
      '\nWithout --wait it prints the accepted cohort (status processing). With --wait --json it prints the\n' +
        'cohort as it ended: result holds total_records, valid_records, rejected_records and\n' +
        'rejections_by_reason ([{code, count, example_row}], README: Row rejection codes).\n' +
        'A cohort completes even when every row is rejected: --wait then exits 3 (after printing the counts and\n' +
        'the reasons, with "error: no row of cohort … was imported" on stderr); with --fail-on-rejected it exits 3\n' +
        'when any row was rejected. Exit 1 is kept for a refused upload or a failed cohort.\n' +
        'With --wait on a terminal, a bar follows the processing from the progress the server reports: rows\n' +
        'written, the share of the file read, rows per second and the time left; the counts are printed\n' +
        'with thousands separators (1,234,567). Off a terminal (or with --json) nothing is drawn.\n' +
        'While it waits, a server that restarts or is briefly down (refused connections, 503 with its\n' +
        'Retry-After, 429, 502, 504) is waited out for --outage-timeout seconds, with a notice on a terminal;\n' +
        'the upload itself is never retried (it would make a second cohort).\n' +
        example([
          `roster cohorts upload ${EXAMPLE_DEPLOYMENT} \\`,
          '    --name "April Users Batch 1" --file examples/cohort-users.csv --config examples/cohort-transformation.json --wait',
        ]),
    )
    .action(reportApiErrors(upload));

  addClientOptions(
    leaf(
      'validate',
      'Check a CSV and its transformation config without uploading them (a dry run): the server applies every ' +
        'rule an upload and its processing would, and answers the counts, the rejected rows by reason and the first ' +
        'rejected rows. Nothing is stored. A blocking problem refuses it as it would refuse the upload: exit 1.',
    )
      .option('--name <name>', 'a cohort name to check too (optional)')
      .requiredOption('--file <users.csv>', 'the CSV of users, with a header row')
      .requiredOption('--config <map.json>', 'the transformation config (README: Transformation config)'),
  )
    .addHelpText(
      'after',
      '\nExit 0 when no row would be rejected, 3 when any row would (as upload --fail-on-rejected), 1 when the\n' +
        'file or config is refused. --json prints the answer: total_records, valid_records, rejected_records,\n' +
        'rejections_by_reason and rejected_rows (the first 100: row, fields, reason, code).\n' +
        example([
          `roster cohorts validate ${EXAMPLE_DEPLOYMENT} \\`,
          '    --file examples/cohort-users.csv --config examples/cohort-transformation.json',
        ]),
    )
    .action(reportApiErrors(validate));

  addClientOptions(
    leaf('list', 'List the cohorts of a deployment, newest first.')
      .option('--offset <n>', 'how many to skip (default: 0)', wholeNumber(0))
      .option('--limit <n>', 'how many to show, 1 to 100 (default: 10)', wholeNumber(1))
      .addOption(
        new Option('--sort-by <field>', 'order by (default: created_at)').choices(['created_at', 'name', 'status']),
      )
      .addOption(new Option('--sort-order <order>', 'asc or desc (default: desc)').choices(['asc', 'desc']))
      .option('--search <text>', 'only cohorts whose name contains it (any case)'),
  )
    .addHelpText(
      'after',
      example([
        `roster cohorts list ${EXAMPLE_DEPLOYMENT}`,
        `roster cohorts list ${EXAMPLE_DEPLOYMENT} --search april --sort-by name --sort-order asc --json`,
      ]),
    )
    .action(
      reportApiErrors(async (options: ListOptions, command: Command) => {
        const query = queryString({
          offset: options.offset,
          limit: options.limit,
          sort_by: options.sortBy,
          sort_order: options.sortOrder,
          search: options.search,
        });
        printPage(
          await clientFrom(command).request<Page>('GET', cohortsPath(options, query)),
          options,
          COLUMNS,
          'cohorts',
        );
      }),
    );

  addClientOptions(
    leaf('get', 'Show one cohort: its status and, once completed, its counts; once failed, why.').argument(
      '<cohort_id>',
      "the cohort's id",
    ),
  )
    .addHelpText('after', example([`roster cohorts get ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir`]))
    .action(
      reportApiErrors(async (cohortId: string, options: DeploymentOptions, command: Command) => {
        printRecord(
          await clientFrom(command).request<Item>('GET', cohortsPath(options, `/${encodeURIComponent(cohortId)}`)),
          options,
          FIELDS,
        );
      }),
    );

  addClientOptions(
    leaf('delete', 'Delete a cohort and its contacts; lookups fall back to the next-latest cohort at once.').argument(
      '<cohort_id>',
      "the cohort's id",
    ),
  )
    .addHelpText('after', example([`roster cohorts delete ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir`]))
    .action(
      reportApiErrors(async (cohortId: string, options: DeploymentOptions, command: Command) => {
        const answer = await clientFrom(command).request(
          'DELETE',
          cohortsPath(options, `/${encodeURIComponent(cohortId)}`),
        );
        if (options.json) printJson(answer);
        else process.stdout.write(`deleted cohort ${cohortId}\n`);
      }),
    );

  addClientOptions(
    leaf(
      'files',
      'Download a file of a cohort, streamed: its rejected rows (with a rejected_reason column), the CSV as stored, or its config.',
    )
      .argument('<cohort_id>', "the cohort's id")
      .addOption(new Option('--type <file_type>', 'which file').choices([...FILE_TYPES]).makeOptionMandatory())
      .option('--out <file>', 'write it to this file (default: stdout, where --json changes nothing)'),
  )
    .addHelpText(
      'after',
      '\nWith --out and --json it prints {"cohort_id", "file_type", "path", "bytes"}.\n' +
        example([
          `roster cohorts files ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir --type rejected_records --out rejected.csv`,
          `roster cohorts files ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir --type cohort_transformation | jq .`,
        ]),
    )
    .action(reportApiErrors(files));

  group.addHelpText(
    'after',
    example([
      `roster cohorts validate ${EXAMPLE_DEPLOYMENT} --file users.csv --config map.json`,
      `roster cohorts upload ${EXAMPLE_DEPLOYMENT} --name "April" --file users.csv --config map.json --wait`,
      `roster cohorts list ${EXAMPLE_DEPLOYMENT}`,
      `roster cohorts get ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir`,
      `roster cohorts files ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir --type rejected_records --out rejected.csv`,
      `roster cohorts delete ${EXAMPLE_DEPLOYMENT} coh-pjd0f97m39ir`,
    ]),
  );
}
