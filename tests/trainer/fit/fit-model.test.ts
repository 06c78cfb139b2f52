import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initTfBackend } from '../../../trainer/tfjs/backend.js';
import { createRng, deriveSeed } from '../../../trainer/tfjs/seeded-random.js';
import { fitModel } from '../../../trainer/fit/fit-model.js';
import { arrayBatches, type FeatureSet } from '../../../trainer/fit/array-batches.js';
import { inverseFrequencyWeights } from '../../../trainer/fit/class-weights.js';
import { metricsLog } from '../../../trainer/fit/metrics-log.js';
import { createCompactCnn } from '../../../trainer/cnn/compact-cnn.js';
import type { ProgressReporter, StepProgress } from '../../../trainer/fit/progress.js';
import type { EpochRecord } from '../../../trainer/fit/epoch-record.js';
import { isSkywatchError } from '../../../core/errors.js';

/** Two Gaussian blobs in `dim` dimensions, centres `gap` apart along every axis. */
function blobs(count: number, dim: number, gap: number, seed: number, shuffleLabels = false): FeatureSet {
  const rng = createRng(seed);
  const features = new Float32Array(count * dim);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 2;
    labels[i] = shuffleLabels ? rng.int(2) : label;
    for (let d = 0; d < dim; d++) features[i * dim + d] = rng.normal() + (label ? gap / 2 : -gap / 2);
  }
  return { features, labels };
}

function denseModel(dim: number, seed: number, hidden = 16): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [dim], units: hidden, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'h') }) }),
      tf.layers.dropout({ rate: 0.2, seed: deriveSeed(seed, 'd') }),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'o') }) }),
    ],
  });
}

/** Tiny images: a bright square on the left (label 0) or the right (label 1), plus noise. */
function squares(count: number, size: number, seed: number): FeatureSet {
  const rng = createRng(seed);
  const features = new Float32Array(count * size * size * 3);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 2;
    const x0 = labels[i] === 0 ? 1 : size / 2 + 1;
    const y0 = rng.int(size / 2);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = x >= x0 && x < x0 + size / 2 - 2 && y >= y0 && y < y0 + size / 2;
        for (let c = 0; c < 3; c++) features[((i * size + y) * size + x) * 3 + c] = (inside ? 1 : -1) + 0.3 * rng.normal();
      }
    }
  }
  return { features, labels };
}

