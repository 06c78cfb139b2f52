import type { TrackPoint } from './track.js';
import { toVerdict, type Verdict, type VerdictModel } from './verdict-model.js';

/** Verdict of a model without a track model: the mean crop probability per label. */
export class MeanVerdict implements VerdictModel {
  constructor(readonly cropLabels: readonly string[]) {}

  get labels(): readonly string[] {
    return this.cropLabels;
  }

  async judge(_points: readonly TrackPoint[], cropProbabilities: readonly Float32Array[]): Promise<Verdict> {
    const mean = new Float64Array(this.cropLabels.length);
    for (const p of cropProbabilities) for (let i = 0; i < mean.length; i++) mean[i] += p[i] / cropProbabilities.length;
    return toVerdict(this.cropLabels, mean);
  }
}
