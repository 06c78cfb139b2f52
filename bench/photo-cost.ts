/**
 * What the photo model costs (npm run bench:photo-cost, issue 11). Training: the time a track training
 * spends on it, that is training DEFAULT_PHOTO_MODEL on the embeddings of images/train (which the crop
 * model computed already: read from the bench cache here, filled by bench:photo-only) and exporting it.
 * Serving: its batch-1 latency against the crop model it replaces for `POST /v1/predict`, both exported
 * from the shipped backbone (the crop model with one head over the track labels), in onnxruntime-node
 * with 2 intra-op threads, on real photos, the two alternating so load changes hit both alike
 * (preprocessing excluded: the same for both).
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelManifest } from '../core/model/manifest.js';
import { OnnxModel } from '../inference/onnx-model.js';
import { imageToTensor } from '../inference/preprocess.js';
import { exportPhotoModel } from '../trainer/photo/export-photo-model.js';
import { DEFAULT_PHOTO_MODEL, trainPhotoHeads } from '../trainer/photo/train-photo-heads.js';
import { scanDataset } from '../trainer/data/scan.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import { initTfBackend } from '../trainer/tfjs/backend.js';
import { loadBackbone } from '../trainer/transfer/backbone.js';
import { exportTransferModel } from '../trainer/transfer/export-transfer.js';
import { createHead, TRANSFER_HEAD } from '../trainer/transfer/head.js';

const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const VALID = path.resolve('../shared/data/images/valid');
const TRAIN = path.resolve('../shared/data/images/train');
const RUNS = Number(process.env.LATENCY_RUNS ?? 300);
await initTfBackend('auto');
const backbone = await loadBackbone(BACKBONE);
// The photo model looks through the same backbone at its own input size (DEFAULT_PHOTO_MODEL.inputSize).
const photoBackbone = DEFAULT_PHOTO_MODEL.inputSize === backbone.input.width ? backbone : await loadBackbone(BACKBONE, { size: DEFAULT_PHOTO_MODEL.inputSize });
// LATENCY_ONLY=1: serving only (training takes minutes on a loaded machine).
if (!process.env.LATENCY_ONLY) {
  const train = await scanDataset(TRAIN);
  const features = await computeEmbeddings(photoBackbone, train.items.map((i) => path.join(TRAIN, i.path)), { cacheDir: path.resolve('.cache/bench-embeddings'), augment: false });
  const t0 = performance.now();
  const trained = await trainPhotoHeads(features, train.items.map((i) => i.label), photoBackbone.featureDim, DEFAULT_PHOTO_MODEL, { seed: 1 });
  const t1 = performance.now();
  await exportPhotoModel(photoBackbone, trained.heads, trained.labels);
  const t2 = performance.now();
  for (const h of trained.heads) h.dispose();
  console.log(`training ${DEFAULT_PHOTO_MODEL.heads} photo heads (${JSON.stringify(DEFAULT_PHOTO_MODEL)}) on ${train.items.length} photographs: ${((t1 - t0) / 1000).toFixed(1)} s, export ${((t2 - t1) / 1000).toFixed(1)} s; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}
const cropLabels = ['airplane', 'bird', 'drone', 'helicopter', 'other'];
const photoLabels = ['bird', 'drone'];
const cropHead = createHead(backbone.featureDim, cropLabels.length, { seed: 1, ...TRANSFER_HEAD });
const photoHeads = Array.from({ length: DEFAULT_PHOTO_MODEL.heads }, (_h, k) => createHead(photoBackbone.featureDim, photoLabels.length, { seed: 10 + k, hidden: DEFAULT_PHOTO_MODEL.hidden, dropout: DEFAULT_PHOTO_MODEL.dropout }));
const crop = await exportTransferModel(backbone, cropHead, cropLabels);
const photo = await exportPhotoModel(photoBackbone, photoHeads, photoLabels);
const manifestOf = (labels: string[], input = backbone.input): ModelManifest => ({ version: 'latency', created: new Date().toISOString(), labels, kind: 'frame', input, output: { name: crop.outputName, kind: 'probabilities' }, sha256: '0'.repeat(64), parent: null });
const models = { crop: await OnnxModel.load(crop.onnx, manifestOf(cropLabels), { intraOpThreads: 2, interOpThreads: 1 }), photo: await OnnxModel.load(photo.onnx, manifestOf(photoLabels, photo.input), { intraOpThreads: 2, interOpThreads: 1 }) };
const files = ['bird', 'drone'].flatMap((l) => readdirSync(path.join(VALID, l)).slice(0, 20).map((f) => path.join(VALID, l, f)));
const tensors = { crop: await Promise.all(files.map((f) => imageToTensor(f, backbone.input))), photo: await Promise.all(files.map((f) => imageToTensor(f, photo.input))) };
const times: Record<keyof typeof models, number[]> = { crop: [], photo: [] };
for (let i = 0; i < 20; i++) for (const [name, m] of Object.entries(models) as Array<[keyof typeof models, OnnxModel]>) await m.run(tensors[name][i % files.length], 1);
const pairs = Object.entries(models) as Array<[keyof typeof models, OnnxModel]>;
for (let i = 0; i < RUNS; i++) {
  // Which goes first alternates: the second of a pair finds caches warm.
  for (const [name, m] of i % 2 ? pairs : [...pairs].reverse()) {
    const t = performance.now();
    await m.run(tensors[name][i % files.length], 1);
    times[name].push(performance.now() - t);
  }
}
for (const [name, list] of Object.entries(times)) {
  list.sort((a, b) => a - b);
  const q = (p: number) => list[Math.min(list.length - 1, Math.floor(p * list.length))].toFixed(2);
  const size = name === 'crop' ? crop.onnx.length : photo.onnx.length;
  const px = name === 'crop' ? backbone.input.width : photo.input.width;
  console.log(`${name} model (${name === 'crop' ? 1 : DEFAULT_PHOTO_MODEL.heads} head(s), ${px} px, ${(size / 1e6).toFixed(2)} MB): batch-1 over ${RUNS} runs, 2 threads: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms`);
}
console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${os.cpus().length} cores; ${new Date().toISOString()}`);
for (const m of Object.values(models)) await m.release();
