import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import type { CliContext } from '../context.js';
import { openRegistry } from './registry-option.js';

/** Starts the API and stops it gracefully on SIGTERM/SIGINT: no new connections, in-flight requests finish. */
export async function runApi(config: Config, logger: Logger, registryFlag: string | undefined, ctx: CliContext): Promise<SkywatchServer> {
  const registry = await openRegistry(ctx, registryFlag ?? config.registry);
  const server = await buildServer({ config, logger, registry });
  await server.listen();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return server;
}

export function registerApiCommand(program: Command, ctx: CliContext): void {
  program
    .command('api')
    .summary('run the REST API (predictions, models, metrics, docs, dashboard)')
    .description('Serves the registry\'s latest model and follows it (hot reload on every poll and on POST /v1/models/reload). Without API tokens configured it binds 127.0.0.1 only.')
    .option('--port <n>', 'port (default: config api.port)', (v) => Number.parseInt(v, 10))
    .option('--registry <dir|gs://...>', 'model registry (default: config registry)')
    .action(async (opts: { port?: number; registry?: string }) => {
      const config = ctx.config(opts.port !== undefined ? { api: { port: opts.port } } : {});
      await runApi(config, ctx.logger('api'), opts.registry, ctx);
    });
}
