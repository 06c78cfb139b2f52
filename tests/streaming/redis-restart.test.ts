import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { FrameWorker } from '../../inference/frame-worker.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import { CropResults } from '../../queue/crop-results.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { createRedis } from '../../queue/redis-connection.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';
import { publishTiny } from '../support/tiny-model.js';

let server: PrivateRedis;
afterAll(async () => {
  await server?.stop();
});

describe('Redis restarted under the pipeline', () => {
  it('keeps every result already written, and the queue and worker carry on by themselves', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-redis-restart-'));
    server = await startPrivateRedis(dir, { appendOnly: true });
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    const holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: {}, pollIntervalMs: 60_000, logger: silentLogger });
    await holder.reload();
    const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 1 }), { maxPixels: 1e7 });
    const ingestRedis = createRedis(server.url);
    const reader = createRedis(server.url);
    const results = new CropResults(createRedis(server.url), 'p');
    const worker = new FrameWorker({ redis: createRedis(server.url), prefix: 'p', predictor, results, logger: silentLogger, deadlineMs: 60_000, stalledIntervalMs: 1000 });
    worker.start();
    const queue = new FrameQueue({ redis: ingestRedis, prefix: 'p', pixelTtlMs: 60_000 });
    // A blue crop (the tiny model says "drone" at ~1.0), 20x20: resized to the model's 16x16 by the worker.
    const crop = { trackId: 7, box: { x: 1, y: 1, width: 20, height: 20 }, rgb: Buffer.alloc(20 * 20 * 3), width: 20, height: 20 };
    for (let i = 0; i < crop.rgb.length; i += 3) crop.rgb[i + 2] = 250;
    let seq = 0;
    const burst = async (n: number) => {
      const outcomes: string[] = [];
      for (let i = 0; i < n; i++) outcomes.push(await queue.submit({ cameraId: 'cam', pipeline: 'p1', owner: 'owner', seq: seq++, capturedAt: Date.now(), width: 64, height: 64, crops: [crop] }));
      return outcomes;
    };
    const waitFor = async (fn: () => Promise<boolean>, ms = 20_000) => {
      const end = Date.now() + ms;
      while (!(await fn().catch(() => false))) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    const answered = async (after = '0-0') => results.read('owner', after, 10, reader);
    await ingestRedis.ping();
    expect(await burst(5)).toEqual(Array(5).fill('queued'));
    await waitFor(async () => (await answered()).length === 5);
    const first = (await answered())[0].result;
    expect(first.crops).toHaveLength(1);
    expect(first.crops[0].trackId).toBe(7);
    expect(first.crops[0].probabilities![first.labels.indexOf('drone')]).toBeGreaterThan(0.9);
    const before = (await answered()).map((a) => a.id);

    await server.stop();
    // While Redis is down, live frames are dropped and counted, never buffered without bound.
    expect(await burst(3)).toEqual(['dropped', 'dropped', 'dropped']);
    await server.start();

    const after = (await answered()).map((a) => a.id);
    expect(after.slice(0, before.length)).toEqual(before);
    const inferredBefore = worker.counters.inferred;
    await waitFor(async () => (await burst(1))[0] === 'queued');
    await burst(4);
    await waitFor(async () => worker.counters.inferred >= inferredBefore + 5);
    await waitFor(async () => (await answered(before[before.length - 1])).length >= 5);
    await worker.close();
    reader.disconnect();
    await queue.close();
    await holder.stop();
  }, 90_000);
});
