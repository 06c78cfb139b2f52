/**
 * Photo-only models for `POST /v1/predict` (issue 11): heads trained on the photographs alone, on the
 * same cached backbone features the crop model uses, scored on images/valid (or, with PHOTO_DEV=1, on
 * a held-out fifth of images/train grouped by mirror pairs, to choose settings without looking at
 * images/valid). Heads cost seconds once the embeddings are cached, so one run sweeps several settings.
 *
 *   PHOTO_DEV=1 PHOTO_SEEDS=1,2,3 PHOTO_SETTINGS='[{"name":"k5","heads":5}]' npm run bench:photo-only
 *
 * A setting (every field optional; defaults in DEFAULT_SETTING): heads (K heads averaged), hidden,
 * dropout, l2, epochs, learningRate, batchSize, smoothing (label smoothing), bag (each head trains
 * on a bootstrap sample), aug (augmented embedded copies of images/train mixed per epoch, 0 or more).
 * PHOTO_TAPS as in bench:photo (pooled layers, `pool:tensor` comma-separated; default: the crop model's);
 * PHOTO_SIZE the backbone's square input size in pixels (default its own, 224).
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gatherRows } from '../trainer/fit/gather-rows.js';
import * as tf from '@tensorflow/tfjs';
import { scanDataset } from '../trainer/data/scan.js';
import type { FeatureSet } from '../trainer/fit/array-batches.js';
import { arrayBatches } from '../trainer/fit/array-batches.js';
import { fitModel } from '../trainer/fit/fit-model.js';
import { initTfBackend } from '../trainer/tfjs/backend.js';
import { createRng, deriveSeed } from '../trainer/tfjs/seeded-random.js';
import { predictRows } from '../trainer/track/heads.js';
import { DEFAULT_TRACK_TRAINING } from '../trainer/track/train-track.js';
import { loadBackbone, type FeatureTap } from '../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import { createHead } from '../trainer/transfer/head.js';
import { mirrorGroups } from './mirror-groups.js';

interface Setting {
  name: string;
  heads: number;
  hidden: number;
  dropout: number;
  l2: number;
  epochs: number;
  learningRate: number;
  batchSize: number;
  smoothing: number;
  bag: boolean;
  aug: number;
}
const DEFAULT_SETTING: Setting = { name: 'single', heads: 1, hidden: 64, dropout: 0.5, l2: 0, epochs: 30, learningRate: 1e-3, batchSize: 32, smoothing: 0, bag: false, aug: 0 };

const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const TRAIN = path.resolve('../shared/data/images/train');
const VALID = path.resolve('../shared/data/images/valid');
const cacheDir = path.resolve('.cache/bench-embeddings');
const seeds = (process.env.PHOTO_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
const settings: Setting[] = (JSON.parse(process.env.PHOTO_SETTINGS ?? '[{}]') as Array<Partial<Setting>>).map((s) => ({ ...DEFAULT_SETTING, ...s }));
if (!existsSync(VALID)) {
  console.log(`no photographs at ${VALID}: nothing to measure`);
  process.exit(0);
}
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const started = Date.now();
await initTfBackend('auto');
const taps: FeatureTap[] = process.env.PHOTO_TAPS?.split(',').map((t) => ({ pool: t.split(':')[0] as 'mean' | 'max', tensor: t.split(':')[1] })) ?? DEFAULT_TRACK_TRAINING.cropTaps;
// PHOTO_SIZE: the backbone's input size in pixels (a photograph is 416 wide; SqueezeNet takes any size).
const size = process.env.PHOTO_SIZE ? Number(process.env.PHOTO_SIZE) : undefined;
const backbone = await loadBackbone(BACKBONE, { taps, size });
const dim = backbone.featureDim;
console.log(`features: ${backbone.cutAt} (${dim}) at ${backbone.input.width}x${backbone.input.height}`);

const trainAll = await scanDataset(TRAIN);
const trainFiles = trainAll.items.map((i) => path.join(TRAIN, i.path));
const maxAug = Math.max(...settings.map((s) => s.aug));
// Augmented copies are drawn with fixed seeds (not the run's), so every seed and setting shares the cache.
const trainVariants: Float32Array[] = [];
for (let v = 0; v <= maxAug; v++) {
  const t0 = Date.now();
  trainVariants.push(await computeEmbeddings(backbone, trainFiles, { cacheDir, augment: v === 0 ? false : { seed: deriveSeed(1, `augment-${v}`) } }));
  console.log(`images/train ${v === 0 ? 'plain' : `augmented copy ${v}`}: ${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
}
const labelNames = ['bird', 'drone'];
const trainLabels = Int32Array.from(trainAll.items, (i) => labelNames.indexOf(i.label));
let trainRows = trainAll.items.map((_i, k) => k);
let evalItems = (await scanDataset(VALID)).items;
let evalFeatures = await computeEmbeddings(backbone, evalItems.map((i) => path.join(VALID, i.path)), { cacheDir, augment: false });
const pick = (source: Float32Array, rows: number[]) => gatherRows(source, rows, dim);
if (process.env.PHOTO_DEV) {
  // The same dev split as bench:photo: every fifth mirror group, in order of first appearance.
  const groups = await mirrorGroups(trainFiles, trainAll.items.map((i) => i.label));
  const order = [...new Set(groups)];
  const dev = new Set(order.filter((_g, k) => k % 5 === 0));
  const devRows = groups.map((g, i) => (dev.has(g) ? i : -1)).filter((i) => i >= 0);
  trainRows = groups.map((g, i) => (dev.has(g) ? -1 : i)).filter((i) => i >= 0);
  evalItems = devRows.map((r) => trainAll.items[r]);
  evalFeatures = pick(trainVariants[0], devRows);
  console.log(`PHOTO_DEV: ${devRows.length} images held out, ${trainRows.length} train; images/valid not used`);
}
const evalLabels = evalItems.map((i) => labelNames.indexOf(i.label));
console.log(`embeddings ready in ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load()}`);

const accuracyOf = (probs: Float32Array) => evalLabels.filter((l, i) => (probs[i * 2 + 1] > probs[i * 2] ? 1 : 0) === l).length / evalLabels.length;
const summary: string[] = [];
for (const s of settings) {
  console.log(`\nsetting ${JSON.stringify(s)}`);
  const accs: number[] = [];
  const firstHead: number[] = [];
  for (const seed of seeds) {
    const t0 = Date.now();
    const sum = new Float32Array(evalLabels.length * 2);
    for (let k = 0; k < s.heads; k++) {
      // Seeded as trainer/photo/train-photo-heads.ts seeds the shipped heads.
      const headSeed = deriveSeed(seed, `photo-head-${k}`);
      const rng = createRng(deriveSeed(headSeed, 'bag'));
      const rows = s.bag ? trainRows.map(() => trainRows[rng.int(trainRows.length)]) : trainRows;
      const labels = Int32Array.from(rows, (r) => trainLabels[r]);
      const sets: FeatureSet[] = trainVariants.slice(0, s.aug + 1).map((v) => ({ features: pick(v, rows), labels }));
      const head = createHead(dim, 2, { seed: headSeed, hidden: s.hidden, dropout: s.dropout, l2: s.l2 || undefined });
      await fitModel(head, arrayBatches(sets, undefined, [dim], s.batchSize), { epochs: s.epochs, learningRate: s.learningRate, patience: 0, seed: headSeed, labelSmoothing: s.smoothing });
      const probs = predictRows(head, evalFeatures, dim);
      head.dispose();
      if (k === 0) firstHead.push(accuracyOf(probs));
      for (let i = 0; i < sum.length; i++) sum[i] += probs[i] / s.heads;
    }
    accs.push(accuracyOf(sum));
    console.log(`  seed ${seed}: ${accs.at(-1)!.toFixed(4)} (first head alone ${firstHead.at(-1)!.toFixed(4)}); ${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${load()}; tensors ${tf.memory().numTensors}`);
  }
  const stat = (v: number[]) => `mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}, min ${Math.min(...v).toFixed(4)}, max ${Math.max(...v).toFixed(4)} [${v.map((x) => x.toFixed(4)).join(' ')}]`;
  summary.push(`${s.name}: ${stat(accs)}; first head alone ${stat(firstHead)}`);
  console.log(`  ${summary.at(-1)}`);
}
console.log(`\n${process.env.PHOTO_DEV ? 'dev split of images/train' : 'images/valid'} (${evalLabels.length}), seeds ${seeds.join(',')}, features ${backbone.cutAt}:`);
for (const line of summary) console.log(`  ${line}`);
console.log(`total ${((Date.now() - started) / 60000).toFixed(1)} min; load average ${load()}; ${os.cpus().length} cores; ${new Date().toISOString()}`);
