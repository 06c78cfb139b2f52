import * as tf from '@tensorflow/tfjs';
import type { ModelInput } from '../../core/model/manifest.js';
import type { Batch, BatchSource } from '../fit/batch.js';
import type { Rng } from '../tfjs/seeded-random.js';
import { augmentImages, type AugmentOptions } from './augment.js';
import type { ImageSet } from './image-set.js';
import { normaliseImages } from './normalise.js';

function pixelsOf(set: ImageSet, rows: ArrayLike<number>): tf.Tensor4D {
  const frame = set.size * set.size * 3;
  const values = new Float32Array(rows.length * frame);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const src = set.pixels.subarray(row * frame, (row + 1) * frame);
    for (let j = 0; j < frame; j++) values[i * frame + j] = src[j];
  }
  return tf.tensor4d(values, [rows.length, set.size, set.size, 3]);
}

function* batchesOf(set: ImageSet, order: number[], batchSize: number, spec: ModelInput, augment: { rng: Rng; options: AugmentOptions } | undefined): Generator<Batch> {
  for (let start = 0; start < order.length; start += batchSize) {
    const rows = order.slice(start, start + batchSize);
    const xs = tf.tidy(() => {
      const raw = pixelsOf(set, rows);
      return normaliseImages(augment ? augmentImages(raw, augment.rng, augment.options) : raw, spec);
    });
    yield { xs, labels: Int32Array.from(rows, (r) => set.labels[r]) };
  }
}

/** Mini-batches of decoded images, shuffled and (optionally) augmented per epoch from the epoch's generator. */
export function imageBatches(train: ImageSet, validation: ImageSet | undefined, spec: ModelInput, batchSize: number, augment: AugmentOptions | false): BatchSource {
  const all = (set: ImageSet) => Array.from({ length: set.labels.length }, (_, i) => i);
  return {
    trainSize: train.labels.length,
    batchSize,
    trainLabels: train.labels,
    async *train(_epoch, rng) {
      yield* batchesOf(train, rng.shuffle(all(train)), batchSize, spec, augment ? { rng, options: augment } : undefined);
    },
    ...(validation && validation.labels.length > 0
      ? {
          async *validation() {
            yield* batchesOf(validation, all(validation), batchSize, spec, undefined);
          },
        }
      : {}),
  };
}
