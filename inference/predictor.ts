import { SkywatchError } from '../core/errors.js';
import type { MicroBatcher } from './micro-batcher.js';
import type { ModelHolder } from './model-holder.js';
import type { BatchResult } from './micro-batcher.js';
import type { LoadedModel } from './model-holder.js';
import { resizeRgb } from '../core/image/crop-pixels.js';
import { canCubicEnlarge, cubicEnlarge } from '../core/image/cubic-enlarge.js';
import { sameModelInput, type ModelInput } from '../core/model/manifest.js';
import { decodeImage, rgbToTensor } from './preprocess.js';
import { stageTimer } from './stage-timer.js';
import { combinePhotoAnswer } from './photo-answer.js';

export interface Prediction {
  label: string;
  confidence: number;
  scores: Record<string, number>;
  top?: Array<{ label: string; score: number }>;
  modelVersion: string;
  inferenceMs: number;
  queueMs: number;
  batchSize: number;
}

/** One image in, one prediction out: decode for the current model, batch, answer. */
export class Predictor {
  /** Where a camera crop is stretched before its normalisation into the batch (reused: fills run one at a time). */
  private scratch: Buffer = Buffer.alloc(0);

  constructor(private readonly holder: ModelHolder, private readonly batcher: MicroBatcher, private readonly options: { maxPixels: number }) {}

  /**
   * A whole photograph: the version's crop/frame model, and with it the photo model when the version
   * has one, combined (inference/photo-answer.ts) so the answer keeps every label.
   */
  async predict(image: Buffer, topk?: number): Promise<Prediction> {
    if (image.length === 0) throw new SkywatchError('IMAGE_EMPTY');
    return this.withModel(async (lease) => {
      const tensorFor = async (input: ModelInput): Promise<Float32Array> => {
        const decoded = await stageTimer.time('decode', () => decodeImage(image, input.width, input.height, { maxPixels: this.options.maxPixels }));
        return stageTimer.timeSync('preprocess', () => rgbToTensor(decoded.rgb, input));
      };
      const input = lease.manifest.input;
      const cropTensor = tensorFor(input);
      if (lease.photo === lease) return this.batcher.infer(lease, await cropTensor);
      // One decode when both take the same input (they share the backbone); the batcher copies tensors.
      const photoInput = lease.photo.manifest.input;
      const photoTensor = sameModelInput(photoInput, input) ? cropTensor : tensorFor(photoInput);
      const [crop, photo] = await Promise.all([cropTensor.then((t) => this.batcher.infer(lease, t)), photoTensor.then((t) => this.batcher.infer(lease.photo, t))]);
      return combinePhotoAnswer(crop, photo, lease.manifest.photo?.gate);
    }, topk);
  }

  /**
   * Packed RGB24 of `width` x `height` (a camera crop at its native resolution), resized here to the
   * input of the model current when it runs, with the one pixel path's kernel (core/image/crop-pixels.ts):
   * crops travel small, and a hot swap between queueing and inference never fails them.
   */
  async predictRgb(rgb: Uint8Array, width: number, height: number, topk?: number): Promise<Prediction> {
    if (rgb.length !== width * height * 3) throw new SkywatchError('BAD_REQUEST', `expected ${width * height * 3} RGB bytes for ${width}x${height}, got ${rgb.length}`);
    return this.withModel(async (lease) => {
      const spec = lease.manifest.input;
      if (canCubicEnlarge(width, height, spec)) {
        // Most crops: stretched and normalised while the batch is assembled, through one scratch buffer
        // (batches are filled one image at a time, synchronously).
        const result = await this.batcher.inferFill(lease, (batch, offset) => {
          const plane = spec.width * spec.height * 3;
          if (this.scratch.length < plane) this.scratch = Buffer.allocUnsafe(plane);
          const resized = cubicEnlarge(rgb, width, height, spec, this.scratch);
          rgbToTensor(resized, spec, batch, offset);
        });
        stageTimer.observe('preprocess', result.fillMs ?? 0);
        return result;
      }
      const t0 = performance.now();
      const resized = await resizeRgb(rgb, width, height, spec);
      const resizeMs = performance.now() - t0;
      // Normalised by the batcher straight into the batch (no float tensor per crop); the preprocess
      // stage is still the resize and the normalisation of this crop, observed once.
      const result = await this.batcher.inferRgb(lease, resized);
      stageTimer.observe('preprocess', resizeMs + (result.fillMs ?? 0));
      return result;
    }, topk);
  }

  /** Runs `infer` on the model current at the start, held until the answer is back (so a swap drains). */
  private async withModel(infer: (lease: LoadedModel) => Promise<BatchResult>, topk?: number): Promise<Prediction> {
    const lease = this.holder.acquire();
    try {
      const result = await infer(lease);
      const scores: Record<string, number> = {};
      result.labels.forEach((l, i) => (scores[l] = result.probs[i]));
      const ranked = result.labels.map((label, i) => ({ label, score: result.probs[i] })).sort((a, b) => b.score - a.score);
      return {
        label: ranked[0].label,
        confidence: ranked[0].score,
        scores,
        ...(topk ? { top: ranked.slice(0, topk) } : {}),
        modelVersion: result.modelVersion,
        inferenceMs: result.inferMs,
        queueMs: result.queueMs,
        batchSize: result.batchSize,
      };
    } finally {
      lease.release();
    }
  }
}
