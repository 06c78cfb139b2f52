import { describe, expect, it } from 'vitest';
import type { Polygon } from '../../core/geometry/polygon.js';
import { createCamera, patchCamera } from '../../ingest/camera.js';
import { MotionDetector } from '../../ingest/motion.js';

const W = 320;
const H = 240;

function frame(squares: Array<{ x: number; y: number; size: number }>): Buffer {
  const rgb = Buffer.alloc(W * H * 3, 180);
  for (const s of squares) {
    for (let y = s.y; y < s.y + s.size; y++) for (let x = s.x; x < s.x + s.size; x++) rgb.fill(20, (y * W + x) * 3, (y * W + x) * 3 + 3);
  }
  return rgb;
}

/** A "tree" swaying in the top-left corner, and a "drone" crossing the right half. */
function run(ignore: Polygon[] | undefined): Array<Array<{ x: number; y: number }>> {
  const det = new MotionDetector(W, H, { detectWidth: 160, warmupFrames: 2, ignore });
  const out: Array<Array<{ x: number; y: number }>> = [];
  for (let i = 0; i < 12; i++) {
    const tree = { x: 20 + (i % 2) * 12, y: 20, size: 24 };
    const drone = { x: 200 + i * 6, y: 120, size: 12 };
    out.push(det.detect(frame(i < 3 ? [] : i < 7 ? [tree] : [tree, drone])).map((r) => ({ x: r.x, y: r.y })));
  }
  return out;
}

describe('motion masks', () => {
  it('motion inside a mask is ignored while motion elsewhere is still found', () => {
    const unmasked = run(undefined);
    expect(unmasked.slice(3, 7).every((regions) => regions.some((r) => r.x < 100))).toBe(true);
    const corner: Polygon = [[0, 0], [0.3, 0], [0.3, 0.4], [0, 0.4]];
    const masked = run([corner]);
    expect(masked.slice(3, 7)).toEqual([[], [], [], []]);
    for (const regions of masked.slice(8)) {
      expect(regions.length).toBeGreaterThan(0);
      expect(regions.every((r) => r.x >= 190)).toBe(true);
    }
  });
});

describe('camera zones and masks', () => {
  const rules = { allowFileUrls: false, defaultFps: 5 };
  const square: Polygon = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]];

  it('keeps masks, zones, threshold and labels, with [] by default', () => {
    const plain = createCamera({ name: 'a', url: 'rtsp://cam.local/1' }, rules);
    expect(plain).toMatchObject({ motionMasks: [], alertZones: [] });
    expect(plain.threshold).toBeUndefined();
    const cam = createCamera({ name: 'a', url: 'rtsp://cam.local/1', motionMasks: [square], alertZones: [square, square], threshold: 0.8, labels: ['drone', 'helicopter'] }, rules);
    expect(cam).toMatchObject({ motionMasks: [square], alertZones: [square, square], threshold: 0.8, labels: ['drone', 'helicopter'] });
    expect(patchCamera(cam, { alertZones: [] }, rules).alertZones).toEqual([]);
  });

  it('names the field of a bad polygon', () => {
    const fail = (body: Record<string, unknown>) => {
      try {
        createCamera({ name: 'a', url: 'rtsp://cam.local/1', ...body }, rules);
      } catch (err) {
        return (err as { code: string; details: { field: string } });
      }
      throw new Error('accepted');
    };
    expect(fail({ alertZones: [square, [[0, 0], [1, 1]]] })).toMatchObject({ code: 'BAD_REQUEST', details: { field: 'alertZones[1]' } });
    expect(fail({ motionMasks: [[[0, 0], [1.5, 0], [1, 1]]] }).details.field).toBe('motionMasks[0][1][0]');
    expect(fail({ threshold: 2 }).details.field).toBe('threshold');
    expect(fail({ labels: [] }).details.field).toBe('labels');
    expect(fail({ alertZones: [Array.from({ length: 65 }, (_, i) => [i / 65, (i % 2) / 2])] }).details.field).toBe('alertZones[0]');
  });
});
