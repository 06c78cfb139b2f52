import type { FrameWorker } from '../inference/frame-worker.js';
import { AlertHub } from '../web/alert-hub.js';
import { registerPipelineMetrics } from '../web/pipeline-metrics.js';
import { startRoleHealthServer } from '../web/role-health-server.js';
import { alertRoutes } from '../web/routes/alerts.js';
import { camerasRoutes } from '../web/routes/cameras.js';
import { buildServer, type SkywatchServer } from '../web/server.js';
import type { IngestRole } from './build-ingest.js';
import type { ProcessContext } from './process-context.js';

/**
 * The API role: REST, cameras, alerts (WebSocket hub on the alert stream), dashboard and metrics, on
 * the process's shared model services. `ingesting` says whether this process also pulls cameras (then
 * camera status comes from its ingestor, otherwise from the status board in Redis).
 */
export async function buildApi(ctx: ProcessContext, parts: { ingest: IngestRole; ingesting: boolean; worker: FrameWorker | null }): Promise<SkywatchServer> {
  const { config, logger } = ctx;
  const { ingest, worker } = parts;
  const hub = new AlertHub(ctx.stream, ctx.connection(), logger);
  await hub.start();
  ctx.onStop('alert hub', () => hub.stop());
  const runtime = parts.ingesting ? ingest.ingestor : ingest.board;
  const server = await buildServer({
    config,
    logger,
    registry: ctx.registry,
    services: ctx.services(),
    checks: [{ name: 'redis', check: async () => (await ctx.redis.ping()) === 'PONG' }],
    plugins: [
      (app, guards) => camerasRoutes(app, { store: ingest.store, ingestor: runtime, rules: ingest.rules, requireAdmin: guards.admin, requireViewer: guards.viewer }),
      (app, guards) => alertRoutes(app, { stream: ctx.stream, hub, viewer: guards.viewer }),
    ],
  });
  server.metrics.registerSummarySource('pipeline', async () => ({
    queueDepth: await ingest.queue.depth().catch(() => -1),
    framesInferred: worker?.counters.inferred ?? 0,
    cropsInferred: worker?.counters.crops ?? 0,
    framesDropped: worker ? Object.values(worker.counters.dropped).reduce((a, b) => a + b, 0) : 0,
    alertsOpened: ingest.publisher?.counters.opened ?? 0,
    alertsSuppressed: ingest.publisher?.counters.suppressed ?? 0,
  }));
  registerPipelineMetrics(server.metrics.registry, {
    cameras: parts.ingesting ? () => ingest.ingestor.overview().cameras : undefined,
    worker: () => worker?.counters ?? null,
    queueDepth: () => ingest.queue.depth(),
  });
  await server.listen();
  ctx.onStop('api', () => server.close(), 'first');
  return server;
}

/**
 * Ingest and worker processes without the API still answer probes and Prometheus on the API port; a
 * worker's registry is its model services' one, so its batches show in skywatch_inference_*.
 */
export async function buildRoleHealth(ctx: ProcessContext, parts: { ingest: IngestRole | null; worker: FrameWorker | null }): Promise<void> {
  const { config, logger } = ctx;
  const { ingest, worker } = parts;
  const services = ctx.hasServices ? ctx.services() : null;
  const health = await startRoleHealthServer({
    host: config.api.host ?? '127.0.0.1',
    port: config.api.port,
    registry: services?.metrics.registry,
    checks: [
      { name: 'redis', check: async () => (await ctx.redis.ping()) === 'PONG' },
      ...(services ? [{ name: 'model', check: async () => services.holder.current !== null }] : []),
    ],
    register: (registry) => registerPipelineMetrics(registry, {
      cameras: ingest ? () => ingest.ingestor.overview().cameras : undefined,
      worker: () => worker?.counters ?? null,
      queueDepth: ingest ? () => ingest.queue.depth() : undefined,
    }),
    onError: (err) => logger.warn({ err, port: config.api.port }, `health and metrics not served: ${err.message} (give this role its own --port)`),
  });
  if (health) ctx.onStop('health server', () => health.app.close(), 'first');
}
