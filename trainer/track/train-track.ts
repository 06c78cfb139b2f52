import type * as tf from '@tensorflow/tfjs';
import { SkywatchError } from '../../core/errors.js';
import { trackFeatureNames, trackFeatures } from '../../tracking/track-features.js';
import type { FeatureSet } from '../fit/array-batches.js';
import { gatherRows } from '../fit/gather-rows.js';
import type { EpochRecord } from '../fit/epoch-record.js';
import type { ProgressReporter } from '../fit/progress.js';
import type { Backbone, BackboneOptions, FeatureTap } from '../transfer/backbone.js';
import { computeEmbeddings } from '../transfer/embeddings.js';
import { fitCropHeads, fitTrackHead, predictRowsMean, type CropHeadFit, type HeadFit } from './heads.js';
import { clipFolds, primaryTrack, type ClipRecord } from './track-set.js';

/** Every crop of every track embedded once: rows[clip][track][point] indexes `features`. */
export interface EmbeddedClips {
  clips: ClipRecord[];
  rows: number[][][];
  features: Float32Array;
  dim: number;
  /** The crop image of each row, so a model on another backbone cut (the photo model's) can embed the same crops. */
  files: string[];
}

export interface TrackTrainSettings {
  seed: number;
  /** Folds for the out-of-fold crop scores the track model learns from. */
  folds: number;
  /** Track prefixes (in crops) the track model is trained on, so it is right early in a track too. */
  prefixLengths: number[];
  /** Crops of one track the crop model learns from, spread evenly over it (neighbouring frames add little). */
  maxCropsPerTrack: number;
  /**
   * Labels whose clips may hold several objects of interest. In the other clips, every moving thing
   * besides the main object (clouds, trees, fragments of a bird) is certainly not one of these: such
   * tracks teach the `other` label, so the models learn what a false alarm looks like.
   */
  positiveLabels: string[];
  /** Secondary tracks (three points or more, longest first) taken per clip as `other`. */
  otherTracksPerClip: number;
  /**
   * Extra crop-model examples that are not clips (photographs: embeddings and label names). They join
   * every crop model's training set, never the track model's, so single images are classified too.
   */
  extraCrops?: { features: Float32Array; labels: string[] };
  /**
   * Times each extra crop joins the crop set. Clip crops outnumber the photographs and, being small
   * blurry objects on sky, pull sky-heavy photographs towards airplane and `other`; repeating the
   * photographs 3x lifts photo accuracy but costs drone clips alerted (docs/BENCHMARKS.md, photo
   * accuracy as served), so the default is 1.
   */
  extraRepeats: number;
  /**
   * Backbone layers the crop model's features are pooled from (empty: the backbone's classifier input,
   * mean-pooled). Finer layers and max pooling keep small objects that the last layer's mean dilutes.
   */
  cropTaps: FeatureTap[];
  /**
   * Crop heads trained with different seeds and averaged (in the exported graph too: one backbone
   * pass). The out-of-fold scores the track model learns from are averaged the same way, so it learns
   * from scores like those it gets in service.
   */
  cropHeads: number;
  /**
   * Crops of the clips the crop model's backbone calibrates its 8-bit convolutions on (spread evenly
   * over every clip; see calibrationCrops); 0, the default: the backbone runs in float. An 8-bit crop
   * costs about three quarters of a float one, but on clips no model saw 8-bit crop models detected
   * slightly worse (docs/BENCHMARKS.md), so they are for machines short of CPU (`train --int8-crops`).
   */
  quantiseCalibration: number;
  crop: Omit<CropHeadFit, 'seed' | 'signal' | 'onEpoch' | 'progress'>;
  track: HeadSettings;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** After every epoch of every fit; `part` names the model (`crop fold 1/3`, `track`, `crop`). */
  onEpoch?: (part: string, record: EpochRecord) => void | Promise<void>;
  /** Passed to every fit (the profiler counts steps through it). */
  progress?: ProgressReporter;
}

/** What a head's fit is set with (the seed is derived per fit, the rest are the run's hooks). */
export type HeadSettings = Omit<HeadFit, 'seed' | 'signal' | 'onEpoch' | 'progress'>;

