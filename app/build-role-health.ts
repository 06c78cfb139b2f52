import { registerDriftMetrics } from '../drift/drift-metrics.js';
import type { FrameWorker } from '../inference/frame-worker.js';
import { registerPipelineMetrics } from '../web/pipeline-metrics.js';
import { startRoleHealthServer } from '../web/role-health-server.js';
import type { IngestRole } from './build-ingest.js';
import type { ProcessContext } from './process-context.js';

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
    register: (registry) => {
      registerPipelineMetrics(registry, {
        cameras: ingest ? () => ingest.ingestor.overview().cameras : undefined,
        alerts: ingest ? () => ingest.publisher : undefined,
        worker: () => worker?.counters ?? null,
        queueDepth: ingest ? () => ingest.queue.depth() : undefined,
      });
      // A worker scores the crops, so its drift gauges are here when no API runs beside it.
      const drift = worker ? ctx.drift() : null;
      if (drift) registerDriftMetrics(registry, drift);
    },
    onError: (err) => logger.warn({ err, port: config.api.port }, `health and metrics not served: ${err.message} (give this role its own --port)`),
  });
  if (health) ctx.onStop('health server', () => health.app.close(), 'first');
}
