import { writeFile } from 'node:fs/promises';
import type * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../../core/config.js';
import { SkywatchError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import type { Logger } from '../../core/logger.js';
import { PHOTO_GATE_COLUMN, type ModelManifest } from '../../core/model/manifest.js';
import { DRIFT_BASELINE_FILE } from '../../drift/baseline-store.js';
import { trainingDriftBaseline } from '../../drift/training-baseline.js';
import { ModelRegistry, type PublishDecision } from '../../core/model/registry.js';
import { openStore } from '../../core/storage/open-store.js';
import { datasetFingerprint, listFingerprint } from '../data/fingerprint.js';
import type { DataItem } from '../data/scan.js';
import { scanAllSplits } from '../data/scan-all-splits.js';
import { isTrainSplit } from '../data/split-folders.js';
import { computeMetrics } from '../eval/metrics.js';
import { renderReportHtml } from '../eval/report.js';
import type { EpochRecord } from '../fit/epoch-record.js';
import { metricsLog } from '../fit/metrics-log.js';
import { silentProgress, type ProgressReporter } from '../fit/progress.js';
import { OUTPUT_NAME } from '../onnx/export-layers-model.js';
import { PhaseProfiler, timePhase, withProfiler } from '../profile/phase-profiler.js';
import { createRunFolder, writeRunArtifacts, writeRunModel } from '../run-folder.js';
import { openRunStore } from '../runs/open-run-store.js';
import { RunTracker } from '../runs/run-tracker.js';
import { initTfBackend, type BackendPreference } from '../tfjs/backend.js';
import { loadBackbone } from '../transfer/backbone.js';
import { computeEmbeddings } from '../transfer/embeddings.js';
import { exportHeadEnsemble } from '../transfer/export-head-ensemble.js';
import { exportTransferModel } from '../transfer/export-transfer.js';
import { exportPhotoModel } from '../photo/export-photo-model.js';
import { DEFAULT_PHOTO_MODEL, trainPhotoHeads, type PhotoModelSettings } from '../photo/train-photo-heads.js';
import { DEFAULT_PHOTO_GATE, trainPhotoGate } from '../photo/train-photo-gate.js';
import { gateCropFeatures } from '../photo/gate-crop-features.js';
import { judgeClip, summarise, type AlertPolicy, type ClipOutcome, type ClipSummary } from './evaluate-clips.js';
import { exportTrackModel, TRACK_INPUT, TRACK_OUTPUT } from './export-track.js';
import { TfjsVerdict } from './tfjs-verdict.js';
import { clipProbabilities, cropBackboneOptions, DEFAULT_TRACK_TRAINING, embedClips, recordedSettings, trainTrackParts, type TrackTrainSettings } from './train-track.js';
import { clipFolds, primaryTrack, readTrackSet, TRACKS_FILE, type ClipRecord } from './track-set.js';

const PHOTO_FILE = 'photo.onnx';
/** With refit: the crop model the held-out figures were measured on, kept in the run folder. */
const EVALUATED_MODEL_FILE = 'evaluated-model.onnx';

/** The alert policy a track model ships with: validated by cross-validation on the shared clips (docs/BENCHMARKS.md). */
export const DEFAULT_ALERT_POLICY: AlertPolicy = { threshold: 0.7, minCrops: 3, alertLabels: ['drone'], blend: 0.5 };

export interface TrackTrainingRequest {
  /** Track data set (`skywatch data from-videos` output). */
  tracks: string;
  registry: string;
  stateDir: string;
  backbone: string;
  seed?: number;
  /** The test split is one of this many folds of the clips (5: a fifth), the same clips on every run with the seed. */
  testFolds?: number;
  /** Which of the `testFolds` folds is the test split (default 0; a benchmark trains one model per fold). */
  testFold?: number;
  /** Embedding cache (default: `<stateDir>/cache`; a benchmark shares one across its runs). */
  cacheDir?: string;
  policy?: AlertPolicy;
  /**
   * A photograph data set (one folder per label, or split folders `train/<label>/`, `valid/<label>/`...):
   * its photographs (those of the train split when there are split folders; the others are left out
   * for evaluation) train the photo model (single-image predict) and its gate, and join the crop
   * model's examples.
   */
  photos?: string;
  /**
   * With `photos`: heads trained on the photographs alone, shipped as `photo.onnx` for single-image
   * predictions (over DEFAULT_PHOTO_MODEL; false: none, single images get the crop model).
   */
  photoModel?: Partial<PhotoModelSettings> | false;
  /** Over DEFAULT_TRACK_TRAINING (tests train smaller models). */
  settings?: Partial<TrackTrainSettings>;
  /**
   * After the held-out evaluation, train the models that ship again on every clip, test split included,
   * with the same settings and seeds (default true). The manifest's figures stay those of the model
   * trained without the test split: they say what this training does on clips it never saw, and the
   * shipped model has seen a quarter more clips (docs/BENCHMARKS.md measures what that is worth).
   */
  refit?: boolean;
  publish?: boolean;
  force?: boolean;
  margin?: number;
  backend?: BackendPreference;
  gcs?: Config['gcs'];
  logger: Logger;
  signal?: AbortSignal;
  now?: () => Date;
  /** Time the run's phases and its first N training steps into profile.json (run folder and run record). */
  profileSteps?: number;
  /** Experiment tracking (on by default: runs/<version>/run.json in the registry's store); false turns it off. */
  tracking?: false | { tags?: Record<string, string> };
}

export interface TrackTrainingResult {
  version: string;
  runDir: string;
  /** Per-track verdicts of the test clips' main objects. */
  metrics: ModelManifest['metrics'];
  /** Clip-level detection on the test clips, through the judge the cameras use. */
  detection: ClipSummary;
  outcomes: ClipOutcome[];
  decision?: PublishDecision;
  seconds: number;
}

/**
 * `skywatch train --kind track`: trains the crop classifier and the track model on the clips of the
 * training split, evaluates both on held-out clips (per-track verdicts and clip-level alerts with the
 * shipped policy), exports model.onnx + track.onnx with a manifest of kind `track`, and publishes.
 * Like every training it is recorded in the run store (runs/<version>/run.json), from its start, so a
 * run that fails (bad data set, interrupted) is kept as `failed` with its error.
 */
export async function trainTrackModel(request: TrackTrainingRequest): Promise<TrackTrainingResult> {
  const version = ModelRegistry.newVersion(request.now?.() ?? new Date());
  const tracker = request.tracking === false ? undefined : new RunTracker(await openRunStore(request.registry, request.stateDir, request.gcs), request.logger);
  const profiler = request.profileSteps !== undefined ? new PhaseProfiler(request.profileSteps) : undefined;
  try {
    return await withProfiler(profiler, () => trainOnce(request, version, tracker, profiler));
  } catch (err) {
    await tracker?.fail(err);
    throw err;
  }
}

/**
 * Content fingerprint of a track data set: every clip's tracks.json and every crop it names, so a
 * re-extracted clip, a moved crop or a relabelled clip changes it; with the photographs' when given.
 */
async function trackDataFingerprint(tracksDir: string, clips: readonly ClipRecord[], photos?: { dir: string; items: DataItem[] }): Promise<string> {
  const items: DataItem[] = clips.flatMap((c) => [
    { path: `${c.id}/${TRACKS_FILE}`, label: c.label },
    ...c.tracks.flatMap((t) => t.crops.map((f) => ({ path: path.relative(tracksDir, f), label: c.label }))),
  ]);
  const tracks = await datasetFingerprint(tracksDir, items);
  return photos ? sha256(`${tracks}\nphotos:${await datasetFingerprint(photos.dir, photos.items)}`) : tracks;
}

async function trainOnce(request: TrackTrainingRequest, version: string, tracker: RunTracker | undefined, profiler: PhaseProfiler | undefined): Promise<TrackTrainingResult> {
  const { logger, signal } = request;
  const started = Date.now();
  const seed = request.seed ?? 1;
  const policy = request.policy ?? DEFAULT_ALERT_POLICY;
  const testFolds = request.testFolds ?? 5;
  const testFold = request.testFold ?? 0;
  const refit = request.refit ?? true;
  const trainSettings = { ...DEFAULT_TRACK_TRAINING, ...request.settings };
  const photoSettings = request.photos && request.photoModel !== false ? { ...DEFAULT_PHOTO_MODEL, ...request.photoModel } : undefined;
  const source = request.photos ? `${request.tracks} + ${request.photos}` : request.tracks;
  const backend = await initTfBackend(request.backend ?? 'auto', logger);
  tracker?.start({
    id: version,
    kind: 'track',
    params: { seed, testFolds, testFold, refit, policy, photos: request.photos ?? null, photoModel: photoSettings ?? null, backbone: path.basename(request.backbone), ...recordedSettings(trainSettings) },
    data: { source, fingerprint: null },
    backend: backend.name,
    ...(request.tracking ? request.tracking : {}),
  });
  const folder = await createRunFolder(request.stateDir, version);

  const { clips, photos, fingerprint } = await timePhase('scan', async () => {
    const clips = await readTrackSet(request.tracks);
    // A photograph data set with split folders trains on its train split only: the other splits stay
    // photographs no model saw, to score the served answer on (bench:photo). Learning from images/valid
    // too was measured and lost accuracy on the photographs it left out (docs/BENCHMARKS.md, photo part 5).
    const scanned = request.photos ? await scanAllSplits(request.photos) : undefined;
    const trainSplit = scanned?.splits.find(isTrainSplit);
    const items = scanned && trainSplit ? scanned.items.filter((i) => i.path.startsWith(`${trainSplit}/`)) : scanned?.items;
    if (scanned && trainSplit) logger.info({ photos: request.photos, splits: scanned.splits }, `photographs of ${trainSplit}/ (${items!.length}); ${scanned.splits.filter((x) => x !== trainSplit).join(', ') || 'no other split'} left out for evaluation`);
    const photos = request.photos && items ? { dir: request.photos, items } : undefined;
    return { clips, photos, fingerprint: await trackDataFingerprint(request.tracks, clips, photos) };
  });
  if (!Number.isInteger(testFold) || testFold < 0 || testFold >= testFolds) throw new SkywatchError('DATA_INVALID', `test fold ${testFold} is not one of 0..${testFolds - 1}`);
  // One fold of a fixed assignment is the test split: the same clips for every run with this seed.
  const folds = clipFolds(clips, testFolds, seed);
  const test = clips.map((_c, i) => i).filter((i) => folds[i] === testFold);
  const train = clips.map((_c, i) => i).filter((i) => folds[i] !== testFold);
  const counts = { train: countBy(train.map((c) => clips[c].label)), test: countBy(test.map((c) => clips[c].label)), ...(photos ? { photos: countBy(photos.items.map((i) => i.label)) } : {}) };
  tracker?.data({ source, fingerprint, counts });
  if (test.length === 0 || train.length === 0) throw new SkywatchError('DATA_INVALID', `too few clips (${clips.length}) for a test split`);
  logger.info({ clips: clips.length, train: train.length, test: test.length, backend: backend.name, run: version }, `track model ${version}: ${train.length} training clips, ${test.length} test clips`);
  const backbone = await loadBackbone(request.backbone, cropBackboneOptions(clips, trainSettings));
  const cacheDir = request.cacheDir ?? path.join(request.stateDir, 'cache');
  let lastLog = 0;
  const data = await embedClips(backbone, clips, {
    cacheDir,
    signal,
    onProgress: (done, total) => {
      if (done === total || Date.now() - lastLog > 5_000) {
        lastLog = Date.now();
        logger.info({ done, total }, `embedding crops: ${done}/${total}`);
      }
    },
  });
  // The same photographs train the photo model (and its gate) and join the crop model's examples. The
  // photo model looks at them through the same backbone at its own input size (larger: a photograph's
  // object is often small in it), so they are embedded once per size (once when the sizes agree).
  let extraCrops: TrackTrainSettings['extraCrops'];
  let photoBackbone = backbone;
  let photoFeatures: Float32Array | undefined;
  if (photos) {
    const files = photos.items.map((i) => path.join(photos.dir, i.path));
    logger.info({ photos: photos.dir, images: photos.items.length }, `embedding ${photos.items.length} photographs for the crop model`);
    const features = await computeEmbeddings(backbone, files, { cacheDir, signal, augment: false });
    extraCrops = { features, labels: photos.items.map((i) => i.label) };
    photoFeatures = features;
    if (photoSettings && photoSettings.inputSize !== backbone.input.width) {
      photoBackbone = await loadBackbone(request.backbone, { taps: trainSettings.cropTaps, tapsIfPresent: true, size: photoSettings.inputSize });
      logger.info({ photos: photos.dir, images: files.length, inputSize: photoSettings.inputSize }, `embedding ${files.length} photographs at ${photoSettings.inputSize} px for the photo model`);
      photoFeatures = await computeEmbeddings(photoBackbone, files, { cacheDir, signal, augment: false });
    }
  }
  const gateCrops = (clipIndexes: readonly number[], labels: readonly string[]): Promise<Float32Array> =>
    gateCropFeatures(data, clipIndexes, labels, trainSettings, photos?.items.length ?? 0, photoBackbone, { sameCut: photoBackbone === backbone, cacheDir, signal });
  const log = metricsLog(folder.metricsJsonlPath);
  const onEpoch = async (part: string, record: EpochRecord): Promise<void> => {
    const line = { part, ...record };
    await log(line);
    tracker?.epoch(record, part);
    profiler?.epochStart();
  };
  // The profiler's step clock; each fit starts after a progress message, which restarts it.
  const progress: ProgressReporter | undefined = profiler ? { ...silentProgress, step: () => profiler.step() } : undefined;
  const settings: TrackTrainSettings = {
    ...trainSettings,
    extraCrops,
    seed,
    signal,
    onProgress: (m) => {
      profiler?.epochStart();
      logger.info(m);
    },
    onEpoch,
    ...(progress ? { progress } : {}),
  };
  const parts = await timePhase('step', () => trainTrackParts(data, train, settings));
  const { labels, featureNames } = parts;
  // What ships: `parts` themselves, or with `refit` the same training on every clip.
  let shipped = parts;
  let shippedGate: tf.LayersModel | undefined;
  let photoHeads: { labels: string[]; heads: tf.LayersModel[] } | undefined;
  let photoGate: tf.LayersModel | undefined;
  let photoSeconds = 0;
  try {
    if (extraCrops && photoFeatures && photoSettings) {
      const photoStarted = Date.now();
      const features = photoFeatures;
      photoHeads = await timePhase('step', () => trainPhotoHeads(features, extraCrops.labels, photoBackbone.featureDim, photoSettings, { seed, signal, onProgress: settings.onProgress, onEpoch, ...(progress ? { progress } : {}) }));
      // The gate tells photographs from camera crops: the training clips' crops (as the crop model learns them) against the photographs.
      settings.onProgress?.('training the photo gate (photograph or camera crop)');
      const clipCrops = await gateCrops(train, labels);
      photoGate = await timePhase('step', () => trainPhotoGate(features, clipCrops, photoBackbone.featureDim, DEFAULT_PHOTO_GATE, { seed, signal }));
      shippedGate = photoGate;
      photoSeconds = (Date.now() - photoStarted) / 1000;
    }
    const { metrics, curves, detection, outcomes } = await timePhase('evaluate', async () => {
      const verdict = new TfjsVerdict(parts.trackHead, labels, featureNames.length, policy.blend);
      const outcomes: ClipOutcome[] = [];
      const yTrue: number[] = [];
      const probs: number[] = [];
      for (const c of test) {
        const clip = clips[c];
        const p = clipProbabilities(data, c, parts.cropHeads, labels.length);
        outcomes.push(await judgeClip(clip, p, verdict, policy));
        const primary = primaryTrack(clip);
        if (!primary || !labels.includes(clip.label)) continue;
        const ti = clip.tracks.indexOf(primary);
        const v = await verdict.judge(primary.points, p[ti], clip.width, clip.height);
        yTrue.push(labels.indexOf(clip.label));
        probs.push(...labels.map((l) => v.scores[l]));
      }
      const { metrics, curves } = computeMetrics(labels, yTrue, Float32Array.from(probs));
      metrics.splitFingerprint = listFingerprint(test.map((c) => ({ path: clips[c].id, label: clips[c].label })));
      return { metrics, curves, detection: summarise(outcomes), outcomes };
    });
    logger.info({ accuracy: metrics.accuracy, alerted: detection.alertedShare }, `test clips: track accuracy ${metrics.accuracy.toFixed(3)}; clips alerted ${Object.entries(detection.alertedShare).map(([l, v]) => `${l} ${(v * 100).toFixed(0)}%`).join(', ')}`);

    if (refit) {
      const all = clips.map((_c, i) => i);
      settings.onProgress?.(`refit: training the models that ship on all ${all.length} clips (the figures above are the ${train.length}-clip model's, on clips it never saw)`);
      const refitSettings: TrackTrainSettings = { ...settings, onEpoch: (part, record) => onEpoch(`refit ${part}`, record) };
      shipped = await timePhase('step', () => trainTrackParts(data, all, refitSettings));
      if (photoFeatures && photoGate) {
        const features = photoFeatures;
        const allCrops = await gateCrops(all, shipped.labels);
        shippedGate = await timePhase('step', () => trainPhotoGate(features, allCrops, photoBackbone.featureDim, DEFAULT_PHOTO_GATE, { seed, signal }));
      }
      if (shipped.labels.join() !== labels.join()) logger.warn({ evaluated: labels, shipped: shipped.labels }, 'the clips of the test split add labels the evaluated model did not have');
    }
    const exportCrop = (heads: tf.LayersModel[], names: string[]) =>
      // One head exports as the transfer model always has; several are averaged inside the graph.
      heads.length === 1 ? exportTransferModel(backbone, heads[0], names) : exportHeadEnsemble(backbone, heads, names, { prefix: 'sw_head', what: 'crop model' });
    const { crop, trackOnnx, photo, evaluatedCrop } = await timePhase('export', async () => ({
      crop: await exportCrop(shipped.cropHeads, shipped.labels),
      trackOnnx: exportTrackModel(shipped.trackHead, shipped.featureNames.length, shipped.labels),
      photo: photoHeads ? await exportPhotoModel(photoBackbone, photoHeads.heads, photoHeads.labels, shippedGate) : undefined,
      // The drift baseline is scored by the model that never saw the test clips (see below).
      evaluatedCrop: shipped !== parts ? await exportCrop(parts.cropHeads, labels) : undefined,
    }));
    await writeRunModel(folder, crop.onnx);
    const evaluatedModelPath = path.join(folder.dir, EVALUATED_MODEL_FILE);
    if (evaluatedCrop) await writeFile(evaluatedModelPath, evaluatedCrop.onnx);
    const trackPath = path.join(folder.dir, 'track.onnx');
    await writeFile(trackPath, trackOnnx);
    if (photo) await writeFile(path.join(folder.dir, PHOTO_FILE), photo.onnx);
    const registry = new ModelRegistry(await openStore(request.registry, { gcsApiEndpoint: request.gcs?.apiEndpoint, gcsProjectId: request.gcs?.projectId }));
    const parent = (await registry.latest().catch(() => null))?.version ?? null;
    const fps = clips[0].fps;
    const manifest: ModelManifest = {
      version,
      created: new Date().toISOString(),
      labels: shipped.labels,
      kind: 'track',
      input: { ...crop.input },
      output: { name: OUTPUT_NAME, kind: 'probabilities' },
      sha256: sha256(crop.onnx),
      sizeBytes: crop.onnx.length + trackOnnx.length + (photo?.onnx.length ?? 0),
      metrics,
      dataset: { fingerprint, counts, source },
      training: {
        kind: 'track',
        seed,
        backend: backend.name,
        backbone: backbone.sha256,
        cropExamples: shipped.counts.cropExamples,
        trackExamples: shipped.counts.trackExamples,
        settings: recordedSettings(settings),
        // Which clips the shipped models learnt from; `metrics` and `detection` are the evaluated model's.
        fit: refit ? { clips: clips.length, refit: true, evaluatedOn: { trainClips: train.length, testClips: test.length } } : { clips: train.length, refit: false },
        detection,
        ...(photoSettings && photoHeads ? { photoModel: { ...photoSettings, gate: photoGate ? DEFAULT_PHOTO_GATE : null, photographs: extraCrops?.labels.length ?? 0, cropModelPhotographs: extraCrops?.labels.length ?? 0, seconds: photoSeconds } } : {}),
        machine: { cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
        seconds: (Date.now() - started) / 1000,
      },
      parent,
      track: { file: 'track.onnx', sha256: sha256(trackOnnx), inputName: TRACK_INPUT, outputName: TRACK_OUTPUT, features: shipped.featureNames, labels: shipped.labels, fps, policy },
      ...(photo && photoHeads ? { photo: { file: PHOTO_FILE, sha256: sha256(photo.onnx), input: { ...photo.input }, outputName: photo.outputName, labels: photoHeads.labels, heads: photoHeads.heads.length, ...(photoGate ? { gate: { column: PHOTO_GATE_COLUMN, keepCropAbove: DEFAULT_PHOTO_GATE.keepCropAbove } } : {}) } } : {}),
    };
    // The drift baseline: crops of the test clips as a crop model that never fitted them scores them
    // (the evaluated one when the shipped model was refit on every clip), which is what cameras' crops
    // are compared with; a failure costs only drift monitoring.
    const driftBaseline = await timePhase('baseline', () => trainingDriftBaseline({
      modelPath: evaluatedCrop ? evaluatedModelPath : folder.modelPath, manifest, files: test.flatMap((c) => clips[c].tracks.flatMap((t) => t.crops)), source: `crops of the ${test.length} test clips of ${request.tracks}`, cacheDir, signal,
    })).then((b) => JSON.stringify(b), (err: unknown) => {
      logger.warn({ err }, 'could not build the drift baseline; the model is published without one');
      return undefined;
    });
    if (driftBaseline) await writeFile(path.join(folder.dir, DRIFT_BASELINE_FILE), driftBaseline);
    const reportHtml = renderReportHtml({ manifest, metrics, labels, curves, title: `Skywatch track model ${version}` });
    await writeRunArtifacts(folder, { manifest, metrics: { test: metrics, detection, outcomes }, reportHtml });
    let decision: PublishDecision | undefined;
    if (request.publish) {
      decision = await registry.publish({ version, modelPath: folder.modelPath, manifest, reportHtml, files: { 'track.onnx': trackOnnx, ...(photo ? { [PHOTO_FILE]: photo.onnx } : {}), ...(driftBaseline ? { [DRIFT_BASELINE_FILE]: driftBaseline } : {}) }, promote: request.force ? 'force' : 'auto', margin: request.margin });
      logger.info({ version, promoted: decision.promoted, reason: decision.reason }, `published ${version}: ${decision.promoted ? 'promoted to latest' : 'kept as candidate'} (${decision.reason})`);
    }
    const profile = profiler?.result(version);
    if (profile) {
      await writeFile(path.join(folder.dir, 'profile.json'), `${JSON.stringify(profile, null, 2)}\n`);
      await tracker?.attach('profile.json', JSON.stringify(profile, null, 2));
      logger.info({ profile: profile.phases }, `profile written: ${path.join(folder.dir, 'profile.json')}`);
    }
    const where = (name: string): string => (decision ? `models/${version}/${name}` : path.join(folder.dir, name));
    await tracker?.finish({
      metrics: { ...metrics, ...clipMetrics(detection, policy) },
      modelVersion: decision ? version : null,
      published: decision ? { promoted: decision.promoted, reason: decision.reason } : null,
      artifacts: [
        { name: 'model.onnx', where: where('model.onnx'), sizeBytes: crop.onnx.length },
        { name: 'track.onnx', where: where('track.onnx'), sizeBytes: trackOnnx.length },
        ...(photo ? [{ name: PHOTO_FILE, where: where(PHOTO_FILE), sizeBytes: photo.onnx.length }] : []),
        { name: 'manifest.json', where: where('manifest.json') },
        { name: 'report.html', where: where('report.html') },
        { name: 'run folder', where: folder.dir },
        ...(profile ? [{ name: 'profile.json', where: `runs/${version}/profile.json` }] : []),
      ],
      profile: profile ? { ...profile } : null,
    });
    return { version, runDir: folder.dir, metrics, detection, outcomes, decision, seconds: (Date.now() - started) / 1000 };
  } finally {
    for (const p of shipped === parts ? [parts] : [parts, shipped]) {
      for (const h of p.cropHeads) h.dispose();
      p.trackHead.dispose();
    }
    for (const h of photoHeads?.heads ?? []) h.dispose();
    photoGate?.dispose();
    if (shippedGate !== photoGate) shippedGate?.dispose();
  }
}

/**
 * The clip-level numbers a run is compared on: per label, the share of held-out clips with an alert,
 * named for what it means (recall for the policy's alert labels, false alarms for the others).
 */
function clipMetrics(detection: ClipSummary, policy: AlertPolicy): Record<string, unknown> {
  const share = Object.entries(detection.alertedShare);
  return {
    clipRecall: Object.fromEntries(share.filter(([l]) => policy.alertLabels.includes(l))),
    clipFalseAlarm: Object.fromEntries(share.filter(([l]) => !policy.alertLabels.includes(l))),
    clips: detection.clips,
    medianAlertMs: detection.medianAlertMs,
    motionRecall: detection.motionRecall,
  };
}

function countBy(labels: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labels) out[l] = (out[l] ?? 0) + 1;
  return out;
}
