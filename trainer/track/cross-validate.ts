import { MeanVerdict } from '../../tracking/mean-verdict.js';
import { judgeClip, type AlertPolicy, type ClipOutcome } from './evaluate-clips.js';
import { TfjsVerdict } from './tfjs-verdict.js';
import { clipProbabilities, DEFAULT_TRACK_TRAINING, trainTrackParts, type EmbeddedClips, type TrackTrainSettings } from './train-track.js';
import { clipFolds } from './track-set.js';

export interface CrossValidation {
  /** Policy name -> one outcome per clip, each from the model of the fold that never saw the clip. */
  outcomes: Map<string, ClipOutcome[]>;
  folds: number;
  seconds: number;
}

export interface NamedPolicy extends AlertPolicy {
  name: string;
  /** Judge with the mean crop probability instead of the track model (the baseline). */
  meanOnly?: boolean;
}

/**
 * K-fold cross-validation by clip: every clip is judged by parts trained without it (and without any
 * clip of its fold), through the same judge and policy the cameras use.
 */
export async function crossValidateClips(data: EmbeddedClips, options: { folds: number; seed: number; policies: NamedPolicy[]; settings?: Partial<TrackTrainSettings>; onProgress?: (m: string) => void }): Promise<CrossValidation> {
  const started = Date.now();
  const folds = clipFolds(data.clips, options.folds, options.seed);
  const outcomes = new Map<string, ClipOutcome[]>(options.policies.map((p) => [p.name, []]));
  for (let f = 0; f < options.folds; f++) {
    const train = data.clips.map((_c, i) => i).filter((i) => folds[i] !== f);
    const test = data.clips.map((_c, i) => i).filter((i) => folds[i] === f);
    const parts = await trainTrackParts(data, train, { ...DEFAULT_TRACK_TRAINING, ...options.settings, seed: options.seed * 100 + f, onProgress: (m) => options.onProgress?.(`fold ${f + 1}/${options.folds}: ${m}`) });
    try {
      const verdict = new TfjsVerdict(parts.trackHead, parts.labels, parts.featureNames.length);
      const mean = new MeanVerdict(parts.labels);
      for (const c of test) {
        const probs = clipProbabilities(data, c, parts.cropHead, parts.labels.length);
        for (const p of options.policies) outcomes.get(p.name)!.push(await judgeClip(data.clips[c], probs, p.meanOnly ? mean : verdict, p));
      }
    } finally {
      parts.cropHead.dispose();
      parts.trackHead.dispose();
    }
  }
  return { outcomes, folds: options.folds, seconds: (Date.now() - started) / 1000 };
}
