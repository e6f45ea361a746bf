#!/usr/bin/env -S node --max-old-space-size=320 --max-semi-space-size=4
// The heap cap makes V8 collect an ingest's short-lived garbage instead of growing the heap (RSS)
// towards its default limit of a quarter of the machine's memory; live data stays far below it.
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin-commands.js';
import { registerBatchCommands } from './commands/batch-commands.js';
import { registerCallerCommands } from './commands/caller-commands.js';
import { registerCohortCommands } from './commands/cohort-commands.js';
import { registerDncCommands } from './commands/dnc-commands.js';
import { registerErasureCommands } from './commands/erasure-commands.js';
import { registerKeyCommands } from './commands/key-commands.js';
import { dropEmptyScopeVariables } from './commands/scope-env.js';
import { registerServerCommands } from './commands/server-commands.js';
import { registerWebhookCommands } from './commands/webhook-commands.js';
import { packageVersion } from './package-version.js';

dropEmptyScopeVariables();

const program = new Command();
program
  .name('roster')
  .version(packageVersion(), '-V, --version', "print roster's version")
  .description(
    'Roster: contact ingestion for voice-AI agents.\n\n' +
      '`serve` and `migrate` open storage directly (ROSTER_DATABASE_URL, ROSTER_DATA_DIR).\n' +
      'Every other command talks to a running server over HTTP: set ROSTER_URL (default http://127.0.0.1:8080)\n' +
      'and ROSTER_API_KEY (the master key for admin commands), or pass --url and --api-key.\n' +
      '\nROSTER_ORG, ROSTER_WORKSPACE and ROSTER_DEPLOYMENT stand in for --org,\n' +
      '--workspace and --deployment wherever a command takes them; a flag wins.\n' +
      'Cohort, caller, webhook and erasure commands and deployments retention, given\n' +
      'neither, take the org and workspace from the API key (GET /v1/me).',
  )
  .addHelpText(
    'after',
    '\nExit codes:\n' +
      '  0    done\n' +
      '  1    the server refused the request (`error: <message> (<code>)` on stderr, and with --json its\n' +
      '       error envelope on stdout), the server could not be reached, a file could not be read,\n' +
      '       a cohort ended failed under --wait, --wait gave up after --outage-timeout seconds of failed\n' +
      '       polls, an erasure request ended failed (erasure request --wait), serve could not start (port\n' +
      '       taken, database unreachable), or the command line was wrong\n' +
      '  2    serve, worker or migrate found the configuration invalid\n' +
      '  3    cohorts upload --wait: the cohort completed but imported no row (every row was rejected), or,\n' +
      '       with --fail-on-rejected, rejected any row; its counts and rejected rows by reason are printed\n' +
      '  70   serve or worker stopped on a programming error (an unhandled rejection or uncaught\n' +
      '       exception), logged on one line whose message starts with "fatal:"; a supervisor restarts it\n' +
      '  130  interrupted (Ctrl-C); a cohort being waited for keeps processing on the server\n',
  )
  .showHelpAfterError();

registerServerCommands(program);
registerKeyCommands(program);
registerAdminCommands(program);
registerCohortCommands(program);
registerCallerCommands(program);
registerBatchCommands(program);
registerDncCommands(program);
registerWebhookCommands(program);
registerErasureCommands(program);

await program.parseAsync(process.argv);
