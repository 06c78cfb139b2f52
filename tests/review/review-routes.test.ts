import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import { AlertStream, type AlertInput } from '../../queue/alert-stream.js';
import { createRedis } from '../../queue/redis-connection.js';
import { AlertRecorder } from '../../review/alert-recorder.js';
import { SqliteAlertRecords } from '../../review/sqlite-alert-records.js';
import { reviewRoutes } from '../../web/routes/review.js';
import { buildServer, type SkywatchServer } from '../../web/server.js';

const prefix = `test-review-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const reader = createRedis('redis://127.0.0.1:6379');
const stream = new AlertStream(redis, prefix, 1000);
const dir = mkdtempSync(path.join(tmpdir(), 'sw-review-routes-'));
const dbFile = path.join(dir, 'skywatch.db');
const settings = { threshold: 0.6, uncertainBand: 0.1 };
let repo = new SqliteAlertRecords(dbFile);
let recorder: AlertRecorder;
let server: SkywatchServer;
let base: string;

const VIEWER = 'viewer-token-123';
const ADMIN = 'admin-token-456';
const get = (p: string, token = VIEWER) => fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } });
const post = (p: string, body: unknown, token = ADMIN) => fetch(`${base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const input = (status: AlertInput['status'], over: Partial<AlertInput> = {}): AlertInput => ({ cameraId: 'cam1', label: 'drone', score: 0.8, firstAt: Date.now(), lastAt: Date.now(), frames: 3, box: { x: 5, y: 5, width: 10, height: 10, area: 100 }, modelVersion: 'v1', status, hasSnapshot: false, ...over });
const until = async (fn: () => Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  await repo.migrate();
  recorder = new AlertRecorder({ stream, reader, repo, settings, blockMs: 200 });
  recorder.start();
  server = await buildServer({
    config: loadConfig({ env: { SKYWATCH_STATE_DIR: dir, SKYWATCH_VIEWER_TOKENS: VIEWER, SKYWATCH_ADMIN_TOKENS: ADMIN, SKYWATCH_API_HOST: '127.0.0.1' } }),
    logger: silentLogger,
    registry: new ModelRegistry(new LocalStore(path.join(dir, 'registry'))),
    // The repository is reached through a getter: the test swaps it for a reopened one ("restart").
    plugins: [(app, guards) => reviewRoutes(app, { repo: { get kind() { return repo.kind; }, ...bind() } as SqliteAlertRecords, viewer: guards.viewer, admin: guards.admin, labels: () => ['bird', 'drone'] })],
  });
  base = await server.listen(0);
});

/** Every repository method, calling whichever repository is current. */
function bind(): Omit<SqliteAlertRecords, 'kind'> {
  const names = ['migrate', 'applyEvent', 'get', 'list', 'snapshot', 'review', 'reviews', 'deleteBefore', 'getCursor', 'setCursor', 'close'] as const;
  return Object.fromEntries(names.map((n) => [n, (...args: unknown[]) => (repo[n] as (...a: unknown[]) => unknown)(...args)])) as unknown as Omit<SqliteAlertRecords, 'kind'>;
}

afterAll(async () => {
  await recorder.stop();
  await server.close();
  await repo.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  reader.disconnect();
});

