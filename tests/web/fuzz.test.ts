import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import type { RedisClient } from '../../core/redis-client.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { CameraStatusBoard } from '../../ingest/camera-status-board.js';
import { RedisCameraStore } from '../../ingest/redis-camera-store.js';
import { AlertStream } from '../../queue/alert-stream.js';
import { createRedis } from '../../queue/redis-connection.js';
import { AlertHub } from '../../web/alert-hub.js';
import { alertRoutes } from '../../web/routes/alerts.js';
import { camerasRoutes } from '../../web/routes/cameras.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';
import { publishTiny } from '../support/tiny-model.js';
import { seededRandom } from '../../trainer/data/seeded-shuffle.js';

/**
 * A seeded fuzz of the surfaces a client reaches: cameras, predict, models, alerts and the alert
 * WebSocket. Bounded in count and time, so it runs in CI. Every answer must be a 2xx or a 4xx in the
 * one error shape, the server must stay up, and no secret may appear in any answer or log line.
 */
const SEED = Number(process.env.SKYWATCH_FUZZ_SEED ?? 20261201);
const REQUESTS = 400;
const SOCKETS = 30;
const TIME_BOUND_MS = 40_000;

const ADMIN = 'fuzz-admin-token-5b1c9e';
const VIEWER = 'fuzz-viewer-token-77aa01';
const CAMERA_PASSWORD = 'Cam3raPassw0rd';
const QUERY_SECRET = 'QueryS3cretValue';
const SECRETS = [ADMIN, VIEWER, CAMERA_PASSWORD, QUERY_SECRET];


const random = seededRandom(SEED);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
const int = (n: number) => Math.floor(random() * n);

const FRAGMENTS = ['rtsp://', 'http://', 'https://', 'file:', 'concat:', 'pipe:', 'data:', '//', '/', '\r\n', '\u0000', '\u007f', ' ', '\t', '@', ':', '%', '%0d%0a', '..', '?', '#', '&token=', 'user:pw@', '[::1]', '127.0.0.1', '169.254.169.254', '0x7f.1', '2130706433', 'cam.example', '\u00e9', '\u202e', '${x}', '"', "'", '\\', '<script>', 'SET k 1', ':6379', ':554', 'a'.repeat(300)];

function fuzzString(max = 8): string {
  let s = '';
  for (let i = int(max) + 1; i > 0; i--) s += pick(FRAGMENTS);
  return s;
}

function fuzzValue(depth = 0): unknown {
  switch (int(depth > 1 ? 6 : 8)) {
    case 0: return fuzzString();
    case 1: return random() * 1e6 - 5e5;
    case 2: return pick([true, false, null, 0, -1, 1e308, Number.MAX_SAFE_INTEGER]);
    case 3: return int(100);
    case 4: return '';
    case 5: return pick(['latest', 'v1', '.', '..', 'cam_000000000000']);
    case 6: return Array.from({ length: int(4) }, () => fuzzValue(depth + 1));
    default: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['name', 'url', 'fps', 'enabled', 'width', 'motion', 'threshold', '__proto__', 'constructor', fuzzString(2)]), fuzzValue(depth + 1)]));
  }
}

function fuzzBytes(): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(new ArrayBuffer(int(4096)));
  for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
  // Sometimes a plausible image header in front of garbage.
  if (random() < 0.3) bytes.set(pick([[0xff, 0xd8, 0xff, 0xe0], [0x89, 0x50, 0x4e, 0x47], [0x52, 0x49, 0x46, 0x46], [0x3c, 0x73, 0x76, 0x67]]).slice(0, Math.min(4, bytes.length)));
  return bytes;
}

const segment = () => encodeURIComponent(fuzzString(3)).slice(0, 200) || 'x';

interface Attempt {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: BodyInit;
}

