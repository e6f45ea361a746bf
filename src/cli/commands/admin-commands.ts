import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { type Column, field, type Item } from '../output.js';
import { RETENTION_EXAMPLES, registerRetentionCommand } from './deployment-retention.js';
import { registerResource, repeatable, type ScopeOptions } from './resource-commands.js';

const createdAt = field('created_at', 'created');

interface NamedOptions extends ScopeOptions {
  id?: string;
  name: string;
}

interface VariableInput {
  name: string;
  required?: boolean;
}

interface AgentOptions extends NamedOptions {
  variable?: VariableInput[];
  variablesFile?: string;
  language?: string[];
  state?: string[];
}

function parseVariable(value: string): VariableInput {
  const match = /^([^:]+)(?::(required))?$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected NAME or NAME:required, e.g. customer_name:required');
  const [, name = '', required] = match;
  return required ? { name, required: true } : { name };
}

function isObject(value: unknown): value is Item {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a JSON array of variables, or an agent (as `agents get --json` prints it) holding one. */
async function readVariablesFile(file: string, command: Command): Promise<Item[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    command.error(`error: cannot read --variables-file ${file}: ${(error as Error).message}`);
  }
  const list = isObject(parsed) ? parsed.variables : parsed;
  if (!Array.isArray(list) || !list.every(isObject)) {
    command.error(
      `error: --variables-file ${file} must hold a JSON array of {"name", "required"?, "default"?, "description"?}`,
    );
  }
  // An agent read back from the server shows an absent default or description as null; the create body omits them.
  return list.map((variable) => Object.fromEntries(Object.entries(variable).filter(([, value]) => value !== null)));
}

/** `customer_name (required), due_date (default: 30)`: an agent's variables on one line. */
function formatVariables(item: Item): string {
  const variables = Array.isArray(item.variables) ? item.variables.filter(isObject) : [];
  if (variables.length === 0) return '-';
  return variables
    .map((variable) => {
      const notes = [
        variable.required === true ? 'required' : '',
        typeof variable.default === 'string' ? `default: ${variable.default}` : '',
      ].filter(Boolean);
      return notes.length > 0 ? `${String(variable.name)} (${notes.join(', ')})` : String(variable.name);
    })
    .join(', ');
}

const variablesColumn: Column = { header: 'variables', value: formatVariables };

function nameOptions(command: Command, what: string): Command {
  return command
    .option('--id <id>', `the ${what} id: lowercase letters, digits, - and _ (generated when absent)`)
    .requiredOption('--name <name>', 'display name, in any language');
}

