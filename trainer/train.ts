import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256, sha256File } from '../core/hash.js';
import { SkywatchError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { manifestSchema, type EvalMetrics, type ModelManifest } from '../core/model/manifest.js';
import { silentProgress, type ProgressReporter } from './fit/progress.js';
import { metricsLog } from './fit/metrics-log.js';
import type { FitResult } from './fit/fit-model.js';
import { initTfBackend, type BackendPreference } from './tfjs/backend.js';
import { createRunFolder, writeRunArtifacts, writeRunModel } from './run-folder.js';
import { ModelRegistry, type PublishDecision } from '../core/model/registry.js';
import { openStore } from '../core/storage/open-store.js';
import { materializeDataset } from './data/materialize.js';
import type { SkippedFile } from './data/scan.js';
import { evaluateDetailed } from './eval/evaluate.js';
import { renderReportHtml } from './eval/report.js';
import type { TrainedModel, TrainSettings } from './train-mode.js';
import { loadTrainingSplits, type SplitFile, type Splits } from './training-splits.js';
import { trainScratch } from './train-scratch.js';
import { trainTransfer } from './train-transfer.js';
import { PhaseProfiler, timePhase, withProfiler } from './profile/phase-profiler.js';
import { openRunStore } from './runs/open-run-store.js';
import { RunTracker } from './runs/run-tracker.js';
import type { RunRecord } from './runs/run-record.js';
import { trainingDriftBaseline } from '../drift/training-baseline.js';
import type { Config } from '../core/config.js';

export type TrainMode = 'transfer' | 'scratch';

/** The data fingerprint of a data set trained with feedback: changes when either changes. */
export function combineFingerprints(data: string, feedback: string | null): string {
  return feedback ? sha256(`${data}\nfeedback:${feedback}`) : data;
}
/** Default test-time augmentation of transfer models (docs/BENCHMARKS.md, photo accuracy). */
export const TRANSFER_TTA: 'none' | 'hflip' = 'none';

export const TRAINING_DEFAULTS = {
  transfer: { epochs: 80, batchSize: 32, learningRate: 1e-3, patience: 10 },
  scratch: { epochs: 30, batchSize: 32, learningRate: 2e-3, patience: 6, imageSize: 96 },
} as const;

export interface TrainOptions {
  /** Data set folder (one subfolder per label) or gs:// prefix. */
  data: string;
  /** Registry folder or gs:// prefix; read for the parent version, written with `publish`. */
  registry?: string;
  stateDir: string;
  mode: TrainMode;
  /** ONNX backbone for transfer mode. */
  backbone?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  patience?: number;
  seed?: number;
  /** Input side for scratch mode. */
  imageSize?: number;
  /** CNN widths for scratch mode (tests use tiny ones). */
  filters?: number[];
  augment?: boolean;
  publish?: boolean;
  force?: boolean;
  /** How much lower the test accuracy may be than the current model's and still become latest (registry default 0.01). */
  margin?: number;
  backend?: BackendPreference;
  gcs?: Config['gcs'];
  /** Embedding and data caches (default <stateDir>/cache). */
  cacheDir?: string;
  logger?: Logger;
  progress?: ProgressReporter;
  signal?: AbortSignal;
  now?: () => Date;
  /** Splits decided by the caller (a benchmark with its own test folder); `data` is then only recorded as the source. */
  splits?: Splits;
  /**
   * Extra training examples (operators' feedback): added to the train split only, never to val or
   * test, so champion/challenger still decides on the data set's fixed test set. Their fingerprint is
   * folded into the data fingerprint. Examples of a label the data set lacks are left out.
   */
  extraTrain?: { files: SplitFile[]; fingerprint: string };
  /** Transfer mode: test-time flip averaging baked into the exported model (default TRANSFER_TTA). */
  tta?: 'none' | 'hflip';
  /** Time the run's phases and its first N training steps into profile.json (run folder and run record). */
  profileSteps?: number;
  /** Experiment tracking (on by default: runs/<version>/run.json in the registry's store); false turns it off. */
  tracking?: false | { sweep?: RunRecord['sweep']; tags?: Record<string, string> };
}

export interface TrainResult {
  version: string;
  runDir: string;
  mode: TrainMode;
  metrics: EvalMetrics;
  /** Present when published. */
  decision?: PublishDecision;
  training: Record<string, unknown>;
}

/** Settings after defaults: what the manifest records. */
export interface ResolvedSettings extends TrainSettings {
  mode: TrainMode;
}

function resolveSettings(o: TrainOptions): ResolvedSettings {
  const d = o.mode === 'scratch' ? TRAINING_DEFAULTS.scratch : TRAINING_DEFAULTS.transfer;
  return {
    mode: o.mode,
    epochs: o.epochs ?? d.epochs,
    batchSize: o.batchSize ?? d.batchSize,
    learningRate: o.learningRate ?? d.learningRate,
    patience: o.patience ?? d.patience,
    seed: o.seed ?? 1,
    imageSize: o.imageSize ?? TRAINING_DEFAULTS.scratch.imageSize,
    ...(o.filters ? { filters: o.filters } : {}),
    augment: o.augment ?? true,
    ...(o.mode === 'transfer' ? { tta: o.tta ?? TRANSFER_TTA } : {}),
  };
}

/** The splits with feedback examples added to train (see TrainOptions.extraTrain). */
function withExtraTrain(splits: Splits, extra: TrainOptions['extraTrain'], logger: Logger): Splits {
  if (!extra) return splits;
  const files = extra.files.filter((f) => splits.labels.includes(f.label));
  const unknown = [...new Set(extra.files.filter((f) => !splits.labels.includes(f.label)).map((f) => f.label))];
  if (unknown.length) logger.warn({ labels: unknown }, `feedback of labels the data set lacks was left out (add a folder per label to learn them): ${unknown.join(', ')}`);
  if (files.length) logger.info({ files: files.length }, `feedback: ${files.length} extra training images`);
  return { ...splits, train: [...splits.train, ...files], fingerprint: combineFingerprints(splits.fingerprint, extra.fingerprint) };
}

function checkAbort(signal: AbortSignal | undefined, phase: string): void {
  if (signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', `training was interrupted ${phase}; nothing was published`);
}

function countsOf(splits: Record<string, SplitFile[]>): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, files] of Object.entries(splits)) {
    out[name] = {};
    for (const f of files) out[name][f.label] = (out[name][f.label] ?? 0) + 1;
  }
  return out;
}

