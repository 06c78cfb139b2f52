import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fitCropHead, fitCropHeads, predictRows, predictRowsMean } from '../../../trainer/track/heads.js';
import { exportHeadEnsemble } from '../../../trainer/transfer/export-head-ensemble.js';
import { embeddedPhotos, runOnPhotos, sharedPhotosPresent } from '../../support/embedded-photos.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!sharedPhotosPresent)('an ensemble of crop heads', () => {
  it('one head is the single-head fit; several are seeded apart, and the exported graph computes their mean in onnxruntime', async () => {
    const { backbone, files, features } = await embeddedPhotos(5);
    const set = { features, labels: Int32Array.from(files, (f) => (f.label === 'bird' ? 0 : 1)) };
    const fit = { epochs: 2, learningRate: 1e-3, batchSize: 4, seed: 11 };
    const dim = backbone.featureDim;

    const [alone] = await fitCropHeads(set, dim, 2, 1, () => fit);
    const { model: single } = await fitCropHead(set, dim, 2, fit);
    expect(Array.from(predictRows(alone, features, dim))).toEqual(Array.from(predictRows(single, features, dim)));
    alone.dispose();
    single.dispose();

    const asked: number[] = [];
    const heads = await fitCropHeads(set, dim, 2, 3, (k) => (asked.push(k), fit));
    try {
      expect(asked).toEqual([0, 1, 2]);
      const each = heads.map((h) => predictRows(h, features, dim));
      expect(Math.max(...each[0].map((v, i) => Math.abs(v - each[2][i])))).toBeGreaterThan(1e-4);
      const mean = predictRowsMean(heads, features, dim);
      for (let i = 0; i < mean.length; i++) expect(mean[i]).toBeCloseTo((each[0][i] + each[1][i] + each[2][i]) / 3, 6);

      const exported = await exportHeadEnsemble(backbone, heads, ['bird', 'drone'], { prefix: 'sw_head', what: 'crop model' });
      const { data: got } = await runOnPhotos(exported.onnx, exported.outputName, backbone, files);
      expect(got).toHaveLength(mean.length);
      expect(Math.max(...mean.map((v, i) => Math.abs(v - got[i])))).toBeLessThanOrEqual(1e-4);
    } finally {
      for (const h of heads) h.dispose();
    }
  }, 120_000);
});
