import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { SkywatchError } from '../core/errors.js';
import { predictClip, type ClipPrediction } from './clip-predictor.js';
import type { ModelHolder } from './model-holder.js';
import { framesFromNpz } from './npz-frames.js';
import type { Predictor } from './predictor.js';

export interface ClipLimits {
  maxBytes: number;
  maxSeconds: number;
  maxFrames: number;
  maxPixels: number;
}

export type ClipKind = 'video' | 'npz';

export interface ClipAnswer extends Omit<ClipPrediction, 'events'> {
  kind: ClipKind;
  durationMs: number;
  seconds: number;
}

/** The container a body holds, from its first bytes (an upload's content type is only a claim). */
export function sniffClip(body: Buffer): ClipKind | null {
  if (body.length >= 4 && body.readUInt32LE(0) === 0x04034b50) return 'npz';
  if (body.length >= 12 && body.toString('latin1', 4, 8) === 'ftyp') return 'video';
  if (body.length >= 4 && body.readUInt32BE(0) === 0x1a45dfa3) return 'video';
  // QuickTime files may start with other atoms ('moov', 'mdat', 'wide', 'free').
  if (body.length >= 8 && ['moov', 'mdat', 'wide', 'free', 'skip'].includes(body.toString('latin1', 4, 8))) return 'video';
  return null;
}

function probeDuration(file: string): Promise<{ seconds: number; width: number; height: number }> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(file, (err, data) => {
      if (err) return reject(new SkywatchError('CLIP_INVALID', `not a readable video: ${String(err.message ?? err).split('\n')[0]}`));
      const video = data.streams.find((s) => s.codec_type === 'video');
      if (!video?.width || !video.height) return reject(new SkywatchError('CLIP_INVALID', 'the file has no video stream'));
      const seconds = Number(data.format.duration ?? video.duration);
      if (!Number.isFinite(seconds)) return reject(new SkywatchError('CLIP_INVALID', 'the video has no duration'));
      resolve({ seconds, width: video.width, height: video.height });
    });
  });
}

/**
 * A clip upload (mp4/webm/mov, or .npz with `frames` [T,H,W,3] uint8 taken at `fps`) through the offline
 * camera pipeline, within the limits: checked before any frame is decoded.
 */
export async function predictClipUpload(body: Buffer, deps: { holder: ModelHolder; predictor: Predictor }, limits: ClipLimits, options: { fps?: number; signal?: AbortSignal } = {}): Promise<ClipAnswer> {
  const t0 = performance.now();
  if (body.length === 0) throw new SkywatchError('CLIP_INVALID', 'the body is empty');
  if (body.length > limits.maxBytes) throw new SkywatchError('PAYLOAD_TOO_LARGE', `clip is ${body.length} bytes; at most ${limits.maxBytes}`);
  const kind = sniffClip(body);
  if (!kind) throw new SkywatchError('CLIP_INVALID', 'send an MP4, WebM or QuickTime video, or an .npz with a `frames` array');
  const fps = options.fps ?? deps.holder.current?.manifest.track?.fps ?? 5;
  if (kind === 'npz') {
    const frames = framesFromNpz(body, { maxFrames: limits.maxFrames, maxPixels: limits.maxPixels }).map((f, i) => ({ ...f, ptsMs: Math.round((i * 1000) / fps) }));
    const durationMs = Math.round((frames.length * 1000) / fps);
    if (durationMs / 1000 > limits.maxSeconds) throw new SkywatchError('CLIP_TOO_LONG', `${frames.length} frames at ${fps} fps is ${(durationMs / 1000).toFixed(1)} s; at most ${limits.maxSeconds} s`);
    const { events: _events, ...p } = await predictClip(frames, deps, { fps, signal: options.signal });
    return { ...p, kind, durationMs, seconds: (performance.now() - t0) / 1000 };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'skywatch-clip-'));
  try {
    const file = path.join(dir, 'clip');
    await writeFile(file, body);
    const probe = await probeDuration(file);
    if (probe.seconds > limits.maxSeconds) throw new SkywatchError('CLIP_TOO_LONG', `clip is ${probe.seconds.toFixed(1)} s; at most ${limits.maxSeconds} s`);
    if (probe.width * probe.height > limits.maxPixels) throw new SkywatchError('IMAGE_TOO_MANY_PIXELS', `clip is ${probe.width}x${probe.height}, over ${limits.maxPixels} pixels`);
    const { events: _events, ...p } = await predictClip(file, deps, { fps, signal: options.signal }).catch((err: unknown) => {
      if (err instanceof SkywatchError && err.code !== 'DATA_INVALID') throw err;
      throw new SkywatchError('CLIP_INVALID', `the video could not be decoded: ${(err as Error).message}`);
    });
    return { ...p, kind, durationMs: Math.round(probe.seconds * 1000), seconds: (performance.now() - t0) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
