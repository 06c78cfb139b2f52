import type { Logger } from '../core/logger.js';
import type { EvalMetrics, ModelInput, ModelManifest } from '../core/model/manifest.js';
import type { EpochRecord } from './fit/epoch-record.js';
import type { FitResult } from './fit/fit-model.js';
import type { ProgressReporter } from './fit/progress.js';

/** One image of a split. */
export interface SplitFile {
  path: string;
  label: string;
}

export interface Splits {
  /** Label names in model output order. */
  labels: string[];
  train: SplitFile[];
  val: SplitFile[];
  test: SplitFile[];
  /** True when the data set had no splits file and these were drawn from the seed. */
  generated: boolean;
  /** Hash of the data set's file list and contents. */
  fingerprint: string;
}

export interface PublishDecision {
  version: string;
  promoted: boolean;
  reason: string;
  previous: string | null;
}

export interface PublishRequest {
  version: string;
  modelPath: string;
  manifest: ModelManifest;
  reportHtml: string;
  promote: 'auto' | 'force' | 'never';
  margin?: number;
  files?: Record<string, string | Buffer>;
}

/** The registry as training needs it. */
export interface RegistryHandle {
  latestVersion(): Promise<string | null>;
  publish(request: PublishRequest): Promise<PublishDecision>;
}

/** What a mode hands back: the exported model and how it was trained. */
export interface TrainedModel {
  onnx: Buffer;
  input: ModelInput;
  outputName: string;
  fit: FitResult;
  /** Mode-specific settings for the manifest (image size, backbone, feature size, ...). */
  details: Record<string, unknown>;
}

export interface ReportInput {
  manifest: ModelManifest;
  metrics: EvalMetrics;
  history: EpochRecord[];
  labels: string[];
}

/** Training settings after defaults, as both modes use them. */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  seed: number;
  imageSize: number;
  filters?: number[];
  augment: boolean;
  /** Transfer mode: 'hflip' averages the image's and its mirror's features inside the exported model. */
  tta?: 'none' | 'hflip';
}

/** What a mode's trainer receives from the orchestration. */
export interface ModeContext {
  settings: TrainSettings;
  labels: string[];
  splits: Splits;
  logger: Logger;
  progress: ProgressReporter;
  signal?: AbortSignal;
  cacheDir: string;
  onEpoch: (record: EpochRecord) => Promise<void>;
}
