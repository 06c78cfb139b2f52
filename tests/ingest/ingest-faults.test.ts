import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createCamera, type Camera } from '../../ingest/camera.js';
import { cameraHostPolicy } from '../../ingest/camera-hosts.js';
import { CameraLeases } from '../../ingest/camera-leases.js';
import { Ingestor } from '../../ingest/ingestor.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import type { FramePipelineFactory } from '../../ingest/frame-sink.js';
import { SpawnLimiter } from '../../ingest/spawn-limiter.js';
import { requireRole } from '../../web/auth.js';
import { installErrorHandler } from '../../web/error-handler.js';
import { ServerMetrics } from '../../web/metrics.js';
import { camerasRoutes } from '../../web/routes/cameras.js';
import { makeClip } from '../support/clips.js';
import { waitFor } from './helpers.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const prefix = `test-ingest-faults-${process.pid}-${Date.now()}`;
const hosts = cameraHostPolicy({ allowHosts: [] }, false);
const rules = { allowFileUrls: false, defaultFps: 5, hosts };
const settings = { allowFileUrls: false, watchdogSeconds: 2, backoffMinMs: 100, backoffMaxMs: 200, maxInFlightPerCamera: 2, leaseMs: 1000, spawnsPerSecond: 50 };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** A store whose listing can be held, as a pass stuck on slow cameras or a slow Redis would be. */
class GatedStore extends RedisCameraStore {
  gate: Promise<void> | null = null;
  override async list(): Promise<Camera[]> {
    await this.gate;
    return super.list();
  }
}

