import { silentLogger, type Logger } from '../core/logger.js';
import { Backoff } from './backoff.js';
import { decodeFrames, probeVideoUnlessAborted, type VideoProbe } from './frame-decoder.js';
import { FramePool } from './frame-pool.js';
import type { SpawnLimiter } from './spawn-limiter.js';
import { StreamClock } from './stream-clock.js';
import { WakeableDelay } from './wakeable-delay.js';

/** One frame of a camera's crop stream: packed RGB24 at the stream's own resolution. */
export interface DetailFrame {
  rgb: Buffer;
  width: number;
  height: number;
  capturedAt: number;
}

export interface CropStreamStatus {
  state: 'connecting' | 'live' | 'backoff' | 'stopped';
  lastError: string | null;
  width: number | null;
  height: number | null;
  framesDecoded: number;
  /** Frames of the main stream whose crops came from this stream. */
  matched: number;
  /** Frames of the main stream with no crop-stream frame close enough in time (their crops came from the main stream). */
  unmatched: number;
  restarts: number;
}

export interface CropStreamOptions {
  input: string;
  inputOptions: string[];
  realtime: boolean;
  /** A file played as one endless stream (ffmpeg's own loop), as the main stream of a stand-in for a live camera. */
  loop?: boolean;
  /**
   * A file: its end is this stream's end, not a failure to reconnect from (the main stream decides what
   * follows: the camera ends, or plays both files again as a new pass).
   */
  playOnce: boolean;
  fps: number;
  /** Widest decode; a wider stream is scaled down to this (4K main streams cost ffmpeg a lot). */
  maxWidth: number;
  /** No frame for this long: the ffmpeg child is killed and the stream reconnects. */
  watchdogMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  /**
   * The main stream's wall anchor (StreamClock.wallAnchor: epoch ms of its timestamp 0), for file
   * cameras: both files start at timestamp 0 and play at their own rate, so the same timestamp is the
   * same moment. Absent for live streams, whose frames are timed by their arrival as the main stream's are.
   */
  anchor?: () => number | null;
  /**
   * Whether the main stream is a recording now: then this stream, a file, plays no further ahead of it
   * than the frames it keeps. A live main stream skips frames when behind, and is not waited for.
   */
  heldToMain?: () => boolean;
  /** How the stream is played once ffprobe has seen it (a video file on a web server plays as a file). */
  probed?: (probe: VideoProbe) => Partial<Pick<CropStreamOptions, 'inputOptions' | 'realtime' | 'playOnce'>>;
  /** The ingestor's pace for starting processes, which ffprobe and ffmpeg of this stream wait for too. */
  spawns?: SpawnLimiter;
  /** The camera's credentials are masked out of errors by the caller's function. */
  mask: (text: string) => string;
  logger?: Logger;
}

/** Frames kept for matching: the main stream's frame may arrive a little before or after its twin. */
const KEPT_FRAMES = 3;

interface KeptFrame {
  rgb: Buffer;
  ptsMs: number;
  /** Its wall-clock capture time on this stream's own clock (StreamClock.wall). */
  localAt: number;
}

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/**
 * The second, higher-resolution stream of a camera, decoded beside the main one at the same rate and
 * used only for crops. Its failures never take the camera down: while it is away (connecting, stalled,
 * failed), crops are cut from the main stream as without it, and it reconnects by itself.
 *
 * Both streams' capture times are their own clocks' wall estimates (StreamClock.wall; the supervisor
 * matches with the main frame's), and a main frame is matched with the crop-stream frame
 * nearest in time, if one lies within a frame period.
 */
export class CropStream {
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly kept: KeptFrame[] = [];
  /** Ends a `match` waiting for the next frame. */
  private readonly nextFrame = new WakeableDelay();
  /** The latest main-stream moment asked for (match), and its wake-up for a file twin held back. */
  private reached = -Infinity;
  private readonly mainMoved = new WakeableDelay();
  private pool: FramePool | null = null;
  private running: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private stopping = false;
  private readonly backoffWait = new WakeableDelay();
  private readonly counts = { framesDecoded: 0, matched: 0, unmatched: 0, restarts: 0 };
  private state: CropStreamStatus['state'] = 'stopped';
  private lastError: string | null = null;
  private size: { width: number; height: number } | null = null;

  constructor(private readonly options: CropStreamOptions) {
    this.logger = options.logger ?? silentLogger;
    this.backoff = new Backoff({ minMs: options.backoffMinMs, maxMs: options.backoffMaxMs });
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort?.abort();
    this.backoffWait.wake();
    this.mainMoved.wake();
    await this.running;
    this.kept.length = 0;
    this.state = 'stopped';
  }

  /** Half a frame period: a twin further away in time shows a moving object somewhere else. */
  private get toleranceMs(): number {
    return Math.max(20, 500 / this.options.fps);
  }

  private timeOf(f: KeptFrame): number {
    const anchor = this.options.anchor?.() ?? null;
    return anchor === null ? f.localAt : anchor + f.ptsMs;
  }

  /**
   * The crop-stream frame of the same moment as a main frame captured at `capturedAt`, waiting up to
   * `maxWaitMs` for it when this stream runs behind (a larger picture takes longer to decode); null when
   * none is within half a frame period. `untilLive`: also wait while this stream is still starting (a
   * recording's twin file, started with each pass, may deliver its first frame after the main one's).
   * Its pixels are valid until the caller's next await: read them synchronously.
   */
  async match(capturedAt: number, maxWaitMs: number, untilLive = false): Promise<DetailFrame | null> {
    this.reached = Math.max(this.reached, capturedAt);
    this.mainMoved.wake();
    const end = Date.now() + maxWaitMs;
    const behind = () => this.state === 'live' && this.kept.length > 0 && this.timeOf(this.kept[this.kept.length - 1]) < capturedAt - this.toleranceMs;
    // Not once the twin has failed: a broken twin retrying after its backoff would hold every frame
    // that came during each attempt for the whole wait (a 3 s recording took over 30 s under load).
    const starting = () => untilLive && this.lastError === null && (this.state === 'connecting' || (this.state === 'live' && this.kept.length === 0));
    while (behind() || starting()) {
      const left = end - Date.now();
      if (left <= 0) break;
      await this.nextFrame.wait(left);
    }
    return this.near(capturedAt);
  }