/** The settings as a run records them: without the data and the run's hooks. */
export function recordedSettings(settings: Omit<TrackTrainSettings, 'seed'> & { seed?: number }): Record<string, unknown> {
  const { extraCrops: _extra, signal: _signal, onProgress: _say, onEpoch: _epoch, progress: _progress, ...rest } = settings;
  return rest;
}

export const OTHER_LABEL = 'other';

/** Calibration crops of an 8-bit crop model (`train --int8-crops`): 256 crops spread over the clips. */
export const INT8_CALIBRATION_CROPS = 256;

export const DEFAULT_TRACK_TRAINING: Omit<TrackTrainSettings, 'seed'> = {
  folds: 3,
  maxCropsPerTrack: 24,
  positiveLabels: ['drone'],
  otherTracksPerClip: 6,
  extraRepeats: 1,
  // Pooled fire7 + fire9 (mean and max) scored better on a dev split of images/train but not on
  // images/valid, and costs 2.75x the head's inputs and a re-embedding: off (docs/BENCHMARKS.md).
  cropTaps: [],
  cropHeads: 1,
  quantiseCalibration: 0,
  prefixLengths: [2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50],
  crop: { epochs: 15, learningRate: 1e-3, batchSize: 64 },
  track: { epochs: 60, learningRate: 3e-3, batchSize: 64 },
};

/** The two trained parts: a crop classifier (on backbone features) and the track model. */
export interface TrackModelParts {
  labels: string[];
  featureNames: string[];
  /** One or more crop heads on the backbone's features; their probabilities are averaged. */
  cropHeads: tf.LayersModel[];
  trackHead: tf.LayersModel;
  counts: { clips: Record<string, number>; cropExamples: Record<string, number>; trackExamples: Record<string, number> };
}

export async function embedClips(backbone: Backbone, clips: ClipRecord[], options: { cacheDir: string; signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<EmbeddedClips> {
  const files: string[] = [];
  const rows = clips.map((c) => c.tracks.map((t) => t.crops.map((f) => files.push(f) - 1)));
  const features = await computeEmbeddings(backbone, files, { cacheDir: options.cacheDir, augment: false, signal: options.signal, onProgress: options.onProgress });
  return { clips, rows, features, dim: backbone.featureDim, files };
}

/**
 * `count` crop files spread evenly over the clips' crops in their order (every clip, every track), for
 * calibrating a quantised backbone: the same files for the same track set, whatever the split.
 */
export function calibrationCrops(clips: readonly ClipRecord[], count: number): string[] {
  return spreadEvenly(clips.flatMap((c) => c.tracks.flatMap((t) => t.crops)), count);
}

/** `count` of the items at even steps through them, in order (all of them when there are no more). */
export function spreadEvenly<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_v, i) => items[Math.floor(((i + 0.5) * items.length) / count)]);
}

/** How the crop model's backbone is loaded for these clips: its feature taps, and its calibration when quantised. */
export function cropBackboneOptions(clips: readonly ClipRecord[], settings: Pick<TrackTrainSettings, 'cropTaps' | 'quantiseCalibration'>): BackboneOptions {
  return {
    taps: settings.cropTaps,
    tapsIfPresent: true,
    ...(settings.quantiseCalibration > 0 ? { quantise: { images: calibrationCrops(clips, settings.quantiseCalibration) } } : {}),
  };
}

function gather(data: EmbeddedClips, rowIndexes: readonly number[]): Float32Array {
  return gatherRows(data.features, rowIndexes, data.dim);
}

/** The tracks of a clip the models learn from, with their labels: its main object, and in clips of a non-positive label the other moving things as `other`. */
export function trainingTracks(clip: ClipRecord, settings: Pick<TrackTrainSettings, 'positiveLabels' | 'otherTracksPerClip'>): Array<{ track: number; label: string }> {
  const primary = primaryTrack(clip);
  if (!primary) return [];
  const out = [{ track: clip.tracks.indexOf(primary), label: clip.label }];
  if (settings.positiveLabels.includes(clip.label)) return out;
  const others = clip.tracks
    .map((t, i) => ({ t, i }))
    .filter(({ t }) => t !== primary && t.points.length >= 3)
    .sort((a, b) => b.t.points.length - a.t.points.length || a.i - b.i)
    .slice(0, settings.otherTracksPerClip);
  return out.concat(others.map(({ i }) => ({ track: i, label: OTHER_LABEL })));
}

