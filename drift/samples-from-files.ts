import type { ModelManifest } from '../core/model/manifest.js';
import { OnnxModel } from '../inference/onnx-model.js';
import { decodeImage, rgbToTensor } from '../inference/preprocess.js';
import { mapLimit } from '../trainer/data/scan.js';
import { computeDriftSample, type DriftSample } from './drift-sample.js';

export interface FileSamples {
  samples: DriftSample[];
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * Drift samples of image files as the served model sees them: each decoded once at the model's input
 * size (the pixels the model scores), scored by the ONNX model, with the source image's larger side as
 * the object size. `embeddings` (row-major, one row per file) adds the embedding features.
 */
export async function samplesFromFiles(modelPath: string, manifest: ModelManifest, files: string[], options: { threads?: number; batchSize?: number; embeddings?: Float32Array; embeddingDim?: number; signal?: AbortSignal } = {}): Promise<FileSamples> {
  const { input, labels } = manifest;
  const model = await OnnxModel.load(modelPath, manifest, { intraOpThreads: options.threads ?? 2 });
  const per = 3 * input.width * input.height;
  const batchSize = options.batchSize ?? 16;
  const samples: DriftSample[] = [];
  const skipped: FileSamples['skipped'] = [];
  try {
    for (let start = 0; start < files.length; start += batchSize) {
      if (options.signal?.aborted) break;
      const chunk = files.slice(start, start + batchSize);
      const decoded = await mapLimit(chunk, 4, (f) => decodeImage(f, input.width, input.height).catch((err: Error) => err));
      const good: Array<{ index: number; rgb: Buffer; side: number }> = [];
      decoded.forEach((d, i) => {
        if (d instanceof Error) skipped.push({ path: chunk[i], reason: d.message });
        else good.push({ index: start + i, rgb: d.rgb, side: Math.max(d.sourceWidth, d.sourceHeight) });
      });
      if (good.length === 0) continue;
      const batch = new Float32Array(good.length * per);
      good.forEach((g, i) => rgbToTensor(g.rgb, input, batch, i * per));
      const probs = await model.run(batch, good.length);
      const k = labels.length;
      good.forEach((g, i) => {
        const dim = options.embeddingDim ?? 0;
        const embedding = options.embeddings && dim ? options.embeddings.subarray(g.index * dim, (g.index + 1) * dim) : undefined;
        samples.push(computeDriftSample({ rgb: g.rgb, width: input.width, height: input.height }, probs.subarray(i * k, (i + 1) * k), labels, { objectSize: g.side, ...(embedding ? { embedding } : {}) }));
      });
    }
  } finally {
    await model.release();
  }
  return { samples, skipped };
}
