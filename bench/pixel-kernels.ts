/**
 * The per-crop pixel passes alone (npm run bench:pixels): a camera crop of 24, 48, 96 and 160 px
 * stretched to the model's 224 px (core/image/cubic-enlarge.ts) and normalised into a batch's planes
 * (inference/preprocess.ts rgbToTensor), each timed over many calls after a warm-up, cycling through 8
 * crops and 8 batch slots so the data is not all in cache. Prints the mean cost a call and a digest of
 * the outputs: a change meant to make them cheaper without changing them gives the same digest.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { cubicEnlarge } from '../core/image/cubic-enlarge.js';
import type { ModelInput } from '../core/model/manifest.js';
import { rgbToTensor } from '../inference/preprocess.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const spec = { name: 'input', width: 224, height: 224, channelOrder: 'RGB', layout: 'NCHW', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] } as ModelInput;
const plane = 224 * 224 * 3;

let seed = 11;
const byte = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
const digest = createHash('sha256');
console.log(`${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); Node ${process.version}; load ${os.loadavg()[0].toFixed(2)}; ${CALLS} calls each`);
const batch = new Float32Array(8 * plane);
const out = Buffer.alloc(plane);
for (const side of [24, 48, 96, 160]) {
  const crops = Array.from({ length: 8 }, () => Uint8Array.from({ length: side * side * 3 }, byte));
  const to = { width: 224, height: 224 };
  for (let i = 0; i < 200; i++) cubicEnlarge(crops[i % 8], side, side, to, out);
  let t0 = performance.now();
  for (let i = 0; i < CALLS; i++) cubicEnlarge(crops[i % 8], side, side, to, out);
  const stretch = (performance.now() - t0) / CALLS;
  const stretched = crops.map((c) => Buffer.from(cubicEnlarge(c, side, side, to)));
  for (const s of stretched) digest.update(s);
  for (let i = 0; i < 200; i++) rgbToTensor(stretched[i % 8], spec, batch, (i % 8) * plane);
  t0 = performance.now();
  for (let i = 0; i < CALLS; i++) rgbToTensor(stretched[i % 8], spec, batch, (i % 8) * plane);
  const normalise = (performance.now() - t0) / CALLS;
  for (let i = 0; i < 8; i++) rgbToTensor(stretched[i], spec, batch, i * plane);
  digest.update(Buffer.from(batch.buffer));
  console.log(`${String(side).padStart(3)} px crop -> 224: stretch ${stretch.toFixed(3)} ms, normalise ${normalise.toFixed(3)} ms`);
}
console.log(`outputs digest: ${digest.digest('hex')}`);
