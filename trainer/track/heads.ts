import * as tf from '@tensorflow/tfjs';
import { arrayBatches, type FeatureSet } from '../fit/array-batches.js';
import { applyScaling, computeScaling, foldScalingIntoFirstDense } from '../fit/feature-scaling.js';
import type { EpochRecord } from '../fit/epoch-record.js';
import { fitModel, type FitResult } from '../fit/fit-model.js';
import type { ProgressReporter } from '../fit/progress.js';
import { deriveSeed } from '../tfjs/seeded-random.js';
import { createHead, TRANSFER_HEAD } from '../transfer/head.js';

export interface HeadFit {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
  /** After every epoch (the run record's curves). */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Every step (the profiler's step clock); closed at the end of the fit. */
  progress?: ProgressReporter;
}

const fitOptions = (fit: HeadFit) => ({ epochs: fit.epochs, learningRate: fit.learningRate, patience: 0, seed: fit.seed, signal: fit.signal, onEpoch: fit.onEpoch, progress: fit.progress });

/** The crop head's shape and regularisation (absent: the transfer head's, TRANSFER_HEAD). */
export interface CropHeadFit extends HeadFit {
  hidden?: number;
  dropout?: number;
  l2?: number;
}

/** Crop classifier on backbone embeddings: the transfer head (batch norm, one hidden layer, softmax). */
export async function fitCropHead(set: FeatureSet, dim: number, labels: number, fit: CropHeadFit): Promise<{ model: tf.LayersModel; fit: FitResult }> {
  const model = createHead(dim, labels, { seed: fit.seed, hidden: fit.hidden ?? TRANSFER_HEAD.hidden, dropout: fit.dropout ?? TRANSFER_HEAD.dropout, l2: fit.l2 });
  const result = await fitModel(model, arrayBatches(set, undefined, [dim], fit.batchSize), fitOptions(fit));
  return { model, fit: result };
}

/**
 * `count` crop heads on the same set, each with its own seed (the first with the fit's, so one head is
 * exactly the single-head fit; `fitFor(k)` is called before head k is trained), for averaging: a single head's scores move with its seed by as much as
 * the differences the alert threshold decides on.
 */
export async function fitCropHeads(set: FeatureSet, dim: number, labels: number, count: number, fitFor: (k: number) => CropHeadFit): Promise<tf.LayersModel[]> {
  const heads: tf.LayersModel[] = [];
  try {
    for (let k = 0; k < Math.max(1, count); k++) {
      const fit = fitFor(k);
      heads.push((await fitCropHead(set, dim, labels, { ...fit, seed: k === 0 ? fit.seed : deriveSeed(fit.seed, `crop-head-${k}`) })).model);
    }
    return heads;
  } catch (err) {
    for (const h of heads) h.dispose();
    throw err;
  }
}

/** Row-major probabilities of several heads, averaged (what their exported ensemble computes). */
export function predictRowsMean(heads: readonly tf.LayersModel[], rows: Float32Array, dim: number): Float32Array {
  if (heads.length === 1) return predictRows(heads[0], rows, dim);
  const sum = predictRows(heads[0], rows, dim);
  for (const h of heads.slice(1)) {
    const p = predictRows(h, rows, dim);
    for (let i = 0; i < sum.length; i++) sum[i] += p[i];
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= heads.length;
  return sum;
}

/**
 * Track model on track features: standardised inputs (folded into the first Dense layer afterwards, so
 * the exported model takes raw features), a small hidden layer, softmax over the track labels.
 */
export async function fitTrackHead(set: FeatureSet, dim: number, labels: number, fit: HeadFit): Promise<{ model: tf.LayersModel; fit: FitResult }> {
  const model = tf.sequential({ name: 'track_model' });
  model.add(tf.layers.dense({ inputShape: [dim], name: 'track_hidden', units: 32, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: deriveSeed(fit.seed, 'track_hidden') }), kernelRegularizer: tf.regularizers.l2({ l2: 1e-3 }) }));
  model.add(tf.layers.dropout({ name: 'track_dropout', rate: 0.2, seed: deriveSeed(fit.seed, 'track_dropout') }));
  model.add(tf.layers.dense({ name: 'track_classifier', units: labels, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(fit.seed, 'track_classifier') }) }));
  const scaling = computeScaling(set, dim);
  const result = await fitModel(model, arrayBatches(applyScaling(set, scaling), undefined, [dim], fit.batchSize), fitOptions(fit));
  foldScalingIntoFirstDense(model, scaling);
  return { model, fit: result };
}

/** Row-major probabilities of a model on row-major inputs. */
export function predictRows(model: tf.LayersModel, rows: Float32Array, dim: number): Float32Array {
  const n = rows.length / dim;
  if (n === 0) return new Float32Array(0);
  return tf.tidy(() => (model.predict(tf.tensor2d(rows, [n, dim])) as tf.Tensor).dataSync() as Float32Array).slice();
}
