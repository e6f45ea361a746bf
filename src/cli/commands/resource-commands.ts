import { type Command, InvalidArgumentError } from 'commander';
import { clientFrom } from '../http-client.js';
import {
  type Column,
  type Item,
  type OutputOptions,
  type Page,
  printJson,
  printRecord,
  printPage,
  reportApiErrors,
} from '../output.js';
import { scopeOption } from './scope-env.js';

/** Where a resource lives: at the top (orgs), in an org, or in a workspace of an org. */
export type Scope = 'root' | 'org' | 'workspace';

/** The options every resource command may carry: where the resource lives, and --json. */
export interface ScopeOptions extends OutputOptions {
  org?: string;
  workspace?: string;
}

/** Everything the generic create/list/get/delete commands need to know about one resource. */
export interface ResourceSpec<CreateOptions> {
  /** The command group, e.g. `workspaces`. */
  command: string;
  /** How help text names one and many of them: `a workspace`, `workspaces`. */
  article: 'a' | 'an';
  noun: string;
  plural: string;
  description: string;
  scope: Scope;
  /** The URL segment under the scope: `workspaces`, `api-keys`, `phone-numbers`. */
  segment: string;
  /** The id argument of get and delete, e.g. `workspace_id`, and an example value for the help. */
  idArgument: string;
  exampleId: string;
  /** The list table's columns. */
  columns: Column[];
  /** The `key: value` lines of one resource; every field when absent. */
  fields?: Column[];
  create: {
    /** Adds the options that make the request body. */
    options(command: Command): Command;
    body(options: CreateOptions, command: Command): unknown;
    /** Arguments after `roster <group> create` in the help's example. */
    example: string;
    /** More help, shown before the example (file formats, defaults). */
    details?: string;
    /** A line for stderr after a readable create, e.g. that a secret is shown only once. */
    notice?: string;
  };
  /** What delete does beyond the obvious, for its help. */
  deleteNote?: string;
  /** Keys are revoked rather than deleted. */
  removal?: { verb: string; past: string };
  /** Examples of the group's own commands (added by the caller), listed after create/list/get/delete. */
  moreExamples?: string[];
}

const EXAMPLE_SCOPE: Record<Scope, string> = {
  root: '',
  org: ' --org acme',
  workspace: ' --org acme --workspace support',
};

/** --url, --api-key and --json: every command that calls the server takes them. */
export function addClientOptions(command: Command): Command {
  return command
    .option('--url <url>', 'server base URL (default: $ROSTER_URL, else http://127.0.0.1:8080)')
    .option('--api-key <key>', 'API key; admin commands need the master key (default: $ROSTER_API_KEY)')
    .option('--json', "print the server's JSON answer (one document on stdout) instead of a table");
}

function addScopeOptions(command: Command, scope: Scope): Command {
  if (scope !== 'root') command.addOption(scopeOption('org', '--org <org_id>', 'the org').makeOptionMandatory());
  if (scope === 'workspace')
    command.addOption(
      scopeOption('workspace', '--workspace <workspace_id>', 'the workspace in the org').makeOptionMandatory(),
    );
  return command;
}

function collectionPath(spec: { scope: Scope; segment: string }, options: ScopeOptions): string {
  const org = encodeURIComponent(options.org ?? '');
  const prefix = {
    root: '/v1',
    org: `/v1/orgs/${org}`,
    workspace: `/v1/orgs/${org}/workspaces/${encodeURIComponent(options.workspace ?? '')}`,
  }[spec.scope];
  return `${prefix}/${spec.segment}`;
}

export function example(lines: string[]): string {
  return `\nExample:\n${lines.map((line) => `  ${line}`).join('\n')}\n`;
}

export function wholeNumber(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
    return Number(value);
  };
}

/** A parser for repeatable options: each occurrence adds its parsed value to the list. */
export function repeatable<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
}

