import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ModelRegistry } from '../core/model/registry.js';
import { createCamera } from '../ingest/camera.js';
import { createIngest, type IngestParts } from '../ingest/create-ingest.js';
import { FrameQueue } from '../queue/frame-queue.js';
import type { ProcessContext } from './process-context.js';

export interface IngestRole extends IngestParts {
  queue: FrameQueue;
  /** Starts pulling cameras (leases, ffmpeg); adds the demo camera first when asked and none exists. */
  start(options?: { demoCamera?: boolean }): Promise<void>;
}

/** Reads the latest model's input size for processes without a model of their own. */
function modelInputWatcher(registry: ModelRegistry, everyMs: number): { get: () => { width: number; height: number } | null; stop: () => void } {
  let size: { width: number; height: number } | null = null;
  const poll = () => void registry.resolve('latest').then((m) => (size = { width: m.input.width, height: m.input.height }), () => {});
  poll();
  const timer = setInterval(poll, everyMs);
  timer.unref();
  return { get: () => size, stop: () => clearInterval(timer) };
}

/**
 * The ingest role's parts: the camera store, the status board and the ingestor (cameras leased in
 * Redis -> ffmpeg -> motion -> frame queue). An API-only process builds it too (for the store and the
 * board) and never starts it.
 */
export function buildIngest(ctx: ProcessContext): IngestRole {
  const { config, logger } = ctx;
  const watcher = ctx.hasServices ? null : modelInputWatcher(ctx.registry, config.inference.pollIntervalMs);
  if (watcher) ctx.onStop('model watcher', async () => watcher.stop());
  const modelInput = () => {
    const current = ctx.hasServices ? ctx.services().holder.current : null;
    return current ? { width: current.manifest.input.width, height: current.manifest.input.height } : watcher?.get() ?? null;
  };
  const queue = new FrameQueue({ redis: ctx.redis, prefix: ctx.prefix, pixelTtlMs: Math.max(10_000, 3 * config.ingest.frameDeadlineMs), modelInput });
  ctx.onStop('frame queue', () => queue.close());
  const parts = createIngest({ config, redis: ctx.redis, sink: queue, logger });
  return {
    ...parts,
    queue,
    async start(options = {}) {
      if (options.demoCamera && (await parts.store.list()).length === 0) await addDemoCamera(ctx, parts);
      await parts.ingestor.start();
      // Ingest stops first: no new frames while workers finish the ones in flight.
      ctx.onStop('ingest', () => parts.ingestor.stop(), 'first');
    },
  };
}

async function addDemoCamera(ctx: ProcessContext, ingest: IngestParts): Promise<void> {
  const { config, logger } = ctx;
  const dir = path.resolve(path.dirname(path.resolve(config.data)), 'videos', 'drone');
  if (!existsSync(dir)) {
    logger.warn({ dir }, 'no demo clip found: add a camera in the dashboard or with POST /v1/cameras');
    return;
  }
  const clip = readdirSync(dir).filter((f) => f.endsWith('.mp4')).sort()[0];
  if (!clip) return;
  const camera = createCamera({ name: 'Demo: drone clip (looping)', url: path.join(dir, clip), fps: 5, enabled: true }, { ...ingest.rules, allowFileUrls: true });
  await ingest.store.create(camera);
  logger.info({ camera: camera.id, clip }, `demo camera added: ${clip}, looping at 5 fps`);
}
