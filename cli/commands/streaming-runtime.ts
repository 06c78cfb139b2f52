import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { ModelRegistry } from '../../core/model/registry.js';
import { ensureRedis } from '../../core/redis-launcher.js';
import { createCamera } from '../../ingest/camera.js';
import { createIngest } from '../../ingest/create-ingest.js';
import { AlertRules } from '../../inference/alert-rules.js';
import { CameraAlertPolicies } from '../../inference/camera-alert-policy.js';
import { FrameWorker } from '../../inference/frame-worker.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import { AlertStream } from '../../queue/alert-stream.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { createRedis } from '../../queue/redis-connection.js';
import { AlertRecorder } from '../../review/alert-recorder.js';
import { FeedbackStore } from '../../review/feedback-store.js';
import { openAlertRecords } from '../../review/open-alert-records.js';
import { redisCropSource } from '../../review/redis-crop-source.js';
import { RetentionTimer } from '../../review/retention.js';
import { createSinks } from '../../sinks/create-sinks.js';
import { AlertHub } from '../../web/alert-hub.js';
import { registerPipelineMetrics } from '../../web/pipeline-metrics.js';
import { startRoleHealthServer } from '../../web/role-health-server.js';
import { alertRoutes } from '../../web/routes/alerts.js';
import { camerasRoutes } from '../../web/routes/cameras.js';
import { reviewRoutes } from '../../web/routes/review.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';

export interface Roles {
  api: boolean;
  ingest: boolean;
  worker: boolean;
}

export interface RunningRoles {
  server: SkywatchServer | null;
  redisUrl: string;
  stop(): Promise<void>;
}

/** Reads the latest model's input size for ingest-only processes (they crop to it, never run it). */
function modelInputWatcher(registry: ModelRegistry, everyMs: number): { get: () => { width: number; height: number } | null; stop: () => void } {
  let size: { width: number; height: number } | null = null;
  const poll = () => void registry.resolve('latest').then((m) => (size = { width: m.input.width, height: m.input.height }), () => {});
  poll();
  const timer = setInterval(poll, everyMs);
  timer.unref();
  return { get: () => size, stop: () => clearInterval(timer) };
}

/**
 * Starts the asked roles on one Redis: the API (REST, cameras, alerts, dashboard), ingest (cameras ->
 * motion -> frame queue) and workers (frame queue -> micro-batched ONNX -> alert rules -> alert stream).
 * `start` asks for all three in one process and they share one model holder.
 */
