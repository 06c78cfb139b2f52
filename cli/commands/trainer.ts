import type { Command } from 'commander';
import { Option } from 'commander';
import { PeriodicTrainer } from '../../trainer/periodic/periodic-trainer.js';
import { parseSchedule } from '../../trainer/periodic/schedule.js';
import { RUNS_PREFIX, trainerWorld } from '../../trainer/periodic/trainer-world.js';
import type { TrainMode } from '../../trainer/train.js';
import { printResult, type CliContext } from '../context.js';
import { openRegistry } from './registry-option.js';

export function registerTrainerCommand(program: Command, ctx: CliContext): void {
  const trainer = program
    .command('trainer')
    .summary('the periodic trainer: retrain when the data set changed, publish through champion/challenger')
    .description('Pulls the data set (folder or gs://), skips the run when its fingerprint matches the latest model\'s or the last run\'s, else trains, evaluates and publishes (a worse model stays a candidate). Every run is recorded in the registry under trainer-runs/. Running workers pick a promoted model up by hot reload.')
    .option('--every <schedule>', 'an interval (24h, 30m, 1d) or a cron expression (default: config trainer.every, else 24h)')
    .option('--once', 'run once now and exit (for a Kubernetes CronJob)')
    .option('--data <dir|gs://...>', 'data set (default: config data)')
    .option('--registry <dir|gs://...>', 'model registry (default: config registry)')
    .addOption(new Option('--mode <mode>', 'training mode').choices(['transfer', 'scratch']).default('transfer'))
    .option('--json', 'with --once: one JSON document on stdout')
    .action(async (opts: { every?: string; once?: boolean; data?: string; registry?: string; mode: TrainMode; json?: boolean }) => {
      const config = ctx.config();
      const logger = ctx.logger('trainer');
      const registryUrl = opts.registry ?? config.registry;
      const registry = await openRegistry(ctx, registryUrl);
      const schedule = parseSchedule(opts.every ?? config.trainer.every ?? '24h');
      const periodic = new PeriodicTrainer(schedule, trainerWorld({ config, registry, registryUrl, data: opts.data ?? config.data, mode: opts.mode, logger }));
      if (opts.once) {
        const run = await periodic.runOnce();
        printResult(!!opts.json, run, () => `${run.decision}: ${run.reason}${run.version ? ` (version ${run.version})` : ''}`);
        if (run.decision === 'failed') process.exitCode = 1;
        return;
      }
      const stop = () => void periodic.stop().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      periodic.start(true);
    });

  trainer
    .command('runs')
    .description('the periodic trainer\'s recorded runs, newest first')
    .option('--registry <dir|gs://...>', 'model registry (default: config registry)')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { registry?: string; json?: boolean }) => {
      const registry = await openRegistry(ctx, opts.registry);
      const keys = (await registry.store.list(RUNS_PREFIX)).map((o) => o.key).sort().reverse();
      const runs = await Promise.all(keys.map(async (k) => JSON.parse((await registry.store.read(k)).toString()) as Record<string, unknown>));
      printResult(!!opts.json, { runs }, () => (runs.length ? runs.map((r) => `${r.startedAt}  ${String(r.decision).padEnd(9)} ${r.version ?? ''} ${r.reason}`).join('\n') : 'no recorded runs'));
    });
}
