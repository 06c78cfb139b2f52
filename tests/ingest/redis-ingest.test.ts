import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCamera, type Camera } from '../../ingest/camera.js';
import { CameraLeases } from '../../ingest/camera-leases.js';
import { CameraStatusBoard } from '../../ingest/camera-status-board.js';
import { createIngest } from '../../ingest/create-ingest.js';
import { loadConfig } from '../../core/config.js';
import { Ingestor } from '../../ingest/ingestor.js';
import { IngestorRoster } from '../../ingest/ingestor-roster.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import { makeClip } from '../support/clips.js';
import { deletePrefix } from '../support/redis-prefix.js';
import { waitFor } from './helpers.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const redis = new Redis(process.env.SKYWATCH_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
const prefix = `test:${Math.random().toString(36).slice(2)}`;
const rules = { allowFileUrls: true, defaultFps: 5 };
let clip = '';

/** `n` cameras made from `input(i)` and stored, in order. */
async function seedCameras(store: RedisCameraStore, n: number, input: (i: number) => Parameters<typeof createCamera>[0]): Promise<Camera[]> {
  const cameras: Camera[] = [];
  for (let i = 0; i < n; i++) {
    const cam = createCamera(input(i), rules);
    cameras.push(cam);
    await store.create(cam);
  }
  return cameras;
}

beforeAll(async () => {
  await redis.connect();
  clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-ingest-')), 'moving.mp4'), { moving: true, seconds: 4 });
});

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('RedisCameraStore', () => {
  it('creates, lists, updates and deletes, and an update never resurrects a deleted camera', async () => {
    const store = new RedisCameraStore(redis, `${prefix}:store`);
    const a = createCamera({ name: 'a', url: 'rtsp://u:pw@cam-a/s' }, rules, 1);
    const b = createCamera({ name: 'b', url: 'https://cam-b/live.m3u8', fps: 2 }, rules, 2);
    await store.create(b);
    await store.create(a);
    // A second store over the same Redis (another process, or after a restart) sees the same cameras.
    const again = new RedisCameraStore(redis, `${prefix}:store`);
    expect((await again.list()).map((c) => c.name)).toEqual(['a', 'b']);
    expect(await again.get(a.id)).toEqual(a);
    expect((await again.get(a.id))?.url).toBe('rtsp://u:pw@cam-a/s');
    expect(await store.update({ ...a, fps: 1 })).toBe(true);
    expect((await store.get(a.id))?.fps).toBe(1);
    expect(await store.delete(a.id)).toBe(true);
    expect(await store.delete(a.id)).toBe(false);
    expect(await store.update(a)).toBe(false);
    expect(await store.get(a.id)).toBeNull();
    await redis.hset(`${prefix}:store:cameras`, 'junk', '{not json');
    expect((await store.list()).map((c) => c.id)).toEqual([b.id]);
  });
});

describe('CameraLeases', () => {
  it('gives a camera to one owner, extends only its own lease, and frees it on release or expiry', async () => {
    const a = new CameraLeases(redis, `${prefix}:lease`, 'A', 600);
    const b = new CameraLeases(redis, `${prefix}:lease`, 'B', 600);
    expect(await a.acquire('cam1')).toBe(true);
    expect(await b.acquire('cam1')).toBe(false);
    expect(await b.renew('cam1')).toBe(false);
    await b.release('cam1');
    expect(await a.holder('cam1')).toBe('A');
    expect(await a.renew('cam1')).toBe(true);
    await a.release('cam1');
    expect(await b.acquire('cam1')).toBe(true);
    await new Promise((r) => setTimeout(r, 800));
    expect(await b.holder('cam1')).toBeNull();
    expect(await a.acquire('cam1')).toBe(true);
    expect(await b.renew('cam1')).toBe(false);
  });
});