export async function runRoles(deps: { config: Config; logger: Logger; registry: ModelRegistry; roles: Roles; demoCamera?: boolean }): Promise<RunningRoles> {
  const { config, logger, registry, roles } = deps;
  const redisHandle = await ensureRedis({ url: config.redis.url, stateDir: config.stateDir, autoStart: config.redis.autoStart, logger });
  const redis = createRedis(redisHandle.url);
  const prefix = config.redis.prefix;
  const stream = new AlertStream(redis, prefix, config.alerts.streamMaxLen);
  const stops: Array<() => Promise<void>> = [];
  const needsHolder = roles.api || roles.worker;
  const holder = needsHolder
    ? new ModelHolder({
        registry,
        cacheDir: config.inference.cacheDir ?? path.join(config.stateDir, 'cache', 'models'),
        threads: { intraOpThreads: config.inference.intraOpThreads, interOpThreads: config.inference.interOpThreads },
        pollIntervalMs: config.inference.pollIntervalMs,
        logger,
      })
    : null;
  if (holder) {
    holder.start();
    stops.push(() => holder.stop());
  }
  const watcher = holder ? null : modelInputWatcher(registry, config.inference.pollIntervalMs);
  const modelInput = () => (holder?.current ? { width: holder.current.manifest.input.width, height: holder.current.manifest.input.height } : watcher?.get() ?? null);
  const queue = new FrameQueue({ redis, prefix, pixelTtlMs: Math.max(10_000, 3 * config.ingest.frameDeadlineMs), modelInput });
  const ingest = createIngest({ config, redis, sink: queue, logger });
  // Alert sinks (webhook, MQTT) for the roles that raise events: workers (alerts), ingest (cameras down).
  const sinks = roles.worker || roles.ingest ? createSinks(config, logger) : null;
  if (sinks && roles.ingest) {
    ingest.board.onChange((change) => void ingest.store.get(change.cameraId).then(
      (camera) => sinks.deliver({ type: 'camera', ...change, ...(camera ? { name: camera.name } : {}) }),
      () => sinks.deliver({ type: 'camera', ...change }),
    ));
  }

  let worker: FrameWorker | null = null;
  if (roles.worker && holder) {
    const batcher = new MicroBatcher({ maxBatch: config.inference.maxBatch, maxWaitMs: config.inference.maxWaitMs });
    const predictor = new Predictor(holder, batcher, { maxPixels: config.api.maxPixels });
    const rules = new AlertRules({ k: config.alerts.k, n: config.alerts.n, threshold: config.alerts.threshold, cooldownMs: config.alerts.cooldownMs, endAfterMs: 3_000 });
    const w = new FrameWorker({ redis: createRedis(redisHandle.url), prefix, predictor, rules, alerts: stream, logger, deadlineMs: config.ingest.frameDeadlineMs, sinks: sinks ?? undefined, policies: new CameraAlertPolicies(ingest.store) });
    worker = w;
    // No jobs are taken before a model is loaded: they wait in the queue (or pass their deadline).
    if (holder.current) w.start();
    else holder.once('swap', () => w.start());
    stops.push(() => worker!.close());
  }

  let server: SkywatchServer | null = null;
  if (roles.api) {
    const hub = new AlertHub(stream, createRedis(redisHandle.url), logger);
    await hub.start();
    stops.push(() => hub.stop());
    const runtime = roles.ingest ? ingest.ingestor : ingest.board;
    // Alert review: the live stream folded into records in the review database, old ones deleted.
    const records = await openAlertRecords(config);
    const recorderRedis = createRedis(redisHandle.url);
    const recorder = new AlertRecorder({ stream, reader: recorderRedis, repo: records, settings: { threshold: config.alerts.threshold, uncertainBand: config.review.uncertainBand }, logger });
    recorder.start();
    // Every judged alert's crops go to the feedback data set in the registry's store (for the trainer).
    const feedback = new FeedbackStore(registry.store, redisCropSource(redis));
    const retention = new RetentionTimer(records, { days: config.review.retentionDays, logger });
    retention.start();
    stops.push(async () => {
      await recorder.stop();
      await retention.stop();
      recorderRedis.disconnect();
      await records.close();
    });
    server = await buildServer({
      config,
      logger,
      registry,
      holder: holder ?? undefined,
      checks: [{ name: 'redis', check: async () => (await redis.ping()) === 'PONG' }],
      plugins: [
        (app, guards) => camerasRoutes(app, { store: ingest.store, ingestor: runtime, rules: ingest.rules, requireAdmin: guards.admin, requireViewer: guards.viewer }),
        (app, guards) => alertRoutes(app, { stream, hub, viewer: guards.viewer }),
        (app, guards) => reviewRoutes(app, { repo: records, viewer: guards.viewer, admin: guards.admin, labels: () => holder?.current?.manifest.labels ?? [],
          feedback: async (record, verdict) => feedback.save(record, verdict, await records.snapshot(record.alertId)) }),
      ],
    });
    const w = worker;
    server.metrics.registerSummarySource('pipeline', async () => ({
      queueDepth: await queue.depth().catch(() => -1),
      framesInferred: w?.counters.inferred ?? 0,
      cropsInferred: w?.counters.crops ?? 0,
      framesDropped: w ? Object.values(w.counters.dropped).reduce((a, b) => a + b, 0) : 0,
      alertsOpened: w?.counters.alerts ?? 0,
    }));
    registerPipelineMetrics(server.metrics.registry, {
      cameras: roles.ingest ? () => ingest.ingestor.overview().cameras : undefined,
      worker: () => w?.counters ?? null,
      queueDepth: () => queue.depth(),
    });
    await server.listen();
    stops.unshift(() => server!.close());
  } else {
    // Ingest and worker processes still answer probes and Prometheus on the API port.
    const w = worker;
    const health = await startRoleHealthServer({
      host: config.api.host ?? '127.0.0.1',
      port: config.api.port,
      checks: [
        { name: 'redis', check: async () => (await redis.ping()) === 'PONG' },
        ...(holder ? [{ name: 'model', check: async () => holder.current !== null }] : []),
      ],
      register: (registry) => registerPipelineMetrics(registry, {
        cameras: roles.ingest ? () => ingest.ingestor.overview().cameras : undefined,
        worker: () => w?.counters ?? null,
        queueDepth: () => queue.depth(),
      }),
      onError: (err) => logger.warn({ err, port: config.api.port }, `health and metrics not served: ${err.message} (give this role its own --port)`),
    });
    if (health) stops.unshift(() => health.app.close());
  }

  if (roles.ingest) {
    if (deps.demoCamera && (await ingest.store.list()).length === 0) await addDemoCamera(config, ingest, logger);
    await ingest.ingestor.start();
    stops.unshift(() => ingest.ingestor.stop());
  }

  return {
    server,
    redisUrl: redisHandle.url,
    async stop() {
      for (const stop of stops) await stop().catch((err: Error) => logger.warn({ err }, 'stopping a role failed'));
      // After the roles that deliver to them, so their last events still go out.
      await sinks?.close();
      watcher?.stop();
      await queue.close().catch(() => {});
      redis.disconnect();
      await redisHandle.stop();
    },
  };
}

async function addDemoCamera(config: Config, ingest: ReturnType<typeof createIngest>, logger: Logger): Promise<void> {
  const dir = path.resolve(path.dirname(path.resolve(config.data)), 'videos', 'drone');
  if (!existsSync(dir)) {
    logger.warn({ dir }, 'no demo clip found: add a camera in the dashboard or with POST /v1/cameras');
    return;
  }
  const clip = readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort()[0];
  if (!clip) return;
  // The one camera that may read a file whatever ingest.allowFileUrls says: its path is the server's.
  const camera = { ...createCamera({ name: 'Demo: drone clip (looping)', url: path.join(dir, clip), fps: 5, enabled: true }, { ...ingest.rules, allowFileUrls: true }), demo: true };
  await ingest.store.create(camera);
  logger.info({ camera: camera.id, clip }, `demo camera added: ${clip}, looping at 5 fps`);
}
