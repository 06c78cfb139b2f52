import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompactCnn } from '../../../trainer/cnn/compact-cnn.js';
import { cnnInputSpec } from '../../../trainer/cnn/normalise.js';
import { exportLayersModel } from '../../../trainer/onnx/export-layers-model.js';
import { decodeModel, encodeModel } from '../../../trainer/onnx/onnx-proto.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Moves batch-norm statistics away from identity so a wrong BN export cannot pass unnoticed. */
function perturbBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w) => {
      const name = w.shape[0];
      const values = Float32Array.from({ length: name }, () => 0.5 + rnd());
      return tf.tensor1d(values);
    }));
  }
}

async function parity(model: tf.LayersModel, size: number): Promise<number> {
  const spec = cnnInputSpec(size);
  const exported = await exportLayersModel(model, spec, ['bird', 'drone', 'plane']);
  const session = await ort.InferenceSession.create(exported.onnx);
  const nhwc = tf.randomUniform([4, size, size, 3], -1, 1, 'float32', 5);
  const expected = (model.predict(nhwc) as tf.Tensor).dataSync();
  const nchw = tf.transpose(nhwc, [0, 3, 1, 2]);
  const out = await session.run({ input: new ort.Tensor('float32', nchw.dataSync() as Float32Array, [4, 3, size, size]) });
  const got = out[exported.outputName].data as Float32Array;
  expect(out[exported.outputName].dims).toEqual([4, 3]);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - got[i]));
  return worst;
}

describe('exportLayersModel', () => {
  it('gives the same probabilities in onnxruntime as in tfjs (plain conv blocks)', async () => {
    const model = createCompactCnn({ imageSize: 32, labels: 3, filters: [8, 16], seed: 3 });
    perturbBatchNorm(model, 11);
    expect(await parity(model, 32)).toBeLessThanOrEqual(1e-4);
  });

  it('gives the same probabilities with depthwise-separable blocks', async () => {
    const model = createCompactCnn({ imageSize: 32, labels: 3, filters: [8, 16, 16], separable: true, seed: 4 });
    perturbBatchNorm(model, 12);
    expect(await parity(model, 32)).toBeLessThanOrEqual(1e-4);
  });

  it('exports Flatten and fused activations in the tfjs (NHWC) order', async () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 4, kernelSize: 3, strides: 2, padding: 'valid', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 2 }) }));
    model.add(tf.layers.averagePooling2d({ poolSize: 2, padding: 'same' }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
    model.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
    expect(await parity(model, 12)).toBeLessThanOrEqual(1e-4);
  });

  it('refuses layers it cannot export, by name', async () => {
    const model = tf.sequential();
    model.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 2, kernelSize: 3 }));
    model.add(tf.layers.upSampling2d({}));
    await expect(exportLayersModel(model, cnnInputSpec(8), ['a', 'b'])).rejects.toThrow(/UpSampling2D/);
  });

  it('round-trips through decode and encode', async () => {
    const model = createCompactCnn({ imageSize: 16, labels: 2, filters: [4], seed: 1 });
    const { onnx } = await exportLayersModel(model, cnnInputSpec(16), ['a', 'b']);
    const decoded = decodeModel(onnx);
    expect(decoded.graph?.output?.[0].name).toBe('probabilities');
    expect(Buffer.from(encodeModel(decoded)).equals(onnx)).toBe(true);
  });
});
