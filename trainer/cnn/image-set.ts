import { decodeImage } from '../../inference/preprocess.js';
import { SkywatchError } from '../../core/errors.js';

export interface LabeledFile {
  path: string;
  /** Index into the run's label list. */
  label: number;
}

/** Decoded images held in memory as packed RGB at one square size (about 27 KB each at 96 px). */
export interface ImageSet {
  size: number;
  pixels: Uint8Array;
  labels: Int32Array;
  files: string[];
  /** Files that could not be decoded, with why; they are left out rather than failing the run. */
  skipped: Array<{ path: string; reason: string }>;
}

export interface DecodeSetOptions {
  /** Decodes in flight at once (sharp runs them on its own threads). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decodes every file once with the same decodeImage serving uses (EXIF rotation, stretch to size), so
 * training sees the pixels a worker will. Epochs then reuse these bytes; augmentation works on them.
 */
export async function decodeImageSet(files: LabeledFile[], size: number, options: DecodeSetOptions = {}): Promise<ImageSet> {
  const frame = size * size * 3;
  const decoded: Array<Buffer | undefined> = new Array(files.length);
  const skipped: ImageSet['skipped'] = [];
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      if (options.signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', 'training was interrupted while decoding images; nothing was published');
      const i = next++;
      try {
        decoded[i] = (await decodeImage(files[i].path, size, size)).rgb;
      } catch (err) {
        skipped.push({ path: files[i].path, reason: (err as Error).message });
      }
      options.onProgress?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  const kept = files.map((f, i) => ({ f, rgb: decoded[i] })).filter((e): e is { f: LabeledFile; rgb: Buffer } => e.rgb !== undefined);
  const pixels = new Uint8Array(kept.length * frame);
  kept.forEach((e, i) => pixels.set(e.rgb, i * frame));
  return { size, pixels, labels: Int32Array.from(kept.map((e) => e.f.label)), files: kept.map((e) => e.f.path), skipped };
}
