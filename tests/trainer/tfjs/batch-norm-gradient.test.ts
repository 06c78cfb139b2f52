import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { batchNormGradient, registerBatchNormGradient } from '../../../trainer/tfjs/batch-norm-gradient.js';
import { initTfBackend } from '../../../trainer/tfjs/backend.js';

/** Training-mode batch norm as tfjs-layers computes it: batch moments feed the normalisation. */
function trainingBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
}

function gradients(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, weights: tf.Tensor): Float32Array[] {
  const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => trainingBatchNorm(a, g, b).mul(weights).sum())([x, gamma, beta]);
  const out = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose(grads);
  return out;
}

describe('FusedBatchNorm gradient without Tile', () => {
  it('matches the gradient tfjs ships, for x, scale and offset, on wasm and cpu', async () => {
    const shipped = tf.getGradient('FusedBatchNorm');
    expect(shipped).not.toBe(batchNormGradient);
    await initTfBackend('wasm');
    expect(tf.getGradient('FusedBatchNorm')).toBe(batchNormGradient);
    expect(registerBatchNormGradient()).toBe(false);
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const x = tf.randomNormal([4, 6, 5, 3], 0.5, 2, 'float32', 1);
      const gamma = tf.randomUniform([3], 0.5, 1.5, 'float32', 2);
      const beta = tf.randomNormal([3], 0, 1, 'float32', 3);
      const weights = tf.randomNormal([4, 6, 5, 3], 0, 1, 'float32', 4);
      const ours = gradients(x, gamma, beta, weights);
      tf.registerGradient(shipped);
      const theirs = gradients(x, gamma, beta, weights);
      registerBatchNormGradient();
      for (let i = 0; i < ours.length; i++) {
        expect(ours[i].length).toBe(theirs[i].length);
        let max = 0;
        for (let j = 0; j < ours[i].length; j++) max = Math.max(max, Math.abs(ours[i][j] - theirs[i][j]));
        expect(max).toBeLessThanOrEqual(1e-4);
        expect(Math.max(...theirs[i].map(Math.abs))).toBeGreaterThan(0.01);
      }
      tf.dispose([x, gamma, beta, weights]);
    }
    await tf.setBackend('wasm');
  });
});