/** Registers `<group> create|list|get|delete` for one resource of the admin API; answers the group, for commands of its own. */
export function registerResource<CreateOptions extends ScopeOptions>(
  program: Command,
  spec: ResourceSpec<CreateOptions>,
): Command {
  const removal = spec.removal ?? { verb: 'delete', past: 'deleted' };
  const scopeArgs = EXAMPLE_SCOPE[spec.scope];
  const group = program.command(spec.command).description(spec.description);
  // Scope options first, then the command's own, then the connection options: the order --help lists them.
  const leaf = (name: string, description: string, configure: (command: Command) => Command = (command) => command) =>
    addClientOptions(configure(addScopeOptions(group.command(name).description(description), spec.scope)));

  leaf('create', `Create ${spec.article} ${spec.noun} and print it.`, spec.create.options)
    .addHelpText(
      'after',
      `${spec.create.details ?? ''}${example([`roster ${spec.command} create${scopeArgs} ${spec.create.example}`])}`,
    )
    .action(
      reportApiErrors(async (options: CreateOptions, command: Command) => {
        const body = await spec.create.body(options, command);
        const created = await clientFrom(command).request<Item>('POST', collectionPath(spec, options), body);
        printRecord(created, options, spec.fields);
        if (!options.json && spec.create.notice) process.stderr.write(`${spec.create.notice}\n`);
      }),
    );

  leaf('list', `List ${spec.plural}, one page at a time (oldest first).`, (command) =>
    command
      .option('--offset <n>', 'how many to skip (default: 0)', wholeNumber(0))
      .option('--limit <n>', 'how many to show, 1 to 100 (default: 10)', wholeNumber(1)),
  )
    .addHelpText(
      'after',
      example([
        `roster ${spec.command} list${scopeArgs}`,
        `roster ${spec.command} list${scopeArgs} --offset 10 --limit 10 --json`,
      ]),
    )
    .action(
      reportApiErrors(async (options: ScopeOptions & { offset?: number; limit?: number }, command: Command) => {
        const query = new URLSearchParams();
        if (options.offset !== undefined) query.set('offset', String(options.offset));
        if (options.limit !== undefined) query.set('limit', String(options.limit));
        const search = query.size > 0 ? `?${query.toString()}` : '';
        const page = await clientFrom(command).request<Page>('GET', `${collectionPath(spec, options)}${search}`);
        printPage(page, options, spec.columns, spec.plural);
      }),
    );

  leaf('get', `Show one ${spec.noun}.`)
    .argument(`<${spec.idArgument}>`, `the ${spec.noun}'s id`)
    .addHelpText('after', example([`roster ${spec.command} get${scopeArgs} ${spec.exampleId}`]))
    .action(
      reportApiErrors(async (id: string, options: ScopeOptions, command: Command) => {
        const item = await clientFrom(command).request<Item>(
          'GET',
          `${collectionPath(spec, options)}/${encodeURIComponent(id)}`,
        );
        printRecord(item, options, spec.fields);
      }),
    );

  leaf(
    removal.verb,
    `${removal.verb.charAt(0).toUpperCase()}${removal.verb.slice(1)} ${spec.article} ${spec.noun}.${spec.deleteNote ? ` ${spec.deleteNote}` : ''}`,
  )
    .argument(`<${spec.idArgument}>`, `the ${spec.noun}'s id`)
    .addHelpText('after', example([`roster ${spec.command} ${removal.verb}${scopeArgs} ${spec.exampleId}`]))
    .action(
      reportApiErrors(async (id: string, options: ScopeOptions, command: Command) => {
        const answer = await clientFrom(command).request(
          'DELETE',
          `${collectionPath(spec, options)}/${encodeURIComponent(id)}`,
        );
        if (options.json) printJson(answer);
        else process.stdout.write(`${removal.past} ${spec.noun} ${id}\n`);
      }),
    );

  group.addHelpText(
    'after',
    example([
      `roster ${spec.command} create${scopeArgs} ${spec.create.example}`,
      `roster ${spec.command} list${scopeArgs}`,
      `roster ${spec.command} get${scopeArgs} ${spec.exampleId}`,
      `roster ${spec.command} ${removal.verb}${scopeArgs} ${spec.exampleId}`,
      ...(spec.moreExamples ?? []),
    ]),
  );
  return group;
}