  private near(capturedAt: number): DetailFrame | null {
    let best: KeptFrame | null = null;
    for (const f of this.kept) if (!best || Math.abs(this.timeOf(f) - capturedAt) < Math.abs(this.timeOf(best) - capturedAt)) best = f;
    if (best && this.size && Math.abs(this.timeOf(best) - capturedAt) <= this.toleranceMs) {
      this.counts.matched++;
      return { rgb: best.rgb, width: this.size.width, height: this.size.height, capturedAt: this.timeOf(best) };
    }
    this.counts.unmatched++;
    return null;
  }

  status(): CropStreamStatus {
    return { state: this.state, lastError: this.lastError, width: this.size?.width ?? null, height: this.size?.height ?? null, ...this.counts };
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.state = 'connecting';
      try {
        await this.connectOnce();
        if (this.options.playOnce) break;
      } catch (err) {
        if (this.stopping) break;
        this.lastError = this.options.mask((err as Error).message ?? String(err));
      }
      if (this.stopping) break;
      this.kept.length = 0;
      this.counts.restarts++;
      const wait = this.backoff.next();
      this.state = 'backoff';
      // A main frame waiting for this stream to start waits no more: crops come from the main stream.
      this.nextFrame.wake();
      this.logger.warn({ lastError: this.lastError, waitMs: wait }, 'crop stream disconnected; crops come from the main stream until it is back');
      await this.backoffWait.wait(wait);
    }
    // A file twin at its end keeps its last frames until the camera stops it: the main stream, held up,
    // may not have reached them yet (clearing them here left a recording's last 2 frames without twins).
    if (this.stopping) this.kept.length = 0;
    this.state = 'stopped';
  }

  private async connectOnce(): Promise<void> {
    let o = this.options;
    const abort = new AbortController();
    this.abort = abort;
    let watchdog: NodeJS.Timeout | null = null;
    // Probing an RTSP stream takes seconds: the first frame gets twice the watchdog.
    const arm = (ms: number) => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => abort.abort(), ms);
    };
    const connectMs = Math.max(2 * o.watchdogMs, 15_000);
    // A wait for a start slot is the ingestor pacing its starts (many cameras at once), not the stream
    // failing to answer: the watchdog stops while it lasts, and starts over after.
    const slot = async () => {
      if (watchdog) clearTimeout(watchdog);
      // The camera is already starting: its crop stream goes before cameras not started yet.
      await o.spawns?.acquire(abort.signal, 'next');
      arm(connectMs);
    };
    arm(connectMs);
    try {
      await slot();
      const probed = await probeVideoUnlessAborted(o.input, o.inputOptions, abort.signal, 'no answer from the crop stream (watchdog)');
      o = { ...o, ...o.probed?.(probed) };
      const width = even(Math.min(probed.width, o.maxWidth));
      const height = even((probed.height * width) / probed.width);
      this.size = { width, height };
      if (this.pool?.frameBytes !== width * height * 3) this.pool = new FramePool(width * height * 3, 2);
      const pool = this.pool;
      await slot();
      const clock = new StreamClock();
      let stderrTail = '';
      for await (const frame of decodeFrames(o.input, {
        fps: o.fps, width, height, loop: o.loop, realtime: o.realtime, inputOptions: o.inputOptions, signal: abort.signal, buffers: pool,
        onStderr: (line) => {
          stderrTail = line;
        },
      })) {
        // A file twin plays no further ahead of the main stream than the frames it keeps: a recording's
        // main stream is held up (waiting for room, a busy machine) while this one would play on at its
        // own pace, dropping frames the main stream had yet to reach (2 of 20 unmatched in a 4 s clip).
        while (o.playOnce && o.heldToMain?.() && !this.stopping && this.kept.length >= KEPT_FRAMES && this.timeOf(this.kept[0]) >= this.reached - this.toleranceMs) {
          if (watchdog) clearTimeout(watchdog);
          await this.mainMoved.wait(1_000);
        }
        arm(o.watchdogMs);
        this.kept.push({ rgb: frame.data, ptsMs: frame.ptsMs, localAt: clock.wall(clock.capture(frame.ptsMs)) });
        // A frame leaving the kept few goes back to the decoder's pool: nothing reads it asynchronously.
        if (this.kept.length > KEPT_FRAMES) pool.recycle(this.kept.shift()!.rgb);
        this.counts.framesDecoded++;
        this.nextFrame.wake();
        if (this.state !== 'live') {
          this.state = 'live';
          this.lastError = null;
          this.backoff.reset();
          this.logger.info({ width, height }, 'crop stream live');
        }
        if (this.stopping) break;
      }
      if (this.stopping || (o.playOnce && !abort.signal.aborted)) return;
      throw new Error(abort.signal.aborted ? `no frame for ${o.watchdogMs / 1000}s (watchdog)` : `crop stream ended${stderrTail ? `: ${stderrTail.trim()}` : ''}`);
    } finally {
      if (watchdog) clearTimeout(watchdog);
      abort.abort();
    }
  }
}
