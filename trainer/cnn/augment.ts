import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../tfjs/seeded-random.js';

export interface AugmentOptions {
  /** Mirror left-right with probability 1/2. */
  flip: boolean;
  /** Smallest crop side as a fraction of the image side (1 = no crop or zoom). */
  minScale: number;
  /** Brightness factor drawn from [1 - brightness, 1 + brightness]. */
  brightness: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { flip: true, minScale: 0.75, brightness: 0.2 };

/**
 * Random crop-and-zoom, horizontal flip and brightness for a batch of [n, h, w, 3] images in 0..255,
 * every draw from `rng`. One CropAndResize does crop, zoom and flip together: a box whose left edge
 * lies right of its right edge samples the image mirrored.
 */
export function augmentImages(images: tf.Tensor4D, rng: Rng, options: AugmentOptions = DEFAULT_AUGMENT): tf.Tensor4D {
  const [n, height, width] = images.shape;
  const boxes: number[][] = [];
  const factors: number[] = [];
  for (let i = 0; i < n; i++) {
    const side = rng.uniform(options.minScale, 1);
    const top = rng.uniform(0, 1 - side);
    const left = rng.uniform(0, 1 - side);
    const flip = options.flip && rng.next() < 0.5;
    boxes.push(flip ? [top, left + side, top + side, left] : [top, left, top + side, left + side]);
    factors.push(rng.uniform(1 - options.brightness, 1 + options.brightness));
  }
  return tf.tidy(() => {
    const cropped = tf.image.cropAndResize(images, tf.tensor2d(boxes, [n, 4]), tf.range(0, n, 1, 'int32') as tf.Tensor1D, [height, width], 'bilinear');
    return tf.clipByValue(tf.mul(cropped, tf.tensor4d(factors, [n, 1, 1, 1])), 0, 255) as tf.Tensor4D;
  });
}
