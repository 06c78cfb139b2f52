import type { Logger } from '../core/logger.js';
import type { ModelInput } from '../core/model/manifest.js';
import type { EpochRecord } from './fit/epoch-record.js';
import type { FitResult } from './fit/fit-model.js';
import type { ProgressReporter } from './fit/progress.js';
import type { Splits } from './training-splits.js';

/**
 * The contract between the frame-training orchestration (train.ts) and its modes (transfer, scratch):
 * what a mode receives and what it hands back.
 */

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

/** What a mode hands back: the exported model and how it was trained. */
export interface TrainedModel {
  onnx: Buffer;
  input: ModelInput;
  outputName: string;
  fit: FitResult;
  /** Mode-specific settings for the manifest (image size, backbone, feature size, ...). */
  details: Record<string, unknown>;
}
