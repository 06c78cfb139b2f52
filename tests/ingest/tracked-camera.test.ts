import { afterAll, describe, expect, it } from 'vitest';
import { AlertStream } from '../../queue/alert-stream.js';
import { OpenAlerts } from '../../queue/open-alerts.js';
import { createRedis } from '../../queue/redis-connection.js';
import { TrackAlertPublisher } from '../../ingest/track-alerts.js';
import type { TrackedCamera } from '../../ingest/tracked-camera.js';
import type { CropSchedule } from '../../tracking/crop-schedule.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const prefix = `test-tracked-cam-${process.pid}-${Date.now()}`;
const redis = createRedis('redis://127.0.0.1:6379');
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const W = 160;
const H = 120;
/** A sky with a dark 8x8 square at x (none while x < 0). */
function frame(x: number): Buffer {
  const rgb = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) rgb.set([135, 206, 235], i * 3);
  const square = (sx: number, sy: number) => {
    for (let y = sy; y < sy + 8; y++) for (let px = sx; px < sx + 8; px++) rgb.set([30, 30, 30], (y * W + px) * 3);
  };
  if (x >= 0) square(x, 30);
  return rgb;
}

function setup(options: { maxInFlight?: number; minCrops?: number; cropSchedule?: CropSchedule; pressureInFlight?: number; recording?: boolean; now?: () => number } = {}) {
  const sink = new MemoryFrameSink();
  const stream = new AlertStream(redis, prefix, 1000);
  const publisher = new TrackAlertPublisher({ stream, openAlerts: new OpenAlerts(redis, prefix), clipSeconds: 0 });
  const make = sink.pipelines({
    maxInFlight: options.maxInFlight ?? 100,
    minCrops: options.minCrops ?? 2,
    ringFrames: 30,
    bestCrops: 2,
    motion: { warmupFrames: 2, minArea: 8 },
    publish: (c, events) => publisher.publish(c, events),
    cropSchedule: options.cropSchedule,
    pressureInFlight: options.pressureInFlight,
    recording: options.recording,
    now: options.now,
  });
  const cameraId = `cam-${Math.random().toString(36).slice(2, 8)}`;
  const cam = make(cameraId, { width: W, height: H, fps: 5 }, { motion: { warmupFrames: 2, minArea: 8 } }) as TrackedCamera;
  const answer = (job: (typeof sink.jobs)[number], drone: number | null) => cam.onResult({
    cameraId, pipeline: job.pipeline, seq: job.seq, labels: ['bird', 'drone'], modelVersion: 'v1',
    crops: job.crops.map((c) => ({ trackId: c.trackId, probabilities: drone === null ? null : [1 - drone, drone] })),
  });
  const alerts = async () => (await stream.after('0-0')).filter((a) => a.cameraId === cameraId);
  return { sink, cam, answer, alerts, publisher, cameraId };
}

