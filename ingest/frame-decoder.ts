import { spawn, type ChildProcess } from 'node:child_process';
import ffmpeg from 'fluent-ffmpeg';
import { SkywatchError } from '../core/errors.js';
import type { FramePool } from './frame-pool.js';
import { localSocketPair } from './local-socket-pair.js';

export interface RawFrame {
  /** Packed RGB24. */
  data: Buffer;
  width: number;
  height: number;
  index: number;
  /** Presentation time from the start of decoding, from the sampling rate. */
  ptsMs: number;
  /** Whole frames decoded after this one and already waiting when it was handed over (0 unless `readAhead`). */
  waiting: number;
}

export interface DecodeOptions {
  fps: number;
  width?: number;
  height?: number;
  /** Loop a file forever as one stream (a stand-in for a live camera: `ingest.loopsAsLive`). */
  loop?: boolean;
  /** Read a file at its native rate, as a live camera would deliver it. */
  realtime?: boolean;
  inputOptions?: string[];
  signal?: AbortSignal;
  /** Each line ffmpeg writes to stderr (why a live stream ended is only said there). */
  onStderr?: (line: string) => void;
  /** Where frame buffers come from (buffers of another size are ignored); absent: a new one per frame. */
  buffers?: FramePool;
  /**
   * Whole frames read ahead of the consumer (default 0: reading stops at each frame's end until the
   * next is asked for). With 1, a frame's `waiting` says whether a newer one is already here, which is
   * how a live camera tells that it fell behind its stream from a stream that is merely slow.
   */
  readAhead?: number;
}

/** What ffprobe says of a video: its first video stream's size and rate, and the container's length. */
export interface VideoProbe {
  width: number;
  height: number;
  fps: number | null;
  /** The container's duration; null for a live stream (RTSP, MJPEG over HTTP, a live HLS playlist). */
  durationMs: number | null;
  /** ffprobe's format name (`mov,mp4,m4a,3gp,3g2,mj2`, `hls`, `mpjpeg`...). */
  format: string | null;
}

/** Probes a video (file or stream URL) with ffprobe. */
export function probeVideo(input: string, probeOptions: string[] = []): Promise<VideoProbe> {
  return new Promise((resolve, reject) => {
    ffmpeg.ffprobe(input, probeOptions, (err, data) => {
      if (err) return reject(new SkywatchError('DATA_INVALID', `ffprobe cannot read ${input}: ${ffprobeReason(String(err.message ?? err), input)}`));
      const video = data.streams.find((s) => s.codec_type === 'video');
      if (!video?.width || !video.height) return reject(new SkywatchError('DATA_INVALID', `${input} has no video stream`));
      const [n, d] = String(video.avg_frame_rate ?? '0/1').split('/').map(Number);
      // fluent-ffmpeg hands "N/A" over as the string or as NaN; only a positive finite length counts.
      const seconds = Number(data.format?.duration);
      resolve({ width: video.width, height: video.height, fps: n && d ? n / d : null, durationMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null, format: data.format?.format_name ?? null });
    });
  });
}

/**
 * Why ffprobe failed, in its own last words ("Server returned 404 Not Found", "Connection refused"):
 * fluent-ffmpeg's message starts "ffprobe exited with code 1", then the version banner, and only its
 * last line says what went wrong (without it, an operator and the dashboard saw only the exit code).
 */
function ffprobeReason(message: string, input: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  const last = lines.length > 1 ? lines[lines.length - 1] : '';
  if (!last || /^(ffprobe version|built with|configuration:|lib[a-z]+ +\d)/.test(last)) return lines[0] ?? message;
  return last.startsWith(`${input}: `) ? last.slice(input.length + 2) : last;
}

/** probeVideo, given up when `signal` aborts: ffprobe cannot be cancelled, but a stop or a watchdog must not wait for it. */
export function probeVideoUnlessAborted(input: string, probeOptions: string[], signal: AbortSignal, reason: string): Promise<VideoProbe> {
  return Promise.race([
    probeVideo(input, probeOptions),
    new Promise<never>((_r, reject) => signal.addEventListener('abort', () => reject(new Error(reason)), { once: true })),
  ]);
}

/** The ffmpeg binary: FFMPEG_PATH when set (as fluent-ffmpeg, used for ffprobe, reads it), else from PATH. */
function ffmpegBinary(): string {
  return process.env.FFMPEG_PATH || 'ffmpeg';
}