/** A closed port: every connection is refused at once, as with an unreachable camera. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function ingestor(p: string, store: RedisCameraStore, id = 'one'): Ingestor {
  const i = new Ingestor({ store, leases: new CameraLeases(redis, p, id, settings.leaseMs), pipeline: new MemoryFrameSink().pipelines(), settings, hosts, tickMs: 300 });
  cleanups.push(() => i.stop());
  return i;
}

describe('ingest under faults', () => {
  it('keeps its leases while a pass is stuck, without restarting the camera', async () => {
    const p = `${prefix}:stuck`;
    const store = new GatedStore(redis, p);
    const cam = createCamera({ name: 'a', url: `rtsp://127.0.0.1:${await closedPort()}/x` }, rules);
    await store.create(cam);
    const one = ingestor(p, store);
    await one.start();
    expect(await redis.get(`${p}:ingest:lease:${cam.id}`)).toBe('one');
    let release!: () => void;
    store.gate = new Promise<void>((r) => (release = r));
    // Three lease lengths with every pass stuck behind the first.
    const until = Date.now() + 3 * settings.leaseMs;
    while (Date.now() < until) {
      expect(await redis.get(`${p}:ingest:lease:${cam.id}`)).toBe('one');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(one.overview().cameras.map((c) => c.id)).toEqual([cam.id]);
    release();
  }, 30_000);

  it('keeps a failing camera backing off when its lease is lost and taken again', async () => {
    const p = `${prefix}:backoff`;
    const store = new RedisCameraStore(redis, p);
    const cam = createCamera({ name: 'a', url: `rtsp://127.0.0.1:${await closedPort()}/x` }, rules);
    await store.create(cam);
    const one = ingestor(p, store);
    await one.start();
    await waitFor('a few failed connections', () => one.backoffAttempts(cam.id) >= 3, 30_000);
    // Another ingestor takes the camera over for a moment, then lets it go.
    await redis.set(`${p}:ingest:lease:${cam.id}`, 'other', 'PX', 60_000);
    await waitFor('the camera dropped', () => one.overview().cameras.length === 0, 10_000);
    const before = one.backoffAttempts(cam.id);
    await redis.del(`${p}:ingest:lease:${cam.id}`);
    await waitFor('the camera taken again', () => one.overview().cameras.length === 1, 10_000);
    await waitFor('another failure', () => one.backoffAttempts(cam.id) > before, 10_000);
    expect(one.backoffAttempts(cam.id)).toBeGreaterThan(before);
  }, 60_000);

  it('answers camera API calls without waiting for an ingest pass, and caps the number of cameras', async () => {
    const p = `${prefix}:api`;
    const apiStore = new RedisCameraStore(redis, p);
    const ingestStore = new GatedStore(redis, p);
    const one = ingestor(p, ingestStore);
    await one.start();
    let release!: () => void;
    ingestStore.gate = new Promise<void>((r) => (release = r)); // every later pass hangs
    cleanups.push(async () => release());
    const app = Fastify();
    installErrorHandler(app, new ServerMetrics());
    const tokens = { viewerTokens: [], adminTokens: [] };
    await app.register(camerasRoutes, { store: apiStore, ingestor: one, rules: { ...rules, maxCameras: 2 }, requireAdmin: requireRole(tokens, 'admin'), requireViewer: requireRole(tokens, 'viewer') });
    cleanups.push(() => app.close());
    const add = (name: string) => app.inject({ method: 'POST', url: '/v1/cameras', payload: { name, url: 'rtsp://192.0.2.1/x', enabled: false } });
    expect((await add('a')).statusCode).toBe(201);
    const second = await add('b');
    expect(second.statusCode).toBe(201);
    expect((await app.inject({ method: 'DELETE', url: `/v1/cameras/${second.json<{ id: string }>().id}` })).statusCode).toBe(204);
    expect((await add('c')).statusCode).toBe(201);
    const third = await add('d');
    expect(third.statusCode).toBe(409);
    expect(third.json()).toMatchObject({ error: { code: 'CAMERA_LIMIT', details: { limit: 2 } } });
  }, 30_000);

  it('stops a deleted camera without waiting for its last alerts, so the next camera starts meanwhile', async () => {
    const p = `${prefix}:slow-close`;
    const store = new RedisCameraStore(redis, p);
    const clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-slow-close-')), 'moving.mp4'), { moving: true, seconds: 3 });
    const fileRules = { ...rules, allowFileUrls: true };
    const real = new MemoryFrameSink().pipelines();
    let slowClose: Promise<void> | null = null;
    // The first camera's pipeline takes 20 s to write its last alerts (clips queued behind many cameras').
    const pipeline: FramePipelineFactory = (id, format, camera) => {
      const inner = real(id, format, camera);
      if ((camera as Camera).name !== 'slow') return inner;
      return { process: (rgb, seq, at, detail) => inner.process(rgb, seq, at, detail), close: () => (slowClose = new Promise((r) => setTimeout(r, 20_000)).then(() => inner.close())) };
    };
    const one = new Ingestor({ store, leases: new CameraLeases(redis, p, 'one', settings.leaseMs), pipeline, settings: { ...settings, allowFileUrls: true }, hosts, tickMs: 300 });
    cleanups.push(() => one.stop());
    await one.start();
    const slow = createCamera({ name: 'slow', url: clip }, fileRules);
    await store.create(slow);
    await waitFor('the first camera live', () => one.overview().cameras.some((c) => c.id === slow.id && c.state === 'live'), 15_000);
    await store.delete(slow.id);
    const next = createCamera({ name: 'next', url: clip }, fileRules);
    await store.create(next);
    // Well before the first camera's 20 s close is over.
    await waitFor('the next camera live', () => one.overview().cameras.some((c) => c.id === next.id && c.state === 'live'), 15_000);
    expect(one.overview().cameras.map((c) => c.id)).toEqual([next.id]);
    expect(slowClose).not.toBeNull();
  }, 40_000);
});

describe('spawn limiter', () => {
  it('grants starts in order, one per interval, and lets a stopped camera stop waiting', async () => {
    const limiter = new SpawnLimiter(0.5);
    const order: number[] = [];
    await limiter.acquire().then(() => order.push(1));
    const abort = new AbortController();
    const second = limiter.acquire(abort.signal).then(() => order.push(2), () => order.push(-2));
    const third = limiter.acquire().then(() => order.push(3));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1]);
    abort.abort();
    await second;
    expect(order).toEqual([1, -2]);
    void third;
  });

  it('lets a camera already starting go before cameras not started yet, and gives an abandoned place on', async () => {
    const limiter = new SpawnLimiter(20);
    const order: string[] = [];
    const start = (name: string, lane: 'first' | 'next' = 'first', signal?: AbortSignal) => limiter.acquire(signal, lane).then(() => order.push(name), () => order.push(`-${name}`));
    // A probes at once; B, C and D wait for their first start; D gives up.
    await start('A probe');
    const abortD = new AbortController();
    const waits = [start('B probe'), start('C probe'), start('D probe', 'first', abortD.signal)];
    // A, probed, asks for its ffmpeg: it goes before B and C.
    waits.push(start('A ffmpeg', 'next'));
    abortD.abort();
    await Promise.all(waits);
    expect(order).toEqual(['A probe', '-D probe', 'A ffmpeg', 'B probe', 'C probe']);
  });
});
