import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportPhotoModel } from '../../../trainer/photo/export-photo-model.js';
import { trainPhotoHeads } from '../../../trainer/photo/train-photo-heads.js';
import { DEFAULT_PHOTO_GATE, trainPhotoGate } from '../../../trainer/photo/train-photo-gate.js';
import { embeddedPhotos, runOnPhotos, sharedPhotosPresent } from '../../support/embedded-photos.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!sharedPhotosPresent)('the photo model', () => {
  it('is the backbone with its heads averaged: onnxruntime gives the mean of the tfjs heads on the same images', async () => {
    const { backbone, files, features } = await embeddedPhotos(6);
    const settings = { heads: 3, hidden: 16, dropout: 0.5, epochs: 2, learningRate: 1e-3, batchSize: 4 };
    const { labels, heads } = await trainPhotoHeads(features, files.map((f) => f.label), backbone.featureDim, settings, { seed: 4 });
    try {
      expect(labels).toEqual(['bird', 'drone']);
      expect(heads).toHaveLength(3);
      // Seeded per head: the heads differ, so the average is a real average.
      const each = heads.map((h) => (h.predict(tf.tensor2d(features, [files.length, backbone.featureDim])) as tf.Tensor).dataSync() as Float32Array);
      expect(Math.max(...each[0].map((v, i) => Math.abs(v - each[1][i])))).toBeGreaterThan(1e-4);
      const expected = each[0].map((_v, i) => each.reduce((sum, p) => sum + p[i], 0) / each.length);

      const exported = await exportPhotoModel(backbone, heads, labels);
      const { data: got } = await runOnPhotos(exported.onnx, exported.outputName, backbone, files);
      expect(got).toHaveLength(files.length * 2);
      expect(Math.max(...expected.map((v, i) => Math.abs(v - got[i])))).toBeLessThanOrEqual(1e-4);

      // With a gate: one more column, the gate's P(photograph), after the heads' mean. Any two sets of
      // rows train it here (the birds as "photographs", the drones as "crops").
      const dim = backbone.featureDim;
      const birds = features.slice(0, 6 * dim);
      const drones = features.slice(6 * dim);
      const gate = await trainPhotoGate(birds, drones, dim, { ...DEFAULT_PHOTO_GATE, epochs: 2 }, { seed: 4 });
      try {
        const gated = await exportPhotoModel(backbone, heads, labels, gate);
        const { data: got2, dims } = await runOnPhotos(gated.onnx, gated.outputName, backbone, files);
        expect(dims).toEqual([files.length, 3]);
        const g = (gate.predict(tf.tensor2d(features, [files.length, dim])) as tf.Tensor).dataSync() as Float32Array;
        let worst2 = 0;
        for (let i = 0; i < files.length; i++) {
          worst2 = Math.max(worst2, Math.abs(got2[i * 3] - expected[i * 2]), Math.abs(got2[i * 3 + 1] - expected[i * 2 + 1]), Math.abs(got2[i * 3 + 2] - g[i * 2 + 1]));
        }
        expect(worst2).toBeLessThanOrEqual(1e-4);
      } finally {
        gate.dispose();
      }
    } finally {
      for (const h of heads) h.dispose();
    }
  }, 120_000);

  it('a gate needs rows on both sides', async () => {
    const err = await trainPhotoGate(new Float32Array(4), new Float32Array(0), 2, DEFAULT_PHOTO_GATE, { seed: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_INVALID' });
  });

  it('needs photographs of two labels', async () => {
    const err = await trainPhotoHeads(new Float32Array(4), ['drone', 'drone'], 2, { heads: 1, hidden: 4, dropout: 0, epochs: 1, learningRate: 1e-3, batchSize: 2 }, { seed: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATA_INVALID' });
  });
});
