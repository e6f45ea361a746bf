import { type Command, InvalidArgumentError, Option } from 'commander';
import { field } from '../output.js';
import { registerResource, type ScopeOptions } from './resource-commands.js';

interface CreateKeyOptions extends ScopeOptions {
  user: string;
  name: string;
  workspaces?: string[];
  allWorkspaces?: boolean;
}

function workspaceList(value: string): string[] {
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  if (ids.length === 0)
    throw new InvalidArgumentError('expected workspace ids separated by commas, e.g. support,sales');
  return ids;
}

/** keys create|list|get|revoke: an org's API keys, which the master key hands out. */
export function registerKeyCommands(program: Command): void {
  registerResource<CreateKeyOptions>(program, {
    command: 'keys',
    article: 'an',
    noun: 'API key',
    plural: 'API keys',
    description:
      'API keys of an org. A key acts for one user and reaches the workspaces it names (or all of them).\n' +
      'The secret is printed once, when the key is created; the server keeps only its hash. Needs the master key.',
    scope: 'org',
    segment: 'api-keys',
    idArgument: 'key_id',
    exampleId: 'key-k3j9x0a2b1c4',
    columns: [
      field('key_id', 'id'),
      field('name'),
      field('prefix'),
      field('user_id', 'user'),
      field('workspaces'),
      field('created_at', 'created'),
    ],
    create: {
      options: (command) =>
        command
          .requiredOption('--user <user_id>', 'the user the key acts for (see `roster users list`)')
          .requiredOption('--name <name>', 'what the key is for, to recognise it later')
          .addOption(
            new Option('--workspaces <ids>', 'the workspaces it reaches, separated by commas')
              .argParser(workspaceList)
              .conflicts('allWorkspaces'),
          )
          .option('--all-workspaces', 'every workspace of the org, including ones created later'),
      body: (options, command) => {
        if (!options.allWorkspaces && options.workspaces === undefined)
          command.error('error: say which workspaces the key reaches: --workspaces a,b or --all-workspaces');
        return {
          name: options.name,
          user_id: options.user,
          workspaces: options.allWorkspaces ? '*' : options.workspaces,
        };
      },
      example: '--user 65f0a1b2c3d4e5f6a7b8c9d0 --name "billing sync" --workspaces support,sales',
      details: '\nWith --json the secret is the "key" field of the answer. It is not shown again: store it now.\n',
      notice: 'Store the key now: it is not shown again.',
    },
    removal: { verb: 'revoke', past: 'revoked' },
    deleteNote: 'It stops working at once.',
  });
}
