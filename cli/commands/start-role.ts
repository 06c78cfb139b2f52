import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { trainingDataFolder } from '../../trainer/data/split-folders.js';
import { createProgress } from '../../trainer/fit/progress.js';
import { trainDefaultModel } from '../../trainer/track/default-model.js';
import { runTraining } from '../../trainer/train.js';
import type { CliContext } from '../context.js';
import { runUntilSignal } from './api-role.js';
import { openRegistry } from './registry-option.js';

/**
 * One machine, one command: if the registry is empty, first train a model on the configured data
 * (the shipped photographs by default) and publish it, then serve.
 */
export function registerStartCommand(program: Command, ctx: CliContext): void {
  program
    .command('start')
    .summary('run Skywatch on this machine with its defaults')
    .description('Starts Redis if none answers (and redis-server is installed), trains and publishes a first model when the registry is empty (transfer learning on the configured data set), adds a demo camera looping a real drone clip when there is no camera (unless --no-demo), then runs the API, dashboard, ingest and workers in one process.')
    .option('--port <n>', 'port (default: config api.port)', (v) => Number.parseInt(v, 10))
    .option('--registry <dir|gs://...>', 'model registry (default: config registry)')
    .option('--no-demo', 'do not add the demo camera (also config ingest.demoCamera=false)')
    .action(async (opts: { port?: number; registry?: string; demo: boolean }) => {
      // File URLs keep their configured setting: the demo camera (a looping local file) is exempt on
      // its own, so `start` with tokens and a public bind does not open files to every admin.
      const config = ctx.config({ ...(opts.demo ? {} : { ingest: { demoCamera: false } }), ...(opts.port !== undefined ? { api: { port: opts.port } } : {}) });
      const logger = ctx.logger('start');
      const registry = await openRegistry(ctx, opts.registry);
      if (!(await registry.latest())) {
        const data = path.resolve(config.data);
        // The labelled sky clips beside the photographs serve cameras best (docs/BENCHMARKS.md).
        const videos = path.join(path.dirname(data), 'videos');
        if (existsSync(videos)) {
          logger.info({ videos }, 'the registry is empty: training a first model on the labelled sky clips (crop classifier + track model)');
          // The photo data set as it is: the training takes its train/ split and leaves the others
          // unseen (docs/BENCHMARKS.md, photo part 5).
          const photos = existsSync(data) ? data : undefined;
          const result = await trainDefaultModel({ videos, photos, registry: opts.registry ?? config.registry, stateDir: config.stateDir, backbone: config.trainer.backbone, gcs: config.gcs, logger });
          logger.info({ version: result.version, accuracy: result.metrics?.accuracy }, `first model ${result.version} published`);
        } else if (!existsSync(data)) {
          logger.warn({ data }, `the registry is empty and there is no data at ${data}: train and publish a model with \`skywatch train --data DIR --publish\`; serving without a model until then`);
        } else {
          logger.info({ data }, 'the registry is empty: training a first model (transfer learning on the shared backbone)');
          const result = await runTraining({
            data: trainingDataFolder(data).folder,
            registry: opts.registry ?? config.registry,
            stateDir: config.stateDir,
            mode: 'transfer',
            backbone: config.trainer.backbone,
            publish: true,
            gcs: config.gcs,
            logger,
            progress: createProgress(process.stderr),
          });
          logger.info({ version: result.version, accuracy: result.metrics.accuracy }, `first model ${result.version} published`);
        }
      }
      const { server } = await runUntilSignal(config, logger, { api: true, ingest: true, worker: true }, ctx, opts.registry, config.ingest.demoCamera);
      if (!server) return;
      const url = `http://${server.host === '0.0.0.0' ? '127.0.0.1' : server.host}:${(server.app.server.address() as { port: number }).port}/`;
      process.stderr.write(`\nSkywatch is running. Dashboard: ${url}   API docs: ${url}docs\n\n`);
    });
}
