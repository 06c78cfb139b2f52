import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { CliContext } from '../context.js';
import { openRegistry } from './registry-option.js';
import { runRoles, type Roles, type RunningRoles } from '../../app/run-roles.js';

/**
 * Runs the asked roles until SIGTERM/SIGINT, then stops gracefully: no new connections, in-flight
 * requests and jobs finish, ffmpeg children stop, leases are released.
 */
export async function runUntilSignal(config: Config, logger: Logger, roles: Roles, ctx: CliContext, registryFlag?: string, demoCamera = false): Promise<RunningRoles> {
  const registry = await openRegistry(ctx, registryFlag ?? config.registry);
  const running = await runRoles({ config, logger, registry, roles, demoCamera });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return running;
}

const portOption = (v: string) => Number.parseInt(v, 10);

export function registerApiCommand(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .summary('run the REST API (predictions, models, cameras, alerts, metrics, docs, dashboard)')
    .description('Serves the registry\'s latest model and follows it (hot reload on every poll and on POST /v1/models/reload), the camera and alert APIs and the dashboard. Without API tokens configured it binds 127.0.0.1 only.')
    .option('--port <n>', 'port (default: config api.port)', portOption)
    .option('--registry <dir|gs://...>', 'model registry (default: config registry)')
    .action(async (opts: { port?: number; registry?: string }) => {
      const config = ctx.config(opts.port !== undefined ? { api: { port: opts.port } } : {});
      await runUntilSignal(config, ctx.logger('api'), { api: true, ingest: false, worker: false }, ctx, opts.registry);
    });

  for (const [name, summary, roles] of [
    ['worker', 'run an inference worker: frame jobs -> micro-batched ONNX -> alert rules -> alerts', { api: false, ingest: false, worker: true }],
    ['ingest', 'run an ingestor: cameras (leased in Redis) -> ffmpeg -> motion gating -> frame queue', { api: false, ingest: true, worker: false }],
  ] as const) {
    program
      .command(name)
      .summary(summary)
      .description(`${summary}. Serves /health, /ready and /metrics on --port (default: config api.port).`)
      .option('--port <n>', 'port of /health, /ready and /metrics', portOption)
      .option('--registry <dir|gs://...>', 'model registry (default: config registry)')
      .action(async (opts: { port?: number; registry?: string }) => {
        const config = ctx.config(opts.port !== undefined ? { api: { port: opts.port } } : {});
        await runUntilSignal(config, ctx.logger(name), roles, ctx, opts.registry);
      });
  }
}
