import type { Command } from 'commander';

/** orgs, workspaces, users, agents, deployments, numbers: the admin API from the command line. */
export function registerAdminCommands(_program: Command): void {}
