/**
 * Scale-out check (npm run bench:scale-out): 2 ingest and 2 worker processes (`skywatch ingest|worker`)
 * on one Redis with BENCH_CAMERAS (default 16) cameras looping the real drone clips at 5 fps. Checks
 * that every camera is pulled by exactly one ingestor, that no frame is scored twice (frames queued by
 * the ingestors = frames scored + dropped by the workers), then kills one ingestor (SIGKILL, leases
 * left to expire) and times how long its cameras take to be live again on the other one (lease
 * BENCH_LEASE_MS, default 5000). That alerts do not depend on how many workers serve a camera is
 * tested by tests/streaming/worker-consistency.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../core/free-port.js';
import { createCamera } from '../ingest/camera.js';
import { CameraStatusBoard } from '../ingest/camera-status-board.js';
import { RedisCameraStore } from '../ingest/redis-camera-store.js';
import { createRedis } from '../queue/redis-connection.js';
import { publishRealisticModel } from './support/realistic-model.js';

const CAMERAS = Number(process.env.BENCH_CAMERAS ?? 16);
const LEASE_MS = Number(process.env.BENCH_LEASE_MS ?? 5000);
const CLIPS = path.resolve('../shared/data/videos/drone');

const dir = mkdtempSync(path.join(os.tmpdir(), 'sw-scale-out-'));
const { registryDir } = await publishRealisticModel(dir);
const prefix = `bench-scale-out-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const store = new RedisCameraStore(redis, prefix);
const board = new CameraStatusBoard(redis, prefix, 2 * LEASE_MS);
const env = { ...process.env, SKYWATCH_REDIS_PREFIX: prefix, SKYWATCH_ALLOW_FILE_URLS: 'true', SKYWATCH_LOG_LEVEL: 'warn', SKYWATCH_LEASE_MS: String(LEASE_MS) };
const roles: Array<{ role: string; port: number; child: ChildProcess }> = [];
for (const role of ['ingest', 'ingest', 'worker', 'worker']) {
  const port = await freePort();
  const child = spawn('node', ['bin/skywatch.mjs', role, '--registry', registryDir, '--port', String(port)], { env: { ...env, SKYWATCH_STATE_DIR: path.join(dir, `${role}-${port}`) }, stdio: ['ignore', 'ignore', 'inherit'] });
  roles.push({ role, port, child });
}
const metric = async (port: number, re: RegExp) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return [...text.matchAll(re)];
};
for (let i = 0; i < 900; i++) {
  if ((await Promise.all(roles.map((r) => fetch(`http://127.0.0.1:${r.port}/ready`).then((x) => x.ok, () => false)))).every(Boolean)) break;
  await new Promise((r) => setTimeout(r, 100));
}
const clips = readdirSync(CLIPS).filter((f) => f.endsWith('.mp4')).sort();
const addCameras = async (loop: boolean) => {
  const ids: string[] = [];
  for (let i = 0; i < CAMERAS; i++) {
    const camera = createCamera({ name: `cam${i}`, url: path.join(CLIPS, clips[i % clips.length]), fps: 5, loop }, { allowFileUrls: true, defaultFps: 5 });
    await store.create(camera);
    ids.push(camera.id);
  }
  return ids;
};
type Status = NonNullable<Awaited<ReturnType<CameraStatusBoard['status']>>> & { ingestor?: string };
const statuses = async (ids: string[]) => Promise.all(ids.map(async (id) => ({ id, status: (await board.status(id)) as Status | null })));
const all = async (ids: string[], state: string) => (await statuses(ids)).every((s) => s.status?.state === state);

// Phase 1: every camera plays its clip once, so the counts at the end are final.
let ids = await addCameras(false);
for (let i = 0; i < 900 && !(await all(ids, 'ended')); i++) await new Promise((r) => setTimeout(r, 200));
// The queue drains and the last answers come back.
await new Promise((r) => setTimeout(r, 5_000));
const ingests = roles.filter((r) => r.role === 'ingest');
const held = await Promise.all(ingests.map(async (r) => new Set((await metric(r.port, /skywatch_camera_frames\{camera="([^"]+)",stage="decoded"/g)).map((m) => m[1]))));
const both = ids.filter((id) => held.every((h) => h.has(id)));
const none = ids.filter((id) => held.every((h) => !h.has(id)));
console.log(`${CAMERAS} cameras on 2 ingestors: ${held.map((h) => h.size).join(' + ')} held; in both: ${both.length}; in none: ${none.length}`);
const queued = (await Promise.all(ingests.map((r) => metric(r.port, /skywatch_camera_frames\{camera="[^"]+",stage="queued",reason=""\} (\d+)/g)))).flat().reduce((s, m) => s + Number(m[1]), 0);
const workers = roles.filter((r) => r.role === 'worker');
const perWorker = await Promise.all(workers.map(async (r) => (await metric(r.port, /skywatch_worker_frames\{what="(inferred|dropped)",reason="[^"]*"\} (\d+)/g)).reduce((s, m) => s + Number(m[2]), 0)));
const scored = perWorker.reduce((a, b) => a + b, 0);
console.log(`frames queued by the ingestors: ${queued}; scored or dropped by the workers: ${scored} (${perWorker.join(' + ')}); scored twice: ${Math.max(0, scored - queued)}`);

// Phase 2: looping cameras, then one ingestor dies.
for (const id of ids) await store.delete(id);
ids = await addCameras(true);
for (let i = 0; i < 900 && !(await all(ids, 'live')); i++) await new Promise((r) => setTimeout(r, 200));
// One ingestor dies: its cameras are live again on the other within the lease time.
const victim = ingests[0];
const victimHeld = new Set((await metric(victim.port, /skywatch_camera_frames\{camera="([^"]+)",stage="decoded"/g)).map((m) => m[1]));
const orphans = ids.filter((id) => victimHeld.has(id));
victim.child.kill('SIGKILL');
const killedAt = Date.now();
let moved = -1;
for (let i = 0; i < 600; i++) {
  const now = await statuses(ids);
  const back = orphans.every((id) => {
    const s = now.find((x) => x.id === id)?.status;
    return s?.state === 'live' && s.lastFrameAt !== null && s.lastFrameAt > killedAt;
  });
  if (back) {
    moved = Date.now() - killedAt;
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
console.log(`killed one ingestor holding ${orphans.length} cameras: ${moved >= 0 ? `all live again on the other after ${(moved / 1000).toFixed(1)} s (lease ${LEASE_MS / 1000} s)` : 'NOT all moved within 60 s'}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

for (const r of roles) r.child.kill('SIGTERM');
await Promise.all(roles.map((r) => new Promise((res) => (r.child.exitCode !== null || r.child.signalCode !== null ? res(null) : r.child.once('exit', res)))));
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
redis.disconnect();
process.exit(0);
