import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { arrayBatches } from '../fit/array-batches.js';
import { fitModel } from '../fit/fit-model.js';
import { deriveSeed } from '../tfjs/seeded-random.js';
import { createHead } from '../transfer/head.js';

/**
 * How the photo model's gate is trained and used. The gate tells a photograph (a close-up, the photo
 * model's world) from a camera crop (a small object on sky, the crop model's): on a dev split of
 * images/train and the crops of held-out clips it put 98.3% of photographs and 1.2% of crops above 0.5
 * (docs/BENCHMARKS.md, issue 11).
 */
export interface PhotoGateSettings {
  hidden: number;
  dropout: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  /**
   * On a photograph, the crop model's labels that the photo model does not know (airplane, helicopter,
   * other) keep their probabilities only when together they reach this; below it the photo model
   * answers alone. The crop model learnt those labels from small objects on sky, and a bird on grey sky
   * or pigeons on a railing looked like them to it.
   */
  keepCropAbove: number;
}

export const DEFAULT_PHOTO_GATE: PhotoGateSettings = { hidden: 16, dropout: 0.5, epochs: 10, learningRate: 1e-3, batchSize: 64, keepCropAbove: 0.9 };

/** At most `take` of `n` rows, spread evenly over them: the crops the gate learns against as many photographs. */
export function spreadRows(n: number, take: number): number[] {
  const k = Math.min(n, take);
  return Array.from({ length: k }, (_v, i) => Math.floor((i * n) / k));
}

/**
 * A two-way head on backbone features: clip crops (class 0) against photographs (class 1). As many
 * crops as photographs are taken, spread evenly over the given crops, so neither side dominates.
 */
export async function trainPhotoGate(photos: Float32Array, crops: Float32Array, dim: number, settings: PhotoGateSettings, run: { seed: number; signal?: AbortSignal }): Promise<tf.LayersModel> {
  const nPhotos = photos.length / dim;
  const nCrops = crops.length / dim;
  if (!Number.isInteger(nPhotos) || !Number.isInteger(nCrops)) throw new SkywatchError('INTERNAL', `feature arrays of ${photos.length} and ${crops.length} values are not rows of ${dim}`);
  if (nPhotos === 0 || nCrops === 0) throw new SkywatchError('DATA_INVALID', `the photo gate needs photographs and clip crops, got ${nPhotos} and ${nCrops}`);
  const picked = spreadRows(nCrops, nPhotos);
  const take = picked.length;
  const features = new Float32Array((nPhotos + take) * dim);
  features.set(photos);
  picked.forEach((r, k) => features.set(crops.subarray(r * dim, (r + 1) * dim), (nPhotos + k) * dim));
  const labels = Int32Array.from({ length: nPhotos + take }, (_v, i) => (i < nPhotos ? 1 : 0));
  const seed = deriveSeed(run.seed, 'photo-gate');
  const gate = createHead(dim, 2, { seed, hidden: settings.hidden, dropout: settings.dropout });
  try {
    await fitModel(gate, arrayBatches({ features, labels }, undefined, [dim], settings.batchSize), { epochs: settings.epochs, learningRate: settings.learningRate, patience: 0, seed, signal: run.signal });
    return gate;
  } catch (err) {
    gate.dispose();
    throw err;
  }
}
