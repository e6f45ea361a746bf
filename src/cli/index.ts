#!/usr/bin/env -S node --max-old-space-size=320
// The heap cap makes V8 collect an ingest's short-lived garbage instead of growing the heap (RSS)
// towards its default limit of a quarter of the machine's memory; live data stays far below it.
import { Command } from 'commander';
import { registerAdminCommands } from './commands/admin-commands.js';
import { registerKeyCommands } from './commands/key-commands.js';
import { registerServerCommands } from './commands/server-commands.js';

const program = new Command();
program
  .name('roster')
  .description(
    'Roster: contact ingestion for voice-AI agents.\n\n' +
      '`serve` and `migrate` open storage directly (ROSTER_DATABASE_URL, ROSTER_DATA_DIR).\n' +
      'Every other command talks to a running server over HTTP: set ROSTER_URL (default http://127.0.0.1:8080)\n' +
      'and ROSTER_API_KEY (the master key for admin commands), or pass --url and --api-key.',
  )
  .showHelpAfterError();

registerServerCommands(program);
registerKeyCommands(program);
registerAdminCommands(program);

await program.parseAsync(process.argv);