/** The rows (and labels) of the crops the models learn from: the training tracks' crops, at most maxCropsPerTrack each. */
export function trainingCropRows(data: EmbeddedClips, clipIndexes: readonly number[], labels: readonly string[], settings: Pick<TrackTrainSettings, 'positiveLabels' | 'otherTracksPerClip' | 'maxCropsPerTrack'>): { rowIndexes: number[]; y: number[] } {
  const rowIndexes: number[] = [];
  const y: number[] = [];
  for (const c of clipIndexes) {
    for (const { track, label } of trainingTracks(data.clips[c], settings)) {
      const rows = data.rows[c][track];
      const step = Math.max(1, rows.length / settings.maxCropsPerTrack);
      for (let k = 0; k < rows.length; k += step) {
        rowIndexes.push(rows[Math.floor(k)]);
        y.push(labels.indexOf(label));
      }
    }
  }
  return { rowIndexes, y };
}

/** Crops of the training tracks of the given clips, labelled by trainingTracks, and the extra crops. */
export function cropSet(data: EmbeddedClips, clipIndexes: readonly number[], labels: readonly string[], settings: TrackTrainSettings): FeatureSet {
  const { rowIndexes, y } = trainingCropRows(data, clipIndexes, labels, settings);
  const extra = settings.extraCrops;
  const clipFeatures = gather(data, rowIndexes);
  if (!extra || extra.labels.length === 0) return { features: clipFeatures, labels: Int32Array.from(y) };
  const once = extra.labels.map((l, i) => (labels.includes(l) ? i : -1)).filter((i) => i >= 0);
  const keep = Array.from({ length: Math.max(1, settings.extraRepeats) }, () => once).flat();
  const features = new Float32Array(clipFeatures.length + keep.length * data.dim);
  features.set(clipFeatures);
  keep.forEach((i, k) => features.set(extra.features.subarray(i * data.dim, (i + 1) * data.dim), clipFeatures.length + k * data.dim));
  return { features, labels: Int32Array.from([...y, ...keep.map((i) => labels.indexOf(extra.labels[i]))]) };
}

/** Crop probabilities of every point of every track of a clip, from crop heads (averaged). */
export function clipProbabilities(data: EmbeddedClips, c: number, heads: readonly tf.LayersModel[], labelCount: number): Float32Array[][] {
  return data.rows[c].map((trackRows) => {
    const probs = predictRowsMean(heads, gather(data, trackRows), data.dim);
    return trackRows.map((_r, i) => probs.slice(i * labelCount, (i + 1) * labelCount));
  });
}

/** The crop heads that ship: trained on every given clip (and the extra crops), seeded as trainTrackParts seeds them. */
export async function trainCropHeads(data: EmbeddedClips, clipIndexes: readonly number[], labels: readonly string[], settings: TrackTrainSettings): Promise<{ heads: tf.LayersModel[] }> {
  const heads = await fitCropHeads(cropSet(data, clipIndexes, labels, settings), data.dim, labels.length, settings.cropHeads, () => ({ ...settings.crop, seed: settings.seed * 7919, signal: settings.signal }));
  return { heads };
}

/** Labels the parts learn: those of the given clips' training tracks, sorted. */
export function trainingLabels(data: EmbeddedClips, clipIndexes: readonly number[], settings: Pick<TrackTrainSettings, 'positiveLabels' | 'otherTracksPerClip'>): string[] {
  return [...new Set(clipIndexes.flatMap((c) => trainingTracks(data.clips[c], settings).map((t) => t.label)))].sort();
}

