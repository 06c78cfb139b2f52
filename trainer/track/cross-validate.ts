import { judgeClip, type AlertPolicy, type ClipOutcome } from './evaluate-clips.js';
import { TfjsVerdict } from './tfjs-verdict.js';
import { clipProbabilities, DEFAULT_TRACK_TRAINING, trainTrackParts, type EmbeddedClips, type TrackModelParts, type TrackTrainSettings } from './train-track.js';
import { clipFolds } from './track-set.js';

export interface CrossValidation {
  /** Policy name -> one outcome per clip, each from the model of the fold that never saw the clip. */
  outcomes: Map<string, ClipOutcome[]>;
  folds: number;
  seconds: number;
}

export interface NamedPolicy extends AlertPolicy {
  name: string;
}

/**
 * K-fold cross-validation by clip: every clip is judged by parts trained without it (and without any
 * clip of its fold), through the same judge and policy the cameras use.
 */
export async function crossValidateClips(data: EmbeddedClips, options: {
  folds: number; seed: number; policies: NamedPolicy[]; settings?: Partial<TrackTrainSettings>; onProgress?: (m: string) => void; onFold?: (parts: TrackModelParts, fold: number) => void | Promise<void>;
  /**
   * The same clips seen another way (another decode size, crops from a second stream), judged by the
   * same fold models: outcomes under "<policy> [<name>]". Clips must be those of `data`, in its order.
   */
  alternatives?: Array<{ name: string; data: EmbeddedClips }>;
  /**
   * Train each fold's parts on all but one of this many folds of its training clips (by clip, stratified
   * by label): the same test clips judged by models that saw less data, e.g. 5 for the 4/5 of the clips a
   * held-out evaluation trains on against the refit on every clip.
   */
  trainSubsample?: number;
}): Promise<CrossValidation> {
  const started = Date.now();
  for (const alt of options.alternatives ?? []) {
    if (alt.data.clips.map((c) => c.id).join('\n') !== data.clips.map((c) => c.id).join('\n')) throw new Error(`the clips of "${alt.name}" are not those of the data`);
  }
  const folds = clipFolds(data.clips, options.folds, options.seed);
  const outcomes = new Map<string, ClipOutcome[]>(options.policies.map((p) => [p.name, []]));
  for (const alt of options.alternatives ?? []) for (const p of options.policies) outcomes.set(outcomesKey(p.name, alt.name), []);
  for (let f = 0; f < options.folds; f++) {
    const fullTrain = data.clips.map((_c, i) => i).filter((i) => folds[i] !== f);
    const inner = options.trainSubsample ? clipFolds(fullTrain.map((c) => data.clips[c]), options.trainSubsample, options.seed * 100 + f) : undefined;
    const train = inner ? fullTrain.filter((_c, k) => inner[k] !== 0) : fullTrain;
    const test = data.clips.map((_c, i) => i).filter((i) => folds[i] === f);
    const parts = await trainTrackParts(data, train, { ...DEFAULT_TRACK_TRAINING, ...options.settings, seed: options.seed * 100 + f, onProgress: (m) => options.onProgress?.(`fold ${f + 1}/${options.folds}: ${m}`) });
    try {
      const verdicts = new Map<number, TfjsVerdict>();
      const verdictFor = (blend: number) => verdicts.get(blend) ?? verdicts.set(blend, new TfjsVerdict(parts.trackHead, parts.labels, parts.featureNames.length, blend)).get(blend)!;
      for (const c of test) {
        const probs = clipProbabilities(data, c, parts.cropHeads, parts.labels.length);
        for (const p of options.policies) outcomes.get(p.name)!.push(await judgeClip(data.clips[c], probs, verdictFor(p.blend), p));
        for (const alt of options.alternatives ?? []) {
          const altProbs = clipProbabilities(alt.data, c, parts.cropHeads, parts.labels.length);
          for (const p of options.policies) outcomes.get(outcomesKey(p.name, alt.name))!.push(await judgeClip(alt.data.clips[c], altProbs, verdictFor(p.blend), p));
        }
      }
      await options.onFold?.(parts, f);
    } finally {
      for (const h of parts.cropHeads) h.dispose();
      parts.trackHead.dispose();
    }
  }
  return { outcomes, folds: options.folds, seconds: (Date.now() - started) / 1000 };
}

/** Where the outcomes of a policy on an alternative view of the clips are kept. */
export function outcomesKey(policy: string, alternative: string): string {
  return `${policy} [${alternative}]`;
}
