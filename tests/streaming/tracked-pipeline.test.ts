import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRoles, type RunningRoles } from '../../app/run-roles.js';
import { loadConfig } from '../../core/config.js';
import { silentLogger } from '../../core/logger.js';
import { ModelRegistry } from '../../core/model/registry.js';
import { LocalStore } from '../../core/storage/local-store.js';
import type { Alert } from '../../queue/alert-stream.js';
import { OpenAlerts } from '../../queue/open-alerts.js';
import { createRedis } from '../../queue/redis-connection.js';
import { makeClip } from '../support/clips.js';
import { publishTiny } from '../support/tiny-model.js';
import { waitFor } from '../ingest/helpers.js';

/**
 * The tracked live pipeline end to end with real parts (ffmpeg, Redis, BullMQ, ONNX Runtime): a dark
 * object crossing a sky, played once, through the ingest owner's tracker and judge, with the worker
 * started seconds late so every score comes back long after its frame was captured (the lag that used
 * to close an alert 30 ms after it opened).
 */
const prefix = `test-tracked-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
const running: RunningRoles[] = [];

afterAll(async () => {
  for (const r of running.reverse()) await r.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('tracked pipeline under an artificial 4 s lag', () => {
  it('raises one alert for the one object, closes it only when the track ends, with its snapshot, clip and crops; closes alerts an earlier owner left open', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-tracked-'));
    const registry = path.join(dir, 'registry');
    await publishTiny(new ModelRegistry(new LocalStore(registry)), path.join(dir, 'm'), 'v1');
    const clip = makeClip(path.join(dir, 'crossing.mp4'), { moving: true, seconds: 5 });
    const config = loadConfig({
      env: {},
      overrides: {
        stateDir: path.join(dir, 'state'),
        registry,
        redis: { prefix },
        api: { port: 0 },
        ingest: { allowFileUrls: true, frameDeadlineMs: 600_000, maxInFlightPerCamera: 1000, leaseMs: 3000 },
        alerts: { minCrops: 2, clipSeconds: 2, threshold: 0.6, labels: ['drone'] },
      },
    });
    const api = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registry)), roles: { api: true, ingest: true, worker: false } });
    running.push(api);
    const url = `http://127.0.0.1:${(api.server!.app.server.address() as { port: number }).port}`;
    const created = await fetch(`${url}/v1/cameras`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'crossing', url: clip, fps: 5, loop: false, enabled: false, motion: { minArea: 16 } }) });
    expect(created.status).toBe(201);
    const cameraId = ((await created.json()) as { id: string }).id;

    // An alert some earlier owner of this camera opened and never closed (it crashed).
    const stale = await api.context.stream.add({ cameraId, label: 'drone', score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: { x: 1, y: 1, width: 10, height: 10 }, modelVersion: 'v0', status: 'open', hasSnapshot: false }, null);
    await new OpenAlerts(redis, prefix).mark(cameraId, { cameraId, label: 'drone', score: 0.9, firstAt: 1, lastAt: 2, frames: 3, box: { x: 1, y: 1, width: 10, height: 10 }, modelVersion: 'v0', status: 'open', hasSnapshot: false, alertId: stale.id, lastEventId: stale.id });

    const patched = await fetch(`${url}/v1/cameras/${cameraId}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled: true }) });
    expect(patched.status).toBe(200);
    const status = async () => ((await (await fetch(`${url}/v1/cameras/${cameraId}`)).json()) as { status: { state: string; framesQueued: number } | null }).status;
    await waitFor('camera live', async () => (await status())?.state === 'live', 60_000);
    const liveAt = Date.now();
    // The lag: no worker for 4 s, so the frames wait in the queue with their capture times.
    await new Promise((r) => setTimeout(r, 4_000));
    const worker = await runRoles({ config, logger: silentLogger, registry: new ModelRegistry(new LocalStore(registry)), roles: { api: false, ingest: false, worker: true } });
    running.push(worker);

    const mine = async () => (await api.context.stream.after('0-0', 1000)).filter((a) => a.cameraId === cameraId && a.alertId !== stale.id);
    const byTrack = (events: Alert[]) => {
      const groups = new Map<string, Alert[]>();
      for (const a of events) groups.set(a.trackId ?? '', [...(groups.get(a.trackId ?? '') ?? []), a]);
      return groups;
    };
    await waitFor('the play-once camera ended', async () => (await status())?.state === 'ended', 60_000);
    // Every track's alert closes once its track ended and every score of it is in.
    const events = await waitFor('every alert closed', async () => {
      const all = await mine();
      return all.length > 0 && [...byTrack(all).values()].every((g) => g.at(-1)!.status === 'closed') ? all : undefined;
    }, 60_000);
    expect(Date.now() - liveAt).toBeGreaterThan(4_000);
    const summary = JSON.stringify(events.map((a) => [a.status, a.label, a.score, a.trackId]));
    for (const group of byTrack(events).values()) {
      // One alert per track: one open, then updates, then one closing event, all naming the open event.
      expect(group.map((a) => a.status).filter((s) => s !== 'update'), summary).toEqual(['open', 'closed']);
      expect(new Set(group.map((a) => a.alertId))).toEqual(new Set([group[0].id]));
    }
    // The object that crossed the sky is one track (motion may add a still "ghost" where it started).
    const crossing = [...byTrack(events).values()].filter((g) => g.at(-1)!.path!.at(-1)!.x - g.at(-1)!.path![0].x > 100);
    expect(crossing, summary).toHaveLength(1);
    const open = crossing[0][0];
    const closed = crossing[0].at(-1)!;
    expect(open.label).toBe('drone');
    expect(open.score).toBeGreaterThan(0.6);
    expect(open.trackId).toMatch(/^[0-9a-f]+-\d+$/);
    expect(open.scores?.drone).toBe(open.score);
    // It closed because the object's track ended, not because scores were late: it covers the crossing.
    expect(closed.lastAt - closed.firstAt).toBeGreaterThanOrEqual(2_000);
    expect(closed.frames).toBeGreaterThanOrEqual(10);
    expect(closed.path!.length).toBeGreaterThanOrEqual(closed.frames);
    // Boxes are the object's, never the whole frame.
    expect(closed.box!.width).toBeLessThan(320);

    // The snapshot of the alert survives its closing event; the clip and the best crops come with it.
    expect(closed.snapshotUrl).toMatch(/^v1\/alerts\/\d+-\d+\/snapshot\.jpg$/);
    const snap = await fetch(`${url}/${closed.snapshotUrl}`);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    expect(closed.clipUrl).toBe(`v1/alerts/${open.id}/clip.mp4`);
    const clipRes = await fetch(`${url}/${closed.clipUrl}`);
    expect(clipRes.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await clipRes.arrayBuffer()).subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(closed.cropsKey).toBeTruthy();
    const crops = await redis.lrangeBuffer(closed.cropsKey!, 0, -1);
    expect(crops.length).toBeGreaterThan(0);
    expect(crops[0].subarray(1, 4).toString('latin1')).toBe('PNG');

    // The alert the crashed owner left open was closed by the new owner, under its own alertId.
    const staleEvents = (await api.context.stream.after('0-0', 1000)).filter((a) => a.alertId === stale.id);
    expect(staleEvents.map((a) => a.status)).toEqual(['open', 'closed']);
    expect(await new OpenAlerts(redis, prefix).takeAll(cameraId)).toEqual([]);
  }, 150_000);
});