describe('Ingestor', () => {
  it('shares cameras between ingestors, one each, and takes over a dead one within the lease time', async () => {
    const p = `${prefix}:ing`;
    const store = new RedisCameraStore(redis, p);
    const cameras = await seedCameras(store, 3, (i) => ({ name: `c${i}`, url: clip, fps: 5, motion: { minArea: 16 } }));
    const leaseMs = 2000;
    const settings = { allowFileUrls: true, watchdogSeconds: 10, backoffMinMs: 200, backoffMaxMs: 1000, maxInFlightPerCamera: 4, leaseMs };
    const sink = new MemoryFrameSink();
    const board = new CameraStatusBoard(redis, p, 3 * leaseMs);
    const make = (id: string, maxCameras: number) => new Ingestor({ store, leases: new CameraLeases(redis, p, id, leaseMs), pipeline: sink.pipelines(), settings, board, maxCameras, tickMs: 300 });
    // Capped at two each, so both must take part.
    const one = make('one', 2);
    const two = make('two', 2);
    try {
      await Promise.all([one.start(), two.start()]);
      await waitFor('all cameras held', () => one.overview().cameras.length + two.overview().cameras.length === 3);
      const held = [...one.overview().cameras, ...two.overview().cameras].map((c) => c.id).sort();
      expect(held).toEqual(cameras.map((c) => c.id).sort());
      const leases = new CameraLeases(redis, p, 'reader', leaseMs);
      for (const c of one.overview().cameras) expect(await leases.holder(c.id)).toBe('one');
      for (const c of two.overview().cameras) expect(await leases.holder(c.id)).toBe('two');

      await waitFor('frames from every camera', () => cameras.every((c) => sink.jobs.some((j) => j.cameraId === c.id)));
      const first = cameras[0].id;
      await waitFor('status on the board', async () => (await board.status(first))?.state === 'live');
      expect((await board.snapshot(first))?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));

      // "one" dies: its ffmpeg children go, its leases are left to expire.
      const orphans = one.overview().cameras.map((c) => c.id);
      expect(orphans.length).toBeGreaterThan(0);
      await one.stop({ release: false });
      const survivor = make('three', 3);
      await survivor.start();
      const diedAt = Date.now();
      // Any live ingestor may take an orphan ("two" has room too): each must be held again, not by "one".
      const alive = () => [...two.overview().cameras, ...survivor.overview().cameras].map((c) => c.id);
      await waitFor('takeover', () => orphans.every((id) => alive().includes(id)), 3 * leaseMs);
      expect(Date.now() - diedAt).toBeLessThan(leaseMs + 2000);
      for (const id of orphans) expect(['two', 'three']).toContain(await leases.holder(id));

      // A disabled camera stops everywhere; its lease is released.
      await store.update({ ...cameras[1], enabled: false, updatedAt: Date.now() });
      await Promise.all([two.refresh(), survivor.refresh()]);
      expect([...two.overview().cameras, ...survivor.overview().cameras].map((c) => c.id)).not.toContain(cameras[1].id);
      expect(await leases.holder(cameras[1].id)).toBeNull();
      await survivor.stop();
    } finally {
      await one.stop();
      await two.stop();
    }
    const leases = new CameraLeases(redis, p, 'reader', leaseMs);
    for (const c of cameras) expect(await leases.holder(c.id)).toBeNull();
  });
});

