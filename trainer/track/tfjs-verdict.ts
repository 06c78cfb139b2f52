import type * as tf from '@tensorflow/tfjs';
import type { TrackPoint } from '../../tracking/track.js';
import { trackFeatures } from '../../tracking/track-features.js';
import { toVerdict, type Verdict, type VerdictModel } from '../../tracking/verdict-model.js';
import { predictRows } from './heads.js';

/** A track model still in tfjs (evaluation during training): the same features and verdicts as its ONNX export. */
export class TfjsVerdict implements VerdictModel {
  constructor(private readonly model: tf.LayersModel, readonly labels: readonly string[], readonly featureCount: number) {}

  get cropLabels(): readonly string[] {
    return this.labels;
  }

  async judge(points: readonly TrackPoint[], cropProbabilities: readonly Float32Array[], frameWidth: number, frameHeight: number): Promise<Verdict> {
    const x = trackFeatures(points, cropProbabilities, this.labels.length, frameWidth, frameHeight);
    return toVerdict(this.labels, predictRows(this.model, x, this.featureCount));
  }
}