function fuzzRequest(cameraId: string): Attempt {
  const auth = pick([{ authorization: `Bearer ${ADMIN}` }, { authorization: `bearer ${VIEWER}` }, { authorization: 'Bearer wrong' }, {}, { authorization: `Basic ${ADMIN}` }]) as Record<string, string>;
  switch (int(9)) {
    case 0: return { method: 'POST', path: '/v1/cameras', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(random() < 0.7 ? { name: fuzzString(2), url: fuzzString() } : fuzzValue()) };
    case 1: return { method: 'PATCH', path: `/v1/cameras/${random() < 0.5 ? cameraId : segment()}`, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(fuzzValue()) };
    case 2: return { method: pick(['GET', 'DELETE']), path: `/v1/cameras/${segment()}${pick(['', '/snapshot.jpg'])}`, headers: auth };
    case 3: return { method: 'POST', path: `/v1/predict${pick(['', '/batch'])}?topk=${encodeURIComponent(String(fuzzValue()))}`, headers: { ...auth, 'content-type': pick(['image/jpeg', 'image/svg+xml', 'application/octet-stream', 'text/plain', 'image/tiff']) }, body: fuzzBytes() };
    case 4: {
      const fd = new FormData();
      for (let i = int(4); i >= 0; i--) {
        if (random() < 0.3) fd.append(pick(['junk', 'file', 'files']), fuzzString(2));
        else fd.append(pick(['file', 'files', 'other']), new Blob([fuzzBytes()], { type: 'image/jpeg' }), 'x.jpg');
      }
      return { method: 'POST', path: pick(['/v1/predict', '/v1/predict/batch']), headers: auth, body: fd };
    }
    case 5: return { method: 'GET', path: `/v1/models/${pick([segment(), '..', '.', 'latest', 'v1', '%2e%2e'])}${pick(['', '/report.html'])}`, headers: auth };
    case 6: return { method: 'POST', path: `/v1/models/${pick([segment(), '..', 'nope', 'v0'])}/promote`, headers: { ...auth, ...(random() < 0.3 ? { origin: 'https://evil.example' } : {}) } };
    case 7: return { method: 'GET', path: `/v1/alerts?since=${encodeURIComponent(pick([fuzzString(2), '99999999999999999999-0', '18446744073709551616-0', '1-99999999999999999999', '0-0', '-1']))}&limit=${encodeURIComponent(String(fuzzValue()))}`, headers: auth };
    default: return { method: 'POST', path: '/v1/session', headers: { 'content-type': 'application/json' }, body: JSON.stringify(random() < 0.5 ? { token: fuzzString(2) } : fuzzValue()) };
  }
}

let server: SkywatchServer;
let url = '';
let redis: RedisClient;
let cameraId = '';
const logs: string[] = [];
const prefix = `test-fuzz-${process.pid}-${Date.now()}`;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sw-fuzz-'));
  const logger = createLogger({ level: 'info', destination: new Writable({ write(c: Buffer, _e, done) { logs.push(c.toString()); done(); } }) });
  const registry = new ModelRegistry(new LocalStore(path.join(dir, 'registry')));
  await publishTiny(registry, path.join(dir, 'm'), 'v0', true);
  await publishTiny(registry, path.join(dir, 'm'), 'v1');
  const config = loadConfig({ env: { SKYWATCH_STATE_DIR: path.join(dir, 'state'), SKYWATCH_ADMIN_TOKENS: ADMIN, SKYWATCH_VIEWER_TOKENS: VIEWER, SKYWATCH_API_HOST: '127.0.0.1', SKYWATCH_HANDLER_TIMEOUT_MS: '10000' } });
  redis = createRedis('redis://127.0.0.1:6379');
  const stream = new AlertStream(redis, prefix, 100);
  const hub = new AlertHub(stream, createRedis('redis://127.0.0.1:6379'), logger);
  await hub.start();
  const store = new RedisCameraStore(redis, prefix);
  server = await buildServer({
    config,
    logger,
    registry,
    plugins: [
      (app, guards) => camerasRoutes(app, { store, ingestor: new CameraStatusBoard(redis, prefix, 10_000), rules: { allowFileUrls: false, defaultFps: 5, maxCameras: 1000 }, requireAdmin: guards.admin, requireViewer: guards.viewer }),
      (app, guards) => alertRoutes(app, { stream, hub, viewer: guards.viewer }),
    ],
  });
  url = await server.listen(0);
  await server.holder.reload();
  const created = await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'secret cam', url: `rtsp://admin:${CAMERA_PASSWORD}@192.0.2.7/live?auth=${QUERY_SECRET}`, enabled: false }) });
  cameraId = (await created.json()).id;
  const origStop = server.close.bind(server);
  server.close = async () => {
    await origStop();
    await hub.stop();
  };
}, 60_000);