function fitSummary(fit: FitResult): Record<string, unknown> {
  return {
    epochsRun: fit.history.length,
    bestEpoch: fit.bestEpoch,
    bestLoss: fit.bestLoss,
    monitor: fit.monitor,
    stoppedEarly: fit.stoppedEarly,
    classWeights: fit.classWeights,
    trainSeconds: Math.round(fit.seconds * 10) / 10,
  };
}

/**
 * One training run end to end: data (materialised from gs:// when needed), splits (generated when the
 * data set has none, and logged), training in the chosen mode, evaluation of the exported ONNX model
 * on the test split, the run folder, and (with `publish`) the champion/challenger publish. An abort
 * at any point before publishing throws TRAINING_ABORTED and the registry is not touched.
 */
export async function runTraining(options: TrainOptions): Promise<TrainResult> {
  const logger = options.logger ?? silentLogger;
  const tracker = options.tracking === false ? undefined : new RunTracker(await openRunStore(options.registry, options.stateDir, options.gcs), logger);
  const profiler = options.profileSteps !== undefined ? new PhaseProfiler(options.profileSteps) : undefined;
  try {
    return await withProfiler(profiler, () => trainOnce(options, tracker, profiler));
  } catch (err) {
    await tracker?.fail(err);
    throw err;
  }
}

