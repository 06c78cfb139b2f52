import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger.js';
import { CameraLeases } from '../../../ingest/camera-leases.js';
import { Ingestor } from '../../../ingest/ingestor.js';
import { RedisCameraStore } from '../../../ingest/redis-camera-store.js';
import { requireRole } from '../../../web/auth.js';
import { installErrorHandler } from '../../../web/error-handler.js';
import { ServerMetrics } from '../../../web/metrics.js';
import { camerasRoutes } from '../../../web/routes/cameras.js';
import { waitFor } from '../../ingest/helpers.js';
import { MemoryFrameSink } from '../../ingest/memory-frame-sink.js';
import { makeClip } from '../../support/clips.js';
import { deletePrefix } from '../../support/redis-prefix.js';

const redis = new Redis(process.env.SKYWATCH_REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 });
const prefix = `test:${Math.random().toString(36).slice(2)}`;
const logs: string[] = [];
let app: FastifyInstance;
let ingestor: Ingestor;
let clip = '';
const admin = { authorization: 'Bearer adm-token' };
const viewer = { authorization: 'Bearer view-token' };

beforeAll(async () => {
  await redis.connect();
  clip = makeClip(path.join(mkdtempSync(path.join(tmpdir(), 'sw-camroutes-')), 'moving.mp4'), { moving: true, seconds: 3 });
  const logger = createLogger({ level: 'debug', destination: new Writable({ write(c: Buffer, _e, done) { logs.push(c.toString()); done(); } }) });
  const store = new RedisCameraStore(redis, prefix);
  const settings = { allowFileUrls: true, watchdogSeconds: 10, backoffMinMs: 200, backoffMaxMs: 1000, maxInFlightPerCamera: 4, leaseMs: 3000 };
  ingestor = new Ingestor({ store, leases: new CameraLeases(redis, prefix, 'api-test', 3000), pipeline: new MemoryFrameSink().pipelines(), settings, logger });
  await ingestor.start();
  // pino's Logger and fastify's logger type differ only in generics; the instance is the same pino.
  app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
  installErrorHandler(app, new ServerMetrics());
  const tokens = { viewerTokens: ['view-token'], adminTokens: ['adm-token'] };
  await app.register(camerasRoutes, { store, ingestor, rules: { allowFileUrls: true, defaultFps: 5 }, requireAdmin: requireRole(tokens, 'admin'), requireViewer: requireRole(tokens, 'viewer') });
  await app.ready();
});

