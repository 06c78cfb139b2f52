import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import type { FeatureSet } from './array-batches.js';

/** Per-feature mean and standard deviation of a training set. */
export interface FeatureScaling {
  mean: Float32Array;
  std: Float32Array;
}

const MIN_STD = 1e-3;

export function computeScaling(set: FeatureSet, dim: number): FeatureScaling {
  const n = set.labels.length;
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) sum[d] += set.features[i * dim + d];
  const mean = Float32Array.from(sum, (s) => s / Math.max(1, n));
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const v = set.features[i * dim + d] - mean[d];
      sq[d] += v * v;
    }
  }
  // A feature that never varies (a dead ReLU channel) keeps a floor, not a division by zero.
  const std = Float32Array.from(sq, (s) => Math.max(MIN_STD, Math.sqrt(s / Math.max(1, n))));
  return { mean, std };
}

/** (x - mean) / std per feature, as a new set. */
export function applyScaling(set: FeatureSet, scaling: FeatureScaling): FeatureSet {
  const dim = scaling.mean.length;
  const features = new Float32Array(set.features.length);
  for (let i = 0; i < features.length; i++) {
    const d = i % dim;
    features[i] = (set.features[i] - scaling.mean[d]) / scaling.std[d];
  }
  return { features, labels: set.labels };
}

/**
 * Moves the scaling into the model's first Dense layer (kernel W[d,u] / std[d], bias
 * b[u] - sum_d W[d,u] mean[d] / std[d]), so the trained head takes raw features and the exported
 * model needs no extra node. Layers before it must be identity at inference (Dropout, InputLayer).
 */
export function foldScalingIntoFirstDense(model: tf.LayersModel, scaling: FeatureScaling): void {
  const first = model.layers.find((l) => l.getWeights().length > 0);
  if (!first || first.getClassName() !== 'Dense') throw new SkywatchError('INTERNAL', `feature scaling can only fold into a Dense first layer, found ${first?.getClassName() ?? 'none'}`);
  const before = model.layers.slice(0, model.layers.indexOf(first)).filter((l) => !['Dropout', 'InputLayer'].includes(l.getClassName()));
  if (before.length > 0) throw new SkywatchError('INTERNAL', `layers before the first Dense change features: ${before.map((l) => l.getClassName()).join(', ')}`);
  const [kernel, bias] = first.getWeights();
  const folded = tf.tidy(() => {
    const inv = tf.div(1, tf.tensor1d(scaling.std)).reshape([-1, 1]);
    const w = tf.mul(kernel, inv);
    const shift = tf.matMul(tf.tensor2d(scaling.mean, [1, scaling.mean.length]), w).reshape([-1]);
    return bias ? [w, tf.sub(bias, shift)] : [w];
  });
  if (!bias) {
    tf.dispose(folded);
    throw new SkywatchError('INTERNAL', 'the first Dense layer has no bias to absorb the mean');
  }
  first.setWeights(folded);
  tf.dispose(folded);
}
