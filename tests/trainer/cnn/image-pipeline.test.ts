import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initTfBackend } from '../../../trainer/tfjs/backend.js';
import { createRng } from '../../../trainer/tfjs/seeded-random.js';
import { augmentImages } from '../../../trainer/cnn/augment.js';
import { cnnInputSpec, normaliseImages } from '../../../trainer/cnn/normalise.js';
import { decodeImageSet } from '../../../trainer/cnn/image-set.js';
import { imageBatches } from '../../../trainer/cnn/image-batches.js';
import { createCompactCnn } from '../../../trainer/cnn/compact-cnn.js';
import { decodeImage, rgbToTensor } from '../../../inference/preprocess.js';
import { writeShapeDataset } from './synthetic-images.js';

let dir: string;
let files: Record<string, string[]>;
beforeAll(async () => {
  await initTfBackend('wasm');
  dir = await mkdtemp(path.join(os.tmpdir(), 'skywatch-cnn-'));
  files = await writeShapeDataset(dir, 6, 1, 48);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('image pipeline', () => {
  it('decodes every readable file once at the model size and lists the unreadable ones', async () => {
    const broken = path.join(dir, 'broken.jpg');
    await writeFile(broken, 'not a jpeg');
    const list = [...files.disc.map((p) => ({ path: p, label: 0 })), { path: broken, label: 1 }, ...files.bar.map((p) => ({ path: p, label: 1 }))];
    const progress: number[] = [];
    const set = await decodeImageSet(list, 32, { onProgress: (done) => progress.push(done) });
    expect(set.labels.length).toBe(12);
    expect(set.pixels.length).toBe(12 * 32 * 32 * 3);
    expect(set.skipped).toEqual([{ path: broken, reason: expect.stringMatching(/not a readable image/) }]);
    expect(progress.at(-1)).toBe(13);
    expect(Array.from(set.labels)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const direct = await decodeImage(files.bar[0], 32, 32);
    expect(Buffer.from(set.pixels.subarray(6 * 3072, 7 * 3072)).equals(direct.rgb)).toBe(true);
  });

  it('normalises exactly as inference does (NHWC here, NCHW there)', async () => {
    const spec = cnnInputSpec(32);
    const { rgb } = await decodeImage(files.disc[0], 32, 32);
    const nchw = rgbToTensor(rgb, spec);
    const nhwc = normaliseImages(tf.tensor4d(Float32Array.from(rgb), [1, 32, 32, 3]), spec).dataSync();
    let max = 0;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 1024; i++) max = Math.max(max, Math.abs(nchw[c * 1024 + i] - nhwc[i * 3 + c]));
    expect(max).toBeLessThan(1e-6);
    const bgr = normaliseImages(tf.tensor4d(Float32Array.from(rgb), [1, 32, 32, 3]), { ...spec, channelOrder: 'BGR', mean: [1, 2, 3] }).dataSync();
    expect(bgr[0]).toBeCloseTo((rgb[2] - 1) / 127.5, 5);
  });

  it('flips with a mirrored crop box, and the same generator seed gives the same augmentation', () => {
    const images = tf.tidy(() => tf.randomUniform([16, 8, 8, 3], 0, 255, 'float32', 3) as tf.Tensor4D);
    const flipOnly = { flip: true, minScale: 1, brightness: 0 };
    const out = augmentImages(images, createRng(5), flipOnly).arraySync();
    const original = images.arraySync();
    const mirrored = tf.reverse(images, 2).arraySync();
    const close = (a: number[][][], b: number[][][]) => a.flat(2).every((v, i) => Math.abs(v - b.flat(2)[i]) < 1e-3);
    const kinds = out.map((img, i) => (close(img, original[i]) ? 'same' : close(img, mirrored[i]) ? 'mirrored' : 'other'));
    expect(kinds).not.toContain('other');
    expect(new Set(kinds)).toEqual(new Set(['same', 'mirrored']));

    const a = augmentImages(images, createRng(9)).dataSync();
    const b = augmentImages(images, createRng(9)).dataSync();
    const c = augmentImages(images, createRng(10)).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(255);
  });

  it('batches shuffle per epoch and leave validation batches unaugmented and in order', async () => {
    const list = [...files.disc.map((p) => ({ path: p, label: 0 })), ...files.bar.map((p) => ({ path: p, label: 1 }))];
    const set = await decodeImageSet(list, 16);
    const source = imageBatches(set, set, cnnInputSpec(16), 5, { flip: true, minScale: 0.8, brightness: 0.1 });
    const labelsOf = async (it: AsyncIterable<{ xs: tf.Tensor; labels: Int32Array }>) => {
      const out: number[][] = [];
      for await (const b of it) {
        expect(b.xs.shape.slice(1)).toEqual([16, 16, 3]);
        out.push(Array.from(b.labels));
        b.xs.dispose();
      }
      return out;
    };
    const e1 = await labelsOf(source.train(1, createRng(1)));
    const e2 = await labelsOf(source.train(2, createRng(2)));
    expect(e1.map((b) => b.length)).toEqual([5, 5, 2]);
    expect(e1.flat().sort()).toEqual(Array.from(set.labels).sort());
    expect(e1).not.toEqual(e2);
    expect((await labelsOf(source.validation!())).flat()).toEqual(Array.from(set.labels));
  });
});

describe('compact CNN', () => {
  it('uses only layers the ONNX exporter knows, seeded: same seed same weights', () => {
    const a = createCompactCnn({ imageSize: 32, labels: 3, seed: 1, separable: true });
    const b = createCompactCnn({ imageSize: 32, labels: 3, seed: 1, separable: true });
    const known = new Set(['Conv2D', 'DepthwiseConv2D', 'BatchNormalization', 'ReLU', 'MaxPooling2D', 'GlobalAveragePooling2D', 'Dropout', 'Dense']);
    expect(a.layers.map((l) => l.getClassName()).filter((n) => !known.has(n))).toEqual([]);
    expect(a.outputs[0].shape).toEqual([null, 3]);
    expect(a.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(b.getWeights().map((w) => Array.from(w.dataSync())));
    expect(a.countParams()).toBeLessThan(60_000);
    a.dispose();
    b.dispose();
  });

  it('refuses an input too small for its pooling blocks', () => {
    expect(() => createCompactCnn({ imageSize: 8, labels: 2, seed: 1 })).toThrow(/too small/);
  });
});
