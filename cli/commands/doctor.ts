import type { Command } from 'commander';
import { runChecks } from '../doctor/checks.js';
import { printResult, type CliContext } from '../context.js';

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .summary('check ffmpeg, Redis, the registry and model, tokens and ports, and say what to fix')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const results = await runChecks(ctx.config());
      const failed = results.some((r) => r.level === 'fail');
      printResult(!!opts.json, { ok: !failed, checks: results }, () => results.map((r) => `${MARK[r.level]} ${r.name.padEnd(9)} ${r.detail}${r.fix ? `\n               -> ${r.fix}` : ''}`).join('\n'));
      if (failed) process.exitCode = 1;
    });
}
