import * as tf from '@tensorflow/tfjs';

/**
 * The gradient of FusedBatchNorm, written with broadcasting and shared reductions. tfjs 4.22's own
 * gradient tiles 1/sqrt(variance) to the full activation shape before multiplying, and wasm's Tile
 * kernel made that the largest single cost of a CNN training step here (about a quarter of it).
 * Same mathematics; the gradient registry is global, so every backend gets it.
 *
 * With r = 1/sqrt(variance + eps), s = scale (1 when absent), xc = x - mean, sums over every axis but
 * the channel axis:
 *   dx = dy * r * s, dmean = -r * s * sum(dy), dvariance = -s * r^3 / 2 * sum(dy * xc),
 *   dscale = r * sum(dy * xc), doffset = sum(dy).
 */
export const batchNormGradient: tf.GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const grad = Array.isArray(dy) ? dy[0] : dy;
    const [x, mean, variance, scale] = saved;
    const epsilon = (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: tf.Tensor): tf.Tensor => (axes.length > 0 ? tf.sum(t, axes) : t).reshape(mean.shape);
    // The engine runs each returned function in its own tidy, so anything two of them share is computed
    // here, once (per-channel sized; the full-size product is released by its own tidy).
    const r = tf.rsqrt(tf.add(variance, epsilon));
    const rs = scale ? tf.mul(r, scale) : r;
    const sumDy = reduce(grad);
    const sumDyXc = tf.tidy(() => reduce(tf.mul(grad, tf.sub(x, mean))));
    return {
      x: () => tf.mul(grad, rs),
      mean: () => tf.neg(tf.mul(rs, sumDy)),
      variance: () => tf.mul(tf.mul(rs, tf.mul(r, r)), tf.mul(sumDyXc, -0.5)),
      scale: () => tf.mul(r, sumDyXc),
      offset: () => tf.clone(sumDy),
    };
  },
};

/** Installs the gradient above in place of tfjs's. Idempotent. */
export function registerBatchNormGradient(): boolean {
  if (tf.getGradient('FusedBatchNorm') === batchNormGradient) return false;
  tf.registerGradient(batchNormGradient);
  return true;
}
