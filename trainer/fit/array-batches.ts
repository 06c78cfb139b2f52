import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import type { Batch, BatchSource } from './batch.js';

export interface FeatureSet {
  /** Row-major [count, ...shape] values. */
  features: Float32Array;
  labels: Int32Array;
}

function* slices(set: FeatureSet, order: ArrayLike<number>, batchSize: number, shape: number[]): Generator<Batch> {
  const width = shape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < order.length; start += batchSize) {
    const end = Math.min(order.length, start + batchSize);
    const values = new Float32Array((end - start) * width);
    const labels = new Int32Array(end - start);
    for (let i = start; i < end; i++) {
      const row = order[i];
      values.set(set.features.subarray(row * width, (row + 1) * width), (i - start) * width);
      labels[i - start] = set.labels[row];
    }
    yield { xs: tf.tensor(values, [end - start, ...shape]), labels };
  }
}

function check(set: FeatureSet, width: number, name: string): void {
  if (set.features.length !== set.labels.length * width) {
    throw new SkywatchError('INTERNAL', `${name}: ${set.features.length} values for ${set.labels.length} rows of ${width}`);
  }
}

/**
 * Batches over examples already in memory (embeddings for transfer learning, small test problems),
 * shuffled each epoch by the epoch's generator. `trainVariants` holds augmented copies of the
 * training set (same rows, same order); each epoch draws every row from one of them at random.
 */
export function arrayBatches(train: FeatureSet | FeatureSet[], validation: FeatureSet | undefined, shape: number[], batchSize: number): BatchSource {
  const variants = Array.isArray(train) ? train : [train];
  const width = shape.reduce((a, b) => a * b, 1);
  const base = variants[0];
  variants.forEach((v, i) => check(v, width, `training variant ${i}`));
  if (validation) check(validation, width, 'validation');
  return {
    trainSize: base.labels.length,
    batchSize,
    trainLabels: base.labels,
    async *train(_epoch, rng) {
      const order = rng.shuffle(Array.from({ length: base.labels.length }, (_, i) => i));
      if (variants.length === 1) {
        yield* slices(base, order, batchSize, shape);
        return;
      }
      // Mix variants row by row: pick each row's copy, then batch as one set.
      const picked = order.map((row) => variants[rng.int(variants.length)].features.subarray(row * width, (row + 1) * width));
      const mixed: FeatureSet = { features: new Float32Array(order.length * width), labels: new Int32Array(order.length) };
      picked.forEach((values, i) => {
        mixed.features.set(values, i * width);
        mixed.labels[i] = base.labels[order[i]];
      });
      yield* slices(mixed, Array.from({ length: order.length }, (_, i) => i), batchSize, shape);
    },
    ...(validation
      ? {
          async *validation() {
            yield* slices(validation, Array.from({ length: validation.labels.length }, (_, i) => i), batchSize, shape);
          },
        }
      : {}),
  };
}
