/**
 * Single-image accuracy as `POST /v1/predict` serves it (npm run bench:photo, issue 11).
 *
 * For each seed, the crop model that `npm start`'s default track model ships is trained exactly as
 * there: on the crops of the training clips (every clip outside fold 0 of the seed's 5-fold split by
 * clip) plus every photograph of images/train, with the default settings. It is then scored on
 * images/valid, which no model trained on: drone vs bird (the better of the two labels' scores), the
 * top label over all labels (what /v1/predict answers), and drone recall. Only the crop head is
 * trained (the track model does not see photographs), so this is minutes, not the default model's ten.
 *
 * PHOTO_SEEDS (1,2,3,4,5), BENCH_TRACKS (track set; default .cache/bench-tracks, built by
 * bench:quality), PHOTO_CROP (JSON over the default crop head settings, to compare variants),
 * PHOTO_REPEATS (times each photograph joins the crop set; default: the shipped setting), PHOTO_TAPS (pooled backbone
 * layers for the features, `pool:tensor` comma-separated; default: the shipped setting). PHOTO_DEV=1 chooses variants
 * without looking at images/valid: a fifth of images/train (by photograph: a photo and its flipped copy
 * stay together) is held out and scored instead, the rest trains.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scanDataset } from '../trainer/data/scan.js';
import { initTfBackend } from '../trainer/tfjs/backend.js';
import { predictRows } from '../trainer/track/heads.js';
import { DEFAULT_TRACK_TRAINING, embedClips, trainCropHead, trainingLabels, type TrackTrainSettings } from '../trainer/track/train-track.js';
import { clipFolds, readTrackSet } from '../trainer/track/track-set.js';
import { loadBackbone } from '../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import { combinePhotoAnswer } from '../inference/photo-answer.js';
import { DEFAULT_PHOTO_HEADS, trainPhotoHeads } from '../trainer/photo/train-photo-heads.js';
import { mirrorGroups } from './mirror-groups.js';

const BACKBONE = path.resolve('../shared/data/backbones/squeezenet1.0-imagenet-fp16.onnx');
const TRAIN = path.resolve('../shared/data/images/train');
const VALID = path.resolve('../shared/data/images/valid');
const tracksDir = path.resolve(process.env.BENCH_TRACKS ?? '.cache/bench-tracks');
const cacheDir = path.resolve('.cache/bench-embeddings');
const seeds = (process.env.PHOTO_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
if (!existsSync(VALID) || !existsSync(path.join(tracksDir, 'drone'))) {
  console.log(`no photographs at ${VALID} or no track set at ${tracksDir} (npm run bench:quality builds it): nothing to measure`);
  process.exit(0);
}
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const started = Date.now();
await initTfBackend('auto');
// PHOTO_TAPS=mean:fire7/concat_1,max:fire9/concat_1: features from these pooled layers instead.
const taps = process.env.PHOTO_TAPS?.split(',').map((t) => ({ pool: t.split(':')[0] as 'mean' | 'max', tensor: t.split(':')[1] })) ?? DEFAULT_TRACK_TRAINING.cropTaps;
const backbone = await loadBackbone(BACKBONE, { taps });
console.log(`features: ${backbone.cutAt} (${backbone.featureDim})`);
const clips = await readTrackSet(tracksDir);
const data = await embedClips(backbone, clips, { cacheDir });
const trainAll = await scanDataset(TRAIN);
const trainAllFeatures = await computeEmbeddings(backbone, trainAll.items.map((i) => path.join(TRAIN, i.path)), { cacheDir, augment: false });
let train = { items: trainAll.items };
let trainFeatures = trainAllFeatures;
let valid = { items: (await scanDataset(VALID)).items };
let validFeatures = await computeEmbeddings(backbone, valid.items.map((i) => path.join(VALID, i.path)), { cacheDir, augment: false });
if (process.env.PHOTO_DEV) {
  const groups = await mirrorGroups(trainAll.items.map((i) => path.join(TRAIN, i.path)), trainAll.items.map((i) => i.label));
  // Every fifth group, in order of first appearance, is the dev split.
  const order = [...new Set(groups)];
  const dev = new Set(order.filter((_g, k) => k % 5 === 0));
  const pickRows = (rows: number[]) => {
    const out = new Float32Array(rows.length * backbone.featureDim);
    rows.forEach((r, k) => out.set(trainAllFeatures.subarray(r * backbone.featureDim, (r + 1) * backbone.featureDim), k * backbone.featureDim));
    return out;
  };
  const devRows = groups.map((g, i) => (dev.has(g) ? i : -1)).filter((i) => i >= 0);
  const restRows = groups.map((g, i) => (dev.has(g) ? -1 : i)).filter((i) => i >= 0);
  valid = { items: devRows.map((r) => trainAll.items[r]) };
  validFeatures = pickRows(devRows);
  train = { items: restRows.map((r) => trainAll.items[r]) };
  trainFeatures = pickRows(restRows);
  console.log(`PHOTO_DEV: ${order.length} photographs (groups) in images/train; ${devRows.length} images held out for scoring, ${restRows.length} train; images/valid not used`);
}
console.log(`embeddings ready (${clips.length} clips, ${train.items.length} + ${valid.items.length} photographs) in ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load()}`);
const crop = { ...DEFAULT_TRACK_TRAINING.crop, ...(process.env.PHOTO_CROP ? (JSON.parse(process.env.PHOTO_CROP) as object) : {}) };
console.log(`crop head: ${JSON.stringify(crop)}`);

// As served: with the version's photo model (photographs only, DEFAULT_PHOTO_HEADS) combined with the
// crop model the way /v1/predict combines them. PHOTO_SERVED=0 skips it.
const served = process.env.PHOTO_SERVED !== '0';
const rows: Array<{ seed: number; pair: number; top: number; droneRecall: number; seconds: number; servedTop?: number }> = [];
for (const seed of seeds) {
  const t0 = Date.now();
  const folds = clipFolds(clips, 5, seed);
  const trainClips = clips.map((_c, i) => i).filter((i) => folds[i] !== 0);
  const settings: TrackTrainSettings = { ...DEFAULT_TRACK_TRAINING, cropTaps: taps, crop, seed, extraCrops: { features: trainFeatures, labels: train.items.map((i) => i.label) }, extraRepeats: Number(process.env.PHOTO_REPEATS ?? DEFAULT_TRACK_TRAINING.extraRepeats) };
  const labels = trainingLabels(data, trainClips, settings);
  const { model } = await trainCropHead(data, trainClips, labels, settings);
  const probs = predictRows(model, validFeatures, backbone.featureDim);
  model.dispose();
  const L = labels.length;
  let pair = 0;
  let top = 0;
  let drones = 0;
  let dronesFound = 0;
  const wrong: string[] = [];
  valid.items.forEach((item, i) => {
    const p = (l: string) => probs[i * L + labels.indexOf(l)];
    let best = 0;
    for (let k = 1; k < L; k++) if (probs[i * L + k] > probs[i * L + best]) best = k;
    if (labels[best] === item.label) top++;
    else wrong.push(`${item.path} -> ${labels[best]} (drone ${p('drone').toFixed(2)}, bird ${p('bird').toFixed(2)})`);
    const pairLabel = p('drone') > p('bird') ? 'drone' : 'bird';
    if (pairLabel === item.label) pair++;
    if (item.label === 'drone') {
      drones++;
      if (labels[best] === 'drone') dronesFound++;
    }
  });
  const n = valid.items.length;
  let servedTop: number | undefined;
  if (served) {
    // The seed train-track-model gives the photo heads: the run's own.
    const photo = await trainPhotoHeads(trainFeatures, train.items.map((i) => i.label), backbone.featureDim, DEFAULT_PHOTO_HEADS, { seed });
    const per = photo.heads.map((h) => predictRows(h, validFeatures, backbone.featureDim));
    for (const h of photo.heads) h.dispose();
    const P = photo.labels.length;
    let right = 0;
    valid.items.forEach((item, i) => {
      const mean = Float32Array.from(photo.labels, (_l, k) => per.reduce((sum, q) => sum + q[i * P + k], 0) / per.length);
      const answer = combinePhotoAnswer(
        { labels, probs: probs.slice(i * L, (i + 1) * L), modelVersion: 'bench', queueMs: 0, inferMs: 0, batchSize: 1 },
        { labels: photo.labels, probs: mean, modelVersion: 'bench', queueMs: 0, inferMs: 0, batchSize: 1 },
      );
      let best = 0;
      for (let k = 1; k < answer.labels.length; k++) if (answer.probs[k] > answer.probs[best]) best = k;
      if (answer.labels[best] === item.label) right++;
    });
    servedTop = right / n;
  }
  rows.push({ seed, pair: pair / n, top: top / n, droneRecall: dronesFound / drones, seconds: (Date.now() - t0) / 1000, ...(servedTop !== undefined ? { servedTop } : {}) });
  console.log(`seed ${seed}: drone vs bird ${(pair / n).toFixed(4)}, top label ${(top / n).toFixed(4)}, drone recall ${(dronesFound / drones).toFixed(4)}${servedTop !== undefined ? `, as served with the photo model ${servedTop.toFixed(4)}` : ''}; ${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
  if (process.env.PHOTO_SHOW) for (const w of wrong) console.log(`  wrong: ${w}`);
}
const stat = (k: 'pair' | 'top' | 'droneRecall' | 'servedTop') => {
  const v = rows.map((r) => r[k] ?? 0);
  return `mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}, min ${Math.min(...v).toFixed(4)}, max ${Math.max(...v).toFixed(4)}`;
};
console.log(`\n${process.env.PHOTO_DEV ? 'dev split of images/train' : 'images/valid'} (${valid.items.length}), seeds ${seeds.join(',')}: top label ${stat('top')}; drone vs bird ${stat('pair')}; drone recall ${stat('droneRecall')}${served ? `; as served (crop model + photo model) ${stat('servedTop')}` : ''}`);
console.log(`total ${((Date.now() - started) / 60000).toFixed(1)} min; load average ${load()}; ${os.cpus().length} cores; ${new Date().toISOString()}`);

