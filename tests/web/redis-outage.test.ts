import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import type { RedisClient } from '../../core/redis-client.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { CameraStatusBoard } from '../../ingest/camera-status-board.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import { createRedis } from '../../queue/redis-connection.js';
import { registerPipelineMetrics } from '../../web/pipeline-metrics.js';
import { camerasRoutes } from '../../web/routes/cameras.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';
import { publishTiny } from '../support/tiny-model.js';

let redis: PrivateRedis;
let client: RedisClient;
let server: SkywatchServer;
let url = '';

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-outage-'));
  redis = await startPrivateRedis(dir);
  // The connection every Skywatch role uses: it retries forever and queues commands while Redis is
  // away, which is what made routes hang.
  client = createRedis(redis.url);
  const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_HANDLER_TIMEOUT_MS: '1500' } });
  const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  await publishTiny(registry, path.join(dir, 'm'), 'v1');
  const store = new RedisCameraStore(client, 'outage');
  const board = new CameraStatusBoard(client, 'outage', 10_000);
  server = await buildServer({
    config,
    logger: silentLogger,
    registry,
    checks: [{ name: 'redis', check: async () => (await client.ping()) === 'PONG' }],
    plugins: [(app, guards) => camerasRoutes(app, { store, ingestor: board, rules: { allowFileUrls: false, defaultFps: 5 }, requireAdmin: guards.admin, requireViewer: guards.viewer })],
  });
  registerPipelineMetrics(server.metrics.registry, { queueDepth: async () => client.llen('outage:frames') });
  url = await server.listen(0);
  await server.holder.reload();
}, 60_000);

afterAll(async () => {
  await server?.close();
  client?.disconnect();
  await redis?.stop();
});

describe('while Redis is away', () => {
  it('answers every route in bounded time: /ready 503 DEPENDENCY_UNAVAILABLE, metrics still served, Redis-backed routes 503', async () => {
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v1/cameras`)).status).toBe(200);

    await redis.stop();
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, checks: { redis: false, model: true }, error: { code: 'DEPENDENCY_UNAVAILABLE' } });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('skywatch_queue_depth -1');
    const cameras = await fetch(`${url}/v1/cameras`);
    expect(cameras.status).toBe(503);
    expect((await cameras.json()).error.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect((await fetch(`${url}/health`)).status).toBe(200);
    // The server is not wedged by the requests still waiting on Redis inside.
    expect((await fetch(`${url}/v1/models`)).status).toBe(200);

    await redis.start();
    for (let i = 0; i < 100 && (await fetch(`${url}/ready`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v1/cameras`)).status).toBe(200);
  }, 60_000);
});
