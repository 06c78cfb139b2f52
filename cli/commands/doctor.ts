import path from 'node:path';
import type { Command } from 'commander';
import { runChecks } from '../doctor/checks.js';
import { formatServingProfile, profileFromServer, profileServing } from '../../inference/serving-profile.js';
import { printResult, type CliContext } from '../context.js';
import { openRegistry } from './registry-option.js';

const MARK = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .summary('check ffmpeg, Redis, the registry and model, tokens and ports, and say what to fix')
    .option('--json', 'one JSON document on stdout')
    .option('--profile', 'instead of the checks: time per serving stage (decode, preprocess, queue_wait, inference, alert_rules, snapshot) of the latest model on this machine, or of a running server with --server')
    .option('--server <url>', 'with --profile: read the stage histograms from this server\'s /metrics')
    .option('--requests <n>', 'with --profile: predictions to time locally', (v) => Number.parseInt(v, 10), 64)
    .action(async (opts: { json?: boolean; profile?: boolean; server?: string; requests: number }) => {
      if (opts.profile) {
        const config = ctx.config();
        const profile = opts.server
          ? await profileFromServer(opts.server, process.env.SKYWATCH_TOKEN)
          : await profileServing({ registry: await openRegistry(ctx), cacheDir: config.inference.cacheDir ?? path.join(config.stateDir, 'cache', 'models'), threads: { intraOpThreads: config.inference.intraOpThreads, interOpThreads: config.inference.interOpThreads, spin: config.inference.spinThreads }, logger: ctx.logger('doctor'), requests: Math.max(4, Math.min(10_000, opts.requests || 64)), maxBatch: config.inference.maxBatch });
        printResult(!!opts.json, profile, () => formatServingProfile(profile));
        return;
      }
      const results = await runChecks(ctx.config());
      const failed = results.some((r) => r.level === 'fail');
      printResult(!!opts.json, { ok: !failed, checks: results }, () => results.map((r) => `${MARK[r.level]} ${r.name.padEnd(9)} ${r.detail}${r.fix ? `\n               -> ${r.fix}` : ''}`).join('\n'));
      if (failed) process.exitCode = 1;
    });
}
