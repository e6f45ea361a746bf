import { type Command, InvalidArgumentError } from 'commander';
import { clientFrom, queryString } from '../http-client.js';
import { field, type Item, printJson, renderRecord, renderSection, reportApiErrors } from '../output.js';
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

interface PutOptions extends DeploymentOptions {
  var?: Record<string, string>;
  override?: Record<string, string>;
  userIdentifier?: string;
}

/** Collects repeated `--<flag> name=value` into one map; a name given twice is refused rather than guessed. */
function nameValue(flag: string) {
  return (value: string, previous: Record<string, string> | undefined): Record<string, string> => {
    const at = value.indexOf('=');
    if (at <= 0) throw new InvalidArgumentError(`expected name=value, e.g. ${flag} customer_name="Asha Verma"`);
    const name = value.slice(0, at);
    if (previous !== undefined && Object.hasOwn(previous, name))
      throw new InvalidArgumentError(`${name} is given twice`);
    return { ...previous, [name]: value.slice(at + 1) };
  };
}

/** `/…/deployments/{d}/callers/{phone}`: the lookup, put and delete of one caller. */
function callerPath(options: DeploymentOptions, phone: string): string {
  return `${deploymentPath(options)}/callers/${encodeURIComponent(phone)}`;
}

/** A found caller as `key: value` lines, with its variables and overrides indented under their headings. */
function renderCaller(caller: Item): string {
  const fields = ['phone_number', 'cohort_id', 'cohort_name', 'user_identifier', 'uploaded_at'].map((name) =>
    field(name),
  );
  return `${renderRecord(caller, fields)}${renderSection('app_variables', caller.app_variables)}${renderSection('app_overrides', caller.app_overrides)}`;
}

/** callers lookup|put|delete: the call-time read, and the writes of one caller without a file. */
export function registerCallerCommands(program: Command): void {
  const group = program
    .command('callers')
    .description(
      'Callers: who is calling, as the voice runtime asks at call time; and one caller set or removed without a file.',
    );
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
          `${callerPath(options, phone)}${queryString({ country: options.country })}`,
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
        process.stdout.write(renderCaller(caller));
      }),
    );

  addClientOptions(
    addDeploymentOptions(
      group
        .command('put')
        .description(
          "Set one caller's variables and overrides without a file, live at once: the caller is stored as a " +
            "completed cohort of one row (named 'Single caller') that wins over every earlier cohort, until a later " +
            'upload holds the number. It is checked as a row of a cohort file is, and printed as a lookup answers it. ' +
            'Exits 1 with unknown_app_variable or unknown_app_override (a name the agent does not have), ' +
            'required_variable_not_mapped (a required variable left out), caller_rejected (the number or a value ' +
            'refused, as the row would be) or not_found (no such deployment).',
        )
        .argument('<phone>', "the number: E.164, or national in the deployment's default_country")
        .option(
          '--var <name=value>',
          "an agent variable (app_variables); repeat for each. The caller's whole set: what is left out is not kept from earlier cohorts",
          nameValue('--var'),
        )
        .option(
          '--override <name=value>',
          'an override (app_overrides), e.g. initial_language_name=Hindi; repeat for each',
          nameValue('--override'),
        )
        .option('--user-identifier <id>', 'your own id for the caller, answered with the lookup'),
    ),
  )
    .addHelpText(
      'after',
      example([
        `roster callers put ${EXAMPLE_DEPLOYMENT} +919876543210 --var customer_name="Asha Verma" \\\n      --var outstanding_amount=1500 --override initial_language_name=Hindi --user-identifier CUST-001`,
      ]),
    )
    .action(
      reportApiErrors(async (phone: string, options: PutOptions, command: Command) => {
        const caller = await clientFrom(command).request<Item>('PUT', callerPath(options, phone), {
          app_variables: options.var,
          app_overrides: options.override,
          user_identifier: options.userIdentifier,
        });
        if (options.json) printJson(caller);
        else process.stdout.write(renderCaller(caller));
      }),
    );

  addClientOptions(
    addDeploymentOptions(
      group
        .command('delete')
        .description(
          'Remove a number from every cohort of the deployment: lookups answer found: false at once, and each cohort ' +
            'that held it counts one valid record less. A number no cohort holds prints so and exits 0 (deleted: ' +
            'false with --json). Exits 1 with invalid_phone_number (not a number at all) or not_found (no such ' +
            'deployment). `roster erasure request` removes a number from every deployment, batch and stored file instead.',
        )
        .argument('<phone>', 'the number in any format: +919876543210, 09876543210')
        .option(
          '--country <code>',
          "ISO 3166-1 alpha-2 country for a national number (default: the deployment's default_country)",
        ),
    ),
  )
    .addHelpText('after', example([`roster callers delete ${EXAMPLE_DEPLOYMENT} +919876543210`]))
    .action(
      reportApiErrors(async (phone: string, options: LookupOptions, command: Command) => {
        const answer = await clientFrom(command).request<{
          phone_number: string;
          deleted: boolean;
          cohort_ids: string[];
        }>('DELETE', `${callerPath(options, phone)}${queryString({ country: options.country })}`);
        if (options.json) printJson(answer);
        else
          process.stdout.write(
            answer.deleted
              ? `deleted ${answer.phone_number} from ${answer.cohort_ids.length === 1 ? 'cohort' : 'cohorts'} ${answer.cohort_ids.join(', ')}\n`
              : `not found: ${answer.phone_number} is in no cohort of deployment ${options.deployment}\n`,
          );
      }),
    );

  group.addHelpText(
    'after',
    example([
      `roster callers lookup ${EXAMPLE_DEPLOYMENT} +919876543210`,
      `roster callers put ${EXAMPLE_DEPLOYMENT} +919876543210 --var customer_name="Asha Verma"`,
      `roster callers delete ${EXAMPLE_DEPLOYMENT} +919876543210`,
    ]),
  );
}
