import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { MotionGate } from '../../ingest/motion-gate.js';
import { MemoryFrameSink } from './memory-frame-sink.js';

const W = 320;
const H = 240;

function frame(square?: { x: number; y: number }): Buffer {
  const rgb = Buffer.alloc(W * H * 3, 200);
  if (square) for (let y = square.y; y < square.y + 20; y++) rgb.fill(10, (y * W + square.x) * 3, (y * W + square.x + 20) * 3);
  return rgb;
}

function gate(sink: MemoryFrameSink, maxInFlight = 4): MotionGate {
  return new MotionGate(sink, { cameraId: 'c1', width: W, height: H, motion: { warmupFrames: 2, detectWidth: 160 }, maxInFlight });
}

describe('MotionGate', () => {
  it('sends nothing for a still scene and model-sized crops centred on what moved', async () => {
    const sink = new MemoryFrameSink();
    sink.input = { width: 32, height: 32 };
    const g = gate(sink);
    for (let i = 0; i < 4; i++) expect((await g.process(frame(), i, i)).outcome).toBe('gated');
    const r = await g.process(frame({ x: 200, y: 100 }), 5, 1234);
    expect(r).toMatchObject({ outcome: 'queued', regions: 1 });
    const job = sink.jobs[0];
    expect(job).toMatchObject({ cameraId: 'c1', seq: 5, capturedAt: 1234, width: W, height: H });
    expect(job.crops).toHaveLength(1);
    const crop = job.crops[0];
    expect([crop.width, crop.height, crop.rgb.length]).toEqual([32, 32, 32 * 32 * 3]);
    expect(crop.box.x).toBeLessThanOrEqual(200);
    expect(crop.box.x + crop.box.width).toBeGreaterThanOrEqual(220);
    // The dark square sits in the middle of the crop, sky at its corner.
    expect(crop.rgb[(16 * 32 + 16) * 3]).toBeLessThan(60);
    expect(crop.rgb[0]).toBeGreaterThan(150);
    expect((await sharp(job.frameJpeg!).metadata()).width).toBe(W);
  });

  it('adds the whole frame for whole-frame models and drops, with a reason, without a model or over the in-flight limit', async () => {
    const sink = new MemoryFrameSink();
    sink.whole = true;
    const g = gate(sink, 1);
    for (let i = 0; i < 3; i++) await g.process(frame(), i, i);
    await g.process(frame({ x: 40, y: 40 }), 3, 3);
    expect(sink.jobs[0].crops.map((c) => c.box)).toContainEqual({ x: 0, y: 0, width: W, height: H, area: W * H });
    expect(sink.jobs[0].crops.every((c) => c.rgb.length === 64 * 64 * 3)).toBe(true);
    sink.hold = true;
    expect((await g.process(frame({ x: 80, y: 40 }), 4, 4)).outcome).toBe('queued');
    expect(await g.process(frame({ x: 120, y: 40 }), 5, 5)).toMatchObject({ outcome: 'dropped', reason: 'in_flight' });
    sink.finish('c1');
    sink.input = null;
    expect(await g.process(frame({ x: 160, y: 40 }), 6, 6)).toMatchObject({ outcome: 'dropped', reason: 'no_model' });
  });
});
