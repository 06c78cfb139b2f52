/**
 * Exported-model size and batch-1 latency (npm run bench:latency): the shipped SqueezeNet with a
 * trained-shape head, in onnxruntime-node with 2 intra-op threads, on real photos (preprocessing
 * excluded: that is sharp's time, measured in bench:predict).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OnnxModel } from '../inference/onnx-model.js';
import { imageToTensor } from '../inference/preprocess.js';
import { publishRealisticModel } from './support/realistic-model.js';

const VALID = path.resolve('../shared/data/images/valid');
const { modelPath, manifest } = await publishRealisticModel(mkdtempSync(path.join(os.tmpdir(), 'sw-latency-')));
const model = await OnnxModel.load(modelPath, manifest, { intraOpThreads: 2, interOpThreads: 1 });
const files = ['bird', 'drone'].flatMap((l) => readdirSync(path.join(VALID, l)).slice(0, 20).map((f) => path.join(VALID, l, f)));
const tensors = await Promise.all(files.map((f) => imageToTensor(f, manifest.input)));
for (let i = 0; i < 20; i++) await model.run(tensors[i % tensors.length], 1);
const times: number[] = [];
for (let i = 0; i < 400; i++) {
  const t = performance.now();
  await model.run(tensors[i % tensors.length], 1);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2);
console.log(`model.onnx ${(manifest.sizeBytes! / 1e6).toFixed(2)} MB (target <= 20 MB)`);
console.log(`batch-1 latency over 400 runs, 2 threads: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms (target <= 10 ms)`);
await model.release();
