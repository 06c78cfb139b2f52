import ffmpeg from 'fluent-ffmpeg';
import { SkywatchError } from '../core/errors.js';

export interface RawFrame {
  /** Packed RGB24. */
  data: Buffer;
  width: number;
  height: number;
  index: number;
  /** Presentation time from the start of decoding, from the sampling rate. */
  ptsMs: number;
}

export interface DecodeOptions {
  fps: number;
  width?: number;
  height?: number;
  /** Loop a file forever (demo cameras). */
  loop?: boolean;
  /** Read a file at its native rate, as a live camera would deliver it. */
  realtime?: boolean;
  inputOptions?: string[];
  signal?: AbortSignal;
  /** Each line ffmpeg writes to stderr (why a live stream ended is only said there). */
  onStderr?: (line: string) => void;
}

/** Width and height of the first video stream, from ffprobe. */
export function probeSize(input: string, probeOptions: string[] = []): Promise<{ width: number; height: number; fps: number | null }> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(input, probeOptions, (err, data) => {
      if (err) return reject(new SkywatchError('DATA_INVALID', `ffprobe cannot read ${input}: ${String(err.message ?? err).split('\n')[0]}`));
      const video = data.streams.find((s) => s.codec_type === 'video');
      if (!video?.width || !video.height) return reject(new SkywatchError('DATA_INVALID', `${input} has no video stream`));
      const [n, d] = String(video.avg_frame_rate ?? '0/1').split('/').map(Number);
      resolve({ width: video.width, height: video.height, fps: n && d ? n / d : null });
    });
  });
}

/**
 * Decodes a video (file or stream URL) at a set rate into raw RGB frames, cut from ffmpeg's stdout by
 * exact size. Ending the iteration (break, return, abort) kills the ffmpeg child.
 */
export async function* decodeFrames(input: string, options: DecodeOptions): AsyncGenerator<RawFrame> {
  let { width, height } = options;
  if (!width || !height) {
    const size = await probeSize(input);
    width = width ?? size.width;
    height = height ?? Math.round((size.height * width) / size.width);
  }
  const frameBytes = width * height * 3;
  const inputOptions = [...(options.loop ? ['-stream_loop', '-1'] : []), ...(options.realtime ? ['-re'] : []), ...(options.inputOptions ?? [])];
  const command = ffmpeg(input)
    .inputOptions(inputOptions)
    .videoFilters([`fps=${options.fps}`, `scale=${width}:${height}`])
    .outputOptions(['-an', '-sn', '-pix_fmt', 'rgb24'])
    .format('rawvideo');
  let failure: Error | null = null;
  let stderrTail = '';
  command.on('stderr', (line: string) => {
    stderrTail = `${stderrTail}\n${line}`.slice(-2000);
    options.onStderr?.(line);
  });
  command.on('error', (err: Error) => {
    if (!/SIGKILL|SIGTERM|Output stream closed/i.test(err.message)) failure = err;
  });
  const stream = command.pipe();
  const abort = () => command.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });
  // Each byte of ffmpeg's output is copied once, straight into the frame it belongs to (concatenating
  // 64 KiB pipe chunks into a growing buffer copied a 1 MB frame over and over: the largest CPU cost
  // of ingest before this).
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  let index = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + n);
        filled += n;
        offset += n;
        if (filled === frameBytes) {
          const data = frame;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
          yield { data, width, height, index, ptsMs: (index * 1000) / options.fps };
          index++;
        }
      }
    }
    if (failure && index === 0 && !options.signal?.aborted) {
      throw new SkywatchError('DATA_INVALID', `ffmpeg could not decode ${input}: ${(failure as Error).message.split('\n')[0]}${stderrTail ? ` (${stderrTail.trim().split('\n').pop()})` : ''}`);
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    command.kill('SIGKILL');
  }
}
