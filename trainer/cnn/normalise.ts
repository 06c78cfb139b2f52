import * as tf from '@tensorflow/tfjs';
import type { ModelInput } from '../../core/model/manifest.js';

/** The input spec of a CNN trained here: RGB scaled to [-1, 1]. The exported manifest carries it. */
export function cnnInputSpec(size: number): ModelInput {
  return { name: 'input', layout: 'NCHW', height: size, width: size, channelOrder: 'RGB', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] };
}

/**
 * RGB images in 0..255, NHWC, to what the model sees: channels in the spec's order, then
 * (v - mean[c]) / std[c] (the same arithmetic as inference's rgbToTensor, in NHWC).
 */
export function normaliseImages(images: tf.Tensor4D, spec: ModelInput): tf.Tensor4D {
  return tf.tidy(() => {
    const ordered = spec.channelOrder === 'BGR' ? tf.reverse(images, 3) : images;
    return tf.div(tf.sub(ordered, tf.tensor1d(spec.mean)), tf.tensor1d(spec.std)) as tf.Tensor4D;
  });
}