describe('Ingestor with the roster of ingestors', () => {
  it('takes a fair share: a newcomer gets half of the cameras, and a leaving one hands its share back', async () => {
    const p = `${prefix}:fair`;
    const store = new RedisCameraStore(redis, p);
    const cameras = await seedCameras(store, 4, (i) => ({ name: `f${i}`, url: clip, fps: 5 }));
    const leaseMs = 2000;
    const settings = { allowFileUrls: true, watchdogSeconds: 10, backoffMinMs: 200, backoffMaxMs: 1000, leaseMs, spawnsPerSecond: 20 };
    const sink = new MemoryFrameSink();
    const make = (id: string) => new Ingestor({ store, leases: new CameraLeases(redis, p, id, leaseMs), roster: new IngestorRoster(redis, p, id, leaseMs), pipeline: sink.pipelines(), settings, tickMs: 200 });
    const first = make('first');
    const second = make('second');
    const leases = new CameraLeases(redis, p, 'reader', leaseMs);
    const holders = async () => Promise.all(cameras.map((c) => leases.holder(c.id)));
    try {
      // Alone, the first takes every camera.
      await first.start();
      await waitFor('first holds all', () => first.overview().cameras.length === 4);
      // A second joins: cameras are handed over one per pass until each holds two.
      await second.start();
      await waitFor('two each', () => first.overview().cameras.length === 2 && second.overview().cameras.length === 2, 10_000);
      const held = await holders();
      expect(held.filter((h) => h === 'first')).toHaveLength(2);
      expect(held.filter((h) => h === 'second')).toHaveLength(2);
      // The second stops (releasing): the first takes the whole set back.
      await second.stop();
      await waitFor('first holds all again', () => first.overview().cameras.length === 4, 10_000);
      expect(await holders()).toEqual(['first', 'first', 'first', 'first']);
    } finally {
      await second.stop();
      await first.stop();
    }
  });
});

describe('createIngest', () => {
  it('builds the parts from the configuration under its Redis prefix', async () => {
    const config = loadConfig({ env: { SKYWATCH_REDIS_PREFIX: `${prefix}:cfg`, SKYWATCH_ALLOW_FILE_URLS: 'true', SKYWATCH_LEASE_MS: '1500', SKYWATCH_DEFAULT_FPS: '3' } });
    const parts = createIngest({ config, redis, pipeline: new MemoryFrameSink().pipelines(), id: 'cfg-ingestor' });
    expect(parts.rules).toMatchObject({ allowFileUrls: true, defaultFps: 3, maxCameras: 64 });
    const cam = createCamera({ name: 'cfg', url: clip }, parts.rules);
    await parts.store.create(cam);
    expect(await redis.hexists(`${prefix}:cfg:cameras`, cam.id)).toBe(1);
    await parts.ingestor.start();
    try {
      expect(parts.ingestor.overview()).toMatchObject({ id: 'cfg-ingestor', cameras: [{ id: cam.id }] });
      expect(await redis.get(`${prefix}:cfg:ingest:lease:${cam.id}`)).toBe('cfg-ingestor');
      expect((await parts.board.status(cam.id))?.id).toBe(cam.id);
    } finally {
      await parts.ingestor.stop();
    }
    expect(await redis.get(`${prefix}:cfg:ingest:lease:${cam.id}`)).toBeNull();
  });

  it('allows file paths by default only while the API has no tokens, and a setting decides in either mode', () => {
    const rulesWith = (env: Record<string, string>) => createIngest({ config: loadConfig({ env: { SKYWATCH_REDIS_PREFIX: `${prefix}:modes`, ...env } }), redis, pipeline: new MemoryFrameSink().pipelines() }).rules;
    const token = 'a'.repeat(32);
    const workstation = rulesWith({});
    expect(workstation.allowFileUrls).toBe(true);
    expect(createCamera({ name: 'clip', url: clip }, workstation).url).toBe(clip);
    const network = rulesWith({ SKYWATCH_ADMIN_TOKENS: token });
    expect(network.allowFileUrls).toBe(false);
    expect(() => createCamera({ name: 'clip', url: clip }, network)).toThrow(expect.objectContaining({ code: 'CAMERA_URL_SCHEME' }));
    expect(rulesWith({ SKYWATCH_VIEWER_TOKENS: token }).allowFileUrls).toBe(false);
    expect(rulesWith({ SKYWATCH_ALLOW_FILE_URLS: 'false' }).allowFileUrls).toBe(false);
    expect(rulesWith({ SKYWATCH_ADMIN_TOKENS: token, SKYWATCH_ALLOW_FILE_URLS: 'true' }).allowFileUrls).toBe(true);
  });
});
