import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { FrameWorker } from '../../inference/frame-worker.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import type { FrameJobInput } from '../../ingest/frame-sink.js';
import { CropResults, type CropResult } from '../../queue/crop-results.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { InProcessFirstSink } from '../../queue/in-process-first-sink.js';
import { QueuePeers } from '../../queue/queue-peers.js';
import { createRedis } from '../../queue/redis-connection.js';
import type { RedisClient } from '../../core/redis-client.js';
import { publishTiny } from '../support/tiny-model.js';

/**
 * `skywatch start` scores its own cameras' frames in process and spills the rest to the queue: real
 * Redis, a real BullMQ queue and worker, a real ONNX model. The path a frame takes must not change
 * its scores, and nothing may be lost on either path.
 */
const prefix = `test-in-process-${process.pid}-${Date.now()}`;
const OWNER = 'owner-1';
let dir: string;
let holder: ModelHolder;
let worker: FrameWorker;
let queue: FrameQueue;
let redis: RedisClient;
let reader: RedisClient;
let results: CropResults;

/** A solid 20x20 crop (the tiny model says "drone" for blue, "bird" for red). */
function crop(trackId: number, rgb: [number, number, number]) {
  const pixels = Buffer.alloc(20 * 20 * 3);
  for (let i = 0; i < pixels.length; i += 3) pixels.set(rgb, i);
  return { trackId, box: { x: 1, y: 1, width: 20, height: 20 }, rgb: pixels, width: 20, height: 20 };
}

function frame(seq: number, extra: Partial<FrameJobInput> = {}): FrameJobInput {
  return { cameraId: 'cam', pipeline: 'p1', owner: OWNER, seq, capturedAt: Date.now(), width: 64, height: 64, crops: [crop(1, [10, 10, 250]), crop(2, [250, 10, 10])], ...extra };
}

async function fromStream(count: number, ms = 20_000): Promise<CropResult[]> {
  const end = Date.now() + ms;
  let got: CropResult[] = [];
  while (Date.now() < end) {
    got = (await results.read(OWNER, '0-0', 50, reader)).map((r) => r.result);
    if (got.length >= count) return got;
  }
  throw new Error(`only ${got.length} of ${count} answers on the results stream`);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'sw-in-process-'));
  const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  await publishTiny(registry, path.join(dir, 'm'), 'v1');
  holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: {}, pollIntervalMs: 60_000, logger: silentLogger });
  await holder.reload();
  redis = createRedis('redis://127.0.0.1:6379');
  reader = createRedis('redis://127.0.0.1:6379');
  results = new CropResults(redis, prefix);
  const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 1 }), { maxPixels: 1e7 });
  worker = new FrameWorker({ redis: createRedis('redis://127.0.0.1:6379'), prefix, predictor, results, logger: silentLogger, deadlineMs: 5_000 });
  queue = new FrameQueue({ redis, prefix, pixelTtlMs: 60_000 });
  // The queue drops frames while its connection is not ready (live video is never buffered).
  await redis.ping();
});

afterAll(async () => {
  await worker?.close();
  await queue?.close();
  await holder?.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  reader.disconnect();
});