afterAll(async () => {
  await server?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

function checkNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${secret} leaked in ${where}: ${text.slice(0, 300)}`).toBe(false);
}

describe(`fuzz (seed ${SEED})`, () => {
  it('answers every request with a 2xx or a 4xx in the one error shape, and leaks no secret', async () => {
    const until = Date.now() + TIME_BOUND_MS;
    let sent = 0;
    for (; sent < REQUESTS && Date.now() < until; sent++) {
      const a = fuzzRequest(cameraId);
      const res = await fetch(`${url}${a.path}`, { method: a.method, headers: a.headers, body: a.body });
      const text = await res.text();
      const where = `${a.method} ${a.path.slice(0, 120)} -> ${res.status}`;
      expect(res.status, `${where}: ${text.slice(0, 300)}`).toBeLessThan(500);
      if (res.status >= 400) {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        expect(typeof body.error?.code, where).toBe('string');
        expect(typeof body.error?.message, where).toBe('string');
      }
      checkNoSecret(where, text);
    }
    expect(sent).toBeGreaterThan(50);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, TIME_BOUND_MS + 30_000);

  it('keeps the WebSocket to its rules: bad queries and messages get an error or a clean close, never a crash', async () => {
    const closes: number[] = [];
    for (let i = 0; i < SOCKETS; i++) {
      const since = pick(['', `since=${encodeURIComponent(fuzzString(2))}`, 'since=99999999999999999999-0', 'since=1-0', `minScore=${encodeURIComponent(String(fuzzValue()))}`]);
      const outcome = await new Promise<{ code: number; messages: string[] }>((resolve) => {
        const messages: string[] = [];
        const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/alerts/ws?${since}`, { headers: random() < 0.8 ? { authorization: `Bearer ${VIEWER}` } : {} });
        ws.on('unexpected-response', (_req, res) => {
          resolve({ code: res.statusCode ?? 0, messages });
          ws.terminate();
        });
        ws.on('open', () => {
          for (let m = int(4); m >= 0; m--) {
            const kind = int(4);
            if (kind === 0) ws.send(Buffer.alloc(70 * 1024, 0x61)); // over maxPayload
            else if (kind === 1) ws.send(JSON.stringify(fuzzValue()));
            else if (kind === 2) ws.send(fuzzBytes());
            else ws.send(JSON.stringify({ type: 'filter', camera: fuzzString(2), minScore: fuzzValue() }));
          }
          setTimeout(() => ws.close(1000), 300);
        });
        ws.on('message', (m) => messages.push(String(m)));
        ws.on('close', (code) => resolve({ code, messages }));
        ws.on('error', () => {});
      });
      closes.push(outcome.code);
      for (const m of outcome.messages) checkNoSecret('a WebSocket message', m);
      // Either refused over HTTP (401) or closed by one side on purpose: never an abnormal 1006.
      expect([401, 1000, 1005, 1008, 1009], `close ${outcome.code} for ?${since}`).toContain(outcome.code);
    }
    expect(closes.length).toBe(SOCKETS);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 60_000);

  it('logged no secret and no error-level line for anything a client sent', () => {
    const text = logs.join('');
    checkNoSecret('the log', text);
    const errors = logs.flatMap((l) => l.split('\n')).filter((l) => l && (JSON.parse(l) as { level: number }).level >= 50);
    expect(errors).toEqual([]);
  });
});
