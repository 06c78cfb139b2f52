import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { CameraLeases } from '../../ingest/camera-leases.js';
import { AlertRules } from '../../inference/alert-rules.js';
import { FrameWorker } from '../../inference/frame-worker.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import { AlertStream } from '../../queue/alert-stream.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { createRedis } from '../../queue/redis-connection.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { publishTiny } from '../support/tiny-model.js';

let stop: (() => Promise<void>) | null = null;
afterAll(async () => {
  await stop?.();
});

describe('on a Redis Cluster (three local nodes)', () => {
  it('queues frames, runs the worker, writes alerts and takes leases under a hash-tag prefix', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-cluster-'));
    const cluster = await startRedisCluster(dir);
    stop = cluster.stop;
    const prefix = '{skywatch}';
    const redis = createRedis(cluster.url);
    await redis.ping();
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    const holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: {}, pollIntervalMs: 60_000, logger: silentLogger });
    await holder.reload();
    const stream = new AlertStream(redis, prefix, 1000);
    const worker = new FrameWorker({ redis: createRedis(cluster.url), prefix, predictor: new Predictor(holder, new MicroBatcher({ maxBatch: 4, maxWaitMs: 1 }), { maxPixels: 1e7 }), rules: new AlertRules({ k: 2, n: 3, threshold: 0.6, cooldownMs: 0, endAfterMs: 1000, labels: ['drone'] }), alerts: stream, logger: silentLogger, deadlineMs: 60_000 });
    worker.start();
    const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 60_000, modelInput: () => ({ width: 16, height: 16 }) });
    const rgb = Buffer.alloc(16 * 16 * 3);
    for (let i = 2; i < rgb.length; i += 3) rgb[i] = 250;
    for (let seq = 0; seq < 6; seq++) {
      expect(await queue.submit({ cameraId: 'cam', seq, capturedAt: Date.now(), width: 16, height: 16, crops: [{ box: { x: 0, y: 0, width: 16, height: 16, area: 1 }, rgb, width: 16, height: 16 }] })).toBe('queued');
    }
    for (let t = 0; t < 200 && worker.counters.inferred < 6; t++) await new Promise((r) => setTimeout(r, 50));
    expect(worker.counters.inferred).toBe(6);
    const alerts = await stream.after('0-0');
    expect(alerts.some((a) => a.label === 'drone' && a.status === 'open')).toBe(true);
    // Leases use a Lua script over keys of the same slot.
    const a = new CameraLeases(redis, prefix, 'a', 2000);
    const b = new CameraLeases(redis, prefix, 'b', 2000);
    expect(await a.acquire('cam1')).toBe(true);
    expect(await b.acquire('cam1')).toBe(false);
    await worker.close();
    await queue.close();
    await holder.stop();
    redis.disconnect();
  }, 60_000);
});
