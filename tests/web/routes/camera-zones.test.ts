import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CameraStatusBoard } from '../../../ingest/camera-status-board.js';
import { RedisCameraStore } from '../../../ingest/redis-camera-store.js';
import { createRedis } from '../../../queue/redis-connection.js';
import { requireRole } from '../../../web/auth.js';
import { installErrorHandler } from '../../../web/error-handler.js';
import { ServerMetrics } from '../../../web/metrics.js';
import { camerasRoutes } from '../../../web/routes/cameras.js';

const prefix = `test-camzones-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
let app: FastifyInstance;
const admin = { authorization: 'Bearer adm' };

beforeAll(async () => {
  app = Fastify();
  installErrorHandler(app, new ServerMetrics());
  const tokens = { viewerTokens: [], adminTokens: ['adm'] };
  await app.register(camerasRoutes, { store: new RedisCameraStore(redis, prefix), ingestor: new CameraStatusBoard(redis, prefix, 10_000), rules: { allowFileUrls: false, defaultFps: 5 }, requireAdmin: requireRole(tokens, 'admin') });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('camera zones and masks over HTTP', () => {
  it('stores masks, zones, threshold and labels, and changes them with PATCH', async () => {
    const zone = [[0.5, 0], [1, 0], [1, 1], [0.5, 1]];
    const created = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'roof', url: 'rtsp://cam.local/s', motionMasks: [[[0, 0], [0.2, 0], [0.2, 0.1]]], alertZones: [zone], threshold: 0.75, labels: ['drone', 'helicopter'] } });
    expect(created.statusCode).toBe(201);
    const cam = created.json();
    expect(cam).toMatchObject({ motionMasks: [[[0, 0], [0.2, 0], [0.2, 0.1]]], alertZones: [zone], threshold: 0.75, labels: ['drone', 'helicopter'] });
    const patched = await app.inject({ method: 'PATCH', url: `/v1/cameras/${cam.id}`, headers: admin, payload: { alertZones: [], motionMasks: [zone] } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({ alertZones: [], motionMasks: [zone], threshold: 0.75 });
  });

  it('answers 400 naming the field of a bad polygon', async () => {
    const bad = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'x', url: 'rtsp://cam.local/s', alertZones: [[[0, 0], [1, 0], [1, 1]], [[0, 0], [1, 1]]] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'BAD_REQUEST', details: { field: 'alertZones[1]' } });
    const outOfRange = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'x', url: 'rtsp://cam.local/s', motionMasks: [[[0, 0], [1, 0], [1, 2]]] } });
    expect(outOfRange.json().error.details.field).toBe('motionMasks[0][2][1]');
    const threshold = await app.inject({ method: 'POST', url: '/v1/cameras', headers: admin, payload: { name: 'x', url: 'rtsp://cam.local/s', threshold: 1.5 } });
    expect(threshold.json().error.details.field).toBe('threshold');
  });
});
