import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { SkywatchError } from '../../core/errors.js';
import { sha256File } from '../../core/hash.js';
import { decodeImage, rgbToTensor } from '../../inference/preprocess.js';
import { seededRandom } from '../data/seeded-shuffle.js';
import { mapLimit } from '../data/scan.js';
import { timePhase } from '../profile/phase-profiler.js';
import { FEATURES, type Backbone } from './backbone.js';

export interface EmbedOptions {
  cacheDir: string;
  signal?: AbortSignal;
  /** False: each image as it is; a seed: one augmented copy per image (flip, crop, brightness). */
  augment: false | { seed: number };
  onProgress?: (done: number, total: number) => void;
  batchSize?: number;
  threads?: number;
}

const CROP_ZOOM = 1.15;

/**
 * Backbone features for each file, row-major [files, featureDim]. Cached on disk by (backbone,
 * augmentation, file content): re-training on the same images costs a hash per file, not a forward
 * pass. A file that cannot be decoded is an error naming it (training passes only validated files).
 */
export async function computeEmbeddings(backbone: Backbone, files: string[], options: EmbedOptions): Promise<Float32Array> {
  const { featureDim, input } = backbone;
  const augId = options.augment ? `aug-${options.augment.seed}` : 'plain';
  const dir = path.join(options.cacheDir, 'embeddings', backbone.cacheKey, augId);
  await mkdir(dir, { recursive: true });
  const out = new Float32Array(files.length * featureDim);
  const hashes = await mapLimit(files, 8, (f) => sha256File(f).catch(() => {
    throw new SkywatchError('DATA_INVALID', `cannot read ${f}`);
  }));
  const todo: number[] = [];
  await mapLimit(files, 8, async (_f, i) => {
    try {
      const buf = await readFile(path.join(dir, `${hashes[i]}.f32`));
      if (buf.length === featureDim * 4) {
        out.set(new Float32Array(buf.buffer, buf.byteOffset, featureDim), i * featureDim);
        return;
      }
    } catch {}
    todo.push(i);
  });
  todo.sort((a, b) => a - b);
  let done = files.length - todo.length;
  options.onProgress?.(done, files.length);
  if (todo.length === 0) return out;

  const session = await ort.InferenceSession.create(backbone.featureModel, { intraOpNumThreads: options.threads ?? 2, graphOptimizationLevel: 'all' });
  const per = 3 * input.height * input.width;
  const batchSize = options.batchSize ?? 16;
  try {
    for (let start = 0; start < todo.length; start += batchSize) {
      if (options.signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', 'interrupted while computing embeddings');
      const chunk = todo.slice(start, start + batchSize);
      const batch = new Float32Array(chunk.length * per);
      await timePhase('decode', () => Promise.all(chunk.map(async (fileIndex, j) => {
        const rgb = await imageRgb(files[fileIndex], input.width, input.height, options.augment ? seededRandom(options.augment.seed ^ parseInt(hashes[fileIndex].slice(0, 8), 16)) : null);
        rgbToTensor(rgb, input, batch, j * per);
      })));
      const result = await timePhase('embed', () => session.run({ input: new ort.Tensor('float32', batch, [chunk.length, 3, input.height, input.width]) }));
      const features = result[FEATURES].data as Float32Array;
      await Promise.all(chunk.map(async (fileIndex, j) => {
        const row = features.slice(j * featureDim, (j + 1) * featureDim);
        out.set(row, fileIndex * featureDim);
        const target = path.join(dir, `${hashes[fileIndex]}.f32`);
        // Two identical images in one batch write the same entry: each through a temp name of its own.
        const tmp = `${target}.${process.pid}.${fileIndex}.tmp`;
        await writeFile(tmp, Buffer.from(row.buffer));
        await rename(tmp, target);
      }));
      done += chunk.length;
      options.onProgress?.(done, files.length);
    }
  } finally {
    await session.release();
  }
  return out;
}

/** RGB at the input size; with a generator, a random crop (zoom up to 15%), a coin-flip mirror and brightness. */
async function imageRgb(file: string, width: number, height: number, random: (() => number) | null): Promise<Buffer> {
  try {
    if (!random) return (await decodeImage(file, width, height)).rgb;
    const zoom = 1 + random() * (CROP_ZOOM - 1);
    const bw = Math.round(width * zoom);
    const bh = Math.round(height * zoom);
    const big = (await decodeImage(file, bw, bh)).rgb;
    const ox = Math.floor(random() * (bw - width + 1));
    const oy = Math.floor(random() * (bh - height + 1));
    const flip = random() < 0.5;
    const gain = 0.8 + random() * 0.4;
    const rgb = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const sx = ox + (flip ? width - 1 - x : x);
        const s = ((oy + y) * bw + sx) * 3;
        const d = (y * width + x) * 3;
        rgb[d] = Math.min(255, big[s] * gain);
        rgb[d + 1] = Math.min(255, big[s + 1] * gain);
        rgb[d + 2] = Math.min(255, big[s + 2] * gain);
      }
    }
    return rgb;
  } catch (err) {
    throw new SkywatchError('DATA_INVALID', `cannot decode ${file}: ${(err as Error).message}`, { path: file });
  }
}

