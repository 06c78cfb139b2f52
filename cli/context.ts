import type { Command } from 'commander';
import { loadConfig, type Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';

/** What every subcommand gets: the merged config (global flags applied) and a logger. */
export interface CliContext {
  config(overrides?: Record<string, unknown>): Config;
  logger(name?: string): Logger;
}

export function createContext(program: Command): CliContext {
  let cached: Config | undefined;
  return {
    config(overrides = {}) {
      if (!cached || Object.keys(overrides).length > 0) {
        const opts = program.opts<{ config?: string; logLevel?: string }>();
        const base = opts.logLevel ? { logLevel: opts.logLevel } : {};
        cached = loadConfig({ file: opts.config, overrides: { ...base, ...overrides } });
      }
      return cached;
    },
    logger(name) {
      const opts = program.opts<{ logLevel?: string }>();
      // Logs go to stderr so that `--json` output on stdout stays one clean document.
      return createLogger({ level: opts.logLevel ?? process.env.SKYWATCH_LOG_LEVEL ?? 'info', name, destination: process.stderr });
    },
  };
}

/** Prints one JSON document (for --json) or human lines. */
export function printResult(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
}