describe('alert review over HTTP', () => {
  let a1: string;
  let a2: string;

  it('folds the live stream into records that list, filter, page and show their best snapshot', async () => {
    const open = await stream.add({ ...input('open', { score: 0.7 }), hasSnapshot: true }, Buffer.from('jpeg-open'));
    a1 = open.alertId;
    await stream.add({ ...input('update', { alertId: a1, score: 0.93 }), hasSnapshot: true }, Buffer.from('jpeg-best'));
    await stream.add(input('closed', { alertId: a1, score: 0.93 }), null);
    a2 = (await stream.add(input('open', { cameraId: 'cam2', label: 'bird', score: 0.65 }), null)).alertId;
    await until(async () => (await repo.get(a1))?.status === 'closed' && (await repo.get(a2)) !== null);

    const all = await (await get('/v1/review')).json();
    expect(all.total).toBe(2);
    expect(all.items.map((r: { alertId: string }) => r.alertId)).toEqual([a2, a1]);
    const paged = await (await get('/v1/review?limit=1')).json();
    expect(paged.items).toHaveLength(1);
    const next = await (await get(`/v1/review?limit=1&cursor=${paged.nextCursor}`)).json();
    expect(next.items[0].alertId).toBe(a1);
    expect(next.nextCursor).toBeNull();
    expect((await (await get('/v1/review?camera=cam2&uncertain=true')).json()).items.map((r: { alertId: string }) => r.alertId)).toEqual([a2]);

    const detail = await (await get(`/v1/review/${a1}`)).json();
    expect(detail).toMatchObject({ alertId: a1, status: 'closed', score: 0.93, snapshotUrl: `v1/review/${a1}/snapshot.jpg`, review: null, reviews: [] });
    // The snapshot outlives Redis (where it expires): it is read from the review database.
    const keys = await redis.keys(`${prefix}:alert-snap:*`);
    await redis.del(...keys);
    const jpeg = await get(`/${detail.snapshotUrl}`);
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await jpeg.arrayBuffer()).toString()).toBe('jpeg-best');
  });

  it('refuses bad queries, unknown alerts and bad verdicts with clear errors', async () => {
    const bad = await get('/v1/review?minScore=2');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: 'BAD_REQUEST', details: { field: 'minScore' } });
    expect((await get('/v1/review?reviewed=maybe')).status).toBe(400);
    expect((await get('/v1/review?cursor=garbage')).status).toBe(400);
    expect((await get('/v1/review', 'wrong')).status).toBe(401);
    expect((await (await get('/v1/review/999-0')).json()).error.code).toBe('ALERT_NOT_FOUND');
    expect((await post(`/v1/review/${a1}`, { action: 'acknowledge' }, VIEWER)).status).toBe(403);
    const noLabel = await post(`/v1/review/${a1}`, { action: 'relabel' });
    expect(noLabel.status).toBe(400);
    expect((await noLabel.json()).error.details.field).toBe('label');
    expect((await post(`/v1/review/${a1}`, { action: 'relabel', label: 'kite' })).status).toBe(400);
    expect((await post(`/v1/review/${a1}`, { action: 'shrug' })).status).toBe(400);
    expect((await post('/v1/review/999-0', { action: 'acknowledge' })).status).toBe(404);
  });

  it('records verdicts with who and when, and they survive a restart of the API', async () => {
    const res = await post(`/v1/review/${a1}`, { action: 'false_alarm', note: 'a plastic bag' });
    expect(res.status).toBe(200);
    const record = await res.json();
    expect(record.review).toMatchObject({ action: 'false_alarm', note: 'a plastic bag' });
    expect(record.review.by).toMatch(/^admin:[0-9a-f]{8}$/);
    expect(record.review.by).not.toContain(ADMIN);
    await post(`/v1/review/${a2}`, { action: 'relabel', label: 'drone' });
    expect((await (await get('/v1/review?reviewed=true')).json()).total).toBe(2);

    // Restart: recorder and database closed, reopened from the file; only new events are folded.
    await recorder.stop();
    await repo.close();
    repo = new SqliteAlertRecords(dbFile);
    await repo.migrate();
    recorder = new AlertRecorder({ stream, reader, repo, settings, blockMs: 200 });
    const a3 = (await stream.add(input('open', { cameraId: 'cam3' }), null)).alertId;
    expect(await recorder.catchUp()).toBe(1);
    recorder.start();
    const list = await (await get('/v1/review')).json();
    expect(list.items.map((r: { alertId: string }) => r.alertId)).toEqual([a3, a2, a1]);
    const again = await (await get(`/v1/review/${a1}`)).json();
    expect(again.review.action).toBe('false_alarm');
    expect(again.reviews).toHaveLength(1);
  });
});
