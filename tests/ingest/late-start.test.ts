import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FrameJobInput, FrameSink } from '../../ingest/frame-sink.js';
import { decodeFrames } from '../../ingest/frame-decoder.js';
import { StreamClock } from '../../ingest/stream-clock.js';
import { TrackedCamera } from '../../ingest/tracked-camera.js';
import { MeanVerdict } from '../../tracking/mean-verdict.js';
import type { TrackAlertEvent } from '../../tracking/track-judge.js';

/**
 * The consistency rule against the wall clock: a camera's tracks and alerts follow its stream, so the
 * same clip gives the same alerts whether its frames arrived on time, its first frame came late (a slow
 * start under load), or the first second came in one burst (a live stream's buffer at connect). Only the
 * wall-clock times the alerts report may differ. Crops are scored by a fixed function of their pixels.
 */
const CLIP = path.resolve('../shared/data/videos/drone/V_DRONE_002.mp4');
const W = 640;
const H = 512;
const FPS = 5;

/** A drone score in [0.45, 0.95) from a crop's pixels: the same crop always gets the same score. */
function score(rgb: Buffer): number {
  let h = 2166136261;
  for (let i = 0; i < rgb.length; i += 7) h = Math.imul(h ^ rgb[i], 16777619);
  return 0.45 + ((h >>> 0) % 1000) / 2000;
}

type Arrival = (index: number, ptsMs: number) => number;

async function play(frames: Array<{ data: Buffer; ptsMs: number }>, arrival: Arrival): Promise<{ events: TrackAlertEvent[]; wall: (at: number) => number }> {
  const jobs: FrameJobInput[] = [];
  const sink: FrameSink = { submit: async (job) => (jobs.push(job), 'queued'), inFlight: () => 0 };
  const events: TrackAlertEvent[] = [];
  const clock = new StreamClock();
  const cam = new TrackedCamera({
    cameraId: 'cam', pipelineId: 'p', owner: 'test', width: W, height: H, fps: FPS, sink, maxInFlight: 1000,
    crop: { context: 0.5, minSide: 32 }, cropSchedule: { dense: 8, every: 1, alertEvery: 3, pressureEvery: 3 },
    verdictFor: (labels) => new MeanVerdict([...labels]), threshold: 0.5, alertLabels: ['drone'], minCrops: 2,
    updateEveryMs: 1000, rejoinMs: 4000, ringFrames: 0, bestCrops: 0, wallTime: (at) => clock.wall(at),
    publish: async (_cam, e) => void events.push(...e),
  });
  for (const [i, f] of frames.entries()) {
    await cam.process(Buffer.from(f.data), i + 1, clock.capture(f.ptsMs, arrival(i, f.ptsMs)));
    for (const job of jobs.splice(0)) {
      cam.onResult({ cameraId: 'cam', pipeline: 'p', seq: job.seq, labels: ['bird', 'drone'], modelVersion: 'v', crops: job.crops.map((c) => ({ trackId: c.trackId, probabilities: [1 - score(c.rgb), score(c.rgb)] })) });
    }
  }
  await cam.close();
  return { events, wall: (at) => clock.wall(at) };
}

const summary = (events: TrackAlertEvent[]) => events.map((e) => `${e.kind} ${e.trackId} ${e.frames} ${e.score.toFixed(4)} ${e.lastAt - events[0].firstAt}`);

describe.skipIf(!existsSync(CLIP))('a camera whose first frames arrive late (real clip; skipped without ../shared/data)', () => {
  it('raises the same alerts as one whose frames arrive on time', { timeout: 60_000 }, async () => {
    const frames: Array<{ data: Buffer; ptsMs: number }> = [];
    for await (const f of decodeFrames(CLIP, { fps: FPS, width: W, height: H })) frames.push({ data: Buffer.from(f.data), ptsMs: f.ptsMs });
    expect(frames.length).toBeGreaterThan(40);
    const t0 = 1_700_000_000_000;
    const onTime = await play(frames, (_i, pts) => t0 + pts);
    // The first frame 430 ms late, the rest on time.
    const lateFirst = await play(frames, (i, pts) => t0 + pts + (i === 0 ? 430 : 0));
    // The first 8 frames (1.6 s of stream) delivered at once, 1.7 s after the stream began.
    const burst = await play(frames, (i, pts) => t0 + Math.max(pts, 1_700) + i);
    expect(onTime.events.filter((e) => e.kind === 'open').length).toBeGreaterThan(0);
    expect(summary(lateFirst.events)).toEqual(summary(onTime.events));
    expect(summary(burst.events)).toEqual(summary(onTime.events));
    // What alerts report is the wall estimate: the late first frame's stream began on time.
    expect(lateFirst.wall(lateFirst.events[0].firstAt)).toBe(onTime.wall(onTime.events[0].firstAt));
  });
});