/** orgs, workspaces, users, agents, deployments, numbers: the admin API from the command line. */
export function registerAdminCommands(program: Command): void {
  registerResource<NamedOptions>(program, {
    command: 'orgs',
    article: 'an',
    noun: 'org',
    plural: 'orgs',
    description: 'Orgs: the tenants. Each holds users, API keys and workspaces. Needs the master key.',
    scope: 'root',
    segment: 'orgs',
    idArgument: 'org_id',
    exampleId: 'acme',
    columns: [field('org_id', 'id'), field('name'), createdAt],
    create: {
      options: (command) => nameOptions(command, 'org'),
      body: (options) => ({ org_id: options.id, name: options.name }),
      example: '--id acme --name "Acme Lending"',
    },
    deleteNote: 'Everything in it goes too: users, keys, workspaces and their contents.',
  });

  registerResource<NamedOptions>(program, {
    command: 'workspaces',
    article: 'a',
    noun: 'workspace',
    plural: 'workspaces',
    description: 'Workspaces of an org: each holds agents, deployments and calling numbers.',
    scope: 'org',
    segment: 'workspaces',
    idArgument: 'workspace_id',
    exampleId: 'support',
    columns: [field('workspace_id', 'id'), field('name'), createdAt],
    create: {
      options: (command) => nameOptions(command, 'workspace'),
      body: (options) => ({ workspace_id: options.id, name: options.name }),
      example: '--id support --name "Support line"',
    },
    deleteNote: 'Its agents, deployments and calling numbers go too.',
  });

  registerResource<ScopeOptions & { email: string; name?: string }>(program, {
    command: 'users',
    article: 'a',
    noun: 'user',
    plural: 'users',
    description: 'Users of an org. API keys act for a user; its user_id is the batch API userId.',
    scope: 'org',
    segment: 'users',
    idArgument: 'user_id',
    exampleId: '65f0a1b2c3d4e5f6a7b8c9d0',
    columns: [field('user_id', 'id'), field('email'), field('name'), createdAt],
    create: {
      options: (command) =>
        command
          .requiredOption('--email <email>', 'the email address (unique in the org)')
          .option('--name <name>', 'display name'),
      body: (options) => ({ email: options.email, name: options.name }),
      example: '--email ops@acme.example --name "Ops team"',
    },
    deleteNote: 'Their API keys are revoked.',
  });

  registerResource<AgentOptions>(program, {
    command: 'agents',
    article: 'an',
    noun: 'agent',
    plural: 'agents',
    description: 'Voice agents of a workspace and the variables each expects for a call.',
    scope: 'workspace',
    segment: 'agents',
    idArgument: 'agent_id',
    exampleId: 'collections',
    columns: [field('agent_id', 'id'), field('name'), variablesColumn, field('languages'), createdAt],
    fields: [
      field('org_id'),
      field('workspace_id'),
      field('agent_id'),
      field('name'),
      variablesColumn,
      field('languages'),
      field('states'),
      field('created_at'),
    ],
    create: {
      options: (command) =>
        nameOptions(command, 'agent')
          .option(
            '--variable <name[:required]>',
            'a variable the agent reads; repeat for each',
            repeatable(parseVariable),
          )
          .option('--variables-file <file>', 'a JSON file of variables (see below); added before any --variable')
          .option('--language <language>', 'a language the agent speaks; repeat for each', repeatable(String))
          .option('--state <state>', 'a conversation state; repeat for each', repeatable(String)),
      body: async (options, command) => ({
        agent_id: options.id,
        name: options.name,
        variables: [
          ...(options.variablesFile === undefined ? [] : await readVariablesFile(options.variablesFile, command)),
          ...(options.variable ?? []),
        ],
        languages: options.language,
        states: options.state,
      }),
      example:
        '--id collections --name "Collections agent" \\\n      --variable customer_name:required --variable due_date --language English --language Hindi',
      details:
        '\nVariables file: a JSON array, or an agent as `roster agents get --json` prints it, e.g.\n' +
        '  [{"name": "customer_name", "required": true, "description": "How the agent greets the caller"},\n' +
        '   {"name": "outstanding_amount", "default": "0"}]\n',
    },
    deleteNote: 'Refused while a deployment or calling number uses it.',
  });

  const deployments = registerResource<NamedOptions & { agent: string; defaultCountry?: string }>(program, {
    command: 'deployments',
    article: 'a',
    noun: 'deployment',
    plural: 'deployments',
    description: 'Deployments of a workspace: an agent put to work; batches and cohorts target one.',
    scope: 'workspace',
    segment: 'deployments',
    idArgument: 'deployment_id',
    exampleId: 'prod',
    columns: [
      field('deployment_id', 'id'),
      field('name'),
      field('agent_id', 'agent'),
      field('default_country', 'country'),
      createdAt,
    ],
    create: {
      options: (command) =>
        nameOptions(command, 'deployment')
          .requiredOption('--agent <agent_id>', 'the agent it runs')
          .option('--default-country <code>', 'ISO 3166-1 alpha-2 country for national phone numbers, e.g. IN'),
      body: (options) => ({
        deployment_id: options.id,
        name: options.name,
        agent_id: options.agent,
        default_country: options.defaultCountry,
      }),
      example: '--id prod --name "Production" --agent collections --default-country IN',
    },
    moreExamples: RETENTION_EXAMPLES.slice(0, 2),
  });
  registerRetentionCommand(deployments);

  registerResource<ScopeOptions & { number: string; agent: string; label?: string }>(program, {
    command: 'numbers',
    article: 'a',
    noun: 'calling number',
    plural: 'calling numbers',
    description: 'Calling numbers of a workspace: the numbers an agent calls from (the batch API callingNumbers).',
    scope: 'workspace',
    segment: 'phone-numbers',
    idArgument: 'number_id',
    exampleId: '65f1c2a9e4b0d3f7a1b2c3d4',
    columns: [
      field('_id', 'id'),
      field('phone_number', 'number'),
      field('agent_id', 'agent'),
      field('label'),
      createdAt,
    ],
    create: {
      options: (command) =>
        command
          .requiredOption('--number <e164>', 'the phone number in E.164, e.g. +14155550100')
          .requiredOption('--agent <agent_id>', 'the agent that calls from it')
          .option('--label <label>', 'a note to recognise it by'),
      body: (options) => ({ phone_number: options.number, agent_id: options.agent, label: options.label }),
      example: '--number +14155550100 --agent collections --label "US outbound"',
    },
  });
}