let dir: string;
beforeAll(async () => {
  await initTfBackend('wasm');
  dir = await mkdtemp(path.join(os.tmpdir(), 'skywatch-fit-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fitModel', () => {
  it('learns a separable problem, writes one JSON line per epoch, and leaves no tensors behind', async () => {
    const train = blobs(200, 8, 1.5, 1);
    const val = blobs(100, 8, 1.5, 2);
    const model = denseModel(8, 3);
    const before = tf.memory().numTensors;
    const file = path.join(dir, 'learns', 'metrics.jsonl');
    const result = await fitModel(model, arrayBatches(train, val, [8], 16), { epochs: 8, learningRate: 0.01, patience: 0, seed: 4, onEpoch: metricsLog(file) });
    expect(tf.memory().numTensors).toBe(before);
    const last = result.history[result.history.length - 1];
    expect(last.valAccuracy).toBeGreaterThan(0.9);
    expect(result.history[0].loss).toBeGreaterThan(last.loss);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lines[7]).toMatchObject({ loss: last.loss, valLoss: last.valLoss, steps: 13 });
    model.dispose();
  });

  it('stops early when the validation loss stops improving and restores the best weights', async () => {
    // Validation labels are coin flips: the model can only get worse on them as it fits the training set.
    const train = blobs(120, 6, 1, 5);
    const val = blobs(80, 6, 1, 6, true);
    const model = denseModel(6, 7, 64);
    const notes: string[] = [];
    const progress: ProgressReporter = { step() {}, epoch() {}, note: (t) => notes.push(t), close() {} };
    const result = await fitModel(model, arrayBatches(train, val, [6], 8), { epochs: 40, learningRate: 0.03, patience: 3, seed: 8, progress });
    expect(result.stoppedEarly).toBe(true);
    expect(result.history.length).toBe(result.bestEpoch + 3);
    expect(result.history.length).toBeLessThan(40);
    expect(notes.join('\n')).toMatch(/early stopping: valLoss has not improved for 3 epochs; keeping epoch \d+/);
    // The weights now in the model give the best epoch's validation loss, not the last epoch's.
    const restored = tf.tidy(() => {
      const probs = model.predict(tf.tensor2d(val.features, [80, 6])) as tf.Tensor;
      const w = inverseFrequencyWeights(train.labels, 2);
      const ce = tf.neg(tf.log(tf.clipByValue(tf.sum(tf.mul(probs, tf.oneHot(tf.tensor1d(val.labels, 'int32'), 2)), -1), 1e-7, 1)));
      return tf.mean(tf.mul(ce, tf.tensor1d(Array.from(val.labels, (l) => w[l])))).dataSync()[0];
    });
    expect(restored).toBeCloseTo(result.bestLoss, 4);
    expect(restored).toBeLessThan(result.history[result.history.length - 1].valLoss ?? 0);
    model.dispose();
  });

  it('gives the same history and weights for the same seed (a CNN with batch norm and dropout on wasm)', async () => {
    const train = squares(24, 16, 9);
    const val = squares(12, 16, 10);
    const run = async (seed: number) => {
      const model = createCompactCnn({ imageSize: 16, labels: 2, filters: [4, 8], seed, dropout: 0.5 });
      const result = await fitModel(model, arrayBatches(train, val, [16, 16, 3], 8), { epochs: 3, learningRate: 0.01, patience: 0, seed });
      const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
      model.dispose();
      return { losses: result.history.map((h) => [h.loss, h.accuracy, h.valLoss, h.valAccuracy]), weights };
    };
    const a = await run(11);
    const b = await run(11);
    const c = await run(12);
    expect(b.losses).toEqual(a.losses);
    expect(b.weights).toEqual(a.weights);
    expect(c.losses).not.toEqual(a.losses);
  });

  it('stops after the current step when aborted and throws TRAINING_ABORTED', async () => {
    const train = blobs(160, 4, 1, 12);
    const model = denseModel(4, 13);
    const controller = new AbortController();
    const steps: StepProgress[] = [];
    const epochs: EpochRecord[] = [];
    const progress: ProgressReporter = {
      step(p) {
        steps.push(p);
        if (p.epoch === 2 && p.step === 3) controller.abort();
      },
      epoch() {},
      note() {},
      close() {},
    };
    const err = await fitModel(model, arrayBatches(train, undefined, [4], 16), {
      epochs: 5, learningRate: 0.01, patience: 0, seed: 14, signal: controller.signal, progress, onEpoch: (r) => void epochs.push(r),
    }).catch((e: unknown) => e);
    expect(isSkywatchError(err, 'TRAINING_ABORTED')).toBe(true);
    expect(steps.at(-1)).toMatchObject({ epoch: 2, step: 3 });
    expect(epochs.map((e) => e.epoch)).toEqual([1]);
    model.dispose();
  });

  it('refuses to start when already aborted', async () => {
    const model = denseModel(4, 15);
    const controller = new AbortController();
    controller.abort();
    await expect(fitModel(model, arrayBatches(blobs(10, 4, 1, 16), undefined, [4], 4), { epochs: 1, learningRate: 0.01, patience: 0, seed: 1, signal: controller.signal }))
      .rejects.toMatchObject({ code: 'TRAINING_ABORTED' });
    model.dispose();
  });
});

describe('inverseFrequencyWeights', () => {
  it('weighs rare classes up so each class counts the same, averaging 1 over the examples', () => {
    const labels = Int32Array.from([0, 0, 0, 1, 0, 0, 1, 0]);
    const w = inverseFrequencyWeights(labels, 3);
    expect(w[0]).toBeCloseTo(8 / (2 * 6));
    expect(w[1]).toBeCloseTo(8 / (2 * 2));
    expect(w[2]).toBe(0);
    expect(w[0] * 6 + w[1] * 2).toBeCloseTo(8);
  });
});
