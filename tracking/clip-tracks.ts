import { decodeFrames, type RawFrame } from '../ingest/frame-decoder.js';
import { MotionDetector, type MotionOptions } from '../ingest/motion.js';
import type { Track } from './track.js';
import { Tracker, type TrackerOptions } from './tracker.js';

export interface ClipTrackOptions {
  /** Frames per second sampled from the clip: the rate live cameras run at. */
  fps: number;
  motion?: Partial<MotionOptions>;
  tracker?: Partial<TrackerOptions>;
  signal?: AbortSignal;
}

export interface TrackedFrame {
  frame: RawFrame;
  seq: number;
  /** Clip time of the frame, ms. */
  at: number;
  observed: Track[];
  ended: Track[];
}

/**
 * A clip (a file, or frames already decoded) through the live camera's stages: motion regions, then the
 * tracker, frame by frame; the last step ends every track still alive. Training data, offline clip
 * prediction and the evaluation all follow objects with this.
 */
export async function* trackClip(source: string | AsyncIterable<RawFrame> | Iterable<RawFrame>, options: ClipTrackOptions): AsyncGenerator<TrackedFrame> {
  const frames = typeof source === 'string' ? decodeFrames(source, { fps: options.fps, signal: options.signal }) : source;
  let detector: MotionDetector | null = null;
  let tracker: Tracker | null = null;
  let last: RawFrame | null = null;
  let seq = 0;
  for await (const frame of frames) {
    detector ??= new MotionDetector(frame.width, frame.height, options.motion);
    tracker ??= new Tracker(frame.width, frame.height, options.tracker);
    const at = Math.round((seq * 1000) / options.fps);
    const { observed, ended } = tracker.update(detector.detect(frame.data), seq, at);
    yield { frame, seq, at, observed, ended };
    last = frame;
    seq++;
  }
  if (tracker && last) yield { frame: last, seq, at: Math.round((seq * 1000) / options.fps), observed: [], ended: tracker.endAll() };
}
