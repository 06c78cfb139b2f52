import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { createRng, deriveSeed, type Rng } from '../tfjs/seeded-random.js';
import type { Batch, BatchSource } from './batch.js';
import { inverseFrequencyWeights } from './class-weights.js';
import type { EpochRecord } from './epoch-record.js';
import { silentProgress, type ProgressReporter } from './progress.js';

export interface FitOptions {
  epochs: number;
  learningRate: number;
  /** Epochs without a better monitored loss before stopping; 0 = never stop early. */
  patience: number;
  /** An improvement smaller than this does not count. */
  minDelta?: number;
  /** Weigh each class by inverse frequency (default) or not. */
  classWeights?: boolean | number[];
  /**
   * Training targets move this much of the true label's probability evenly onto all labels (0: plain
   * one-hot). Validation loss is always against one-hot targets, so it stays comparable between settings.
   */
  labelSmoothing?: number;
  seed: number;
  signal?: AbortSignal;
  progress?: ProgressReporter;
  /** Called after every epoch (the run folder's metrics.jsonl is written here). */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  now?: () => number;
}

export interface FitResult {
  history: EpochRecord[];
  /** The epoch whose weights the model holds now. */
  bestEpoch: number;
  bestLoss: number;
  /** Which loss early stopping watched: validation when there is a validation set. */
  monitor: 'valLoss' | 'loss';
  stoppedEarly: boolean;
  classWeights: number[];
  seconds: number;
}

const EPSILON = 1e-7;

/** Label indices -> one-hot rows and per-example class weights. */
function targets(labels: Int32Array, classes: number, weights: number[], smoothing = 0): { oneHot: tf.Tensor2D; sampleWeights: tf.Tensor1D; index: tf.Tensor1D } {
  const index = tf.tensor1d(labels, 'int32');
  const w = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) w[i] = weights[labels[i]];
  const oneHot = tf.oneHot(index, classes).toFloat() as tf.Tensor2D;
  return { oneHot: smoothing > 0 ? (oneHot.mul(1 - smoothing).add(smoothing / classes) as tf.Tensor2D) : oneHot, sampleWeights: tf.tensor1d(w), index };
}

/** Mean over the batch of weight * cross-entropy, on the model's softmax output. */
function weightedCrossEntropy(probs: tf.Tensor, oneHot: tf.Tensor2D, sampleWeights: tf.Tensor1D): tf.Scalar {
  const perExample = tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(probs, EPSILON, 1))), -1));
  return tf.mean(tf.mul(perExample, sampleWeights));
}

function countCorrect(probs: tf.Tensor, index: tf.Tensor1D): tf.Scalar {
  return tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), index), 'float32'));
}

/**
 * tfjs's Dropout layer draws its mask from a fixed seed, which would drop the same units on every
 * step; giving it a fresh seed from the run's generator before each step keeps masks varied and the
 * run reproducible.
 */