afterAll(async () => {
  await ingestor.stop();
  await app.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('camera routes', () => {
  it('adds, lists, changes, snapshots and deletes a camera without ever echoing its credentials', async () => {
    const secretUrl = 'rtsp://operator:Pa55word@192.0.2.10:554/stream1';
    const created = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'Gate', url: secretUrl, fps: 2, enabled: false } });
    expect(created.statusCode).toBe(201);
    const cam = created.json<{ id: string; url: string; fps: number; enabled: boolean }>();
    expect(cam).toMatchObject({ url: 'rtsp://***:***@192.0.2.10:554/stream1', fps: 2, enabled: false });

    const file = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'Demo', url: clip, fps: 5 } });
    expect(file.statusCode).toBe(201);
    const demo = file.json<{ id: string }>();

    const list = await app.inject({ method: 'GET', url: '/v1/cameras', headers: viewer });
    expect(list.json<{ cameras: Array<{ id: string }> }>().cameras.map((c) => c.id)).toEqual([cam.id, demo.id]);

    await waitFor('demo camera live', async () => (await app.inject({ method: 'GET', url: `/v1/cameras/${demo.id}`, headers: viewer })).json<{ status: { state: string } | null }>().status?.state === 'live');
    const snap = await waitFor('a snapshot', async () => {
      const r = await app.inject({ method: 'GET', url: `/v1/cameras/${demo.id}/snapshot.jpg`, headers: viewer });
      return r.statusCode === 200 && r;
    });
    expect(snap.headers['content-type']).toBe('image/jpeg');
    expect(await sharp(snap.rawPayload).metadata()).toMatchObject({ width: 320, height: 240, format: 'jpeg' });

    const patched = await app.inject({ method: 'PATCH', url: `/v1/cameras/${cam.id}`, headers: admin, payload: { fps: 1, motion: { threshold: 40 } } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ id: cam.id, fps: 1, motion: { threshold: 40 }, url: 'rtsp://***:***@192.0.2.10:554/stream1' });

    const noFrame = await app.inject({ method: 'GET', url: `/v1/cameras/${cam.id}/snapshot.jpg`, headers: viewer });
    expect(noFrame.statusCode).toBe(404);

    expect((await app.inject({ method: 'DELETE', url: `/v1/cameras/${demo.id}`, headers: admin })).statusCode).toBe(204);
    // The API does not wait for an ingest pass; the pass it started stops the camera soon after.
    await waitFor('demo camera stopped', () => ingestor.overview().cameras.length === 0);
    const gone = await app.inject({ method: 'GET', url: `/v1/cameras/${demo.id}`, headers: viewer });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: { code: 'CAMERA_NOT_FOUND', message: `no camera ${demo.id}` } });

    const everything = JSON.stringify([created.json(), list.json(), patched.json()]) + logs.join('');
    expect(logs.join('')).toContain('camera added');
    expect(everything).not.toContain('Pa55word');
  });

  it('takes a crop stream beside the main one: masked, refused with its field named, removed with null', async () => {
    const created = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'Mast', url: 'rtsp://op:S3cret@192.0.2.11/sub', cropUrl: 'rtsp://op:S3cret@192.0.2.11/main', enabled: false } });
    expect(created.statusCode).toBe(201);
    const cam = created.json<{ id: string; cropUrl?: string }>();
    expect(cam.cropUrl).toBe('rtsp://***:***@192.0.2.11/main');
    const refused = await app.inject({ method: 'PATCH', url: `/v1/cameras/${cam.id}`, headers: admin, payload: { cropUrl: 'concat:/etc/passwd' } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ error: { code: 'CAMERA_URL_SCHEME', details: { field: 'cropUrl' } } });
    const removed = await app.inject({ method: 'PATCH', url: `/v1/cameras/${cam.id}`, headers: admin, payload: { cropUrl: null } });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).not.toHaveProperty('cropUrl');
    const shown = await app.inject({ method: 'GET', url: `/v1/cameras/${cam.id}`, headers: viewer });
    expect(shown.json()).not.toHaveProperty('cropUrl');
    expect(JSON.stringify([created.json(), refused.json(), shown.json()])).not.toContain('S3cret');
    expect((await app.inject({ method: 'DELETE', url: `/v1/cameras/${cam.id}`, headers: admin })).statusCode).toBe(204);
  });

  it('refuses bad schemes, bad bodies and missing tokens in the one error shape', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'x', url: 'concat:/etc/passwd|/etc/hosts' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'CAMERA_URL_SCHEME', details: { field: 'url' } } });
    const ftp = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'x', url: 'ftp://u:secretpw@h/x' } });
    expect(ftp.json<{ error: { code: string } }>().error.code).toBe('CAMERA_URL_SCHEME');
    expect(ftp.body).not.toContain('secretpw');
    const fps = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'x', url: 'rtsp://h/x', fps: 500 } });
    expect(fps.statusCode).toBe(400);
    expect(fps.json<{ error: { code: string } }>().error.code).toBe('BAD_REQUEST');
    const noToken = await app.inject({ method: 'POST', url: '/v1/cameras', payload: { name: 'x', url: 'rtsp://h/x' } });
    expect(noToken.json<{ error: { code: string } }>().error.code).toBe('UNAUTHORIZED');
    const viewerWrite = await app.inject({ method: 'POST', url: '/v1/cameras', headers: viewer, payload: { name: 'x', url: 'rtsp://h/x' } });
    expect(viewerWrite.statusCode).toBe(403);
    const missing = await app.inject({ method: 'PATCH', url: '/v1/cameras/cam_nope', headers: admin, payload: { fps: 2 } });
    expect(missing.statusCode).toBe(404);
    const empty = await app.inject({ method: 'PATCH', url: '/v1/cameras/cam_nope', headers: admin, payload: {} });
    expect(empty.statusCode).toBe(400);
  });
});
