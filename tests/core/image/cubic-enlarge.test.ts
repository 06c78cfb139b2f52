import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, resizeRgb, RESIZE_KERNEL } from '../../../core/image/crop-pixels.js';
import { canCubicEnlarge, cubicEnlarge } from '../../../core/image/cubic-enlarge.js';
import { decodeImage } from '../../../inference/preprocess.js';

/** A small deterministic generator, so a failure names sizes that reproduce. */
function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

type Content = 'noise' | 'extremes' | 'ramp';

function image(width: number, height: number, content: Content, rand: (n: number) => number): Buffer {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < rgb.length; i++) {
    // Extremes drive the Catmull-Rom overshoot past 0 and 255, so the clip is exercised.
    rgb[i] = content === 'noise' ? rand(256) : content === 'extremes' ? (rand(2) ? 255 : 0) : (i * 7 + (i >> 5)) & 255;
  }
  return rgb;
}

function sharpResize(rgb: Buffer, width: number, height: number, to: { width: number; height: number }): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).resize(to.width, to.height, { fit: 'fill', kernel: RESIZE_KERNEL }).raw().toBuffer();
}

describe('cubicEnlarge: the camera crops stretched in JavaScript, byte for byte as sharp stretches them', () => {
  it('matches sharp on square and non-square crops of every size class up to the model input', async () => {
    const rand = lcg(20261203);
    const sizes: Array<[number, number]> = [[1, 1], [2, 2], [3, 5], [32, 32], [33, 33], [47, 61], [112, 112], [223, 223], [1, 223], [223, 1]];
    for (let i = 0; i < 60; i++) {
      const w = 1 + rand(223);
      sizes.push([w, rand(4) === 0 ? 1 + rand(223) : w]);
    }
    const contents: Content[] = ['noise', 'extremes', 'ramp'];
    const mismatched: string[] = [];
    for (const [i, [w, h]] of sizes.entries()) {
      const rgb = image(w, h, contents[i % 3], rand);
      const want = await sharpResize(rgb, w, h, { width: 224, height: 224 });
      if (!cubicEnlarge(rgb, w, h, { width: 224, height: 224 }).equals(want)) mismatched.push(`${w}x${h} ${contents[i % 3]}`);
    }
    expect(mismatched).toEqual([]);
    // Another target size (the photo model's input) goes through the same tables.
    const rgb = image(57, 40, 'noise', rand);
    expect(cubicEnlarge(rgb, 57, 40, { width: 320, height: 320 }).equals(await sharpResize(rgb, 57, 40, { width: 320, height: 320 }))).toBe(true);
  });

  it('gives a live crop the pixels that training decodes from the same crop saved as PNG', async () => {
    const rand = lcg(7);
    for (const side of [36, 90, 150]) {
      const rgb = image(side, side, 'noise', rand);
      const live = await resizeRgb(rgb, side, side, { width: 224, height: 224 });
      const trained = await decodeImage(await encodePng(rgb, side, side), 224, 224);
      expect(live.equals(trained.rgb)).toBe(true);
    }
  });

  it('leaves reductions and one-axis stretches to sharp, and refuses them itself', async () => {
    expect(canCubicEnlarge(300, 300, { width: 224, height: 224 })).toBe(false);
    expect(canCubicEnlarge(224, 100, { width: 224, height: 224 })).toBe(false);
    expect(canCubicEnlarge(100, 100, { width: 224, height: 224 })).toBe(true);
    expect(() => cubicEnlarge(Buffer.alloc(300 * 300 * 3), 300, 300, { width: 224, height: 224 })).toThrow(RangeError);
    expect(() => cubicEnlarge(Buffer.alloc(10), 40, 40, { width: 224, height: 224 })).toThrow(/expected 4800 RGB bytes/);
    const rand = lcg(11);
    for (const [w, h] of [[300, 300], [224, 100], [400, 90]] as const) {
      const rgb = image(w, h, 'noise', rand);
      expect((await resizeRgb(rgb, w, h, { width: 224, height: 224 })).equals(await sharpResize(rgb, w, h, { width: 224, height: 224 }))).toBe(true);
    }
  });
});