function reseedDropout(model: tf.LayersModel, rng: Rng): void {
  const visit = (layers: tf.layers.Layer[]): void => {
    for (const layer of layers) {
      if (layer.getClassName() === 'Dropout') (layer as unknown as { seed?: number }).seed = rng.seed();
      const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', 'training was interrupted; nothing was published');
}

/** Lets a pending SIGINT handler run between synchronous wasm steps. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function evaluateBatches(model: tf.LayersModel, batches: AsyncIterable<Batch>, classes: number, weights: number[]): Promise<{ loss: number; accuracy: number; count: number }> {
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for await (const batch of batches) {
    const [loss, right] = tf.tidy(() => {
      const probs = model.apply(batch.xs, { training: false }) as tf.Tensor;
      const t = targets(batch.labels, classes, weights);
      return [weightedCrossEntropy(probs, t.oneHot, t.sampleWeights).mul(batch.labels.length), countCorrect(probs, t.index)];
    });
    lossSum += (await loss.data())[0];
    correct += (await right.data())[0];
    count += batch.labels.length;
    tf.dispose([loss, right, batch.xs]);
  }
  return { loss: count ? lossSum / count : Number.NaN, accuracy: count ? correct / count : Number.NaN, count };
}

/**
 * Trains `model` (softmax output) with Adam on weighted cross-entropy plus the model's regularisation
 * losses. Early stopping watches the validation loss (the training loss when there is no validation
 * set) and, when training ends either way, the model holds the best epoch's weights. Stops cleanly
 * after the current step when `signal` aborts, throwing TRAINING_ABORTED.
 */
export async function fitModel(model: tf.LayersModel, data: BatchSource, options: FitOptions): Promise<FitResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const progress = options.progress ?? silentProgress;
  const classes = (model.outputs[0].shape[model.outputs[0].shape.length - 1] ?? 0) as number;
  if (classes < 2) throw new SkywatchError('INTERNAL', 'the model must end in a softmax over at least two labels');
  const weights = Array.isArray(options.classWeights)
    ? options.classWeights
    : options.classWeights === false
      ? new Array<number>(classes).fill(1)
      : inverseFrequencyWeights(data.trainLabels, classes);
  const optimizer = tf.train.adam(options.learningRate);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const steps = Math.max(1, Math.ceil(data.trainSize / Math.max(1, data.batchSize)));
  const monitor: FitResult['monitor'] = data.validation ? 'valLoss' : 'loss';
  const minDelta = options.minDelta ?? 1e-4;
  const history: EpochRecord[] = [];
  let best: { epoch: number; loss: number; weights: tf.Tensor[] } | undefined;
  let stoppedEarly = false;

  try {
    checkAbort(options.signal);
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const epochStart = now();
      const rng = createRng(deriveSeed(options.seed, `epoch-${epoch}`));
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let step = 0;
      for await (const batch of data.train(epoch, rng)) {
        reseedDropout(model, rng);
        let right: tf.Scalar | undefined;
        const loss = tf.tidy(() => {
          const t = targets(batch.labels, classes, weights, options.labelSmoothing);
          const cost = optimizer.minimize(() => {
            const probs = model.apply(batch.xs, { training: true }) as tf.Tensor;
            right = tf.keep(countCorrect(probs, t.index));
            const penalties = (model as unknown as { calculateLosses?: () => tf.Scalar[] }).calculateLosses?.() ?? [];
            return penalties.reduce<tf.Scalar>((sum, p) => tf.add(sum, p), weightedCrossEntropy(probs, t.oneHot, t.sampleWeights));
          }, true, variables);
          return cost as tf.Scalar;
        });
        const n = batch.labels.length;
        lossSum += (await loss.data())[0] * n;
        correct += right ? (await right.data())[0] : 0;
        seen += n;
        step++;
        tf.dispose([loss, right, batch.xs]);
        const elapsed = (now() - epochStart) / 1000;
        progress.step({ epoch, epochs: options.epochs, step, steps: Math.max(steps, step), loss: lossSum / seen, accuracy: correct / seen, etaSeconds: (elapsed / step) * Math.max(0, steps - step) });
        await yieldToEvents();
        checkAbort(options.signal);
      }
      if (seen === 0) throw new SkywatchError('DATA_EMPTY', 'the training split produced no batches');
      const val = data.validation ? await evaluateBatches(model, data.validation(), classes, weights) : undefined;
      checkAbort(options.signal);
      const monitored = val ? val.loss : lossSum / seen;
      const improved = !best || monitored < best.loss - minDelta;
      if (improved) {
        tf.dispose(best?.weights ?? []);
        // getWeights returns the live variables; clones keep this epoch's values as training moves on.
        best = { epoch, loss: monitored, weights: model.getWeights().map((w) => w.clone()) };
      }
      const record: EpochRecord = {
        epoch,
        loss: lossSum / seen,
        accuracy: correct / seen,
        ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
        learningRate: options.learningRate,
        steps: step,
        seconds: (now() - epochStart) / 1000,
        improved,
        time: new Date().toISOString(),
      };
      history.push(record);
      progress.epoch(record, options.epochs);
      await options.onEpoch?.(record);
      if (options.patience > 0 && best && epoch - best.epoch >= options.patience) {
        stoppedEarly = epoch < options.epochs;
        if (stoppedEarly) progress.note(`early stopping: ${monitor} has not improved for ${options.patience} epochs; keeping epoch ${best.epoch}`);
        break;
      }
    }
    if (!best) throw new SkywatchError('DATA_EMPTY', 'no epoch ran');
    model.setWeights(best.weights);
    return { history, bestEpoch: best.epoch, bestLoss: best.loss, monitor, stoppedEarly, classWeights: weights, seconds: (now() - started) / 1000 };
  } finally {
    tf.dispose(best?.weights ?? []);
    optimizer.dispose();
    progress.close();
  }
}
