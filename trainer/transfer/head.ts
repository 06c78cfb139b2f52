import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../tfjs/seeded-random.js';

export interface HeadOptions {
  seed: number;
  hidden?: number;
  dropout?: number;
  l2?: number;
}

/**
 * The classifier trained on backbone features: batch norm (features of ImageNet nets differ in scale
 * by orders of magnitude), one hidden ReLU layer, dropout, softmax. Only exportable layers are used.
 */
export function createHead(featureDim: number, labels: number, options: HeadOptions): tf.Sequential {
  const regularizer = options.l2 ? tf.regularizers.l2({ l2: options.l2 }) : undefined;
  const model = tf.sequential({ name: 'transfer_head' });
  model.add(tf.layers.batchNormalization({ inputShape: [featureDim], name: 'features_bn', momentum: 0.9 }));
  model.add(tf.layers.dense({ name: 'hidden', units: options.hidden ?? 128, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: deriveSeed(options.seed, 'hidden') }), kernelRegularizer: regularizer }));
  model.add(tf.layers.dropout({ name: 'dropout', rate: options.dropout ?? 0.3, seed: deriveSeed(options.seed, 'dropout') }));
  model.add(tf.layers.dense({ name: 'classifier', units: labels, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(options.seed, 'classifier') }), kernelRegularizer: regularizer }));
  return model;
}
