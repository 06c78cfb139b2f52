import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageToTensor } from '../../../inference/preprocess.js';
import { buildModel, GraphBuilder } from '../../../trainer/onnx/graph-builder.js';
import { DataType } from '../../../trainer/onnx/onnx-proto.js';
import { loadBackbone } from '../../../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../../../trainer/transfer/embeddings.js';
import { exportTransferModel } from '../../../trainer/transfer/export-transfer.js';
import { createHead } from '../../../trainer/transfer/head.js';

const SQUEEZENET = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const IMAGES = path.resolve('../shared/data/images/valid');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A tiny float32 "ImageNet classifier": conv, relu, pool, flatten, Gemm to 10 classes, softmax. */
function tinyClassifier(file: string): void {
  const b = new GraphBuilder({ name: 'tiny' }, 't_');
  b.input('img', DataType.FLOAT, [1, 3, 16, 16]);
  let s = 3;
  const rnd = (n: number) => Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5);
  const conv = b.node('Conv', ['img', b.initializer('w', [6, 3, 3, 3], rnd(162)), b.initializer('b', [6], rnd(6))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const pooled = b.node('Flatten', [b.node('GlobalAveragePool', [b.node('Relu', [conv])])], { axis: 1 });
  const logits = b.node('Gemm', [pooled, b.initializer('fc', [10, 6], rnd(60)), b.initializer('fcb', [10], rnd(10))], { transB: 1 });
  b.node('Softmax', [logits], { axis: 1 }, 'prob');
  b.output('prob', DataType.FLOAT, [1, 10]);
  writeFileSync(file, buildModel(b.graph, 13));
}

async function headParity(backboneFile: string, images: string[], cacheDir: string): Promise<number> {
  const backbone = await loadBackbone(backboneFile);
  const emb = await computeEmbeddings(backbone, images, { cacheDir, augment: false });
  const head = createHead(backbone.featureDim, 2, { seed: 5 });
  // Non-trivial batch-norm statistics, so the exported normalisation is really checked.
  const bn = head.layers[0];
  bn.setWeights(bn.getWeights().map((w, i) => tf.randomUniform(w.shape, i === 3 ? 0.5 : -1, 2, 'float32', 7 + i)));
  const expected = (head.predict(tf.tensor2d(emb, [images.length, backbone.featureDim])) as tf.Tensor).dataSync();
  const exported = await exportTransferModel(backbone, head, ['bird', 'drone']);
  const session = await ort.InferenceSession.create(exported.onnx);
  const per = 3 * backbone.input.height * backbone.input.width;
  const batch = new Float32Array(images.length * per);
  for (const [i, f] of images.entries()) batch.set(await imageToTensor(f, backbone.input), i * per);
  const out = await session.run({ input: new ort.Tensor('float32', batch, [images.length, 3, backbone.input.height, backbone.input.width]) });
  const got = out[exported.outputName].data as Float32Array;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - got[i]));
  return worst;
}

describe('backbone surgery and transfer export', () => {
  it('cuts a float32 classifier before its Gemm and appends a head with tfjs parity', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sw-bb-'));
    const file = path.join(dir, 'tiny.onnx');
    tinyClassifier(file);
    const backbone = await loadBackbone(file, { input: { channelOrder: 'RGB', mean: [0, 0, 0], std: [255, 255, 255] } });
    expect(backbone.featureDim).toBe(6);
    const { makeImageDataset } = await import('../../support/image-dataset.js');
    const images = (await makeImageDataset(path.join(dir, 'imgs'), 3, 20)).slice(0, 5);
    expect(await headParity(file, images, dir)).toBeLessThanOrEqual(1e-4);
  });

  describe.skipIf(!existsSync(SQUEEZENET))('the shipped SqueezeNet (float16)', () => {
    it('is cut at fire9/concat_1 into 512-d features, BGR mean-subtracted input', async () => {
      const backbone = await loadBackbone(SQUEEZENET);
      expect(backbone.cutAt).toBe('fire9/concat_1');
      expect(backbone.featureDim).toBe(512);
      expect(backbone.input).toMatchObject({ channelOrder: 'BGR', mean: [104, 117, 124], height: 224, width: 224 });
    });

    it('can take features from several pooled layers: concatenated in order, cached apart from the default cut', async () => {
      const plain = await loadBackbone(SQUEEZENET);
      const taps = await loadBackbone(SQUEEZENET, { taps: [{ tensor: 'fire7/concat_1', pool: 'mean' }, { tensor: 'fire9/concat_1', pool: 'mean' }, { tensor: 'fire9/concat_1', pool: 'max' }] });
      expect(taps.featureDim).toBe(384 + 512 + 512);
      expect(taps.cutAt).toBe('mean(fire7/concat_1)+mean(fire9/concat_1)+max(fire9/concat_1)');
      expect(taps.cacheKey).not.toBe(plain.cacheKey);
      const image = path.join(IMAGES, 'drone', readdirSync(path.join(IMAGES, 'drone'))[0]);
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'sw-emb-'));
      const a = await computeEmbeddings(plain, [image], { cacheDir, augment: false });
      const b = await computeEmbeddings(taps, [image], { cacheDir, augment: false });
      expect(b).toHaveLength(1408);
      // The second tap is the default cut's mean-pooled fire9; max pooling is never below the mean.
      for (let k = 0; k < 512; k++) {
        expect(b[384 + k]).toBeCloseTo(a[k], 4);
        expect(b[896 + k]).toBeGreaterThanOrEqual(b[384 + k] - 1e-3);
      }
      await expect(loadBackbone(SQUEEZENET, { taps: [{ tensor: 'no/such', pool: 'mean' }] })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
      // A backbone without the named layers (another network) keeps its default cut when asked to.
      expect((await loadBackbone(SQUEEZENET, { taps: [{ tensor: 'no/such', pool: 'mean' }], tapsIfPresent: true })).cutAt).toBe('fire9/concat_1');
    });

    it('gives the same probabilities through tfjs (head on embeddings) and onnxruntime (one file)', async () => {
      const images = ['bird', 'drone'].flatMap((l) => readdirSync(path.join(IMAGES, l)).slice(0, 3).map((f) => path.join(IMAGES, l, f)));
      expect(await headParity(SQUEEZENET, images, mkdtempSync(path.join(tmpdir(), 'sw-emb-')))).toBeLessThanOrEqual(1e-4);
    });

    it('caches embeddings by content, and augmented copies differ from plain ones', async () => {
      const backbone = await loadBackbone(SQUEEZENET);
      const cacheDir = mkdtempSync(path.join(tmpdir(), 'sw-emb-'));
      const images = readdirSync(path.join(IMAGES, 'drone')).slice(0, 4).map((f) => path.join(IMAGES, 'drone', f));
      const first = await computeEmbeddings(backbone, images, { cacheDir, augment: false });
      let progress = 0;
      const second = await computeEmbeddings(backbone, images, { cacheDir, augment: false, onProgress: (d) => (progress = d) });
      expect(second).toEqual(first);
      expect(progress).toBe(4);
      expect(readdirSync(path.join(cacheDir, 'embeddings', backbone.sha256.slice(0, 16), 'plain'))).toHaveLength(4);
      const augmented = await computeEmbeddings(backbone, images, { cacheDir, augment: { seed: 1 } });
      expect(augmented).not.toEqual(first);
      expect(await computeEmbeddings(backbone, images, { cacheDir, augment: { seed: 1 } })).toEqual(augmented);
      await expect(computeEmbeddings(backbone, ['/no/such.jpg'], { cacheDir, augment: false })).rejects.toMatchObject({ code: 'DATA_INVALID' });
    });
  });
});
