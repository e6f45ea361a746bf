// `roster deployments retention`: a deployment's cohort retention policy, shown or set.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { clientFrom } from '../http-client.js';
import { type Column, field, type Item, type OutputOptions, printRecord, reportApiErrors } from '../output.js';
import { addWorkspaceOptions } from './deployment-scope.js';
import { addClientOptions, example } from './resource-commands.js';

/** The longest policy the server takes (workspace-routes.ts RetentionFields), checked here for a plainer message. */
const MAX_RETENTION_DAYS = 3650;

function retentionDays(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_RETENTION_DAYS)
    throw new InvalidArgumentError(`expected a whole number of days from 1 to ${MAX_RETENTION_DAYS}`);
  return Number(value);
}

export const RETENTION_EXAMPLES = [
  'roster deployments retention --org acme --workspace support prod',
  'roster deployments retention --org acme --workspace support prod --days 90 --strict',
  'roster deployments retention --org acme --workspace support prod --off',
];

interface RetentionOptions extends OutputOptions {
  org: string;
  workspace: string;
  days?: number;
  off?: boolean;
  strict?: boolean;
}

const POLICY_FIELDS: Column[] = [
  field('deployment_id', 'deployment'),
  {
    header: 'retention',
    value: (item) =>
      item.cohort_retention_days === null || item.cohort_retention_days === undefined
        ? 'off (cohorts are kept)'
        : `${String(item.cohort_retention_days)} days`,
  },
  {
    header: 'strict',
    value: (item) =>
      item.cohort_retention_strict === true
        ? 'yes (an old cohort goes even while it is the newest holder of a number)'
        : 'no (an old cohort that is still the newest holder of a number is kept)',
  },
  field('cohort_retention_last_run_at', 'last run'),
  field('cohort_retention_next_run_at', 'next run'),
];

/** `deployments retention <deployment_id>`: shows the policy, or sets it with --days/--off/--[no-]strict. */
export function registerRetentionCommand(deployments: Command): void {
  addClientOptions(
    addWorkspaceOptions(
      deployments
        .command('retention')
        .description(
          "Show a deployment's cohort retention, or set it: cohorts created more than --days days ago are deleted, " +
            'with their contacts and files, by a run due every ROSTER_RETENTION_INTERVAL_MINUTES; a new policy runs ' +
            'at once. Setting it needs the master key: exits 1 with admin_key_required otherwise; not_found for a ' +
            'deployment the workspace does not have.',
        ),
    )
      .argument('<deployment_id>', "the deployment's id")
      .addOption(
        new Option('--days <n>', `delete cohorts created more than n days ago, 1 to ${MAX_RETENTION_DAYS}`)
          .argParser(retentionDays)
          .conflicts('off'),
      )
      .option('--off', 'remove the policy: cohorts are kept')
      .option('--strict', 'also delete an old cohort that is still the newest holder of a number')
      .option(
        '--no-strict',
        'keep an old cohort while it is the newest holder of some number, so lookups answer as before',
      ),
  )
    .addHelpText(
      'after',
      '\nWithout --days, --off or --[no-]strict it shows the policy; with them it prints the policy as set.\n' +
        example(RETENTION_EXAMPLES),
    )
    .action(
      reportApiErrors(async (deploymentId: string, options: RetentionOptions, command: Command) => {
        const path = `/v1/orgs/${encodeURIComponent(options.org)}/workspaces/${encodeURIComponent(options.workspace)}/deployments/${encodeURIComponent(deploymentId)}`;
        const changes: Record<string, number | boolean | null> = {};
        if (options.days !== undefined) changes.cohort_retention_days = options.days;
        if (options.off) changes.cohort_retention_days = null;
        if (options.strict !== undefined) changes.cohort_retention_strict = options.strict;
        const client = clientFrom(command);
        const deployment =
          Object.keys(changes).length === 0
            ? await client.request<Item>('GET', path)
            : await client.request<Item>('PATCH', path, changes);
        printRecord(deployment, options, POLICY_FIELDS);
      }),
    );
}
