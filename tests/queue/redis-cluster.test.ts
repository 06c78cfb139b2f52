import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { CameraLeases } from '../../ingest/camera-leases.js';
import { FrameWorker } from '../../inference/frame-worker.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import { AlertStream } from '../../queue/alert-stream.js';
import { CropResults } from '../../queue/crop-results.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { OpenAlerts } from '../../queue/open-alerts.js';
import { createRedis } from '../../queue/redis-connection.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { publishTiny } from '../support/tiny-model.js';

let stop: (() => Promise<void>) | null = null;
afterAll(async () => {
  await stop?.();
});

describe('on a Redis Cluster (three local nodes)', () => {
  it('queues frames, runs the worker, sends scores back, writes alerts and takes leases under a hash-tag prefix', async () => {
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
    const results = new CropResults(redis, prefix);
    const worker = new FrameWorker({ redis: createRedis(cluster.url), prefix, predictor: new Predictor(holder, new MicroBatcher({ maxBatch: 4, maxWaitMs: 1 }), { maxPixels: 1e7 }), results, logger: silentLogger, deadlineMs: 60_000 });
    worker.start();
    const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 60_000 });
    const rgb = Buffer.alloc(16 * 16 * 3);
    for (let i = 2; i < rgb.length; i += 3) rgb[i] = 250;
    for (let seq = 0; seq < 6; seq++) {
      expect(await queue.submit({ cameraId: 'cam', pipeline: 'p1', owner: 'owner', seq, capturedAt: Date.now(), width: 16, height: 16, crops: [{ trackId: 1, box: { x: 0, y: 0, width: 16, height: 16 }, rgb, width: 16, height: 16 }] })).toBe('queued');
    }
    for (let t = 0; t < 200 && worker.counters.inferred < 6; t++) await new Promise((r) => setTimeout(r, 50));
    expect(worker.counters.inferred).toBe(6);
    // Scores come back to the owner's results stream (append and expiry in one MULTI on one slot).
    const back = await results.read('owner', '0-0', 100, redis);
    expect(back.map((r) => r.result.seq).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(back[0].result.crops[0].probabilities![back[0].result.labels.indexOf('drone')]).toBeGreaterThan(0.9);
    // The alert stream and the open-alert book (HGETALL + DEL in one MULTI) work on the cluster too.
    const open = await stream.add({ cameraId: 'cam', label: 'drone', score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: null, modelVersion: 'v1', status: 'open', hasSnapshot: false }, null);
    const book = new OpenAlerts(redis, prefix);
    await book.mark('cam', { cameraId: 'cam', label: 'drone', score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: null, modelVersion: 'v1', status: 'open', hasSnapshot: false, alertId: open.id, lastEventId: open.id });
    expect((await book.takeAll('cam')).map((a) => a.alertId)).toEqual([open.id]);
    expect(await book.takeAll('cam')).toEqual([]);
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
