import { describe, expect, it } from 'vitest';
import type { ModelInput } from '../../core/model/manifest.js';
import { rgbToTensor } from '../../inference/preprocess.js';

/** The TypeScript loop the WebAssembly pass replaced: three strided passes, float64 arithmetic stored as float32. */
function reference(rgb: Uint8Array, spec: ModelInput, out: Float32Array, offset: number): void {
  const plane = spec.width * spec.height;
  const order = spec.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let c = 0; c < 3; c++) {
    const inv = 1 / spec.std[c];
    for (let i = 0; i < plane; i++) out[offset + c * plane + i] = (rgb[i * 3 + order[c]] - spec.mean[c]) * inv;
  }
}

function spec(channelOrder: 'RGB' | 'BGR', width: number, height: number): ModelInput {
  return { name: 'input', width, height, channelOrder, mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], layout: 'NCHW' } as ModelInput;
}

describe('rgbToTensor', () => {
  it('writes the planes of the TypeScript loop bit for bit, in either channel order, at an offset in a batch', () => {
    let seed = 3;
    for (const [order, w, h] of [['RGB', 224, 224], ['BGR', 17, 5]] as const) {
      const s = spec(order, w, h);
      const rgb = Uint8Array.from({ length: w * h * 3 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
      // Every byte value in every channel, so every table entry is compared.
      for (let v = 0; v < Math.min(256, w * h); v++) rgb.fill(v, v * 3, v * 3 + 3);
      const floats = w * h * 3;
      const got = new Float32Array(2 * floats + 7).fill(-99);
      const want = new Float32Array(2 * floats + 7).fill(-99);
      rgbToTensor(rgb, s, got, floats + 7);
      reference(rgb, s, want, floats + 7);
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      // Nothing before the offset was touched.
      expect(got.subarray(0, floats + 7).every((x) => x === -99)).toBe(true);
      const fresh = rgbToTensor(rgb, s);
      expect(Buffer.from(fresh.buffer).equals(Buffer.from(want.buffer, (floats + 7) * 4, floats * 4))).toBe(true);
    }
  });

  it('refuses pixels of the wrong size and a tensor too small for them', () => {
    const s = spec('RGB', 4, 4);
    expect(() => rgbToTensor(new Uint8Array(10), s)).toThrow(/expected 48 RGB bytes/);
    expect(() => rgbToTensor(new Uint8Array(48), s, new Float32Array(40))).toThrow(/needed/);
  });
});
