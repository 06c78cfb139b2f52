/**
 * Time of one training step of the compact CNN on the wasm backend, with this project's gradient
 * kernels and with what tfjs 4.22 ships where it ships something (Conv2DBackpropInput and the
 * FusedBatchNorm gradient; the filter gradients do not exist on wasm, so both runs use ours).
 *
 *   npm run bench:train-step [-- --size 96 --batch 32 --steps 3]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initTfBackend } from '../trainer/tfjs/backend.js';
import { batchNormGradient } from '../trainer/tfjs/batch-norm-gradient.js';
import { createCompactCnn } from '../trainer/cnn/compact-cnn.js';

const { values } = parseArgs({ options: { size: { type: 'string', default: '96' }, batch: { type: 'string', default: '32' }, steps: { type: 'string', default: '3' } } });
const size = Number(values.size);
const batch = Number(values.batch);
const steps = Number(values.steps);

// Captured before initTfBackend replaces them.
const shippedInputGrad = tf.getKernel('Conv2DBackpropInput', 'wasm');
const shippedBatchNormGrad = tf.getGradient('FusedBatchNorm');
await initTfBackend('wasm');
const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
if (!shippedInputGrad || !ours) throw new Error('wasm kernels missing');

function use(variant: 'shipped' | 'ours'): void {
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel(variant === 'shipped' ? shippedInputGrad! : ours!);
  // The shipped kernel binds its wasm function in setupFunc, which only runs for kernels registered
  // when the backend starts; ours had replaced it by then.
  if (variant === 'shipped') shippedInputGrad!.setupFunc?.(tf.backend());
  tf.registerGradient(variant === 'shipped' ? shippedBatchNormGrad : batchNormGradient);
}

async function timeSteps(separable: boolean): Promise<number> {
  const model = createCompactCnn({ imageSize: size, labels: 2, separable, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, size, size, 3]);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), 'int32'), 2);
  const step = async (): Promise<void> => {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), true);
    await loss?.data();
    loss?.dispose();
  };
  await step(); // warm-up: XNNPACK operator set-up and wasm heap growth
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const perStep = (performance.now() - start) / steps / 1000;
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return perStep;
}

const rows: string[] = [];
for (const separable of [false, true]) {
  const results: Record<string, number> = {};
  for (const variant of ['shipped', 'ours'] as const) {
    use(variant);
    results[variant] = await timeSteps(separable);
  }
  rows.push(`| ${separable ? 'depthwise-separable' : 'plain 3x3'} | ${results.shipped.toFixed(2)} s | ${results.ours.toFixed(2)} s | ${(results.shipped / results.ours).toFixed(2)}x |`);
}
console.log(`compact CNN, ${size}x${size}, batch ${batch}, mean of ${steps} steps after one warm-up; wasm backend, 1 thread; ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(2)} at the end`);
console.log('| model | shipped Conv2DBackpropInput + BN gradient | ours | speed-up |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(r);
