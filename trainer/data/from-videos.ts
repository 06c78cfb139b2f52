import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { SkywatchError } from '../../core/errors.js';
import { listLabelledClips } from './labelled-clips.js';
import { decodeFrames } from '../../ingest/frame-decoder.js';
import { cutRgb } from '../../core/image/crop-pixels.js';
import { cropBox, MotionDetector, type MotionOptions } from '../../ingest/motion.js';
import type { DataItem, SkippedFile } from './scan.js';
import { makeSplits, writeSplits } from './splits.js';

export { VIDEO_EXTENSIONS } from './labelled-clips.js';

export interface FromVideosOptions {
  fps?: number;
  cropSize?: number;
  padding?: number;
  minCropSize?: number;
  maxCropsPerClip?: number;
  regionsPerFrame?: number;
  seed?: number;
  motion?: Partial<MotionOptions>;
  signal?: AbortSignal;
  onProgress?: (p: { clip: string; done: number; total: number; crops: number }) => void;
}

export interface FromVideosResult {
  outDir: string;
  clips: number;
  crops: Record<string, number>;
  skipped: SkippedFile[];
}

/**
 * Turns labelled clips (one folder per label) into an image data set of crops around moving objects,
 * found by the same motion detector live cameras use. Crops of one clip share a group in
 * `sources.json`, so splits never put the same clip on both sides.
 */
export async function buildCropsFromVideos(clipsDir: string, outDir: string, options: FromVideosOptions = {}): Promise<FromVideosResult> {
  const fps = options.fps ?? 2;
  const cropSize = options.cropSize ?? 224;
  const maxPerClip = options.maxCropsPerClip ?? 40;
  const perFrame = options.regionsPerFrame ?? 1;
  const clips = await listLabelledClips(clipsDir);
  const sources: Record<string, string> = {};
  const items: DataItem[] = [];
  const skipped: SkippedFile[] = [];
  const crops: Record<string, number> = {};
  for (const [n, clip] of clips.entries()) {
    if (options.signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', 'interrupted');
    const clipId = `${clip.label}/${clip.file}`;
    const stem = path.parse(clip.file).name.replace(/[^A-Za-z0-9_-]/g, '_');
    await mkdir(path.join(outDir, clip.label), { recursive: true });
    let made = 0;
    try {
      let detector: MotionDetector | null = null;
      for await (const frame of decodeFrames(path.join(clipsDir, clip.label, clip.file), { fps, signal: options.signal })) {
        detector ??= new MotionDetector(frame.width, frame.height, options.motion);
        const regions = detector.detect(frame.data).slice(0, perFrame);
        for (const [r, region] of regions.entries()) {
          const box = cropBox(region, frame.width, frame.height, { padding: options.padding ?? 0.5, minSize: options.minCropSize ?? 48 });
          const rel = `${clip.label}/${stem}__f${String(frame.index).padStart(5, '0')}_r${r}.jpg`;
          const jpeg = await sharp(cutRgb(frame.data, frame.width, box), { raw: { width: box.width, height: box.height, channels: 3 } })
            .resize(cropSize, cropSize, { fit: 'fill' })
            .jpeg({ quality: 92 })
            .toBuffer();
          await writeFile(path.join(outDir, rel), jpeg);
          sources[rel] = clipId;
          items.push({ path: rel, label: clip.label });
          made++;
        }
        if (made >= maxPerClip) break;
      }
    } catch (err) {
      if ((err as SkywatchError).code === 'TRAINING_ABORTED') throw err;
      skipped.push({ path: clipId, reason: (err as Error).message });
    }
    crops[clip.label] = (crops[clip.label] ?? 0) + made;
    options.onProgress?.({ clip: clipId, done: n + 1, total: clips.length, crops: items.length });
  }
  await writeFile(path.join(outDir, 'sources.json'), JSON.stringify(sources, null, 1));
  if (items.length) await writeSplits(outDir, makeSplits(items, { seed: options.seed ?? 42, groupOf: (i) => sources[i.path] }));
  return { outDir, clips: clips.length, crops, skipped };
}
