import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initTfBackend } from '../../../trainer/tfjs/backend.js';
import { WASM_TRAINING_KERNELS, registerWasmTrainingKernels } from '../../../trainer/tfjs/wasm-kernels.js';
import { createRng } from '../../../trainer/tfjs/seeded-random.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid';

function randomValues(shape: number[], seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/** Gradients of sum(w ⊙ op(x, f)) wrt x and f, on the named backend, as plain arrays. */
async function gradsOn(
  backend: 'wasm' | 'cpu',
  op: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D,
  xShape: Shape4, fShape: Shape4, seed: number,
): Promise<{ dx: Float32Array; df: Float32Array }> {
  await tf.setBackend(backend);
  const x = tf.tensor4d(randomValues(xShape, seed), xShape);
  const f = tf.tensor4d(randomValues(fShape, seed + 1), fShape);
  const outShape = op(x, f).shape;
  // A random weighting makes dy non-uniform, so an index mix-up in the kernel cannot cancel out.
  const w = tf.tensor(randomValues(outShape, seed + 2), outShape);
  const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) => op(a as tf.Tensor4D, b as tf.Tensor4D).mul(w).sum())([x, f]);
  const result = { dx: (await dx.data()) as Float32Array, df: (await df.data()) as Float32Array };
  tf.dispose([x, f, w, dx, df]);
  return result;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/**
 * Max abs difference <= 1e-4; for a large reduction (`relative`), <= 1e-5 of the largest gradient,
 * since float32 sums over thousands of terms differ by more than 1e-4 in any two summation orders.
 */
async function compare(op: (x: tf.Tensor4D, f: tf.Tensor4D) => tf.Tensor4D, xShape: Shape4, fShape: Shape4, seed: number, relative = false): Promise<void> {
  const onWasm = await gradsOn('wasm', op, xShape, fShape, seed);
  const onCpu = await gradsOn('cpu', op, xShape, fShape, seed);
  const bound = (ref: Float32Array): number => (relative ? 1e-5 * Math.max(...ref.map(Math.abs)) : 1e-4);
  expect(maxAbsDiff(onWasm.df, onCpu.df)).toBeLessThanOrEqual(bound(onCpu.df));
  expect(maxAbsDiff(onWasm.dx, onCpu.dx)).toBeLessThanOrEqual(bound(onCpu.dx));
  // Guard against both sides being trivially zero.
  expect(Math.max(...onCpu.df.map(Math.abs))).toBeGreaterThan(0.1);
}

describe('wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    const chosen = await initTfBackend('wasm');
    expect(chosen.name).toBe('wasm');
  });

  it('registers the convolution gradient kernels for wasm, leaving the cpu ones alone', () => {
    expect(WASM_TRAINING_KERNELS).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput']);
    for (const name of WASM_TRAINING_KERNELS) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
      expect(tf.getKernel(name, 'cpu')?.kernelFunc).not.toBe(tf.getKernel(name, 'wasm')?.kernelFunc);
    }
    // A second registration (a second initTfBackend) changes nothing.
    expect(registerWasmTrainingKernels()).toEqual([]);
  });

  const convCases: Array<{ x: Shape4; f: Shape4; stride: number | [number, number]; pad: Pad }> = [
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
    { x: [2, 9, 9, 3], f: [3, 3, 3, 4], stride: 2, pad: 'same' },
    { x: [3, 10, 10, 4], f: [3, 3, 4, 5], stride: 2, pad: 'valid' },
    { x: [2, 8, 11, 5], f: [2, 3, 5, 6], stride: [2, 1], pad: 'same' },
    { x: [2, 12, 12, 3], f: [5, 5, 3, 2], stride: 1, pad: 'valid' },
    { x: [2, 7, 7, 8], f: [1, 1, 8, 4], stride: 1, pad: 'same' },
    { x: [1, 13, 13, 2], f: [3, 3, 2, 3], stride: 3, pad: 'same' },
  ];
  for (const [i, c] of convCases.entries()) {
    it(`conv2d x${c.x.join('x')} f${c.f.join('x')} stride ${String(c.stride)} ${c.pad}`, async () => {
      await compare((x, f) => tf.conv2d(x, f, c.stride, c.pad), c.x, c.f, 100 + i * 10);
    });
  }

  const depthwiseCases: Array<{ x: Shape4; f: Shape4; stride: number; pad: Pad }> = [
    { x: [2, 9, 9, 4], f: [3, 3, 4, 1], stride: 1, pad: 'same' },
    { x: [2, 9, 9, 4], f: [3, 3, 4, 1], stride: 2, pad: 'same' },
    { x: [2, 10, 10, 3], f: [3, 3, 3, 2], stride: 1, pad: 'valid' },
    { x: [2, 11, 11, 3], f: [3, 3, 3, 2], stride: 2, pad: 'valid' },
    { x: [1, 8, 8, 6], f: [5, 5, 6, 1], stride: 1, pad: 'same' },
    { x: [2, 12, 12, 2], f: [3, 3, 2, 3], stride: 2, pad: 'same' },
  ];
  for (const [i, c] of depthwiseCases.entries()) {
    it(`depthwiseConv2d x${c.x.join('x')} f${c.f.join('x')} stride ${c.stride} ${c.pad}`, async () => {
      await compare((x, f) => tf.depthwiseConv2d(x, f, c.stride, c.pad), c.x, c.f, 500 + i * 10);
    });
  }

  it('conv2d x4x32x32x8 f3x3x8x16 (4,096-term sums) within 1e-5 relative', async () => {
    await compare((x, f) => tf.conv2d(x, f, 1, 'same'), [4, 32, 32, 8], [3, 3, 8, 16], 950, true);
  });

  it('leaves no tensors behind after a gradient', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 3, 2]) as tf.Tensor4D;
    const d = tf.randomNormal([3, 3, 2, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.depthwiseConv2d(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), c as tf.Tensor4D, 1, 'same').sum())([x, f, d]);
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([x, f, d, ...grads]);
  });
});
