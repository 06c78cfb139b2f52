import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { createCamera } from '../../ingest/camera.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import { AlertRules } from '../../inference/alert-rules.js';
import { CameraAlertPolicies } from '../../inference/camera-alert-policy.js';
import { FrameWorker } from '../../inference/frame-worker.js';
import { MicroBatcher } from '../../inference/micro-batcher.js';
import { ModelHolder } from '../../inference/model-holder.js';
import { Predictor } from '../../inference/predictor.js';
import { AlertStream, type Alert } from '../../queue/alert-stream.js';
import { FrameQueue } from '../../queue/frame-queue.js';
import { createRedis } from '../../queue/redis-connection.js';
import { SinkList } from '../../sinks/sink-list.js';
import { WebhookSink } from '../../sinks/webhook-sink.js';
import { publishTiny } from '../support/tiny-model.js';

const prefix = `test-worker-zones-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const hooked: Alert[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    hooked.push(JSON.parse(body).alert);
    res.writeHead(200).end();
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await new Promise<void>((r) => server.close(() => r()));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const until = async (fn: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the worker with camera zones and alert sinks', () => {
  it('alerts only on objects inside the zone, hands every event to the sinks after the stream, and the closing event keeps the snapshot', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-worker-zones-'));
    const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
    await publishTiny(registry, path.join(dir, 'm'), 'v1');
    const holder = new ModelHolder({ registry, cacheDir: path.join(dir, 'cache'), threads: { intraOpThreads: 1, interOpThreads: 1 }, pollIntervalMs: 3_600_000, logger: silentLogger });
    await holder.reload();
    cleanups.push(() => holder.stop());
    const store = new RedisCameraStore(redis, prefix);
    // The right half of the frame is the zone.
    const camera = createCamera({ name: 'roof', url: 'rtsp://cam.local/1', alertZones: [[[0.5, 0], [1, 0], [1, 1], [0.5, 1]]] }, { allowFileUrls: false, defaultFps: 5 });
    await store.create(camera);
    const stream = new AlertStream(redis, prefix, 1000);
    const webhook = new WebhookSink({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, cooldownMs: 0, logger: silentLogger });
    const sinks = new SinkList([webhook], silentLogger);
    cleanups.push(() => sinks.close());
    const workerRedis = createRedis('redis://127.0.0.1:6379');
    cleanups.push(async () => workerRedis.disconnect());
    const worker = new FrameWorker({
      redis: workerRedis, prefix, logger: silentLogger, deadlineMs: 600_000, alerts: stream, sinks,
      predictor: new Predictor(holder, new MicroBatcher({ maxBatch: 8, maxWaitMs: 1 }), { maxPixels: 1e7 }),
      rules: new AlertRules({ k: 2, n: 3, threshold: 0.6, cooldownMs: 0, endAfterMs: 1_500 }),
      policies: new CameraAlertPolicies(store),
    });
    worker.start();
    cleanups.push(() => worker.close());
    const queue = new FrameQueue({ redis, prefix, pixelTtlMs: 600_000, modelInput: () => ({ width: 16, height: 16 }) });
    cleanups.push(() => queue.close());
    // Blue crops: the tiny model calls them drones.
    const blue = Buffer.alloc(16 * 16 * 3);
    for (let i = 0; i < blue.length; i += 3) blue[i + 2] = 255;
    const frameJpeg = await sharp({ create: { width: 128, height: 64, channels: 3, background: { r: 100, g: 150, b: 220 } } }).jpeg().toBuffer();
    const submit = (seq: number, x: number) => queue.submit({ cameraId: camera.id, seq, capturedAt: Date.now(), width: 128, height: 64, frameJpeg, crops: [{ box: { x, y: 20, width: 16, height: 16, area: 256 }, rgb: blue, width: 16, height: 16 }] });

    for (let seq = 0; seq < 4; seq++) await submit(seq, 8);
    await until(() => worker.counters.inferred === 4);
    expect(worker.counters.crops).toBe(0);
    expect(await stream.latest(10)).toEqual([]);

    for (let seq = 4; seq < 8; seq++) await submit(seq, 100);
    await until(async () => (await stream.latest(10)).some((a) => a.status === 'closed'));
    const events = (await stream.after('0-0')).filter((a) => a.cameraId === camera.id);
    expect(events[0]).toMatchObject({ status: 'open', label: 'drone', box: { x: 100 } });
    const closed = events.at(-1)!;
    expect(closed.status).toBe('closed');
    expect(closed.alertId).toBe(events[0].id);
    expect(closed.snapshotUrl).not.toBeNull();
    expect((await stream.snapshot(closed.id))?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // The sinks got every event, with the ids the stream gave them.
    await until(() => hooked.length === events.length);
    // Webhook calls run side by side, so they may arrive in any order.
    expect(hooked.map((a) => a.id).sort()).toEqual(events.map((a) => a.id).sort());
    expect(sinks.counters.webhook).toEqual({ delivered: events.length, failed: 0 });
  });
});
