import type { Command } from 'commander';

/** keys create|list|revoke. */
export function registerKeyCommands(_program: Command): void {}
