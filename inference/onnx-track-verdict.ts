import * as ort from 'onnxruntime-node';
import { SkywatchError } from '../core/errors.js';
import type { TrackModelSpec } from '../core/model/manifest.js';
import type { TrackPoint } from '../tracking/track.js';
import { trackFeatureNames, trackFeatures } from '../tracking/track-features.js';
import { toVerdict, type Verdict, type VerdictModel } from '../tracking/verdict-model.js';

/**
 * A track model (`track.onnx`) behind the verdict seam. It is a few kilobytes of dense layers, so it
 * runs on the calling thread; features are computed by the same code the trainer used, and the names
 * the manifest lists must be exactly those, in order, or the model is refused.
 */
export class OnnxTrackVerdict implements VerdictModel {
  private constructor(private readonly session: ort.InferenceSession, private readonly spec: TrackModelSpec, readonly cropLabels: readonly string[]) {}

  get labels(): readonly string[] {
    return this.spec.labels;
  }

  static async load(file: string, spec: TrackModelSpec, cropLabels: readonly string[]): Promise<OnnxTrackVerdict> {
    const expected = trackFeatureNames(cropLabels);
    if (expected.length !== spec.features.length || expected.some((f, i) => f !== spec.features[i])) {
      throw new SkywatchError('MODEL_INVALID', `track model features (${spec.features.length}) do not match this version's (${expected.length}): ${spec.features.slice(0, 4).join(', ')}...`);
    }
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    } catch (err) {
      throw new SkywatchError('MODEL_INVALID', `track model cannot be loaded: ${(err as Error).message}`, undefined, { cause: err });
    }
    const verdict = new OnnxTrackVerdict(session, spec, cropLabels);
    // A warm-up run checks the input and output shapes against the manifest.
    const check = await verdict.run(new Float32Array(spec.features.length));
    if (check.length !== spec.labels.length) {
      await session.release();
      throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `track model gives ${check.length} outputs for ${spec.labels.length} labels`);
    }
    return verdict;
  }

  private async run(features: Float32Array): Promise<Float32Array> {
    const out = await this.session.run({ [this.spec.inputName]: new ort.Tensor('float32', features, [1, features.length]) });
    const tensor = out[this.spec.outputName];
    if (!tensor) throw new SkywatchError('MODEL_OUTPUT_MISMATCH', `track model has no output ${this.spec.outputName}`);
    return tensor.data as Float32Array;
  }

  async judge(points: readonly TrackPoint[], cropProbabilities: readonly Float32Array[], frameWidth: number, frameHeight: number): Promise<Verdict> {
    return toVerdict(this.spec.labels, await this.run(trackFeatures(points, cropProbabilities, this.cropLabels.length, frameWidth, frameHeight)));
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
