import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerApiCommand } from './api-role.js';
import { registerStartCommand } from './start-role.js';

export function registerRoleCommands(program: Command, ctx: CliContext): void {
  registerApiCommand(program, ctx);
  registerStartCommand(program, ctx);
}
