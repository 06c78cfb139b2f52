import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { arrayBatches } from '../fit/array-batches.js';
import type { EpochRecord } from '../fit/epoch-record.js';
import { fitModel } from '../fit/fit-model.js';
import type { ProgressReporter } from '../fit/progress.js';
import { deriveSeed } from '../tfjs/seeded-random.js';
import { createHead } from '../transfer/head.js';

/** How the photo model's heads are trained (docs/BENCHMARKS.md, issue 11: chosen on a dev split of images/train). */
export interface PhotoHeadSettings {
  /** Heads trained with different seeds, averaged in the exported graph. */
  heads: number;
  hidden: number;
  dropout: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
}

/** The photo model: its heads, and the size of the input they look at through the backbone. */
export interface PhotoModelSettings extends PhotoHeadSettings {
  /**
   * The backbone's square input size for photographs, in pixels. Larger than the crop model's 224: a
   * photograph's object is often small in it (a distant bird, a drone among trees), and the
   * photographs come at 416. Costs the photo model's backbone pass (about twice SqueezeNet's at 224 for 320).
   */
  inputSize: number;
}

export const DEFAULT_PHOTO_MODEL: PhotoModelSettings = { heads: 5, hidden: 64, dropout: 0.5, epochs: 30, learningRate: 1e-3, batchSize: 32, inputSize: 320 };

export interface PhotoHeadRun {
  seed: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** After every epoch of every head; `part` names the head (`photo head 1/5`). */
  onEpoch?: (part: string, record: EpochRecord) => void | Promise<void>;
  progress?: ProgressReporter;
}

/**
 * Heads on the photographs' backbone features alone (no clip crops: those are small blurry objects on
 * sky, and a crop model that learns both calls sky-heavy photographs airplane or other). Labels are the
 * photographs' own, sorted. Head k is seeded from the run's seed, so a run is reproducible.
 */
export async function trainPhotoHeads(features: Float32Array, labelNames: readonly string[], dim: number, settings: PhotoHeadSettings, run: PhotoHeadRun): Promise<{ labels: string[]; heads: tf.LayersModel[] }> {
  const labels = [...new Set(labelNames)].sort();
  if (labels.length < 2) throw new SkywatchError('DATA_INVALID', `photographs of at least two labels are needed for a photo model, found ${labels.join(', ') || 'none'}`);
  if (features.length !== labelNames.length * dim) throw new SkywatchError('INTERNAL', `${features.length} feature values for ${labelNames.length} photographs of ${dim}`);
  const set = { features, labels: Int32Array.from(labelNames, (l) => labels.indexOf(l)) };
  const heads: tf.LayersModel[] = [];
  try {
    for (let k = 0; k < settings.heads; k++) {
      const part = `photo head ${k + 1}/${settings.heads}`;
      run.onProgress?.(`training ${part} on ${labelNames.length} photographs`);
      const seed = deriveSeed(run.seed, `photo-head-${k}`);
      const head = createHead(dim, labels.length, { seed, hidden: settings.hidden, dropout: settings.dropout });
      heads.push(head);
      await fitModel(head, arrayBatches(set, undefined, [dim], settings.batchSize), {
        epochs: settings.epochs,
        learningRate: settings.learningRate,
        patience: 0,
        seed,
        signal: run.signal,
        progress: run.progress,
        onEpoch: run.onEpoch ? (record) => run.onEpoch!(part, record) : undefined,
      });
    }
    return { labels, heads };
  } catch (err) {
    for (const h of heads) h.dispose();
    throw err;
  }
}
