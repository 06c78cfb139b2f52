import * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { deriveSeed } from '../tfjs/seeded-random.js';

export interface CompactCnnOptions {
  /** Square input side in pixels (the model input is [size, size, 3], NHWC). */
  imageSize: number;
  labels: number;
  /** Output channels per block; each block halves the resolution. */
  filters?: number[];
  /**
   * Blocks after the first as depthwise 3x3 + pointwise 1x1 (MobileNet style): about 8x fewer
   * multiply-adds than full 3x3 convolutions at these widths.
   */
  separable?: boolean;
  dropout?: number;
  /** L2 penalty on convolution and dense kernels (0 = none). */
  l2?: number;
  seed: number;
}

export const DEFAULT_FILTERS = [16, 32, 64, 128];

/**
 * A small image classifier: blocks of conv, batch norm, ReLU and 2x2 max pooling, then global average
 * pooling, dropout and a softmax dense layer. Only layers the ONNX exporter knows are used (Conv2D and
 * DepthwiseConv2D without activation or bias, BatchNormalization, ReLU, MaxPooling2D,
 * GlobalAveragePooling2D, Dropout, Dense with softmax), and every initialiser is seeded.
 */
export function createCompactCnn(options: CompactCnnOptions): tf.Sequential {
  const filters = options.filters ?? DEFAULT_FILTERS;
  const { imageSize, labels, seed } = options;
  if (labels < 2) throw new SkywatchError('DATA_INVALID', 'a classifier needs at least two labels');
  if (imageSize < 2 ** filters.length) throw new SkywatchError('BAD_REQUEST', `image size ${imageSize} is too small for ${filters.length} pooling blocks`);
  const regularizer = options.l2 ? tf.regularizers.l2({ l2: options.l2 }) : undefined;
  const heNormal = (name: string) => tf.initializers.heNormal({ seed: deriveSeed(seed, name) });
  const model = tf.sequential({ name: 'compact_cnn' });
  const bnAndRelu = (name: string): void => {
    model.add(tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-3 }));
    model.add(tf.layers.reLU({ name: `${name}_relu` }));
  };
  filters.forEach((width, block) => {
    const name = `block${block + 1}`;
    const first = block === 0;
    const shape = first ? { inputShape: [imageSize, imageSize, 3] } : {};
    if (options.separable && !first) {
      model.add(tf.layers.depthwiseConv2d({ name: `${name}_dw`, kernelSize: 3, padding: 'same', useBias: false, depthwiseInitializer: heNormal(`${name}_dw`), depthwiseRegularizer: regularizer }));
      bnAndRelu(`${name}_dw`);
      model.add(tf.layers.conv2d({ name: `${name}_pw`, filters: width, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: heNormal(`${name}_pw`), kernelRegularizer: regularizer }));
      bnAndRelu(`${name}_pw`);
    } else {
      model.add(tf.layers.conv2d({ ...shape, name: `${name}_conv`, filters: width, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: heNormal(`${name}_conv`), kernelRegularizer: regularizer }));
      bnAndRelu(name);
    }
    model.add(tf.layers.maxPooling2d({ name: `${name}_pool`, poolSize: 2, strides: 2 }));
  });
  model.add(tf.layers.globalAveragePooling2d({ name: 'gap' }));
  model.add(tf.layers.dropout({ name: 'dropout', rate: options.dropout ?? 0.3, seed: deriveSeed(seed, 'dropout') }));
  model.add(tf.layers.dense({
    name: 'classifier',
    units: labels,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 'classifier') }),
    biasInitializer: 'zeros',
    kernelRegularizer: regularizer,
  }));
  return model;
}
