import { SkywatchError } from '../core/errors.js';
import { arrayBatches, type FeatureSet } from './fit/array-batches.js';
import { applyScaling, computeScaling, foldScalingIntoFirstDense } from './fit/feature-scaling.js';
import { fitModel } from './fit/fit-model.js';
import { fitOptionsOf } from './mode-fit-options.js';
import { timePhase } from './profile/phase-profiler.js';
import { deriveSeed } from './tfjs/seeded-random.js';
import { loadBackbone } from './transfer/backbone.js';
import { computeEmbeddings } from './transfer/embeddings.js';
import { exportTransferModel } from './transfer/export-transfer.js';
import { createHead, TRANSFER_HEAD } from './transfer/head.js';
import type { ModeContext, TrainedModel } from './train-mode.js';
import type { SplitFile } from './training-splits.js';

/** Augmented copies of the training set embedded besides the plain one (each a backbone pass per image, so kept to one). */
export const AUGMENTED_VARIANTS = 1;

/**
 * Transfer mode: embed every image once with the pretrained backbone in ONNX Runtime (cached by file
 * content), train a small head on the embeddings in tfjs, and export backbone + head as one ONNX
 * model. Augmentation here means extra embedded copies of the training images, mixed per epoch.
 */
export async function trainTransfer(ctx: ModeContext & { backbonePath: string }): Promise<TrainedModel> {
  const { settings, labels, splits, logger, signal, cacheDir } = ctx;
  const backbone = await loadBackbone(ctx.backbonePath);
  const started = Date.now();
  const embed = async (files: SplitFile[], name: string, variant: number): Promise<FeatureSet> => {
    const features = await computeEmbeddings(backbone, files.map((f) => f.path), {
      cacheDir,
      signal,
      augment: variant === 0 ? false : { seed: deriveSeed(settings.seed, `augment-${variant}`) },
      onProgress: (done: number, total: number) => {
        if (done === total || done % 200 === 0) logger.info({ split: name, variant, done, total }, `embedding ${name}${variant ? ` (augmented copy ${variant})` : ''}: ${done}/${total}`);
      },
    });
    return { features, labels: Int32Array.from(files, (f) => labels.indexOf(f.label)) };
  };
  const variants: FeatureSet[] = [await embed(splits.train, 'train', 0)];
  if (settings.augment) {
    for (let v = 1; v <= AUGMENTED_VARIANTS; v++) variants.push(await embed(splits.train, 'train', v));
  }
  const val = splits.val.length > 0 ? await embed(splits.val, 'val', 0) : undefined;
  const dim = backbone.featureDim;
  if (variants[0].labels.length === 0) throw new SkywatchError('DATA_EMPTY', 'no training images');
  logger.info({ featureDim: dim, variants: variants.length, seconds: (Date.now() - started) / 1000 }, 'embeddings ready');

  const head = createHead(dim, labels.length, { seed: settings.seed, ...TRANSFER_HEAD });
  // Pooled activations differ in scale by orders of magnitude between channels; standardised features
  // gave a Dense head about half a point of accuracy on the drone/bird photos. A head that starts
  // with batch norm scales its input itself; otherwise the scaling is applied here and folded into
  // the first Dense layer after training, so the exported model takes raw embeddings.
  const firstWeighted = head.layers.find((l) => l.getWeights().length > 0)?.getClassName();
  const scaling = firstWeighted === 'Dense' ? computeScaling(variants[0], dim) : undefined;
  const scaledVariants = scaling ? variants.map((v) => applyScaling(v, scaling)) : variants;
  const scaledVal = scaling && val ? applyScaling(val, scaling) : val;
  try {
    const fit = await timePhase('step', () => fitModel(head, arrayBatches(scaledVariants, scaledVal, [dim], settings.batchSize), fitOptionsOf(ctx)));
    if (scaling) foldScalingIntoFirstDense(head, scaling);
    const exported = await timePhase('export', () => exportTransferModel(backbone, head, labels, { flipAverage: settings.tta === 'hflip' }));
    return {
      ...exported,
      fit,
      details: { featureDim: dim, tta: settings.tta ?? 'none', featureScaling: scaling ? 'standardised, folded into the first Dense layer' : `by the head's ${firstWeighted ?? 'first'} layer`, augmentedVariants: settings.augment ? AUGMENTED_VARIANTS : 0, head: TRANSFER_HEAD, headParameters: head.countParams(), embedSeconds: (Date.now() - started) / 1000 - fit.seconds },
    };
  } finally {
    head.dispose();
  }
}
