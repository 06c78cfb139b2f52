import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { trackFeatureNames, trackFeatures } from '../../tracking/track-features.js';
import type { FeatureSet } from '../fit/array-batches.js';
import type { Backbone } from '../transfer/backbone.js';
import { computeEmbeddings } from '../transfer/embeddings.js';
import { fitCropHead, fitTrackHead, predictRows, type HeadFit } from './heads.js';
import { clipFolds, primaryTrack, type ClipRecord } from './track-set.js';

/** Every crop of every track embedded once: rows[clip][track][point] indexes `features`. */
export interface EmbeddedClips {
  clips: ClipRecord[];
  rows: number[][][];
  features: Float32Array;
  dim: number;
}

export interface TrackTrainSettings {
  seed: number;
  /** Folds for the out-of-fold crop scores the track model learns from. */
  folds: number;
  /** Track prefixes (in crops) the track model is trained on, so it is right early in a track too. */
  prefixLengths: number[];
  /** Crops of one track the crop model learns from, spread evenly over it (neighbouring frames add little). */
  maxCropsPerTrack: number;
  crop: Omit<HeadFit, 'seed' | 'signal'>;
  track: Omit<HeadFit, 'seed' | 'signal'>;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

export const DEFAULT_TRACK_TRAINING: Omit<TrackTrainSettings, 'seed'> = {
  folds: 3,
  maxCropsPerTrack: 24,
  prefixLengths: [2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50],
  crop: { epochs: 15, learningRate: 1e-3, batchSize: 64 },
  track: { epochs: 60, learningRate: 3e-3, batchSize: 64 },
};

/** The two trained parts: a crop classifier (on backbone features) and the track model. */
export interface TrackModelParts {
  labels: string[];
  featureNames: string[];
  cropHead: tf.LayersModel;
  trackHead: tf.LayersModel;
  counts: { clips: Record<string, number>; cropExamples: Record<string, number>; trackExamples: Record<string, number> };
}

export async function embedClips(backbone: Backbone, clips: ClipRecord[], options: { cacheDir: string; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<EmbeddedClips> {
  const files: string[] = [];
  const rows = clips.map((c) => c.tracks.map((t) => t.crops.map((f) => files.push(f) - 1)));
  const features = await computeEmbeddings(backbone, files, { cacheDir: options.cacheDir, augment: false, signal: options.signal, onProgress: options.onProgress });
  return { clips, rows, features, dim: backbone.featureDim };
}

function gather(data: EmbeddedClips, rowIndexes: readonly number[]): Float32Array {
  const out = new Float32Array(rowIndexes.length * data.dim);
  rowIndexes.forEach((r, i) => out.set(data.features.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim));
  return out;
}

/** Crops of the primary tracks of the given clips, labelled by their clip. */
function cropSet(data: EmbeddedClips, clipIndexes: readonly number[], labels: readonly string[], maxPerTrack: number): FeatureSet {
  const rowIndexes: number[] = [];
  const y: number[] = [];
  for (const c of clipIndexes) {
    const clip = data.clips[c];
    const primary = primaryTrack(clip);
    if (!primary) continue;
    const t = clip.tracks.indexOf(primary);
    const rows = data.rows[c][t];
    const step = Math.max(1, rows.length / maxPerTrack);
    for (let k = 0; k < rows.length; k += step) {
      rowIndexes.push(rows[Math.floor(k)]);
      y.push(labels.indexOf(clip.label));
    }
  }
  return { features: gather(data, rowIndexes), labels: Int32Array.from(y) };
}

/** Crop probabilities of every point of every track of a clip, from a crop head. */
export function clipProbabilities(data: EmbeddedClips, c: number, head: tf.LayersModel, labelCount: number): Float32Array[][] {
  return data.rows[c].map((trackRows) => {
    const probs = predictRows(head, gather(data, trackRows), data.dim);
    return trackRows.map((_r, i) => probs.slice(i * labelCount, (i + 1) * labelCount));
  });
}

/**
 * Trains both parts on the given clips. The track model must learn from crop scores like those it will
 * get in service, on objects the crop model never saw: so the crop scores it trains on are out of fold
 * (a crop head trained without the clip's fold scores it), and the crop head that ships is trained on all.
 */
export async function trainTrackParts(data: EmbeddedClips, clipIndexes: readonly number[], settings: TrackTrainSettings): Promise<TrackModelParts> {
  const say = settings.onProgress ?? (() => {});
  const labels = [...new Set(clipIndexes.map((c) => data.clips[c].label))].sort();
  if (labels.length < 2) throw new SkywatchError('DATA_INVALID', `track training needs clips of at least two labels, found ${labels.join(', ') || 'none'}`);
  const fit = (s: Omit<HeadFit, 'seed' | 'signal'>, salt: number): HeadFit => ({ ...s, seed: settings.seed * 7919 + salt, signal: settings.signal });
  const folds = clipFolds(clipIndexes.map((c) => data.clips[c]), settings.folds, settings.seed);
  const oof = new Map<number, Float32Array[][]>();
  for (let f = 0; f < settings.folds; f++) {
    const inFold = clipIndexes.filter((_c, i) => folds[i] === f);
    const rest = clipIndexes.filter((_c, i) => folds[i] !== f);
    if (inFold.length === 0) continue;
    say(`crop model for fold ${f + 1}/${settings.folds} (${rest.length} clips)`);
    const { model } = await fitCropHead(cropSet(data, rest, labels, settings.maxCropsPerTrack), data.dim, labels.length, fit(settings.crop, f + 1));
    for (const c of inFold) oof.set(c, clipProbabilities(data, c, model, labels.length));
    model.dispose();
  }
  const featureNames = trackFeatureNames(labels);
  const xs: number[] = [];
  const ys: number[] = [];
  const trackExamples: Record<string, number> = {};
  for (const c of clipIndexes) {
    const clip = data.clips[c];
    const primary = primaryTrack(clip);
    if (!primary) continue;
    const probs = oof.get(c)![clip.tracks.indexOf(primary)];
    const n = primary.points.length;
    for (const k of [...new Set([...settings.prefixLengths.filter((p) => p < n), n])]) {
      xs.push(...trackFeatures(primary.points.slice(0, k), probs.slice(0, k), labels.length, clip.width, clip.height));
      ys.push(labels.indexOf(clip.label));
      trackExamples[clip.label] = (trackExamples[clip.label] ?? 0) + 1;
    }
  }
  say(`track model on ${ys.length} track prefixes`);
  const { model: trackHead } = await fitTrackHead({ features: Float32Array.from(xs), labels: Int32Array.from(ys) }, featureNames.length, labels.length, fit(settings.track, 101));
  say(`crop model on every clip (${clipIndexes.length})`);
  const crops = cropSet(data, clipIndexes, labels, settings.maxCropsPerTrack);
  const { model: cropHead } = await fitCropHead(crops, data.dim, labels.length, fit(settings.crop, 0));
  const clipsPerLabel: Record<string, number> = {};
  const cropExamples: Record<string, number> = {};
  for (const c of clipIndexes) clipsPerLabel[data.clips[c].label] = (clipsPerLabel[data.clips[c].label] ?? 0) + 1;
  for (const y of crops.labels) cropExamples[labels[y]] = (cropExamples[labels[y]] ?? 0) + 1;
  return { labels, featureNames, cropHead, trackHead, counts: { clips: clipsPerLabel, cropExamples, trackExamples } };
}
