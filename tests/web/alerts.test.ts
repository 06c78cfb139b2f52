import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { AlertStream, type AlertInput } from '../../queue/alert-stream.js';
import { createRedis } from '../../queue/redis-connection.js';
import { AlertHub } from '../../web/alert-hub.js';
import { alertRoutes } from '../../web/routes/alerts.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';

const prefix = `test-alerts-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const stream = new AlertStream(redis, prefix, 1000);
let server: SkywatchServer;
let hub: AlertHub;
let url: string;

const alert = (label: string, cameraId = 'cam1', score = 0.9): AlertInput => ({ cameraId, label, score, firstAt: Date.now(), lastAt: Date.now(), frames: 3, box: null, modelVersion: 'v1', status: 'open', hasSnapshot: false });

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-alerts-'));
  hub = new AlertHub(stream, createRedis('redis://127.0.0.1:6379'), silentLogger);
  await hub.start();
  server = await buildServer({
    config: loadConfig({ env: { SKYWATCH_STATE_DIR: dir } }),
    logger: silentLogger,
    registry: new ModelRegistry(new LocalStore(path.join(dir, 'registry'))),
    plugins: [(app, guards) => alertRoutes(app, { stream, hub, viewer: guards.viewer })],
  });
  url = (await server.listen(0)).replace('http', 'ws');
});

afterAll(async () => {
  await hub.stop();
  await server.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

interface Received {
  alerts: Array<{ id: string; label: string; cameraId: string }>;
  others: Array<{ type: string; code?: string }>;
  socket: WebSocket;
}

function connect(query: string): Promise<Received> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}/v1/alerts/ws?${query}`);
    const got: Received = { alerts: [], others: [], socket };
    socket.on('message', (m) => {
      const msg = JSON.parse(String(m));
      if (msg.type === 'alert') got.alerts.push(msg.alert);
      else got.others.push(msg);
      if (msg.type === 'hello' || msg.type === 'error') resolve(got);
    });
    socket.on('error', reject);
  });
}

const until = async (fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('alerts over REST and WebSocket', () => {
  it('a client that reconnects with since= gets exactly the alerts it missed, then live ones', async () => {
    const first = await connect('since=0-0');
    const a1 = await stream.add(alert('drone'), null);
    await until(() => first.alerts.length === 1);
    first.socket.close();
    const missed = [await stream.add(alert('bird'), null), await stream.add(alert('drone', 'cam2'), null), await stream.add(alert('drone'), null)];
    const again = await connect(`since=${a1.id}`);
    await until(() => again.alerts.length === 3);
    expect(again.alerts.map((a) => a.id)).toEqual(missed.map((a) => a.id));
    const live = await stream.add(alert('drone'), null);
    await until(() => again.alerts.length === 4);
    expect(again.alerts[3].id).toBe(live.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(again.alerts.map((a) => a.id)).size).toBe(again.alerts.length);
    again.socket.close();
  });

  it('filters on connect and by message, and refuses bad input with a code', async () => {
    const start = await stream.lastId();
    const c = await connect(`since=${start}&label=drone&camera=cam2`);
    await stream.add(alert('drone', 'cam1'), null);
    await stream.add(alert('bird', 'cam2'), null);
    const wanted = await stream.add(alert('drone', 'cam2'), null);
    await until(() => c.alerts.length === 1);
    expect(c.alerts[0].id).toBe(wanted.id);
    c.socket.send(JSON.stringify({ type: 'filter', label: 'bird' }));
    await until(() => c.others.some((o) => o.type === 'filter'));
    const bird = await stream.add(alert('bird', 'cam9'), null);
    await until(() => c.alerts.length === 2);
    expect(c.alerts[1].id).toBe(bird.id);
    c.socket.send('not json');
    c.socket.send(JSON.stringify({ type: 'filter', minScore: 7 }));
    await until(() => c.others.filter((o) => o.type === 'error').length === 2);
    expect(c.others.filter((o) => o.type === 'error').every((o) => o.code === 'BAD_REQUEST')).toBe(true);
    c.socket.close();
    const bad = await connect('since=yesterday');
    expect(bad.others[0]).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
  });

  it('lists history over REST and serves snapshots', async () => {
    const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 1, g: 2, b: 3 } } }).jpeg().toBuffer();
    const since = await stream.lastId();
    const withSnap = await stream.add({ ...alert('drone', 'cam5'), hasSnapshot: true }, jpeg);
    const http = url.replace('ws', 'http');
    const listed = await (await fetch(`${http}/v1/alerts?since=${since}&camera=cam5`)).json();
    expect(listed.alerts.map((a: { id: string }) => a.id)).toEqual([withSnap.id]);
    const snap = await fetch(`${http}/${withSnap.snapshotUrl}`);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await snap.arrayBuffer()).equals(jpeg)).toBe(true);
    expect((await fetch(`${http}/v1/alerts/1-0/snapshot.jpg`)).status).toBe(404);
    expect((await fetch(`${http}/v1/alerts?since=bogus`)).status).toBe(400);
  });
});

