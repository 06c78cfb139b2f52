import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildModel, GraphBuilder } from '../../../trainer/onnx/graph-builder.js';
import { DataType, decodeModel } from '../../../trainer/onnx/onnx-proto.js';
import { loadBackbone, type Backbone } from '../../../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../../../trainer/transfer/embeddings.js';
import { quantiseBackbone } from '../../../trainer/transfer/quantise-backbone.js';

const SQUEEZENET = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const IMAGES = path.resolve('../shared/data/images/valid');

/** A small float32 classifier: two conv + relu layers, a global pool and a Gemm. */
function smallClassifier(file: string): void {
  const b = new GraphBuilder({ name: 'small' }, 's_');
  b.input('img', DataType.FLOAT, [1, 3, 32, 32]);
  let seed = 11;
  const rnd = (n: number) => Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5);
  const c1 = b.node('Relu', [b.node('Conv', ['img', b.initializer('w1', [8, 3, 3, 3], rnd(216)), b.initializer('b1', [8], rnd(8))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  const c2 = b.node('Relu', [b.node('Conv', [c1, b.initializer('w2', [16, 8, 3, 3], rnd(1152)), b.initializer('b2', [16], rnd(16))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })]);
  const pooled = b.node('Flatten', [b.node('GlobalAveragePool', [c2])], { axis: 1 });
  b.node('Gemm', [pooled, b.initializer('fc', [4, 16], rnd(64)), b.initializer('fcb', [4], rnd(4))], { transB: 1 }, 'logits');
  b.output('logits', DataType.FLOAT, [1, 4]);
  writeFileSync(file, buildModel(b.graph, 13));
}

/** Smooth random images (blobs of colour), [3, h, w] in 0..1 per pixel. */
function images(count: number, size: number, seed: number): Float32Array[] {
  let s = seed;
  const rnd = () => (s = (s * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, () => {
    const img = new Float32Array(3 * size * size);
    const cx = rnd() * size;
    const cy = rnd() * size;
    for (let c = 0; c < 3; c++) {
      const tone = rnd();
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) img[c * size * size + y * size + x] = tone * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (size * 4)) + 0.1 * rnd();
    }
    return img;
  });
}

async function features(bytes: Uint8Array, inputs: readonly Float32Array[], size: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const batch = new Float32Array(inputs.length * 3 * size * size);
  inputs.forEach((x, i) => batch.set(x, i * x.length));
  const out = await session.run({ input: new ort.Tensor('float32', batch, [inputs.length, 3, size, size]) });
  const data = Float32Array.from(out.features.data as Float32Array);
  await session.release();
  return data;
}

/** The operators ONNX Runtime actually runs once it has optimised the graph. */
async function optimisedOps(bytes: Uint8Array, level: 'extended' | 'all' = 'extended'): Promise<string[]> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sw-q-')), 'optimised.onnx');
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level, optimizedModelFilePath: file });
  await session.release();
  return (decodeModel(readFileSync(file)).graph?.node ?? []).map((n) => n.opType);
}

function cosine(a: Float32Array, b: Float32Array, from: number, to: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = from; i < to; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('an 8-bit backbone', () => {
  it('runs its convolutions as integer kernels and gives features close to float on images it was not calibrated on', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-q-'));
    const file = path.join(dir, 'small.onnx');
    smallClassifier(file);
    const float = await loadBackbone(file, { input: { channelOrder: 'RGB', mean: [0, 0, 0], std: [1, 1, 1] } });
    const { model, digest } = await quantiseBackbone(float.model, { input: 'input', calibration: images(16, 32, 1), height: 32, width: 32 });
    const { encodeModel } = await import('../../../trainer/onnx/onnx-proto.js');
    const bytes = encodeModel(model);
    const ops = await optimisedOps(bytes);
    expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(2);
    expect(ops.filter((o) => o === 'Conv' || o === 'FusedConv')).toHaveLength(0);
    const test = images(6, 32, 99);
    const a = await features(float.featureModel, test, 32);
    const b = await features(bytes, test, 32);
    for (let i = 0; i < test.length; i++) expect(cosine(a, b, i * 16, (i + 1) * 16)).toBeGreaterThan(0.99);
    // Another calibration is another quantisation, named apart.
    expect((await quantiseBackbone(float.model, { input: 'input', calibration: images(16, 32, 2), height: 32, width: 32 })).digest).not.toBe(digest);
    await expect(quantiseBackbone(float.model, { input: 'input', calibration: [], height: 32, width: 32 })).rejects.toMatchObject({ code: 'DATA_INVALID' });
    await expect(quantiseBackbone(float.model, { input: 'input', calibration: [new Float32Array(10)], height: 32, width: 32 })).rejects.toMatchObject({ code: 'DATA_INVALID' });
  });

  describe.skipIf(!existsSync(SQUEEZENET))('the shipped SqueezeNet (float16), calibrated on photographs', () => {
    const files = (label: string, from: number, to: number) => readdirSync(path.join(IMAGES, label)).slice(from, to).map((f) => path.join(IMAGES, label, f));

    it('keeps its features (cosine over 0.98 on photographs it was not calibrated on), cached apart from float', async () => {
      const calibration = [...files('drone', 0, 8), ...files('bird', 0, 8)];
      const float = await loadBackbone(SQUEEZENET);
      const quantised: Backbone = await loadBackbone(SQUEEZENET, { quantise: { images: calibration } });
      expect(quantised.featureDim).toBe(512);
      expect(quantised.cacheKey).toMatch(new RegExp(`^${float.cacheKey}-q8-[0-9a-f]{12}$`));
      // As served ('all': ONNX Runtime also moves the 8-bit tensors to channels-last).
      const ops = await optimisedOps(quantised.featureModel, 'all');
      // Every convolution and every max pool runs on 8-bit tensors (a pool keeps its input's scale).
      expect(ops.filter((o) => o === 'QLinearConv')).toHaveLength(25);
      expect(ops.filter((o) => o === 'Conv' || o === 'FusedConv')).toHaveLength(0);
      expect(ops.filter((o) => o === 'MaxPool')).toHaveLength(0);
      expect(ops.filter((o) => o === 'NhwcMaxPool')).toHaveLength(3);
      const test = [...files('drone', 20, 23), ...files('bird', 20, 23)];
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'sw-q-emb-'));
      const a = await computeEmbeddings(float, test, { cacheDir, augment: false });
      const b = await computeEmbeddings(quantised, test, { cacheDir, augment: false });
      for (let i = 0; i < test.length; i++) expect(cosine(a, b, i * 512, (i + 1) * 512)).toBeGreaterThan(0.98);
      expect(readdirSync(path.join(cacheDir, 'embeddings')).sort()).toEqual([float.cacheKey, quantised.cacheKey].sort());
    });
  });
});
