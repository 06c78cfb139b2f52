import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { listLabelledClips } from './labelled-clips.js';
import { contextBox, cutRgb, encodePng, type ContextOptions } from '../../core/image/crop-pixels.js';
import type { MotionOptions } from '../../ingest/motion.js';
import { trackClip } from '../../tracking/clip-tracks.js';
import type { TrackerOptions } from '../../tracking/tracker.js';
import type { ClipTracksFile, TrackFilePoint } from '../track/track-set.js';
import { TRACKS_FILE } from '../track/track-set.js';
import { mapLimit, type SkippedFile } from './scan.js';

export { VIDEO_EXTENSIONS } from './labelled-clips.js';

export interface TracksFromVideosOptions {
  /** Frames per second sampled: the rate cameras run at (5 by default). */
  fps?: number;
  motion?: Partial<MotionOptions>;
  tracker?: Partial<TrackerOptions>;
  crop?: ContextOptions;
  /** Only the first frames of each clip (tests, quick looks). */
  maxFrames?: number;
  /** Clips decoded at once (each is an ffmpeg child plus motion on this thread). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: { clip: string; done: number; total: number; tracks: number; crops: number }) => void;
}

export interface TracksFromVideosResult {
  outDir: string;
  clips: number;
  /** Per label: clips, tracks of two points or more, crops written. */
  perLabel: Record<string, { clips: number; tracks: number; crops: number; clipsWithoutTracks: number }>;
  skipped: SkippedFile[];
}

/**
 * Labelled clips (one folder per label) -> a track data set: every clip played through the live
 * camera's motion stage and tracker at the camera rate, each track's points and, for each point, the
 * native-resolution crop around the object cut by the one pixel path (lossless PNG, so training
 * decodes the very pixels a camera would send). One folder per clip keeps clips whole for splitting.
 */
export async function buildTracksFromVideos(clipsDir: string, outDir: string, options: TracksFromVideosOptions = {}): Promise<TracksFromVideosResult> {
  const fps = options.fps ?? 5;
  const clips = await listLabelledClips(clipsDir);
  const perLabel: TracksFromVideosResult['perLabel'] = {};
  const skipped: SkippedFile[] = [];
  let done = 0;
  let totalCrops = 0;
  await mapLimit(clips, options.concurrency ?? 2, async (clip) => {
    if (options.signal?.aborted) throw new SkywatchError('TRAINING_ABORTED', 'interrupted');
    const clipId = `${clip.label}/${clip.file}`;
    const stem = path.parse(clip.file).name.replace(/[^A-Za-z0-9_-]/g, '_');
    const dir = path.join(outDir, clip.label, stem);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const tracks = new Map<number, { id: number; points: TrackFilePoint[] }>();
    let frames = 0;
    let width = 0;
    let height = 0;
    try {
      for await (const step of trackClip(path.join(clipsDir, clip.label, clip.file), { fps, motion: options.motion, tracker: options.tracker, maxFrames: options.maxFrames, signal: options.signal })) {
        frames = Math.max(frames, step.seq);
        ({ width, height } = step.frame);
        for (const track of step.observed) {
          const p = track.last;
          const box = contextBox(p.box, width, height, options.crop);
          const crop = `t${track.id}_s${p.seq}.png`;
          await writeFile(path.join(dir, crop), await encodePng(cutRgb(step.frame.data, width, box), box.width, box.height));
          let rec = tracks.get(track.id);
          if (!rec) tracks.set(track.id, (rec = { id: track.id, points: [] }));
          rec.points.push({ seq: p.seq, at: p.at, box: { ...p.box }, area: p.area, crop });
        }
      }
    } catch (err) {
      if ((err as SkywatchError).code === 'TRAINING_ABORTED' || options.signal?.aborted) throw err;
      skipped.push({ path: clipId, reason: (err as Error).message });
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const file: ClipTracksFile = { label: clip.label, clip: clip.file, width, height, frames, fps, tracks: [...tracks.values()] };
    await writeFile(path.join(dir, TRACKS_FILE), JSON.stringify(file));
    const stats = (perLabel[clip.label] ??= { clips: 0, tracks: 0, crops: 0, clipsWithoutTracks: 0 });
    const real = file.tracks.filter((t) => t.points.length >= 2);
    stats.clips++;
    stats.tracks += real.length;
    const crops = file.tracks.reduce((a, t) => a + t.points.length, 0);
    stats.crops += crops;
    totalCrops += crops;
    if (real.length === 0) stats.clipsWithoutTracks++;
    options.onProgress?.({ clip: clipId, done: ++done, total: clips.length, tracks: real.length, crops: totalCrops });
  });
  return { outDir, clips: clips.length, perLabel, skipped };
}