/**
 * Trains both parts on the given clips. The track model must learn from crop scores like those it will
 * get in service, on objects the crop model never saw: so the crop scores it trains on are out of fold
 * (a crop head trained without the clip's fold scores it), and the crop head that ships is trained on all.
 */
export async function trainTrackParts(data: EmbeddedClips, clipIndexes: readonly number[], settings: TrackTrainSettings): Promise<TrackModelParts> {
  const say = settings.onProgress ?? (() => {});
  const labels = trainingLabels(data, clipIndexes, settings);
  if (labels.length < 2) throw new SkywatchError('DATA_INVALID', `track training needs clips of at least two labels, found ${labels.join(', ') || 'none'}`);
  const fit = <T extends HeadSettings>(s: T, salt: number, part: string): T & HeadFit => ({
    ...s,
    seed: settings.seed * 7919 + salt,
    signal: settings.signal,
    progress: settings.progress,
    ...(settings.onEpoch ? { onEpoch: (r: EpochRecord) => settings.onEpoch!(part, r) } : {}),
  });
  // Part names of the run record's curves: one curve per head.
  const headOf = (k: number): string => (settings.cropHeads > 1 ? ` head ${k + 1}/${settings.cropHeads}` : '');
  const folds = clipFolds(clipIndexes.map((c) => data.clips[c]), settings.folds, settings.seed);
  const oof = new Map<number, Float32Array[][]>();
  for (let f = 0; f < settings.folds; f++) {
    const inFold = clipIndexes.filter((_c, i) => folds[i] === f);
    const rest = clipIndexes.filter((_c, i) => folds[i] !== f);
    if (inFold.length === 0) continue;
    const heads = await fitCropHeads(cropSet(data, rest, labels, settings), data.dim, labels.length, settings.cropHeads, (k) => {
      say(`crop model for fold ${f + 1}/${settings.folds} (${rest.length} clips)${headOf(k)}`);
      return fit(settings.crop, f + 1, `crop fold ${f + 1}/${settings.folds}${headOf(k)}`);
    });
    for (const c of inFold) oof.set(c, clipProbabilities(data, c, heads, labels.length));
    for (const h of heads) h.dispose();
  }
  const featureNames = trackFeatureNames(labels);
  const xs: number[] = [];
  const ys: number[] = [];
  const trackExamples: Record<string, number> = {};
  for (const c of clipIndexes) {
    const clip = data.clips[c];
    for (const { track, label } of trainingTracks(clip, settings)) {
      const probs = oof.get(c)![track];
      const points = clip.tracks[track].points;
      const n = points.length;
      for (const k of [...new Set([...settings.prefixLengths.filter((p) => p < n), n])]) {
        xs.push(...trackFeatures(points.slice(0, k), probs.slice(0, k), labels.length, clip.width, clip.height));
        ys.push(labels.indexOf(label));
        trackExamples[label] = (trackExamples[label] ?? 0) + 1;
      }
    }
  }
  say(`track model on ${ys.length} track prefixes`);
  const { model: trackHead } = await fitTrackHead({ features: Float32Array.from(xs), labels: Int32Array.from(ys) }, featureNames.length, labels.length, fit(settings.track, 101, 'track'));
  const crops = cropSet(data, clipIndexes, labels, settings);
  let cropHeads: tf.LayersModel[];
  try {
    cropHeads = await fitCropHeads(crops, data.dim, labels.length, settings.cropHeads, (k) => {
      say(`crop model on every clip (${clipIndexes.length})${headOf(k)}`);
      return fit(settings.crop, 0, `crop${headOf(k)}`);
    });
  } catch (err) {
    trackHead.dispose();
    throw err;
  }
  const clipsPerLabel: Record<string, number> = {};
  const cropExamples: Record<string, number> = {};
  for (const c of clipIndexes) clipsPerLabel[data.clips[c].label] = (clipsPerLabel[data.clips[c].label] ?? 0) + 1;
  for (const y of crops.labels) cropExamples[labels[y]] = (cropExamples[labels[y]] ?? 0) + 1;
  return { labels, featureNames, cropHeads, trackHead, counts: { clips: clipsPerLabel, cropExamples, trackExamples } };
}
