import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../tfjs/seeded-random.js';

/** One mini-batch: model inputs and the label index of each example. */
export interface Batch {
  xs: tf.Tensor;
  labels: Int32Array;
}

/**
 * Where the training loop gets its examples. `train` is called once per epoch with that epoch's
 * generator (shuffles and augmentation draw from it, so a seed reproduces a run); the loop disposes
 * every batch's `xs` after using it.
 */
export interface BatchSource {
  /** Training examples per epoch. */
  trainSize: number;
  /** Examples per training batch (the last may be smaller). */
  batchSize: number;
  train(epoch: number, rng: Rng): AsyncIterable<Batch>;
  /** Held-out batches, the same every call (no augmentation). */
  validation?(): AsyncIterable<Batch>;
  /** Label index of every training example, for class weights. */
  trainLabels: Int32Array;
}
