import { SkywatchError } from '../core/errors.js';
import type { MicroBatcher } from './micro-batcher.js';
import type { ModelHolder } from './model-holder.js';
import { decodeImage, rgbToTensor } from './preprocess.js';

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
  constructor(private readonly holder: ModelHolder, private readonly batcher: MicroBatcher, private readonly options: { maxPixels: number }) {}

  async predict(image: Buffer, topk?: number): Promise<Prediction> {
    if (image.length === 0) throw new SkywatchError('IMAGE_EMPTY');
    const lease = this.holder.acquire();
    try {
      const { input } = lease.manifest;
      const decoded = await decodeImage(image, input.width, input.height, { maxPixels: this.options.maxPixels });
      const result = await this.batcher.infer(lease, rgbToTensor(decoded.rgb, input));
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
