import type { Command } from 'commander';
import { clientFrom, queryString } from '../http-client.js';
import { field, type Item, printJson, renderRecord, reportApiErrors } from '../output.js';
import {
  addDeploymentOptions,
  deploymentPath,
  type DeploymentOptions,
  EXAMPLE_DEPLOYMENT,
} from './deployment-scope.js';
import { addClientOptions, example } from './resource-commands.js';

interface LookupOptions extends DeploymentOptions {
  country?: string;
}

/** `name: value` lines of a map of variables, indented under a heading. */
function section(heading: string, values: unknown): string {
  const entries = Object.entries((values ?? {}) as Record<string, unknown>);
  if (entries.length === 0) return '';
  const lines = renderRecord(
    Object.fromEntries(entries),
    entries.map(([name]) => field(name)),
  )
    .trimEnd()
    .split('\n');
  return `${heading}:\n${lines.map((line) => `  ${line}\n`).join('')}`;
}

/** callers lookup: the call-time read, from the command line. */
export function registerCallerCommands(program: Command): void {
  const group = program
    .command('callers')
    .description('Callers: who is calling, as the voice runtime asks at call time.');
  addClientOptions(
    addDeploymentOptions(
      group
        .command('lookup')
        .description(
          'Look a phone number up: the newest completed cohort of the deployment that holds it answers, with the ' +
            "caller's variables. A number in no cohort prints `not found` and exits 0 (found: false with --json).",
        )
        .argument('<phone>', 'the number in any format: +919876543210, 09876543210, 98765 43210')
        .option(
          '--country <code>',
          "ISO 3166-1 alpha-2 country for a national number (default: the deployment's default_country)",
        ),
    ),
  )
    .addHelpText(
      'after',
      example([
        `roster callers lookup ${EXAMPLE_DEPLOYMENT} +919876543210`,
        `roster callers lookup ${EXAMPLE_DEPLOYMENT} 09876543210 --country IN --json`,
      ]),
    )
    .action(
      reportApiErrors(async (phone: string, options: LookupOptions, command: Command) => {
        const caller = await clientFrom(command).request<Item>(
          'GET',
          `${deploymentPath(options)}/callers/${encodeURIComponent(phone)}${queryString({ country: options.country })}`,
        );
        if (options.json) {
          printJson(caller);
          return;
        }
        if (caller.found !== true) {
          process.stdout.write(
            `not found: ${String(caller.phone_number)} is in no completed cohort of deployment ${options.deployment}\n`,
          );
          return;
        }
        const fields = ['phone_number', 'cohort_id', 'cohort_name', 'user_identifier', 'uploaded_at'].map((name) =>
          field(name),
        );
        process.stdout.write(
          `${renderRecord(caller, fields)}${section('app_variables', caller.app_variables)}${section('app_overrides', caller.app_overrides)}`,
        );
      }),
    );

  group.addHelpText('after', example([`roster callers lookup ${EXAMPLE_DEPLOYMENT} +919876543210`]));
}
