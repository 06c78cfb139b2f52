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
 * layers for the features, `pool:tensor` comma-separated; default: the shipped setting), PHOTO_SIZE (the photo
 * model's input size in pixels; default: the shipped one, DEFAULT_PHOTO_MODEL.inputSize). PHOTO_DEV=1 chooses variants
 * without looking at images/valid: a fifth of images/train (by photograph: a photo and its flipped copy
 * stay together) is held out and scored instead, the rest trains. As served: the crop model with the
 * photo model and its gate (as train-track-model trains them for the seed), combined as /v1/predict
 * combines them, and without the gate for comparison; also on the crops of the held-out clips (fold 0)
 * posted as images. The crop model and the gate learn from every clip, as the model `npm start` ships
 * does after its held-out evaluation (refit); PHOTO_REFIT=0 trains them on the clips outside fold 0
 * only, as the evaluated model is, and only then are fold 0's crops unseen and scored. PHOTO_DUMP=PREFIX writes both models' probabilities and the gate on the scored
 * photographs and on those crops to PREFIX-seedN.json. PHOTO_TRAIN_SUBSAMPLE=K leaves every K-th
 * photograph of images/train (with its mirror copies) out of training: what more photographs are worth.
 * PHOTO_VALID_FOLDS=K measures what images/valid would add to the photo model: images/valid is cut
 * into K folds by photograph (mirror copies together); for each fold the photo model and its gate learn
 * from images/train plus the other folds (the crop model from images/train only) and answer the fold's
 * photographs, so every photograph of images/valid is still scored by models that never saw it (it
 * lowered the answers: the shipped photo model learns from images/train alone, docs/BENCHMARKS.md).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { scanDataset } from '../trainer/data/scan.js';
import { gatherRows } from '../trainer/fit/gather-rows.js';
import { initTfBackend } from '../trainer/tfjs/backend.js';
import { predictRows, predictRowsMean } from '../trainer/track/heads.js';
import { PHOTO_GATE_COLUMN } from '../core/model/manifest.js';
import { DEFAULT_PHOTO_GATE, trainPhotoGate } from '../trainer/photo/train-photo-gate.js';
import { gateCropFeatures } from '../trainer/photo/gate-crop-features.js';
import { cropBackboneOptions, DEFAULT_TRACK_TRAINING, embedClips, trainCropHeads, trainingLabels, trainingTracks, type TrackTrainSettings } from '../trainer/track/train-track.js';
import { clipFolds, readTrackSet } from '../trainer/track/track-set.js';
import { loadBackbone } from '../trainer/transfer/backbone.js';
import { computeEmbeddings } from '../trainer/transfer/embeddings.js';
import { combinePhotoAnswer } from '../inference/photo-answer.js';
import { DEFAULT_PHOTO_MODEL, trainPhotoHeads } from '../trainer/photo/train-photo-heads.js';
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
/** Two row-major feature matrices, one under the other. */
function concatRows(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
const gateSpec = { column: PHOTO_GATE_COLUMN, keepCropAbove: DEFAULT_PHOTO_GATE.keepCropAbove };
/** A model's answer as /v1/predict's combination takes it. */
const result = (ls: string[], p: Float32Array) => ({ labels: ls, probs: p, modelVersion: 'bench', queueMs: 0, inferMs: 0, batchSize: 1 });
const topOf = (a: { labels: string[]; probs: Float32Array }) => a.labels[a.probs.indexOf(Math.max(...a.probs))];
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
const started = Date.now();
await initTfBackend('auto');
// PHOTO_TAPS=mean:fire7/concat_1,max:fire9/concat_1: features from these pooled layers instead.
const taps = process.env.PHOTO_TAPS?.split(',').map((t) => ({ pool: t.split(':')[0] as 'mean' | 'max', tensor: t.split(':')[1] })) ?? DEFAULT_TRACK_TRAINING.cropTaps;
const clips = await readTrackSet(tracksDir);
// The crop model's backbone as the trainer loads it (float by default; 8-bit with quantiseCalibration).
const backbone = await loadBackbone(BACKBONE, cropBackboneOptions(clips, { ...DEFAULT_TRACK_TRAINING, cropTaps: taps }));
// The photo model's own input size (PHOTO_SIZE to compare others); the crop model keeps the backbone's.
const photoSize = Number(process.env.PHOTO_SIZE ?? DEFAULT_PHOTO_MODEL.inputSize);
const photoBackbone = photoSize === backbone.input.width ? backbone : await loadBackbone(BACKBONE, { taps, size: photoSize });
const photoModel = { ...DEFAULT_PHOTO_MODEL, inputSize: photoSize };
console.log(`features: ${backbone.cutAt} (${backbone.featureDim}); crop model at ${backbone.input.width} px${backbone.quantised ? ', 8-bit' : ''}, photo model at ${photoSize} px`);
const data = await embedClips(backbone, clips, { cacheDir });
/** Photographs with their features for the crop model and for the photo model (the same rows of both). */
interface PhotoSet {
  items: Array<{ path: string; label: string }>;
  features: Float32Array;
  photoFeatures: Float32Array;
}
const embedBoth = async (dir: string, items: PhotoSet['items']): Promise<PhotoSet> => {
  const files = items.map((i) => path.join(dir, i.path));
  const features = await computeEmbeddings(backbone, files, { cacheDir, augment: false });
  return { items, features, photoFeatures: photoBackbone === backbone ? features : await computeEmbeddings(photoBackbone, files, { cacheDir, augment: false }) };
};
const pickRows = (set: PhotoSet, rows: number[]): PhotoSet => ({ items: rows.map((r) => set.items[r]), features: gatherRows(set.features, rows, backbone.featureDim), photoFeatures: gatherRows(set.photoFeatures, rows, photoBackbone.featureDim) });
const trainAll = await embedBoth(TRAIN, (await scanDataset(TRAIN)).items);
let train = trainAll;
let valid = await embedBoth(VALID, (await scanDataset(VALID)).items);
if (process.env.PHOTO_DEV) {
  const groups = await mirrorGroups(trainAll.items.map((i) => path.join(TRAIN, i.path)), trainAll.items.map((i) => i.label));
  // Every fifth group, in order of first appearance, is the dev split.
  const order = [...new Set(groups)];
  const dev = new Set(order.filter((_g, k) => k % 5 === 0));
  const devRows = groups.map((g, i) => (dev.has(g) ? i : -1)).filter((i) => i >= 0);
  const restRows = groups.map((g, i) => (dev.has(g) ? -1 : i)).filter((i) => i >= 0);
  valid = pickRows(trainAll, devRows);
  train = pickRows(trainAll, restRows);
  console.log(`PHOTO_DEV: ${order.length} photographs (groups) in images/train; ${devRows.length} images held out for scoring, ${restRows.length} train; images/valid not used`);
}
// PHOTO_TRAIN_SUBSAMPLE=K: every K-th photograph (with its flipped copies) left out of training, to see
// what more photographs are worth (images/valid adds about a third more distinct photographs).
if (process.env.PHOTO_TRAIN_SUBSAMPLE) {
  const k = Number(process.env.PHOTO_TRAIN_SUBSAMPLE);
  const groups = await mirrorGroups(train.items.map((i) => path.join(TRAIN, i.path)), train.items.map((i) => i.label));
  const order = [...new Set(groups)];
  const dropped = new Set(order.filter((_g, j) => j % k === 0));
  const rows = groups.map((g, i) => (dropped.has(g) ? -1 : i)).filter((i) => i >= 0);
  console.log(`PHOTO_TRAIN_SUBSAMPLE=${k}: training on ${rows.length} of ${train.items.length} photographs (${order.length - dropped.size} of ${order.length} groups)`);
  train = pickRows(train, rows);
}
// PHOTO_VALID_FOLDS=K: which fold of images/valid each photograph is in (mirror copies together).
const validFolds = Number(process.env.PHOTO_VALID_FOLDS ?? 0);
let validFold: number[] = [];
if (validFolds) {
  if (!(Number.isInteger(validFolds) && validFolds >= 2) || process.env.PHOTO_DEV || process.env.PHOTO_REFIT === '0' || process.env.PHOTO_DUMP || process.env.PHOTO_SERVED === '0') {
    console.error('PHOTO_VALID_FOLDS takes a whole number >= 2, with the served answer, the refit, and without PHOTO_DEV or PHOTO_DUMP');
    process.exit(2);
  }
  const groups = await mirrorGroups(valid.items.map((i) => path.join(VALID, i.path)), valid.items.map((i) => i.label));
  const order = [...new Set(groups)];
  const foldOf = new Map(order.map((g, k) => [g, k % validFolds]));
  validFold = groups.map((g) => foldOf.get(g)!);
  console.log(`PHOTO_VALID_FOLDS=${validFolds}: ${order.length} photographs (groups) of images/valid in ${validFolds} folds; the photo model and gate learn from images/train and the other folds`);
}
console.log(`embeddings ready (${clips.length} clips, ${train.items.length} + ${valid.items.length} photographs) in ${((Date.now() - started) / 1000).toFixed(0)} s; load average ${load()}`);
const crop = { ...DEFAULT_TRACK_TRAINING.crop, ...(process.env.PHOTO_CROP ? (JSON.parse(process.env.PHOTO_CROP) as object) : {}) };
console.log(`crop head: ${JSON.stringify(crop)}`);

// As served: with the version's photo model (photographs only, DEFAULT_PHOTO_MODEL) combined with the
// crop model the way /v1/predict combines them. PHOTO_SERVED=0 skips it.
const served = process.env.PHOTO_SERVED !== '0';
const refit = process.env.PHOTO_REFIT !== '0';
console.log(refit ? 'crop model and gate on every clip, as shipped (refit); no clip is held out' : 'crop model and gate on the clips outside fold 0; its crops are scored as images');
const rows: Array<{ seed: number; pair: number; top: number; droneRecall: number; seconds: number; servedTop?: number; plainTop?: number }> = [];
for (const seed of seeds) {
  const t0 = Date.now();
  const folds = clipFolds(clips, 5, seed);
  const trainClips = clips.map((_c, i) => i).filter((i) => refit || folds[i] !== 0);
  const settings: TrackTrainSettings = { ...DEFAULT_TRACK_TRAINING, cropTaps: taps, crop, seed, extraCrops: { features: train.features, labels: train.items.map((i) => i.label) }, extraRepeats: Number(process.env.PHOTO_REPEATS ?? DEFAULT_TRACK_TRAINING.extraRepeats) };
  const labels = trainingLabels(data, trainClips, settings);
  const { heads } = await trainCropHeads(data, trainClips, labels, settings);
  const probs = predictRowsMean(heads, valid.features, backbone.featureDim);
  // The crops of the held-out clips (fold 0: neither model saw them): what a camera crop posted to /v1/predict gets.
  const heldOut = clips.map((_c, i) => i).filter((i) => folds[i] === 0);
  const crops = served && !refit ? heldOut.flatMap((c) => trainingTracks(clips[c], settings).flatMap(({ track, label }) => data.rows[c][track].map((r) => ({ row: r, label, clip: clips[c].id })))) : [];
  const cropRows = gatherRows(data.features, crops.map((x) => x.row), backbone.featureDim);
  const cropOnCrops = predictRowsMean(heads, cropRows, backbone.featureDim);
  // The same crops as the photo model sees them (at its own input size).
  const photoCropRows = photoBackbone === backbone ? cropRows : await computeEmbeddings(photoBackbone, crops.map((x) => data.files[x.row]), { cacheDir, augment: false });
  for (const h of heads) h.dispose();
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
  let plainTop: number | undefined;
  if (served) {
    const dim = photoBackbone.featureDim;
    let right = 0;
    let plain = 0;
    // Without folds one photo model (images/train) answers every photograph of images/valid; with
    // PHOTO_VALID_FOLDS each fold is answered by a photo model that learnt from the other folds too.
    for (let f = 0; f < Math.max(1, validFolds); f++) {
      const extra = validFolds ? valid.items.map((_item, i) => i).filter((i) => validFold[i] !== f) : [];
      const photoFeatures = extra.length ? concatRows(train.photoFeatures, gatherRows(valid.photoFeatures, extra, dim)) : train.photoFeatures;
      const photoLabels = [...train.items.map((i) => i.label), ...extra.map((i) => valid.items[i].label)];
      // The photo heads and the gate as train-track-model trains them for this seed.
      const photo = await trainPhotoHeads(photoFeatures, photoLabels, dim, photoModel, { seed });
      const gateStarted = Date.now();
      const clipCrops = await gateCropFeatures(data, trainClips, labels, settings, photoLabels.length, photoBackbone, { sameCut: photoBackbone === backbone, cacheDir });
      const gate = await trainPhotoGate(photoFeatures, clipCrops, dim, DEFAULT_PHOTO_GATE, { seed });
      console.log(`seed ${seed}${validFolds ? `, fold ${f}: photo model on ${photoLabels.length} photographs;` : ':'} gate trained in ${((Date.now() - gateStarted) / 1000).toFixed(1)} s`);
      const photoOn = (rows: Float32Array) => predictRowsMean(photo.heads, rows, dim);
      const onImages = photoOn(valid.photoFeatures);
      const gateImages = predictRows(gate, valid.photoFeatures, dim);
      const P = photo.labels.length;
      // What the served photo model outputs: the heads' mean, then the gate's P(photograph).
      const photoOut = (i: number) => result([...photo.labels, PHOTO_GATE_COLUMN], Float32Array.from([...onImages.slice(i * P, (i + 1) * P), gateImages[i * 2 + 1]]));
      valid.items.forEach((item, i) => {
        if (validFolds && validFold[i] !== f) return;
        const crop = result(labels, probs.slice(i * L, (i + 1) * L));
        if (topOf(combinePhotoAnswer(crop, photoOut(i), gateSpec)) === item.label) right++;
        if (topOf(combinePhotoAnswer(crop, result(photo.labels, onImages.slice(i * P, (i + 1) * P)))) === item.label) plain++;
      });
      if (f === 0) await scoreCrops(photo, gate);
      for (const h of photo.heads) h.dispose();
      gate.dispose();
    }
    servedTop = right / n;
    plainTop = plain / n;
  }
  // The crops of the held-out clips (PHOTO_REFIT=0 only) posted as images, with the first photo model.
  async function scoreCrops(photo: Awaited<ReturnType<typeof trainPhotoHeads>>, gate: Parameters<typeof predictRows>[0]): Promise<void> {
    const dim = photoBackbone.featureDim;
    const photoOn = (rows: Float32Array) => predictRowsMean(photo.heads, rows, dim);
    const onImages = photoOn(valid.photoFeatures);
    const onCrops = photoOn(photoCropRows);
    const gateImages = predictRows(gate, valid.photoFeatures, dim);
    const gateCrops = predictRows(gate, photoCropRows, dim);
    const P = photo.labels.length;
    let cropRight = 0;
    let cropServed = 0;
    let cropPlain = 0;
    crops.forEach((x, k) => {
      const crop = result(labels, cropOnCrops.slice(k * L, (k + 1) * L));
      if (topOf(crop) === x.label) cropRight++;
      if (topOf(combinePhotoAnswer(crop, result([...photo.labels, PHOTO_GATE_COLUMN], Float32Array.from([...onCrops.slice(k * P, (k + 1) * P), gateCrops[k * 2 + 1]])), gateSpec)) === x.label) cropServed++;
      if (topOf(combinePhotoAnswer(crop, result(photo.labels, onCrops.slice(k * P, (k + 1) * P)))) === x.label) cropPlain++;
    });
    if (crops.length) console.log(`seed ${seed}: ${crops.length} crops of held-out clips posted as images: crop model ${(cropRight / crops.length).toFixed(4)}, as served ${(cropServed / crops.length).toFixed(4)}, without the gate ${(cropPlain / crops.length).toFixed(4)}`);
    if (process.env.PHOTO_DUMP) {
      // Both models' probabilities and the gate on the scored photographs and on the held-out crops.
      await mkdir(path.dirname(path.resolve(process.env.PHOTO_DUMP)), { recursive: true });
      await writeFile(`${process.env.PHOTO_DUMP}-seed${seed}.json`, JSON.stringify({
        seed, labels, photoLabels: photo.labels,
        images: valid.items.map((item, i) => ({ path: item.path, label: item.label, crop: Array.from(probs.slice(i * L, (i + 1) * L)), photo: Array.from(onImages.slice(i * P, (i + 1) * P)), gate: gateImages[i * 2 + 1] })),
        crops: crops.map((x, k) => ({ clip: x.clip, label: x.label, crop: Array.from(cropOnCrops.slice(k * L, (k + 1) * L)), photo: Array.from(onCrops.slice(k * P, (k + 1) * P)), gate: gateCrops[k * 2 + 1] })),
      }));
    }
  }
  rows.push({ seed, pair: pair / n, top: top / n, droneRecall: dronesFound / drones, seconds: (Date.now() - t0) / 1000, ...(servedTop !== undefined ? { servedTop, plainTop } : {}) });
  console.log(`seed ${seed}: drone vs bird ${(pair / n).toFixed(4)}, top label ${(top / n).toFixed(4)}, drone recall ${(dronesFound / drones).toFixed(4)}${servedTop !== undefined ? `, as served with the photo model and its gate ${servedTop.toFixed(4)} (without the gate ${plainTop!.toFixed(4)})` : ''}; ${((Date.now() - t0) / 1000).toFixed(0)} s; load average ${load()}`);
  if (process.env.PHOTO_SHOW) for (const w of wrong) console.log(`  wrong: ${w}`);
}
const stat = (k: 'pair' | 'top' | 'droneRecall' | 'servedTop' | 'plainTop') => {
  const v = rows.map((r) => r[k] ?? 0);
  return `mean ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(4)}, min ${Math.min(...v).toFixed(4)}, max ${Math.max(...v).toFixed(4)}`;
};
console.log(`\n${process.env.PHOTO_DEV ? 'dev split of images/train' : 'images/valid'} (${valid.items.length}), seeds ${seeds.join(',')}: top label ${stat('top')}; drone vs bird ${stat('pair')}; drone recall ${stat('droneRecall')}${served ? `; as served (crop model + photo model + gate) ${stat('servedTop')}; without the gate ${stat('plainTop')}` : ''}`);
console.log(`total ${((Date.now() - started) / 60000).toFixed(1)} min; load average ${load()}; ${os.cpus().length} cores; ${new Date().toISOString()}`);

