import { SkywatchError } from '../../core/errors.js';
import { sameModelInput, type EvalMetrics, type ModelInput, type ModelManifest, type PhotoGate } from '../../core/model/manifest.js';
import { OnnxModel } from '../../inference/onnx-model.js';
import { combinePhotoAnswer } from '../../inference/photo-answer.js';
import { imageToTensor } from '../../inference/preprocess.js';
import { listFingerprint } from '../data/fingerprint.js';
import type { SkippedFile } from '../data/scan.js';
import { computeMetrics, type Curves } from './metrics.js';

export interface EvaluateRequest {
  modelPath: string;
  input: ModelInput;
  outputName: string;
  labels: string[];
  /** Absolute paths with their true labels. */
  files: Array<{ path: string; label: string }>;
  /**
   * The version's photo model (its file and its own manifest, `photoManifest`) and gate: images are
   * then answered as `POST /v1/predict` answers photographs, the two models combined
   * (inference/photo-answer.ts), instead of by the crop model alone.
   */
  photo?: { modelPath: string; manifest: ModelManifest; gate?: PhotoGate };
  signal?: AbortSignal;
  batchSize?: number;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Evaluation {
  metrics: EvalMetrics;
  curves: Curves;
  predictions: Array<{ path: string; label: string; predicted: string; confidence: number }>;
  skipped: SkippedFile[];
}

/** Runs an ONNX model over labelled files and measures it; unreadable images are skipped and reported. */
export async function evaluateDetailed(request: EvaluateRequest): Promise<Evaluation> {
  const { labels, input } = request;
  const unknown = [...new Set(request.files.map((f) => f.label))].filter((l) => !labels.includes(l));
  if (unknown.length) throw new SkywatchError('DATA_INVALID', `labels in the data but not in the model: ${unknown.join(', ')} (model labels: ${labels.join(', ')})`);
  const manifest = { version: 'eval', created: '', labels, kind: 'frame', input, output: { name: request.outputName, kind: 'probabilities' }, sha256: '0'.repeat(64), parent: null } satisfies ModelManifest;
  const model = await OnnxModel.load(request.modelPath, manifest, { intraOpThreads: request.threads ?? 2 });
  const photo = request.photo ? await OnnxModel.load(request.photo.modelPath, request.photo.manifest, { intraOpThreads: request.threads ?? 2 }).catch(async (err: unknown) => {
    await model.release();
    throw err;
  }) : null;
  const per = 3 * input.width * input.height;
  const batchSize = request.batchSize ?? 16;
  const yTrue: number[] = [];
  const probs: number[] = [];
  const used: Array<{ path: string; label: string }> = [];
  const skipped: SkippedFile[] = [];
  try {
    for (let start = 0; start < request.files.length; start += batchSize) {
      if (request.signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', 'evaluation interrupted');
      const chunk = request.files.slice(start, start + batchSize);
      const tensors = await Promise.all(chunk.map((f) => imageToTensor(f.path, input).catch((err: Error) => err)));
      const good = chunk.filter((f, i) => {
        const t = tensors[i];
        if (t instanceof Error) skipped.push({ path: f.path, reason: t.message });
        return !(t instanceof Error);
      });
      const batch = new Float32Array(good.length * per);
      tensors.filter((t): t is Float32Array => !(t instanceof Error)).forEach((t, i) => batch.set(t, i * per));
      if (good.length) {
        const out = await model.run(batch, good.length);
        probs.push(...(photo && request.photo ? await answerAsServed({ ...request.photo, model: photo }, labels, input, out, good, batch) : out));
        for (const f of good) {
          yTrue.push(labels.indexOf(f.label));
          used.push(f);
        }
      }
      request.onProgress?.(Math.min(start + batchSize, request.files.length), request.files.length);
    }
  } finally {
    await model.release();
    await photo?.release();
  }
  const { metrics, curves } = computeMetrics(labels, yTrue, probs);

  metrics.splitFingerprint = listFingerprint(used);
  const k = labels.length;
  const predictions = used.map((f, i) => {
    const row = probs.slice(i * k, i * k + k);
    const best = row.indexOf(Math.max(...row));
    return { path: f.path, label: f.label, predicted: labels[best], confidence: row[best] };
  });
  return { metrics, curves, predictions, skipped };
}

async function tensorsFor(files: Array<{ path: string }>, input: ModelInput): Promise<Float32Array> {
  const per = 3 * input.width * input.height;
  const out = new Float32Array(files.length * per);
  for (const [i, f] of files.entries()) out.set(await imageToTensor(f.path, input), i * per);
  return out;
}

/** The crop model's rows combined with the photo model's, image by image, as the predictor combines them. */
async function answerAsServed(photo: { model: OnnxModel; manifest: ModelManifest; gate?: PhotoGate }, labels: string[], input: ModelInput, cropOut: Float32Array, files: Array<{ path: string }>, cropBatch: Float32Array): Promise<Float32Array> {
  const spec = photo.manifest;
  // The same tensor when both models take the same input (one backbone), as the predictor shares it.
  const photoBatch = sameModelInput(spec.input, input) ? cropBatch : await tensorsFor(files, spec.input);
  const photoOut = await photo.model.run(photoBatch, files.length);
  const k = labels.length;
  const p = spec.labels.length;
  const answer = (labs: string[], row: Float32Array) => ({ labels: labs, probs: row, modelVersion: '', queueMs: 0, inferMs: 0, batchSize: files.length });
  const out = new Float32Array(files.length * k);
  files.forEach((_f, i) => {
    const combined = combinePhotoAnswer(answer(labels, cropOut.slice(i * k, (i + 1) * k)), answer(spec.labels, photoOut.slice(i * p, (i + 1) * p)), photo.gate);
    out.set(labels.map((l) => combined.probs[combined.labels.indexOf(l)] ?? 0), i * k);
  });
  return out;
}
