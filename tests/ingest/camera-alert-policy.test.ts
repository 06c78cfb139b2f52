import { afterAll, describe, expect, it } from 'vitest';
import { createCamera } from '../../ingest/camera.js';
import { CameraAlertPolicy } from '../../ingest/camera-alert-policy.js';
import { TrackAlertPublisher } from '../../ingest/track-alerts.js';
import { TrackOwner } from '../../ingest/track-owner.js';
import type { TrackedCamera } from '../../ingest/tracked-camera.js';
import { AlertStream } from '../../queue/alert-stream.js';
import { CropResults } from '../../queue/crop-results.js';
import { OpenAlerts } from '../../queue/open-alerts.js';
import { createRedis } from '../../queue/redis-connection.js';
import { MeanVerdict } from '../../tracking/mean-verdict.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const prefix = `test-policy-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});
const rules = { allowFileUrls: false, defaultFps: 5 };
const box = (x: number, y: number, size = 20) => ({ x, y, width: size, height: size });
const RIGHT_HALF: Array<[number, number]> = [[0.5, 0], [1, 0], [1, 1], [0.5, 1]];

describe('camera alert policy', () => {
  it("takes the camera's zones, threshold and labels over the defaults", () => {
    const defaults = { threshold: 0.6, alertLabels: ['drone'] };
    const camera = createCamera({ name: 'r', url: 'rtsp://cam.local/1', alertZones: [RIGHT_HALF], threshold: 0.9, labels: ['drone', 'bird'] }, rules);
    const p = new CameraAlertPolicy(camera, defaults);
    // 640x480 frame: a box centred at x=50 is outside the right half, one at x=500 inside.
    expect(p.admits(box(40, 100), 640, 480)).toBe(false);
    expect(p.admits(box(490, 100), 640, 480)).toBe(true);
    // A whole-frame box has no position to judge.
    expect(p.admits(box(0, 0, 640), 640, 480)).toBe(true);
    expect({ threshold: p.threshold, labels: p.alertLabels }).toEqual({ threshold: 0.9, labels: ['drone', 'bird'] });
    const plain = new CameraAlertPolicy(createCamera({ name: 'p', url: 'rtsp://cam.local/2' }, rules), defaults);
    expect(plain.admits(box(40, 100), 640, 480)).toBe(true);
    expect({ threshold: plain.threshold, labels: plain.alertLabels }).toEqual({ threshold: 0.6, labels: ['drone'] });
  });
});

const W = 160;
const H = 120;
/** A sky with a dark 8x8 square at (x, 30) (none while x < 0). */
function frame(x: number): Buffer {
  const rgb = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) rgb.set([135, 206, 235], i * 3);
  if (x >= 0) for (let y = 30; y < 38; y++) for (let px = x; px < x + 8; px++) rgb.set([30, 30, 30], (y * W + px) * 3);
  return rgb;
}

/**
 * The owner's pipeline for one camera record (what a camera supervisor gets), an object crossing the
 * frame left to right, every crop answered with `drone` probability 0.9 by a "worker".
 */
async function crossing(camera: Record<string, unknown>) {
  const sink = new MemoryFrameSink();
  const stream = new AlertStream(redis, prefix, 1000);
  const owner = new TrackOwner({
    ownerId: `owner-${Math.random().toString(36).slice(2, 8)}`,
    sink,
    results: new CropResults(redis, prefix),
    reader: redis,
    publisher: new TrackAlertPublisher({ stream, openAlerts: new OpenAlerts(redis, prefix), clipSeconds: 0 }),
    verdictFor: (labels) => new MeanVerdict([...labels]),
    settings: {
      tracker: {}, crop: { context: 0.5, minSide: 32 }, threshold: 0.6, alertLabels: ['drone'], minCrops: 2, updateEveryMs: 60_000,
      clipSeconds: 0, bestCrops: 1, maxInFlight: 100, resultTimeoutMs: 10_000, idleEndMs: 60_000,
    },
  });
  const cameraId = `cam-${Math.random().toString(36).slice(2, 8)}`;
  const cam = owner.pipelineFor(cameraId, { width: W, height: H, fps: 5 }, { motion: { warmupFrames: 2, minArea: 8 }, ...camera }) as TrackedCamera;
  for (let i = 0; i < 18; i++) await cam.process(frame(i < 3 ? -1 : 8 * i), i + 1, 1000 + 200 * i);
  for (const job of sink.jobs) {
    cam.onResult({ cameraId, pipeline: job.pipeline, seq: job.seq, labels: ['bird', 'drone'], modelVersion: 'v1', crops: job.crops.map((c) => ({ trackId: c.trackId, probabilities: [0.1, 0.9] })) });
  }
  await cam.close();
  await cam.settled();
  return { jobs: sink.jobs, alerts: (await stream.after('0-0')).filter((a) => a.cameraId === cameraId) };
}

describe("the owner's pipeline applies the camera record", () => {
  it('opens the alert only once the track is inside an alert zone', async () => {
    const anywhere = await crossing({});
    expect(anywhere.alerts.map((a) => a.status)).toEqual(['open', 'closed']);
    const zoned = await crossing({ alertZones: [RIGHT_HALF] });
    expect(zoned.alerts.map((a) => a.status)).toEqual(['open', 'closed']);
    const open = zoned.alerts[0].box!;
    expect(open.x + open.width / 2).toBeGreaterThanOrEqual(W / 2);
    // Later than without zones: outside them the object is not even cropped.
    expect(zoned.alerts[0].lastAt).toBeGreaterThan(anywhere.alerts[0].lastAt);
    expect(zoned.jobs.length).toBeLessThan(anywhere.jobs.length);
    // A zone the object never enters: no crop, no alert.
    const never = await crossing({ alertZones: [[[0, 0.8], [1, 0.8], [1, 1], [0, 1]]] });
    expect(never.jobs).toEqual([]);
    expect(never.alerts).toEqual([]);
  });

  it("uses the camera's threshold and labels over the defaults", async () => {
    expect((await crossing({ threshold: 0.95 })).alerts).toEqual([]);
    expect((await crossing({ labels: ['bird'] })).alerts).toEqual([]);
    const birds = await crossing({ labels: ['bird'], threshold: 0.05 });
    expect(birds.alerts.map((a) => [a.status, a.label])).toEqual([['open', 'bird'], ['closed', 'bird']]);
  });

  it('never tracks what moves inside a motion mask', async () => {
    expect((await crossing({})).jobs.length).toBeGreaterThan(0);
    const masked = await crossing({ motionMasks: [[[0, 0.1], [1, 0.1], [1, 0.5], [0, 0.5]]] });
    expect(masked.jobs).toEqual([]);
    expect(masked.alerts).toEqual([]);
  });
});