/**
 * Decodes a video (file or stream URL) at a set rate into raw RGB frames of exact size. Ending the
 * iteration (break, return, abort) kills the ffmpeg child.
 *
 * ffmpeg's stdout is a local socket read with `onread` straight into the frame being filled: no copy,
 * and no buffer per read. A pipe read the usual way allocates an ArrayBuffer for every read (a whole
 * frame's worth per frame), and V8 counts ArrayBuffer bytes against the old-generation limit: with a
 * dozen cameras those reads alone caused about half the Mark-Compacts of the ingest process.
 * Reading stops at each frame's end (or `readAhead` frames later) until the consumer asks for the
 * next one, so a slow consumer holds ffmpeg back as the stream's back-pressure did.
 */
export async function* decodeFrames(input: string, options: DecodeOptions): AsyncGenerator<RawFrame> {
  let { width, height } = options;
  if (!width || !height) {
    const size = await probeVideo(input);
    width = width ?? size.width;
    height = height ?? Math.round((size.height * width) / size.width);
  }
  const frameBytes = width * height * 3;
  const args = [
    ...(options.loop ? ['-stream_loop', '-1'] : []), ...(options.realtime ? ['-re'] : []), ...(options.inputOptions ?? []),
    '-i', input, '-filter:v', `fps=${options.fps},scale=${width}:${height}`, '-an', '-sn', '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1',
  ];
  const pool = options.buffers?.frameBytes === frameBytes ? options.buffers : null;
  const nextBuffer = () => pool?.take() ?? Buffer.allocUnsafe(frameBytes);
  let frame = nextBuffer();
  let filled = 0;
  /** Whole frames read and not yet taken (1 + readAhead at most: reading stops there). */
  const ready: Buffer[] = [];
  const keep = 1 + Math.max(0, Math.floor(options.readAhead ?? 0));
  let ended = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const pair = await localSocketPair({
    buffer: () => frame.subarray(filled),
    callback: (n) => {
      filled += n;
      if (filled < frameBytes) return true;
      ready.push(frame);
      frame = nextBuffer();
      filled = 0;
      notify();
      return ready.length < keep;
    },
  });
  const { reader } = pair;
  let child: ChildProcess;
  try {
    child = spawn(ffmpegBinary(), args, { stdio: ['ignore', pair.writer, 'pipe'], windowsHide: true });
  } catch (err) {
    reader.destroy();
    throw err;
  } finally {
    // The child has its own copy of this end; ours would keep the stream open after ffmpeg exits.
    pair.writer.destroy();
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      // ffmpeg could not start (not installed): nothing will come.
      failure = err;
      resolve({ code: null, signal: null });
      notify();
    });
  });
  let stderrTail = '';
  let partial = '';
  child.stderr!.setEncoding('utf8');
  const stderrLine = (line: string) => {
    stderrTail = `${stderrTail}\n${line}`.slice(-2000);
    options.onStderr?.(line);
  };
  child.stderr!.on('data', (text: string) => {
    // ffmpeg ends its progress lines with a bare CR.
    const lines = `${partial}${text}`.split(/\r\n|\r|\n/);
    partial = lines.pop() ?? '';
    for (const line of lines) stderrLine(line);
  });
  child.stderr!.on('end', () => {
    if (partial) stderrLine(partial);
    partial = '';
  });
  reader.on('end', () => {
    ended = true;
    notify();
  });
  reader.on('error', (err) => {
    failure ??= err;
    ended = true;
    notify();
  });
  // Without a consumer of its data events the socket never reports its end.
  reader.resume();
  const abort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', abort, { once: true });
  let index = 0;
  try {
    for (;;) {
      const data = ready.shift();
      if (data) {
        // Reading ahead goes on while the consumer works on this frame.
        if (keep > 1) reader.resume();
        yield { data, width, height, index, ptsMs: (index * 1000) / options.fps, waiting: ready.length };
        index++;
        reader.resume();
        continue;
      }
      if (ended || failure) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const { code, signal } = await exited;
    // Killed on purpose (abort, stop) is no failure; anything else that is not a clean exit is.
    if (code !== 0 && signal !== 'SIGKILL' && signal !== 'SIGTERM' && !failure) failure = new Error(signal ? `ffmpeg was killed with signal ${signal}` : `ffmpeg exited with code ${code}`);
    if (failure && index === 0 && !options.signal?.aborted) {
      throw new SkywatchError('DATA_INVALID', `ffmpeg could not decode ${input}: ${(failure as Error).message.split('\n')[0]}${stderrTail ? ` (${stderrTail.trim().split('\n').pop()})` : ''}`);
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    child.kill('SIGKILL');
    reader.destroy();
  }
}