describe('TrackedCamera and its alerts', () => {
  it('classifies a track densely first, then one frame in `every`, and still judges and closes it', async () => {
    const { sink, cam, answer, alerts } = setup({ cropSchedule: { dense: 4, every: 3, alertEvery: 1 } });
    for (let i = 0; i < 20; i++) await cam.process(frame(i < 3 ? -1 : 6 * i), i + 1, 1000 + 200 * i);
    const crops = sink.jobs.flatMap((j) => j.crops.map((c) => ({ seq: j.seq, trackId: c.trackId })));
    const ids = new Set(crops.map((c) => c.trackId));
    expect(ids.size).toBe(1);
    const seqs = crops.map((c) => c.seq);
    // The track starts at frame 4 and is confirmed at its second point (frame 5), when its first point
    // is cropped from the ring: points 0-3 (frames 4-7) densely, then 4, 7, 10, ... (frames 8, 11, ...).
    expect(seqs).toEqual([4, 5, 6, 7, 8, 11, 14, 17, 20]);
    for (const job of sink.jobs) answer(job, 0.9);
    await cam.close();
    const events = await alerts();
    expect(events.map((a) => a.status).filter((s) => s !== 'update')).toEqual(['open', 'closed']);
    expect(events.at(-1)!.frames).toBe(seqs.length);
    expect(cam.drained).toBe(true);
  });

  it('thins the crops of a camera whose frames wait for inference, and classifies every frame again once it catches up', async () => {
    const { sink, cam, answer, alerts, cameraId } = setup({ cropSchedule: { dense: 4, every: 1, alertEvery: 1, pressureEvery: 3 }, pressureInFlight: 2 });
    // Nothing is answered: from the second job on, two frames of this camera are in flight.
    sink.hold = true;
    for (let i = 0; i < 14; i++) await cam.process(frame(i < 3 ? -1 : 6 * i), i + 1, 1000 + 200 * i);
    // Track points 0-3 (frames 4-7) are young and always classified; behind, the rest one in 3 from
    // point 4 (frames 8, 11, 14).
    expect(sink.jobs.map((j) => j.seq)).toEqual([4, 5, 6, 7, 8, 11, 14]);
    // Inference catches up: every frame is classified again.
    sink.finish(cameraId);
    sink.hold = false;
    for (let i = 14; i < 20; i++) await cam.process(frame(6 * i), i + 1, 1000 + 200 * i);
    expect(sink.jobs.map((j) => j.seq)).toEqual([4, 5, 6, 7, 8, 11, 14, 15, 16, 17, 18, 19, 20]);
    for (const job of sink.jobs) answer(job, 0.9);
    await cam.close();
    // The frames left out are the judge's missing crops: one alert, over the crops that were classified.
    const events = await alerts();
    expect(events.map((a) => a.status).filter((s) => s !== 'update')).toEqual(['open', 'closed']);
    expect(events.at(-1)!.frames).toBe(13);
    expect(cam.drained).toBe(true);

    // Not behind (answers come at once): the same clip is classified on every frame.
    const keeping = setup({ cropSchedule: { dense: 4, every: 1, alertEvery: 1, pressureEvery: 3 }, pressureInFlight: 2 });
    for (let i = 0; i < 14; i++) await keeping.cam.process(frame(i < 3 ? -1 : 6 * i), i + 1, 1000 + 200 * i);
    expect(keeping.sink.jobs.map((j) => j.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 4));
    await keeping.cam.close();
  });

  it('classifies every frame until the alert opens, then one in `alertEvery`', async () => {
    const { sink, cam, answer, alerts } = setup({ cropSchedule: { dense: Number.MAX_SAFE_INTEGER, every: 1, alertEvery: 3 } });
    let answered = 0;
    for (let i = 0; i < 20; i++) {
      await cam.process(frame(i < 3 ? -1 : 6 * i), i + 1, 1000 + 200 * i);
      // Workers answer at once, and the judge has seen each answer before the next frame.
      for (const job of sink.jobs.slice(answered)) answer(job, 0.9);
      answered = sink.jobs.length;
      await cam.settled();
    }
    const seqs = sink.jobs.map((j) => j.seq);
    // Points 0 and 1 of the track (frames 4, 5; the first cropped from the ring at confirmation) open
    // the alert (2 crops needed) at point 1; from then on only points 4, 7, 10, ... (frames 8, 11, 14,
    // ...) are classified.
    expect(seqs).toEqual([4, 5, 8, 11, 14, 17, 20]);
    await cam.close();
    const events = await alerts();
    expect(events.map((a) => a.status).filter((s) => s !== 'update')).toEqual(['open', 'closed']);
    expect(events.at(-1)!.frames).toBe(7);
    expect(cam.drained).toBe(true);

    // A camera that learns of the alert late (every answer comes back at the end) sends every crop,
    // but the judge counts the same ones: the alert's events are the same.
    const late = setup({ cropSchedule: { dense: Number.MAX_SAFE_INTEGER, every: 1, alertEvery: 3 } });
    for (let i = 0; i < 20; i++) await late.cam.process(frame(i < 3 ? -1 : 6 * i), i + 1, 1000 + 200 * i);
    expect(late.sink.jobs.map((j) => j.seq)).toEqual(Array.from({ length: 17 }, (_, i) => i + 4));
    for (const job of late.sink.jobs) late.answer(job, 0.9);
    await late.cam.close();
    const shape = (list: typeof events) => list.map((a) => [a.status, a.score, a.frames, a.firstAt, a.lastAt]);
    expect(shape(await late.alerts())).toEqual(shape(events));
  });

  it('applies answers that come back in any order, with some dropped, as one alert per track', async () => {
    const { sink, cam, answer, alerts } = setup();
    for (let i = 0; i < 14; i++) await cam.process(frame(i < 3 ? -1 : 8 * i), i + 1, 1000 + 200 * i);
    expect(sink.jobs.length).toBeGreaterThanOrEqual(8);
    // Crops are native: square context boxes of at least 32 px, not resized.
    for (const c of sink.jobs.flatMap((j) => j.crops)) {
      expect(c.width).toBe(c.height);
      expect(c.width).toBeGreaterThanOrEqual(32);
      expect(c.width).toBeLessThan(W);
      expect(c.rgb.length).toBe(c.width * c.height * 3);
    }
    // Answers arrive newest first, every third one dropped by its worker.
    const jobs = [...sink.jobs].reverse();
    jobs.forEach((job, i) => answer(job, i % 3 === 0 ? null : 0.9));
    await cam.close();
    await cam.settled();
    const events = await alerts();
    expect(events.map((a) => a.status).filter((s) => s !== 'update')).toEqual(['open', 'closed']);
    expect(new Set(events.map((a) => a.alertId)).size).toBe(1);
    const closed = events.at(-1)!;
    // Dropped crops count for nothing; the others were all judged.
    expect(closed.frames).toBe(jobs.filter((_j, i) => i % 3 !== 0).length);
    // The closing event keeps the alert's picture.
    expect(closed.snapshotUrl).toBe(`v1/alerts/${closed.id}/snapshot.jpg`);
    expect((await new AlertStream(redis, prefix, 1000).snapshot(closed.id))?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(closed.cropsKey).toBeTruthy();
    expect(cam.drained).toBe(true);
  });

  it('never holds a track for an answer that does not come: in-flight drops and timeouts count as dropped', async () => {
    const { sink, cam, answer, alerts } = setup({ maxInFlight: 3 });
    sink.hold = true;
    for (let i = 0; i < 12; i++) await cam.process(frame(i < 3 ? -1 : 8 * i), i + 1, 1000 + 200 * i);
    // Three frames went out; the rest were dropped at the camera (their crops answered null at once).
    expect(sink.jobs).toHaveLength(3);
    answer(sink.jobs[0], 0.95);
    answer(sink.jobs[1], 0.95);
    // The third never comes back: after the timeout it counts as dropped and the track can close.
    await cam.close();
    expect(cam.drained).toBe(false);
    cam.expire(0);
    await cam.settled();
    expect(cam.drained).toBe(true);
    const events = await alerts();
    expect(events.map((a) => a.status)).toEqual(['open', 'closed']);
    expect(events[1].frames).toBe(2);
  });

  it('a recording waits for answers past the live timeout, and a wait for room is not the camera going quiet', async () => {
    let now = 100_000;
    const live = setup({ now: () => now });
    // Thinning from the second point on whenever a frame is in flight, were it a live camera.
    const pressure = { cropSchedule: { dense: 1, every: 1, alertEvery: 1, pressureEvery: 3 }, pressureInFlight: 1 };
    const recording = setup({ recording: true, maxInFlight: 4, ...pressure, now: () => now });
    for (const { sink, cam } of [live, recording]) {
      sink.hold = true;
      for (let i = 0; i < 8; i++) await cam.process(frame(i < 3 ? -1 : 8 * i), i + 1, 1000 + 200 * i);
      expect(sink.jobs.length).toBeGreaterThanOrEqual(3);
    }
    // The recording is past its in-flight bound (4) and under pressure (1), yet no crop was thinned or
    // dropped: every point of its track (frames 4-8) went out.
    expect(recording.sink.jobs.map((j) => j.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(recording.sink.jobs.every((j) => j.recording === true)).toBe(true);
    expect(live.sink.jobs.some((j) => j.recording)).toBe(false);
    // Waiting for room, 30 s pass on the wall clock: the recording's tracks do not end for it.
    const stop = new AbortController();
    const waiting = recording.cam.room(stop.signal);
    now += 30_000;
    recording.cam.endIdle(5_000);
    live.cam.expire(10_000);
    recording.cam.expire(10_000);
    recording.sink.finish(recording.cameraId, 2);
    await waiting;
    // Its track goes on (the same id), as it would have without the wait.
    await recording.cam.process(frame(64), 9, 2600);
    expect(recording.sink.jobs).toHaveLength(6);
    expect(new Set(recording.sink.jobs.map((j) => j.crops[0].trackId)).size).toBe(1);
    // The answers come at last: the live camera counted them as dropped, the recording uses them.
    for (const { sink, answer } of [live, recording]) for (const job of sink.jobs) answer(job, 0.95);
    for (const { cam } of [live, recording]) {
      await cam.close();
      await cam.settled();
    }
    expect((await live.alerts()).map((a) => a.status)).toEqual([]);
    const events = await recording.alerts();
    expect(events.map((a) => a.status)).toEqual(['open', 'closed']);
    expect(events[1].frames).toBe(6);
  });

  it('raises no alert for a score of 0 nor for a box that covers the whole frame', async () => {
    const { publisher, cam, alerts } = setup();
    await cam.process(frame(10), 1, 1000);
    const event = { trackId: 1, tracks: [1], label: 'drone', scores: { drone: 0.9, bird: 0.1 }, firstAt: 1000, lastAt: 1000, frames: 3, path: [{ x: 1, y: 1, at: 1000 }] };
    await publisher.publish(cam, [{ ...event, kind: 'open', score: 0.9, box: { x: 0, y: 0, width: W, height: H } }, { ...event, kind: 'closed', score: 0.9, box: { x: 0, y: 0, width: W, height: H } }]);
    await publisher.publish(cam, [{ ...event, trackId: 2, tracks: [2], kind: 'open', score: 0, box: { x: 5, y: 5, width: 10, height: 10 } }]);
    expect(await alerts()).toEqual([]);
    expect(publisher.counters.suppressed).toBe(2);
  });
  it('cuts a small object from the crop stream\'s matching frame, at its resolution, with the box still in main-frame pixels', async () => {
    const { sink, cam } = setup();
    /** The same sky at twice the resolution, with a gradient so every pixel of a crop says where it came from. */
    const twin = (x: number) => {
      const w = 2 * W;
      const h = 2 * H;
      const rgb = Buffer.alloc(w * h * 3);
      for (let y = 0; y < h; y++) for (let px = 0; px < w; px++) rgb.set([px % 256, y % 256, 200], (y * w + px) * 3);
      if (x >= 0) for (let y = 60; y < 76; y++) for (let px = 2 * x; px < 2 * x + 16; px++) rgb.set([30, 30, 30], (y * w + px) * 3);
      return { rgb, width: w, height: h };
    };
    for (let i = 0; i < 12; i++) {
      const x = i < 3 ? -1 : 6 * i;
      // Every other frame has no twin close enough in time: its crops come from the main frame.
      await cam.process(frame(x), i + 1, 1000 + 200 * i, i % 2 === 0 ? { ...twin(x), capturedAt: 1000 + 200 * i } : undefined);
    }
    const crops = sink.jobs.flatMap((j) => j.crops.map((c) => ({ seq: j.seq, ...c })));
    expect(crops.length).toBeGreaterThanOrEqual(4);
    for (const c of crops) {
      const fromTwin = (c.seq - 1) % 2 === 0;
      expect([c.width, c.height]).toEqual(fromTwin ? [2 * c.box.width, 2 * c.box.height] : [c.box.width, c.box.height]);
      expect(c.box.x + c.box.width).toBeLessThanOrEqual(W);
      if (fromTwin) {
        // Its top-left pixel is the twin's pixel at twice the box's corner.
        expect([...c.rgb.subarray(0, 3)]).toEqual([(2 * c.box.x) % 256, (2 * c.box.y) % 256, 200]);
      } else {
        expect([...c.rgb.subarray(0, 3)]).toEqual([135, 206, 235]);
      }
    }
    expect(new Set(crops.map((c) => (c.seq - 1) % 2)).size).toBe(2);
  });
});
