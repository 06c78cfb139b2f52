import { describe, expect, it } from 'vitest';
import { cutRgb } from '../../core/image/crop-pixels.js';
import { cropBox, MotionDetector } from '../../ingest/motion.js';

const W = 320;
const H = 240;

function frame(draw?: { x: number; y: number; size: number }, sky = 180): Buffer {
  const rgb = Buffer.alloc(W * H * 3, sky);
  if (draw) {
    for (let y = draw.y; y < draw.y + draw.size; y++) for (let x = draw.x; x < draw.x + draw.size; x++) rgb.fill(20, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  return rgb;
}

describe('MotionDetector', () => {
  it('finds a moving square, in full-resolution coordinates', () => {
    const det = new MotionDetector(W, H, { detectWidth: 160, warmupFrames: 2 });
    for (let i = 0; i < 3; i++) expect(det.detect(frame())).toEqual([]);
    const regions = det.detect(frame({ x: 100, y: 60, size: 16 }));
    expect(regions).toHaveLength(1);
    const r = regions[0];
    expect(r.x).toBeLessThanOrEqual(100);
    expect(r.x + r.width).toBeGreaterThanOrEqual(116);
    expect(r.y).toBeLessThanOrEqual(60);
    expect(r.width).toBeLessThan(40);
  });

  it('ignores objects below the minimum area and whole-frame light changes', () => {
    const det = new MotionDetector(W, H, { detectWidth: 160, warmupFrames: 1, minArea: 64 });
    det.detect(frame());
    det.detect(frame());
    expect(det.detect(frame({ x: 50, y: 50, size: 4 }))).toEqual([]);
    expect(det.detect(frame(undefined, 240))).toEqual([]);
    // The brighter scene became the background: a still frame after it shows nothing.
    expect(det.detect(frame(undefined, 240))).toEqual([]);
  });

  it('reports nothing during warm-up and nothing on a still scene', () => {
    const det = new MotionDetector(W, H, { warmupFrames: 5 });
    expect(det.detect(frame({ x: 10, y: 10, size: 30 }))).toEqual([]);
    for (let i = 0; i < 10; i++) expect(det.detect(frame({ x: 10, y: 10, size: 30 }))).toEqual([]);
  });

  it('rejects a frame of the wrong size', () => {
    expect(() => new MotionDetector(W, H).detect(Buffer.alloc(10))).toThrow(/expected/);
  });
});

describe('cropBox and cutRgb', () => {
  it('makes a padded square inside the frame and copies its pixels', () => {
    const box = cropBox({ x: 300, y: 2, width: 10, height: 20, area: 100 }, W, H, { padding: 0.5, minSize: 32 });
    expect(box.width).toBe(box.height);
    expect(box.width).toBe(40);
    expect(box.x + box.width).toBeLessThanOrEqual(W);
    expect(box.y).toBe(0);
    const rgb = frame({ x: 300, y: 2, size: 10 });
    const crop = cutRgb(rgb, W, box);
    expect(crop.length).toBe(40 * 40 * 3);
    const inside = ((2 - box.y) * 40 + (300 - box.x)) * 3;
    expect(crop[inside]).toBe(20);
    expect(crop[0]).toBe(180);
  });
});
