import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerTrainerCommand(_program: Command, _ctx: CliContext): void {
  // filled in by the part that owns it
}
