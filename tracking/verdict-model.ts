import type { TrackPoint } from './track.js';

export interface Verdict {
  label: string;
  score: number;
  scores: Record<string, number>;
}

/**
 * The one seam through which a track's evidence becomes a verdict. A track model (manifest kind
 * `track`) combines crop probabilities with how the object moves; a photo model (kind `frame`) has no
 * track model and gets the mean of its crop probabilities.
 */
export interface VerdictModel {
  /** Labels of the crop probabilities it takes, in order. */
  readonly cropLabels: readonly string[];
  /** Labels of its verdicts. */
  readonly labels: readonly string[];
  /** `points` are the track's points up to its newest judged crop; one probability vector per crop that was scored. */
  judge(points: readonly TrackPoint[], cropProbabilities: readonly Float32Array[], frameWidth: number, frameHeight: number): Promise<Verdict>;
}

export function toVerdict(labels: readonly string[], probabilities: ArrayLike<number>): Verdict {
  const scores: Record<string, number> = {};
  let best = 0;
  for (let i = 0; i < labels.length; i++) {
    scores[labels[i]] = probabilities[i];
    if (probabilities[i] > probabilities[best]) best = i;
  }
  return { label: labels[best], score: probabilities[best], scores };
}