async function trainOnce(options: TrainOptions, tracker: RunTracker | undefined, profiler: PhaseProfiler | undefined): Promise<TrainResult> {
  const logger = options.logger ?? silentLogger;
  const baseProgress = options.progress ?? silentProgress;
  const progress: typeof baseProgress = profiler ? { step: (p) => { profiler.step(); baseProgress.step(p); }, epoch: (r, n) => baseProgress.epoch(r, n), note: (t) => baseProgress.note(t), close: () => baseProgress.close() } : baseProgress;
  const signal = options.signal;
  const settings = resolveSettings(options);
  const started = Date.now();
  const cacheDir = options.cacheDir ?? path.join(path.resolve(options.stateDir), 'cache');
  if (options.publish && !options.registry) throw new SkywatchError('BAD_REQUEST', 'publishing needs a registry (--registry)');

  const backend = await initTfBackend(options.backend ?? 'auto', logger);
  checkAbort(signal, 'before loading data');

  const gcs = { gcsApiEndpoint: options.gcs?.apiEndpoint, gcsProjectId: options.gcs?.projectId };
  const loaded: Splits & { skipped?: SkippedFile[] } = options.splits ?? (await timePhase('scan', async () => loadTrainingSplits(
    options.data.startsWith('gs://') ? await materializeDataset(options.data, path.join(cacheDir, 'datasets'), gcs) : options.data,
    settings.seed,
  )));
  if (loaded.skipped?.length) logger.warn({ skipped: loaded.skipped.slice(0, 20) }, `${loaded.skipped.length} files of the data set could not be used and were left out`);
  const splits = withExtraTrain(loaded, options.extraTrain, logger);
  if (splits.generated) logger.warn({ data: options.data, seed: settings.seed }, 'the data set has no splits file: train/val/test splits were generated from the seed for this run');
  const labels = splits.labels;
  if (labels.length < 2) throw new SkywatchError('DATA_INVALID', `need at least two labels, found ${labels.length}: ${labels.join(', ')}`);
  for (const [name, files] of Object.entries({ train: splits.train, test: splits.test })) {
    if (files.length === 0) throw new SkywatchError('DATA_EMPTY', `the ${name} split is empty`);
  }
  const feedbackFiles = options.extraTrain?.files.filter((f) => labels.includes(f.label)) ?? [];
  // Train counts include the feedback; `feedback` says how much of it there was.
  const counts = countsOf({ train: splits.train, val: splits.val, test: splits.test, ...(options.extraTrain ? { feedback: feedbackFiles } : {}) });
  logger.info({ labels, counts }, `data: ${splits.train.length} train, ${splits.val.length} val, ${splits.test.length} test images`);
  checkAbort(signal, 'before training');

  const registry = options.registry ? new ModelRegistry(await openStore(options.registry, gcs)) : undefined;
  const parent = registry ? ((await registry.latest())?.version ?? null) : null;
  // The registry's version format, so a run folder and its published version share one name.
  const version = ModelRegistry.newVersion(options.now?.() ?? new Date());
  const folder = await createRunFolder(options.stateDir, version);
  logger.info({ version, runDir: folder.dir, mode: settings.mode, backend: backend.name }, `run ${version}: training (${settings.mode}) on ${backend.name}`);

  tracker?.start({ id: version, kind: 'frame', params: { ...settings, ...(options.backbone && settings.mode === 'transfer' ? { backbone: path.basename(options.backbone) } : {}) }, data: { source: options.data, fingerprint: splits.fingerprint, counts }, backend: backend.name, ...(options.tracking ? options.tracking : {}) });
  const log = metricsLog(folder.metricsJsonlPath);
  const onEpoch = async (record: Parameters<typeof log>[0]): Promise<void> => {
    await log(record);
    tracker?.epoch(record);
    profiler?.epochStart();
  };
  profiler?.epochStart();
  const common = { settings, labels, splits, logger, progress, signal, cacheDir, onEpoch };
  let trained: TrainedModel;
  if (settings.mode === 'transfer') {
    if (!options.backbone) throw new SkywatchError('BAD_REQUEST', 'transfer mode needs a backbone (--backbone or trainer.backbone)');
    trained = await trainTransfer({ ...common, backbonePath: options.backbone });
  } else {
    trained = await trainScratch(common);
  }
  checkAbort(signal, 'after training');

  // The exported file is what serving runs, so it is what gets evaluated and compared.
  await writeRunModel(folder, trained.onnx);
  const evaluation = await timePhase('evaluate', () => evaluateDetailed({ modelPath: folder.modelPath, input: trained.input, outputName: trained.outputName, labels, files: splits.test, signal }));
  const metrics = evaluation.metrics;
  const skipped = evaluation.skipped.length;
  if (skipped > 0) logger.warn({ skipped }, `${skipped} test images could not be read and were left out of the evaluation`);
  logger.info({ accuracy: metrics.accuracy, macroF1: metrics.macroF1, count: metrics.count }, `test accuracy ${metrics.accuracy.toFixed(4)} on ${metrics.count} images`);
  checkAbort(signal, 'after evaluation');

  const training: Record<string, unknown> = {
    ...settings,
    backend: backend.name,
    backendProvider: backend.provider,
    ...(settings.mode === 'transfer' ? { backbone: path.basename(options.backbone ?? '') } : {}),
    ...fitSummary(trained.fit),
    ...trained.details,
    totalSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  const manifest: ModelManifest = manifestSchema.parse({
    version,
    created: new Date().toISOString(),
    labels,
    kind: 'frame',
    input: trained.input,
    output: { name: trained.outputName, kind: 'probabilities' },
    sha256: await sha256File(folder.modelPath),
    sizeBytes: trained.onnx.length,
    metrics,
    dataset: { fingerprint: splits.fingerprint, counts, source: options.data },
    training,
    parent,
  });
  // The drift baseline travels with the model (run folder, registry); a failure costs only drift monitoring.
  const driftBaseline = await timePhase('baseline', () => trainingDriftBaseline({
    modelPath: folder.modelPath, manifest, files: [...splits.val, ...splits.test].map((f) => f.path), source: `val+test splits of ${options.data}`,
    ...(settings.mode === 'transfer' && options.backbone ? { backbonePath: options.backbone } : {}), cacheDir, signal,
  })).then((b) => JSON.stringify(b), (err: unknown) => {
    logger.warn({ err }, 'could not build the drift baseline; the model is published without one');
    return undefined;
  });
  if (driftBaseline) await writeFile(path.join(folder.dir, 'drift-baseline.json'), driftBaseline);
  const reportHtml = renderReportHtml({ manifest, metrics, history: trained.fit.history, labels, curves: evaluation.curves });
  await writeRunArtifacts(folder, { manifest, metrics: { test: metrics, training, history: trained.fit.history }, reportHtml });
  logger.info({ runDir: folder.dir }, `run folder written: ${folder.dir}`);

  let decision: PublishDecision | undefined;
  if (options.publish && registry) {
    checkAbort(signal, 'before publishing');
    decision = await registry.publish({
      version,
      modelPath: folder.modelPath,
      manifest,
      reportHtml,
      promote: options.force ? 'force' : 'auto',
      ...(options.margin !== undefined ? { margin: options.margin } : {}),
      files: { 'metrics.jsonl': await readFile(folder.metricsJsonlPath, 'utf8').catch(() => ''), ...(driftBaseline ? { 'drift-baseline.json': driftBaseline } : {}) },
    });
    logger.info({ version, promoted: decision.promoted, reason: decision.reason }, `published ${version}: ${decision.promoted ? 'promoted to latest' : 'kept as candidate'} (${decision.reason})`);
  }
  const profile = profiler?.result(version);
  if (profile) {
    await writeFile(path.join(folder.dir, 'profile.json'), `${JSON.stringify(profile, null, 2)}\n`);
    await tracker?.attach('profile.json', JSON.stringify(profile, null, 2));
    logger.info({ profile: profile.phases }, `profile written: ${path.join(folder.dir, 'profile.json')}`);
  }
  await tracker?.finish({
    metrics: { ...metrics },
    modelVersion: decision ? version : null,
    published: decision ? { promoted: decision.promoted, reason: decision.reason } : null,
    artifacts: [
      { name: 'model.onnx', where: decision ? `models/${version}/model.onnx` : folder.modelPath, sizeBytes: trained.onnx.length },
      { name: 'run folder', where: folder.dir },
      ...(profile ? [{ name: 'profile.json', where: `runs/${version}/profile.json` }] : []),
    ],
    profile: profile ? { ...profile } : null,
  });
  return { version, runDir: folder.dir, mode: settings.mode, metrics, ...(decision ? { decision } : {}), training };
}
