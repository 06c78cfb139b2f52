import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SkywatchError } from '../../core/errors.js';
import { listLabelledClips } from './labelled-clips.js';
import { contextBox, cutCrop, encodePng, type ContextOptions, type RgbFrame } from '../../core/image/crop-pixels.js';
import { decodeFrames, type RawFrame } from '../../ingest/frame-decoder.js';
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
  /**
   * Motion and tracking on the clip scaled to this width, as on a camera's small sub stream (default:
   * the clip's own size, at most as a camera decodes it).
   */
  decodeWidth?: number;
  /**
   * With `decodeWidth`: crops of small objects cut from the clip at its own size, frame for frame, as a
   * camera with a crop stream (`cropUrl`) cuts them.
   */
  cropStream?: boolean;
  /** Only the first frames of each clip (tests, quick looks). */
  maxFrames?: number;
  /**
   * Each clip played this many times in a row without a break, as ffmpeg's own loop joins them (default
   * 1): what a camera looping a file seamlessly sees where the clip starts again (a stand-in for a live
   * camera, `ingest.loopsAsLive`; a user's looping file starts each pass afresh instead).
   */
  loops?: number;
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
    const video = path.join(clipsDir, clip.label, clip.file);
    const twin: { frame: RgbFrame | null } = { frame: null };
    try {
      const loops = Math.max(1, Math.floor(options.loops ?? 1));
      const source = options.decodeWidth
        ? clipFrames(video, fps, options.decodeWidth, options.cropStream ? twin : null, options.signal)
        : loops > 1 ? decodeFrames(video, { fps, inputOptions: ['-stream_loop', String(loops - 1)], signal: options.signal }) : video;
      for await (const step of trackClip(source, { fps, motion: options.motion, tracker: options.tracker, maxFrames: options.maxFrames, signal: options.signal })) {
        frames = Math.max(frames, step.seq);
        ({ width, height } = step.frame);
        for (const track of step.observed) {
          const p = track.last;
          const box = contextBox(p.box, width, height, options.crop);
          const crop = `t${track.id}_s${p.seq}.png`;
          const cut = cutCrop({ rgb: step.frame.data, width, height }, box, twin.frame);
          await writeFile(path.join(dir, crop), await encodePng(cut.rgb, cut.width, cut.height));
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

/**
 * A clip decoded at `width` (an even size, as cameras decode), and, when `twin` is given, decoded again
 * at its own size in step, frame by frame: `twin.frame` is the full-size frame of the one last yielded.
 */
async function* clipFrames(file: string, fps: number, width: number, twin: { frame: RgbFrame | null } | null, signal?: AbortSignal): AsyncGenerator<RawFrame> {
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  const small = decodeFrames(file, { fps, width: even(width), signal });
  const large = twin ? decodeFrames(file, { fps, signal }) : null;
  try {
    for await (const frame of small) {
      if (large && twin) {
        const next = await large.next();
        twin.frame = next.done ? null : { rgb: next.value.data, width: next.value.width, height: next.value.height };
      }
      yield frame;
    }
  } finally {
    await large?.return(undefined);
  }
}
