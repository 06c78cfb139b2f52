import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../core/model/registry.js';
import type { FrameWorker } from '../inference/frame-worker.js';
import type { SkywatchServer } from '../web/server.js';
import type { IngestRole } from './build-ingest.js';
import { ProcessContext } from './process-context.js';

export interface Roles {
  api: boolean;
  ingest: boolean;
  worker: boolean;
}

export interface RunningRoles {
  server: SkywatchServer | null;
  redisUrl: string;
  context: ProcessContext;
  ingest: IngestRole | null;
  worker: FrameWorker | null;
  stop(): Promise<void>;
}

/**
 * The composition root: starts the asked roles in this process on one Redis. `skywatch start` asks
 * for all three (one model holder and one micro-batcher serve REST and camera crops alike);
 * `skywatch api|ingest|worker` for one each. The CLI, the benchmarks and the tests all start here.
 */
export async function runRoles(deps: { config: Config; logger: Logger; registry: ModelRegistry; roles: Roles; demoCamera?: boolean }): Promise<RunningRoles> {
  const { roles } = deps;
  const ctx = await ProcessContext.open(deps);
  try {
    // The model services come first for roles that run a model, so ingest sees the model's input size.
    if (roles.api || roles.worker) ctx.services();
    // Each role's builder is loaded only when asked for: a worker process never loads the API, the
    // review database or the sinks (start-up time counts when workers are added under load).
    const worker = roles.worker ? (await import('./build-worker.js')).buildWorker(ctx) : null;
    const ingest = roles.api || roles.ingest ? (await import('./build-ingest.js')).buildIngest(ctx, { ingesting: roles.ingest, worker }) : null;
    const server = roles.api ? await (await import('./build-api.js')).buildApi(ctx, { ingest: ingest!, ingesting: roles.ingest, worker }) : null;
    if (!roles.api) await (await import('./build-role-health.js')).buildRoleHealth(ctx, { ingest: roles.ingest ? ingest : null, worker });
    if (roles.ingest) await ingest!.start({ demoCamera: deps.demoCamera });
    return { server, redisUrl: ctx.redisUrl, context: ctx, ingest: roles.ingest ? ingest : null, worker, stop: () => ctx.stop() };
  } catch (err) {
    await ctx.stop();
    throw err;
  }
}
