import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { sha256 } from '../../core/hash.js';
import type { Logger } from '../../core/logger.js';
import type { ModelManifest } from '../../core/model/manifest.js';
import { ModelRegistry, type PublishDecision } from '../../core/model/registry.js';
import { openStore } from '../../core/storage/open-store.js';
import { listFingerprint } from '../data/fingerprint.js';
import { scanDataset } from '../data/scan.js';
import { computeMetrics } from '../eval/metrics.js';
import { renderReportHtml } from '../eval/report.js';
import { OUTPUT_NAME } from '../onnx/export-layers-model.js';
import { createRunFolder, writeRunArtifacts, writeRunModel } from '../run-folder.js';
import { initTfBackend, type BackendPreference } from '../tfjs/backend.js';
import { loadBackbone } from '../transfer/backbone.js';
import { computeEmbeddings } from '../transfer/embeddings.js';
import { exportTransferModel } from '../transfer/export-transfer.js';
import { judgeClip, summarise, type AlertPolicy, type ClipOutcome, type ClipSummary } from './evaluate-clips.js';
import { exportTrackModel, TRACK_INPUT, TRACK_OUTPUT } from './export-track.js';
import { TfjsVerdict } from './tfjs-verdict.js';
import { clipProbabilities, DEFAULT_TRACK_TRAINING, embedClips, trainTrackParts, type TrackTrainSettings } from './train-track.js';
import { clipFolds, primaryTrack, readTrackSet } from './track-set.js';

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
  policy?: AlertPolicy;
  /** A photograph data set (one folder per label) whose images also train the crop model (single-image predict). */
  photos?: string;
  /** Over DEFAULT_TRACK_TRAINING (tests train smaller models). */
  settings?: Partial<TrackTrainSettings>;
  publish?: boolean;
  force?: boolean;
  margin?: number;
  backend?: BackendPreference;
  gcs?: { apiEndpoint?: string; projectId?: string };
  logger: Logger;
  signal?: AbortSignal;
  now?: () => Date;
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
 */
