import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initTfBackend } from '../../../trainer/tfjs/backend.js';
import { applyScaling, computeScaling, foldScalingIntoFirstDense } from '../../../trainer/fit/feature-scaling.js';
import { createRng } from '../../../trainer/tfjs/seeded-random.js';

beforeAll(async () => {
  await initTfBackend('wasm');
});

function randomSet(n: number, dim: number, seed: number) {
  const rng = createRng(seed);
  const features = Float32Array.from({ length: n * dim }, (_, i) => 3 + (i % dim) * 2 + rng.normal() * (1 + (i % dim)));
  return { features, labels: new Int32Array(n) };
}

describe('feature scaling', () => {
  it('standardises every feature to mean 0 and deviation 1, with a floor for constant features', () => {
    const set = randomSet(500, 4, 1);
    for (let i = 0; i < 500; i++) set.features[i * 4 + 3] = 7;
    const scaling = computeScaling(set, 4);
    const scaled = applyScaling(set, scaling);
    for (let d = 0; d < 3; d++) {
      const col = Array.from({ length: 500 }, (_, i) => scaled.features[i * 4 + d]);
      const mean = col.reduce((a, b) => a + b) / 500;
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / 500)).toBeCloseTo(1, 4);
    }
    expect(scaling.std[3]).toBeCloseTo(1e-3, 8);
    expect(Math.abs(scaled.features[3])).toBeLessThan(1e-6);
  });

  it('folds into the first Dense layer: the model on raw features equals the model on scaled ones', () => {
    const dim = 6;
    const model = tf.sequential({
      layers: [
        tf.layers.dropout({ inputShape: [dim], rate: 0.3 }),
        tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) }),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      ],
    });
    const set = randomSet(40, dim, 4);
    const scaling = computeScaling(set, dim);
    const onScaled = (model.predict(tf.tensor2d(applyScaling(set, scaling).features, [40, dim])) as tf.Tensor).dataSync();
    foldScalingIntoFirstDense(model, scaling);
    const onRaw = (model.predict(tf.tensor2d(set.features, [40, dim])) as tf.Tensor).dataSync();
    let max = 0;
    for (let i = 0; i < onRaw.length; i++) max = Math.max(max, Math.abs(onRaw[i] - onScaled[i]));
    expect(max).toBeLessThan(1e-5);
    model.dispose();
  });

  it('refuses a model whose first weighted layer is not Dense', () => {
    const model = tf.sequential({ layers: [tf.layers.conv1d({ inputShape: [4, 1], filters: 2, kernelSize: 1 }), tf.layers.flatten(), tf.layers.dense({ units: 2 })] });
    expect(() => foldScalingIntoFirstDense(model, { mean: new Float32Array(4), std: new Float32Array(4).fill(1) })).toThrow(/Dense first layer/);
    model.dispose();
  });
});
