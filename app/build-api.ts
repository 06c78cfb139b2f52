import type { FrameWorker } from '../inference/frame-worker.js';
import { AlertRecorder } from '../review/alert-recorder.js';
import { FeedbackStore } from '../review/feedback-store.js';
import { openAlertRecords } from '../review/open-alert-records.js';
import { redisCropSource } from '../review/redis-crop-source.js';
import { RetentionTimer } from '../review/retention.js';
import { AlertHub } from '../web/alert-hub.js';
import { registerPipelineMetrics } from '../web/pipeline-metrics.js';
import { alertRoutes } from '../web/routes/alerts.js';
import { camerasRoutes } from '../web/routes/cameras.js';
import { reviewRoutes } from '../web/routes/review.js';
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
  const services = ctx.services();
  // Alert review: the live stream folded into records in the review database, old ones deleted.
  const records = await openAlertRecords(config);
  const recorder = new AlertRecorder({ stream: ctx.stream, reader: ctx.connection(), repo: records, settings: { threshold: config.alerts.threshold, uncertainBand: config.review.uncertainBand }, logger });
  recorder.start();
  // Every judged alert's crops (its `cropsKey`) go to the feedback data set in the registry's store.
  const feedback = new FeedbackStore(ctx.registry.store, redisCropSource(ctx.redis));
  const retention = new RetentionTimer(records, { days: config.review.retentionDays, logger });
  retention.start();
  ctx.onStop('alert review', async () => {
    await recorder.stop();
    await retention.stop();
    await records.close();
  });
  const server = await buildServer({
    config,
    logger,
    registry: ctx.registry,
    services,
    checks: [{ name: 'redis', check: async () => (await ctx.redis.ping()) === 'PONG' }],
    // Drift is measured where crops are scored: /v1/drift and its gauges when this process also works.
    ...(worker ? { drift: ctx.drift() ?? undefined } : {}),
    plugins: [
      (app, guards) => camerasRoutes(app, { store: ingest.store, ingestor: runtime, rules: ingest.rules, requireAdmin: guards.admin, requireViewer: guards.viewer }),
      (app, guards) => alertRoutes(app, { stream: ctx.stream, hub, viewer: guards.viewer }),
      (app, guards) => reviewRoutes(app, { repo: records, viewer: guards.viewer, admin: guards.admin, labels: () => services.holder.current?.manifest.labels ?? [],
        feedback: async (record, verdict) => feedback.save(record, verdict, await records.snapshot(record.alertId)) }),
    ],
  });
  server.metrics.registerSummarySource('pipeline', async () => ({
    queueDepth: await ingest.queue.depth().catch(() => -1),
    framesInferred: worker?.counters.inferred ?? 0,
    cropsInferred: worker?.counters.crops ?? 0,
    framesDropped: worker ? Object.values(worker.counters.dropped).reduce((a, b) => a + b, 0) : 0,
    alertsOpened: ingest.publisher?.counters.opened ?? 0,
    alertsSuppressed: ingest.publisher?.counters.suppressed ?? 0,
    evidenceClipsSkipped: ingest.publisher?.counters.clipsSkipped ?? 0,
    evidenceClipsDropped: ingest.publisher?.counters.clipsDropped ?? 0,
  }));
  registerPipelineMetrics(server.metrics.registry, {
    cameras: parts.ingesting ? () => ingest.ingestor.overview().cameras : undefined,
    alerts: parts.ingesting ? () => ingest.publisher : undefined,
    worker: () => worker?.counters ?? null,
    queueDepth: () => ingest.queue.depth(),
  });
  await server.listen();
  ctx.onStop('api', () => server.close(), 'first');
  return server;
}