describe('InProcessFirstSink', () => {
  it('sends every frame through the queue while the worker has no model, then scores in process with the same scores', async () => {
    const delivered: CropResult[] = [];
    const sink = new InProcessFirstSink({ queue, scorer: worker, deliver: (r) => delivered.push(r), maxInProcess: 4 });
    // Not started: no model yet as far as the worker knows, so the frame waits in the queue.
    expect(await sink.submit(frame(0))).toBe('queued');
    expect(sink.inFlight('cam')).toBe(1);
    expect(delivered).toHaveLength(0);
    worker.start();
    const [queued] = await fromStream(1);
    expect(queued.seq).toBe(0);

    expect(await sink.submit(frame(1))).toBe('queued');
    expect(sink.inFlight('cam')).toBeGreaterThanOrEqual(1);
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(1);
    const local = delivered[0];
    expect(local.seq).toBe(1);
    expect(local.pipeline).toBe('p1');
    expect(local.labels).toEqual(queued.labels);
    expect(local.modelVersion).toBe('v1');
    // Same crops, same model, same batcher code: the same probabilities whichever path they took.
    expect(local.crops).toEqual(queued.crops);
    expect(local.crops[0].probabilities![local.labels.indexOf('drone')]).toBeGreaterThan(0.9);
    expect(local.crops[1].probabilities![local.labels.indexOf('bird')]).toBeGreaterThan(0.9);
    expect(worker.counters.inProcess).toBe(1);
    // Nothing of the in-process frame reached the results stream.
    expect(await results.read(OWNER, '0-0', 10, reader)).toHaveLength(1);
    await expect.poll(() => sink.inFlight('cam'), { timeout: 10_000 }).toBe(0);
  });

  it('spills frames beyond its limit to the queue, where the worker takes them; every frame is answered once', async () => {
    const delivered: CropResult[] = [];
    const sink = new InProcessFirstSink({ queue, scorer: worker, deliver: (r) => delivered.push(r), maxInProcess: 2 });
    const before = await results.lastId(OWNER);
    const inProcessBefore = worker.counters.inProcess;
    // Six frames at once: two in process, four through the queue.
    const outcomes = await Promise.all([10, 11, 12, 13, 14, 15].map((seq) => sink.submit(frame(seq))));
    expect(outcomes).toEqual(Array(6).fill('queued'));
    expect(worker.counters.inProcess - inProcessBefore).toBe(2);
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(2);
    const streamed = async () => (await results.read(OWNER, before, 50, reader)).map((r) => r.result.seq);
    await expect.poll(streamed, { timeout: 20_000 }).toHaveLength(4);
    const seqs = [...delivered.map((r) => r.seq), ...(await streamed())].sort((a, b) => a - b);
    expect(seqs).toEqual([10, 11, 12, 13, 14, 15]);
    await expect.poll(() => sink.inFlight('cam'), { timeout: 10_000 }).toBe(0);
  });

  it('scores every frame in process while no other process serves the queue, and spills again once one does', async () => {
    const peers = new QueuePeers({ queue, selfName: worker.name });
    // This process's own worker is on the queue, and only it.
    expect(await peers.refresh()).toBe(false);
    const delivered: CropResult[] = [];
    const sink = new InProcessFirstSink({ queue, scorer: worker, deliver: (r) => delivered.push(r), maxInProcess: 2, peers });
    const before = await results.lastId(OWNER);
    const inProcessBefore = worker.counters.inProcess;
    const outcomes = await Promise.all([50, 51, 52, 53, 54, 55].map((seq) => sink.submit(frame(seq))));
    expect(outcomes).toEqual(Array(6).fill('queued'));
    expect(worker.counters.inProcess - inProcessBefore).toBe(6);
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(6);
    expect(delivered.map((r) => r.seq).sort((a, b) => a - b)).toEqual([50, 51, 52, 53, 54, 55]);
    expect(await results.read(OWNER, before, 10, reader)).toHaveLength(0);

    // A `skywatch worker` joins: frames past the limit go to the queue again, where either worker takes them.
    const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 1 }), { maxPixels: 1e7 });
    const other = new FrameWorker({ redis: createRedis('redis://127.0.0.1:6379'), prefix, predictor, results, logger: silentLogger, deadlineMs: 5_000 });
    try {
      other.start();
      await expect.poll(() => peers.refresh(), { timeout: 10_000 }).toBe(true);
      const mid = await results.lastId(OWNER);
      const inProcessMid = worker.counters.inProcess;
      await Promise.all([60, 61, 62, 63, 64, 65].map((seq) => sink.submit(frame(seq))));
      expect(worker.counters.inProcess - inProcessMid).toBe(2);
      const streamed = async () => (await results.read(OWNER, mid, 50, reader)).map((r) => r.result.seq);
      await expect.poll(streamed, { timeout: 20_000 }).toHaveLength(4);
      await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(8);
      const seqs = [...delivered.slice(6).map((r) => r.seq), ...(await streamed())].sort((a, b) => a - b);
      expect(seqs).toEqual([60, 61, 62, 63, 64, 65]);
    } finally {
      await other.close();
    }
    await expect.poll(() => peers.refresh(), { timeout: 10_000 }).toBe(false);
  });

  it('keeps to the limit when the queue\'s workers cannot be listed', async () => {
    const peers = new QueuePeers({ queue: { workerNames: () => Promise.reject(new Error('ERR unknown command \'CLIENT\'')) }, selfName: worker.name });
    expect(await peers.refresh()).toBeNull();
    expect(peers.present).toBeNull();
    const sink = new InProcessFirstSink({ queue, scorer: worker, deliver: () => {}, maxInProcess: 1, peers });
    const before = await results.lastId(OWNER);
    const inProcessBefore = worker.counters.inProcess;
    await Promise.all([70, 71].map((seq) => sink.submit(frame(seq))));
    expect(worker.counters.inProcess - inProcessBefore).toBe(1);
    await expect.poll(async () => (await results.read(OWNER, before, 10, reader)).map((r) => r.result.seq), { timeout: 20_000 }).toEqual([71]);
  });

  it('scores a frame that reached the pipeline late, and answers a frame it cannot score unscored at once', async () => {
    const delivered: CropResult[] = [];
    const sink = new InProcessFirstSink({ queue, scorer: worker, deliver: (r) => delivered.push(r), maxInProcess: 4 });
    const deadlineBefore = worker.counters.dropped.deadline ?? 0;
    // Captured 6 s ago (its decoder starved on a loaded machine; the worker's deadline is 5 s), but
    // handed over now: it never waited in a queue, so it is scored, late rather than never.
    expect(await sink.submit(frame(20, { capturedAt: Date.now() - 6_000 }))).toBe('queued');
    // A crop whose pixels do not match its size: the model cannot score it.
    const broken = { ...crop(3, [10, 10, 250]), width: 30 };
    expect(await sink.submit(frame(21, { crops: [broken] }))).toBe('queued');
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(2);
    const bySeq = Object.fromEntries(delivered.map((r) => [r.seq, r]));
    expect(bySeq[20].crops.map((c) => c.probabilities?.length)).toEqual([bySeq[20].labels.length, bySeq[20].labels.length]);
    expect(bySeq[20].crops[0].probabilities![bySeq[20].labels.indexOf('drone')]).toBeGreaterThan(0.9);
    expect(bySeq[21].crops).toEqual([{ trackId: 3, probabilities: null }]);
    expect(worker.counters.dropped.deadline ?? 0).toBe(deadlineBefore);
    expect(sink.inFlight('cam')).toBe(0);
  });

  it('drops a frame that waited in the queue past the deadline, but not a recording\'s, and scores one captured long ago but just queued', async () => {
    // A worker of its own on its own queue, not started while the first frame waits.
    const p = `${prefix}-deadline`;
    const own = new CropResults(redis, p);
    const predictor = new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 1 }), { maxPixels: 1e7 });
    const slow = new FrameWorker({ redis: createRedis('redis://127.0.0.1:6379'), prefix: p, predictor, results: own, logger: silentLogger, deadlineMs: 400 });
    const q = new FrameQueue({ redis, prefix: p, pixelTtlMs: 60_000 });
    try {
      expect(await q.submit(frame(40))).toBe('queued');
      // A recording's frame waits as long: nothing in a recording goes stale.
      expect(await q.submit(frame(42, { recording: true }))).toBe('queued');
      await new Promise((r) => setTimeout(r, 800));
      slow.start();
      expect(await q.submit(frame(41, { capturedAt: Date.now() - 60_000 }))).toBe('queued');
      const answers = async () => (await own.read(OWNER, '0-0', 10, reader)).map((r) => r.result);
      await expect.poll(async () => (await answers()).length, { timeout: 20_000 }).toBe(3);
      const bySeq = Object.fromEntries((await answers()).map((r) => [r.seq, r]));
      expect(bySeq[40].crops).toEqual([{ trackId: 1, probabilities: null }, { trackId: 2, probabilities: null }]);
      expect(bySeq[41].crops.every((c) => c.probabilities !== null)).toBe(true);
      expect(bySeq[42].crops.every((c) => c.probabilities !== null)).toBe(true);
      expect(slow.counters.dropped.deadline).toBe(1);
      expect(slow.counters.inferred).toBe(2);
    } finally {
      await slow.close();
      await q.close();
    }
  });

  it('sends everything through the queue with a limit of 0', async () => {
    const delivered: CropResult[] = [];
    const sink = new InProcessFirstSink({ queue, scorer: worker, deliver: (r) => delivered.push(r), maxInProcess: 0 });
    const before = await results.lastId(OWNER);
    const inProcessBefore = worker.counters.inProcess;
    expect(await sink.submit(frame(30))).toBe('queued');
    await expect.poll(async () => (await results.read(OWNER, before, 10, reader)).map((r) => r.result.seq), { timeout: 20_000 }).toEqual([30]);
    expect(delivered).toHaveLength(0);
    expect(worker.counters.inProcess).toBe(inProcessBefore);
  });
});
