import { SkywatchError } from '../core/errors.js';
import { DEFAULT_AUGMENT } from './cnn/augment.js';
import { createCompactCnn } from './cnn/compact-cnn.js';
import { imageBatches } from './cnn/image-batches.js';
import { decodeImageSet, type ImageSet, type LabeledFile } from './cnn/image-set.js';
import { cnnInputSpec } from './cnn/normalise.js';
import { fitModel } from './fit/fit-model.js';
import { fitOptionsOf } from './mode-fit-options.js';
import { timePhase } from './profile/phase-profiler.js';
import { exportLayersModel } from './onnx/export-layers-model.js';
import type { ModeContext, TrainedModel } from './train-mode.js';
import type { SplitFile } from './training-splits.js';

/**
 * Scratch mode: decode every image once at the input size, train the compact CNN in tfjs with
 * augmentation, export it to ONNX with the input spec the pipeline normalised by.
 */
export async function trainScratch(ctx: ModeContext): Promise<TrainedModel> {
  const { settings, labels, splits, logger, signal } = ctx;
  const size = settings.imageSize;
  const spec = cnnInputSpec(size);
  const indexed = (files: SplitFile[]): LabeledFile[] => files.map((f) => ({ path: f.path, label: labels.indexOf(f.label) }));
  const decode = async (files: SplitFile[], name: string): Promise<ImageSet> => {
    const set = await timePhase('decode', () => decodeImageSet(indexed(files), size, { signal, concurrency: 2 }));
    for (const s of set.skipped) logger.warn({ file: s.path, reason: s.reason }, `${name}: skipped an unreadable image`);
    return set;
  };
  const started = Date.now();
  const train = await decode(splits.train, 'train');
  const val = await decode(splits.val, 'val');
  if (train.labels.length === 0) throw new SkywatchError('DATA_EMPTY', 'no readable training images');
  logger.info({ train: train.labels.length, val: val.labels.length, size, seconds: (Date.now() - started) / 1000 }, 'decoded images');

  const model = createCompactCnn({ imageSize: size, labels: labels.length, seed: settings.seed, ...(settings.filters ? { filters: settings.filters } : {}) });
  try {
    const batches = imageBatches(train, val.labels.length > 0 ? val : undefined, spec, settings.batchSize, settings.augment ? DEFAULT_AUGMENT : false);
    const fit = await timePhase('step', () => fitModel(model, batches, fitOptionsOf(ctx)));
    const exported = await timePhase('export', () => exportLayersModel(model, spec, labels));
    return {
      ...exported,
      fit,
      details: {
        imageSize: size,
        filters: settings.filters ?? null,
        parameters: model.countParams(),
        augmentation: settings.augment ? DEFAULT_AUGMENT : null,
        skippedImages: train.skipped.length + val.skipped.length,
      },
    };
  } finally {
    model.dispose();
  }
}
