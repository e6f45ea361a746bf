import type { Command } from 'commander';
import { fileSize, IDEMPOTENCY_KEY_HELP, textParts, uploadForm } from '../file-upload.js';
import { clientFrom, queryString } from '../http-client.js';
import { detailLines, field, type OutputOptions, type Page, printJson, printPage, reportApiErrors } from '../output.js';
import { addClientOptions, example, wholeNumber } from './resource-commands.js';
import { scopeOption } from './scope-env.js';

/** Which workspace's list: a key that names one workspace needs neither flag. */
interface DncScopeOptions extends OutputOptions {
  org?: string;
  workspace?: string;
}

interface AddAnswer {
  added: number;
  alreadyListed: number;
  invalid: Array<{ value: string; reason: string }>;
}

function addScope(command: Command): Command {
  return command
    .addOption(scopeOption('org', '--org <org_id>', 'the org (only with the master key)'))
    .addOption(
      scopeOption(
        'workspace',
        '--workspace <workspace_id>',
        'the workspace (needed unless the API key reaches exactly one)',
      ),
    );
}

function scopeFields(options: DncScopeOptions): Record<string, string | undefined> {
  return { org_id: options.org, workspace_id: options.workspace };
}

function printAdded(answer: AddAnswer): void {
  const lines = [`added ${answer.added}, already listed ${answer.alreadyListed}, invalid ${answer.invalid.length}`];
  if (answer.invalid.length > 0)
    lines.push('invalid numbers:', ...detailLines(answer.invalid).map((line) => `  ${line}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** dnc add|remove|list|import: the workspace's do-not-call list, which batches with --enable-dnc skip. */
export function registerDncCommands(program: Command): void {
  const group = program
    .command('dnc')
    .description('The do-not-call list of a workspace: numbers a batch uploaded with --enable-dnc never calls.');
  const leaf = (name: string, description: string) => addScope(group.command(name).description(description));

  addClientOptions(
    leaf(
      'add',
      'Add numbers to the list (E.164, or national with --country). Numbers that cannot be read are listed, not added.',
    )
      .argument('<phone...>', 'one or more numbers')
      .option('--country <code>', 'ISO 3166-1 alpha-2 country for national numbers, e.g. IN')
      .option('--reason <text>', 'why they must not be called, kept with each'),
  )
    .addHelpText(
      'after',
      example([
        'roster dnc add +919876543210 +12015550123 --reason "asked not to be called"',
        'roster dnc add 09876543210 --country IN --workspace default --json',
      ]),
    )
    .action(
      reportApiErrors(
        async (
          phones: string[],
          options: DncScopeOptions & { country?: string; reason?: string },
          command: Command,
        ) => {
          const answer = await clientFrom(command).request<AddAnswer>('POST', '/api/call/dnc', {
            ...scopeFields(options),
            phoneNumbers: phones,
            country: options.country,
            reason: options.reason,
          });
          if (options.json) printJson(answer);
          else printAdded(answer);
        },
      ),
    );

  addClientOptions(
    leaf('remove', 'Remove a number from the list; exits 1 (not_found) when it is not on it.')
      .argument('<phone>', 'the number, in any format')
      .option('--country <code>', 'ISO 3166-1 alpha-2 country for a national number'),
  )
    .addHelpText('after', example(['roster dnc remove +919876543210']))
    .action(
      reportApiErrors(async (phone: string, options: DncScopeOptions & { country?: string }, command: Command) => {
        const query = queryString({ ...scopeFields(options), country: options.country });
        const answer = await clientFrom(command).request<{ phoneNumber: string }>(
          'DELETE',
          `/api/call/dnc/${encodeURIComponent(phone)}${query}`,
        );
        if (options.json) printJson(answer);
        else process.stdout.write(`removed ${answer.phoneNumber} from the do-not-call list\n`);
      }),
    );

  addClientOptions(
    leaf('list', 'List the numbers on the list, one page at a time.')
      .option('--offset <n>', 'how many to skip (default: 0)', wholeNumber(0))
      .option('--limit <n>', 'how many to show, 1 to 100 (default: 10)', wholeNumber(1)),
  )
    .addHelpText(
      'after',
      example(['roster dnc list', 'roster dnc list --org acme --workspace support --offset 100 --limit 100 --json']),
    )
    .action(
      reportApiErrors(async (options: DncScopeOptions & { offset?: number; limit?: number }, command: Command) => {
        const page = await clientFrom(command).request<Page>(
          'GET',
          `/api/call/dnc${queryString({ ...scopeFields(options), offset: options.offset, limit: options.limit })}`,
        );
        printPage(
          page,
          options,
          [field('phoneNumber', 'phone'), field('reason'), field('createdAt', 'added')],
          'numbers',
        );
      }),
    );

  addClientOptions(
    leaf('import', 'Add every number of a .csv, .xlsx or .xls file (its phoneNumber column, else the first), streamed.')
      .requiredOption('--file <numbers>', 'the file: .csv, .xlsx or .xls')
      .option('--idempotency-key <key>', IDEMPOTENCY_KEY_HELP)
      .option('--country <code>', 'ISO 3166-1 alpha-2 country for national numbers')
      .option('--reason <text>', 'why they must not be called'),
  )
    .addHelpText(
      'after',
      example(['roster dnc import --file opt-outs.xlsx --country US --reason "opted out by email"']),
    )
    .action(
      reportApiErrors(
        async (
          options: DncScopeOptions & { file: string; country?: string; reason?: string; idempotencyKey?: string },
          command: Command,
        ) => {
          const bytes = await fileSize(options.file, '--file');
          const parts = [
            ...textParts({ ...scopeFields(options), country: options.country, reason: options.reason }),
            { name: 'file', file: options.file },
          ];
          const answer = await uploadForm<AddAnswer>(command, options, '/api/call/dnc/upload', parts, {
            shown: options.file,
            bytes,
          });
          if (options.json) printJson(answer);
          else printAdded(answer);
        },
      ),
    );

  group.addHelpText(
    'after',
    example([
      'roster dnc add +919876543210 --reason "asked not to be called"',
      'roster dnc list',
      'roster dnc remove +919876543210',
      'roster dnc import --file opt-outs.csv --country IN',
    ]),
  );
}
