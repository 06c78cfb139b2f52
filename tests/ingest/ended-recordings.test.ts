import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '../../core/redis-keys.js';
import { CameraLeases } from '../../ingest/camera-leases.js';
import { CameraStatusBoard } from '../../ingest/camera-status-board.js';
import { Ingestor } from '../../ingest/ingestor.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import { requireRole } from '../../web/auth.js';
import { installErrorHandler } from '../../web/error-handler.js';
import { ServerMetrics } from '../../web/metrics.js';
import { camerasRoutes } from '../../web/routes/cameras.js';
import { makeClip } from '../support/clips.js';
import { deletePrefix } from '../support/redis-prefix.js';
import { waitFor } from './helpers.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

// Recordings played once, one after another (a user replaying clips, an evaluation harness): a
// recording that has ended must not hold an ingest slot, count against the camera limit, or play again
// when the service restarts; a change to it plays it again.
const redis = new Redis(process.env.SKYWATCH_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
const prefix = `test-ended:${process.pid}:${Math.random().toString(36).slice(2)}`;
const LEASE_MS = 1500;
const settings = { allowFileUrls: true, watchdogSeconds: 10, backoffMinMs: 200, backoffMaxMs: 1000, leaseMs: LEASE_MS };
const store = new RedisCameraStore(redis, prefix);
const board = new CameraStatusBoard(redis, prefix, 2 * LEASE_MS);
let app: FastifyInstance;
let ingestor: Ingestor;
let clip = '';

function newIngestor(id: string): Ingestor {
  // Crops answered at once: a recording has ended only once its crops are scored.
  const sink = new MemoryFrameSink();
  sink.answerWith = [0.5, 0.5];
  return new Ingestor({ store, leases: new CameraLeases(redis, prefix, id, LEASE_MS), pipeline: sink.pipelines(), settings, board, tickMs: 200 });
}

async function buildApi(runtime: Ingestor): Promise<FastifyInstance> {
  const api = Fastify();
  installErrorHandler(api, new ServerMetrics());
  await api.register(camerasRoutes, { store, ingestor: runtime, rules: { allowFileUrls: true, defaultFps: 5, maxCameras: 1 }, requireAdmin: requireRole({ viewerTokens: [], adminTokens: [] }, 'admin') });
  await api.ready();
  return api;
}

const stateOf = async (id: string) => (await app.inject({ method: 'GET', url: `/v1/cameras/${id}` })).json<{ status: { state: string; since: number; framesDecoded: number } | null }>().status;

beforeAll(async () => {
  await redis.connect();
  clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-ended-')), 'short.mp4'), { moving: true, seconds: 1 });
  ingestor = newIngestor('first');
  await ingestor.start();
  app = await buildApi(ingestor);
});

afterAll(async () => {
  await ingestor.stop();
  await app.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('recordings that played to their end', () => {
  it('free their slot and lease, keep reporting ended (also after a restart, without playing again), and play again when changed', async () => {
    const add = (name: string) => app.inject({ method: 'POST', url: '/v1/cameras', payload: { name, url: clip, loop: false } });
    const first = await add('first');
    expect(first.statusCode).toBe(201);
    const a = first.json<{ id: string }>().id;
    // One camera at most (maxCameras 1): a second one waits for the first to end.
    expect((await add('too early')).json()).toMatchObject({ error: { code: 'CAMERA_LIMIT' } });

    const ended = await waitFor('the first recording ended and let go', async () => {
      const status = await stateOf(a);
      return status?.state === 'ended' && ingestor.overview().cameras.length === 0 && status;
    }, 30_000);
    expect(ended.framesDecoded).toBeGreaterThan(0);
    expect(await redis.get(names(prefix).lease(a))).toBeNull();
    expect(await ingestor.ended()).toEqual(new Map([[a, (await store.get(a))!.updatedAt]]));

    const second = await add('second');
    expect(second.statusCode).toBe(201);
    const b = second.json<{ id: string }>().id;
    await waitFor('the second recording ended', async () => (await stateOf(b))?.state === 'ended', 30_000);

    // A restart (a new ingestor on the same Redis) plays neither again.
    await ingestor.stop();
    ingestor = newIngestor('second');
    await ingestor.start();
    await app.close();
    app = await buildApi(ingestor);
    await new Promise((r) => setTimeout(r, 1500));
    expect(ingestor.overview().cameras).toEqual([]);
    expect(await stateOf(a)).toMatchObject({ state: 'ended', since: ended.since, framesDecoded: ended.framesDecoded });
    // Its last picture was kept with it.
    const picture = await app.inject({ method: 'GET', url: `/v1/cameras/${a}/snapshot.jpg` });
    expect(picture.statusCode).toBe(200);
    expect((await sharp(picture.rawPayload).metadata()).format).toBe('jpeg');

    // Changed, it plays again; deleted, nothing of it is left.
    expect((await app.inject({ method: 'PATCH', url: `/v1/cameras/${a}`, payload: { name: 'first, again' } })).statusCode).toBe(200);
    await waitFor('the changed recording played again', async () => {
      const status = await stateOf(a);
      return status?.state === 'ended' && status.since > ended.since;
    }, 30_000);
    expect((await app.inject({ method: 'DELETE', url: `/v1/cameras/${a}` })).statusCode).toBe(204);
    expect(await redis.hexists(names(prefix).camerasEnded, a)).toBe(0);
    expect(await redis.exists(names(prefix).cameraEndedSnapshot(a))).toBe(0);
    expect((await app.inject({ method: 'GET', url: `/v1/cameras/${a}` })).statusCode).toBe(404);
  }, 90_000);
});
