import { describe, expect, it } from 'vitest';
import { MotionKernel } from '../../ingest/motion-kernel.js';

/**
 * The WebAssembly passes of motion against straightforward TypeScript versions of the same arithmetic
 * (the loops they replaced), bit for bit: the regions, tracks and alerts follow from these images, and
 * the shipped models were trained on crops that the TypeScript loops found.
 */

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

/** Index of the first element where two arrays differ, -1 when they are equal (toEqual on these sizes takes seconds). */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function referenceShrinkHalf(rgb: Uint8Array, w: number, h: number): Float32Array {
  const grey = new Float32Array(w * h);
  const [r, g, b] = [0.299 / 4, 0.587 / 4, 0.114 / 4];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sr = 0, sg = 0, sb = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const p = ((2 * y + dy) * 2 * w + 2 * x + dx) * 3;
        sr += rgb[p];
        sg += rgb[p + 1];
        sb += rgb[p + 2];
      }
      grey[y * w + x] = r * sr + g * sg + b * sb;
    }
  }
  return grey;
}

interface ReferenceState { background: Float32Array; previous: Float32Array; stable: Uint16Array; mask: Uint8Array; moving: Uint8Array }

function referenceCompare(grey: Float32Array, s: ReferenceState, ignored: Uint8Array, t: number, absorb: number, a: number): number {
  const slow = a / 20;
  let changed = 0;
  for (let i = 0; i < grey.length; i++) {
    const free = ignored[i] === 0;
    const v = grey[i];
    const b = s.background[i];
    const on = free && Math.abs(v - b) > t ? 1 : 0;
    const moved = free && Math.abs(v - s.previous[i]) > t ? 1 : 0;
    s.mask[i] = on;
    s.moving[i] = moved;
    s.previous[i] = v;
    changed += on;
    if (on === 1 && moved === 0) {
      const still = s.stable[i] + 1;
      if (still > absorb) {
        s.background[i] = v;
        s.stable[i] = 0;
        continue;
      }
      s.stable[i] = still;
    } else s.stable[i] = 0;
    s.background[i] = b + (on ? slow : a) * (v - b);
  }
  return changed;
}

function referenceDilate(mask: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (!mask[y * w + x]) continue;
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const [xx, yy] = [x + dx, y + dy];
      if (xx >= 0 && xx < w && yy >= 0 && yy < h) out[yy * w + xx] = 1;
    }
  }
  return out;
}

/** Noise with bright squares wandering over it: grey levels on both sides of the threshold everywhere. */
function frames(w: number, h: number, count: number, seed: number): Uint8Array[] {
  const rand = random(seed);
  const base = Uint8Array.from({ length: w * h * 12 }, () => 90 + Math.floor(rand() * 40));
  return Array.from({ length: count }, (_, f) => {
    const rgb = Uint8Array.from(base, (v) => (rand() < 0.2 ? Math.min(255, v + Math.floor(rand() * 50)) : v));
    for (const [colour, x0, y0] of [[[250, 20, 20], 3 + 5 * f, 4], [[20, 250, 20], 2 * w - 20 - 3 * f, h], [[20, 20, 250], w, 2 * h - 12]] as const) {
      for (let y = y0; y < Math.min(2 * h, y0 + 9); y++) for (let x = Math.max(0, x0); x < Math.min(2 * w, x0 + 9); x++) rgb.set(colour, (y * 2 * w + x) * 3);
    }
    return rgb;
  });
}

describe('MotionKernel (WebAssembly)', () => {
  // 160 is a whole number of 4-cell groups and 16-pixel rows; 78 ends its rows with a 2-cell pair and
  // a part of a 16-pixel group; 7 rows is a pixel count that is not a multiple of 4.
  for (const [w, h] of [[160, 48], [78, 7]] as const) {
    it(`shrinks, compares and dilates exactly as the TypeScript loops do (${w}x${h})`, () => {
      const kernel = new MotionKernel(w, h, w * h * 12);
      const ignored = Uint8Array.from({ length: w * h }, (_, i) => (i % w < 6 && Math.floor(i / w) < 5 ? 1 : 0));
      kernel.ignored.set(ignored);
      const ref: ReferenceState = {
        background: new Float32Array(w * h), previous: new Float32Array(w * h), stable: new Uint16Array(w * h),
        mask: new Uint8Array(w * h), moving: new Uint8Array(w * h),
      };
      let changedTotal = 0;
      let taken = 0;
      for (const [f, rgb] of frames(w, h, 24, w).entries()) {
        // Unaligned, as a frame cut from a larger buffer would be.
        const shifted = Buffer.alloc(rgb.length + 1).subarray(1);
        shifted.set(rgb);
        kernel.shrinkHalf(shifted);
        const grey = referenceShrinkHalf(rgb, w, h);
        expect(firstDifference(kernel.grey, grey)).toBe(-1);
        if (f === 0) {
          kernel.background.set(grey);
          kernel.previous.set(grey);
          ref.background.set(grey);
          ref.previous.set(grey);
          continue;
        }
        const settings = { threshold: 12, absorbFrames: 3, alpha: 0.08, slowAlpha: 0.08 / 20 };
        const before = ref.stable.filter((s) => s === 3).length;
        const changed = kernel.compare(settings);
        expect(changed).toBe(referenceCompare(grey, ref, ignored, 12, 3, 0.08));
        taken += before;
        changedTotal += changed;
        expect(firstDifference(kernel.mask, ref.mask)).toBe(-1);
        expect(firstDifference(kernel.moving, ref.moving)).toBe(-1);
        expect(firstDifference(kernel.stable, ref.stable)).toBe(-1);
        expect(firstDifference(kernel.previous, ref.previous)).toBe(-1);
        expect(firstDifference(kernel.background, ref.background)).toBe(-1);
        kernel.dilate();
        expect(firstDifference(kernel.dilated, referenceDilate(ref.mask, w, h))).toBe(-1);
      }
      // The frames exercised every branch: pixels changed, masked, held still long enough to be taken.
      expect(changedTotal).toBeGreaterThan(w * h * 0.1);
      expect(taken).toBeGreaterThan(0);
      expect(ref.mask.subarray(0, 6).every((m) => m === 0)).toBe(true);
    });
  }

  it('refuses a frame of another size', () => {
    const kernel = new MotionKernel(16, 8, 32 * 16 * 3);
    expect(() => kernel.shrinkHalf(new Uint8Array(10))).toThrow(/not a 32x16 RGB frame/);
  });
});