export async function trainTrackModel(request: TrackTrainingRequest): Promise<TrackTrainingResult> {
  const { logger, signal } = request;
  const started = Date.now();
  const seed = request.seed ?? 1;
  const policy = request.policy ?? DEFAULT_ALERT_POLICY;
  const backend = await initTfBackend(request.backend ?? 'auto', logger);
  const clips = await readTrackSet(request.tracks);
  const testFolds = request.testFolds ?? 5;
  // Fold 0 of a fixed assignment is the test split: the same clips for every run with this seed.
  const folds = clipFolds(clips, testFolds, seed);
  const test = clips.map((_c, i) => i).filter((i) => folds[i] === 0);
  const train = clips.map((_c, i) => i).filter((i) => folds[i] !== 0);
  if (test.length === 0 || train.length === 0) throw new SkywatchError('DATA_INVALID', `too few clips (${clips.length}) for a test split`);
  logger.info({ clips: clips.length, train: train.length, test: test.length, backend: backend.name }, `track model: ${train.length} training clips, ${test.length} test clips`);
  const backbone = await loadBackbone(request.backbone, { taps: { ...DEFAULT_TRACK_TRAINING, ...request.settings }.cropTaps, tapsIfPresent: true });
  const cacheDir = path.join(request.stateDir, 'cache');
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
  let extraCrops: TrackTrainSettings['extraCrops'];
  if (request.photos) {
    const scanned = await scanDataset(request.photos);
    logger.info({ photos: request.photos, images: scanned.items.length }, `embedding ${scanned.items.length} photographs for the crop model`);
    const features = await computeEmbeddings(backbone, scanned.items.map((i) => path.join(request.photos!, i.path)), { cacheDir, signal, augment: false });
    extraCrops = { features, labels: scanned.items.map((i) => i.label) };
  }
  const settings: TrackTrainSettings = { ...DEFAULT_TRACK_TRAINING, ...request.settings, extraCrops, seed, signal, onProgress: (m) => logger.info(m) };
  const parts = await trainTrackParts(data, train, settings);
  const { labels, featureNames } = parts;
  try {
    const verdict = new TfjsVerdict(parts.trackHead, labels, featureNames.length, policy.blend);
    const outcomes: ClipOutcome[] = [];
    const yTrue: number[] = [];
    const probs: number[] = [];
    for (const c of test) {
      const clip = clips[c];
      const p = clipProbabilities(data, c, parts.cropHead, labels.length);
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
    const detection = summarise(outcomes);
    logger.info({ accuracy: metrics.accuracy, alerted: detection.alertedShare }, `test clips: track accuracy ${metrics.accuracy.toFixed(3)}; clips alerted ${Object.entries(detection.alertedShare).map(([l, v]) => `${l} ${(v * 100).toFixed(0)}%`).join(', ')}`);

    const version = ModelRegistry.newVersion(request.now?.() ?? new Date());
    const folder = await createRunFolder(request.stateDir, version);
    const crop = await exportTransferModel(backbone, parts.cropHead, labels);
    const trackOnnx = exportTrackModel(parts.trackHead, featureNames.length, labels);
    await writeRunModel(folder, crop.onnx);
    const trackPath = path.join(folder.dir, 'track.onnx');
    await writeFile(trackPath, trackOnnx);
    const registry = new ModelRegistry(await openStore(request.registry, { gcsApiEndpoint: request.gcs?.apiEndpoint, gcsProjectId: request.gcs?.projectId }));
    const parent = (await registry.latest().catch(() => null))?.version ?? null;
    const fps = clips[0].fps;
    const manifest: ModelManifest = {
      version,
      created: new Date().toISOString(),
      labels,
      kind: 'track',
      input: { ...crop.input },
      output: { name: OUTPUT_NAME, kind: 'probabilities' },
      sha256: sha256(crop.onnx),
      sizeBytes: crop.onnx.length + trackOnnx.length,
      metrics,
      dataset: {
        fingerprint: listFingerprint(clips.flatMap((c) => c.tracks.flatMap((t) => t.crops.map((f) => ({ path: path.relative(request.tracks, f), label: c.label }))))),
        counts: { train: parts.counts.clips, test: countBy(test.map((c) => clips[c].label)), ...(extraCrops ? { photos: countBy(extraCrops.labels) } : {}) },
        source: request.photos ? `${request.tracks} + ${request.photos}` : request.tracks,
      },
      training: {
        kind: 'track',
        seed,
        backend: backend.name,
        backbone: backbone.sha256,
        cropExamples: parts.counts.cropExamples,
        trackExamples: parts.counts.trackExamples,
        settings: { ...settings, signal: undefined, onProgress: undefined, extraCrops: undefined },
        detection,
        machine: { cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
        seconds: (Date.now() - started) / 1000,
      },
      parent,
      track: { file: 'track.onnx', sha256: sha256(trackOnnx), inputName: TRACK_INPUT, outputName: TRACK_OUTPUT, features: featureNames, labels, fps, policy },
    };
    const reportHtml = renderReportHtml({ manifest, metrics, labels, curves, title: `Skywatch track model ${version}` });
    await writeRunArtifacts(folder, { manifest, metrics: { test: metrics, detection, outcomes }, reportHtml });
    let decision: PublishDecision | undefined;
    if (request.publish) {
      decision = await registry.publish({ version, modelPath: folder.modelPath, manifest, reportHtml, files: { 'track.onnx': trackOnnx }, promote: request.force ? 'force' : 'auto', margin: request.margin });
      logger.info({ version, promoted: decision.promoted, reason: decision.reason }, `published ${version}: ${decision.promoted ? 'promoted to latest' : 'kept as candidate'} (${decision.reason})`);
    }
    return { version, runDir: folder.dir, metrics, detection, outcomes, decision, seconds: (Date.now() - started) / 1000 };
  } finally {
    parts.cropHead.dispose();
    parts.trackHead.dispose();
  }
}

function countBy(labels: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of labels) out[l] = (out[l] ?? 0) + 1;
  return out;
}

