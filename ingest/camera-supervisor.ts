import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isSkywatchError, SkywatchError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { maskSecrets } from '../core/redact.js';
import { Backoff } from './backoff.js';
import { ffmpegInput, playedAsRecording, playedFromCopy, type Camera, type FfmpegSource } from './camera.js';
import { bareHost, hostRules, STRICT_HOST_POLICY, type CameraHostPolicy } from './camera-hosts.js';
import { decodeFrames, probeVideoUnlessAborted, type VideoProbe } from './frame-decoder.js';
import { CropStream, type CropStreamStatus } from './crop-stream.js';
import { FramePool } from './frame-pool.js';
import { StreamClock } from './stream-clock.js';
import { WakeableDelay } from './wakeable-delay.js';
import type { WebRecordings } from './web-recordings.js';
import { RECORDING_PATIENCE_MS, type DropReason, type FramePipeline, type FramePipelineFactory, type GateResult } from './frame-sink.js';
import { encodeJpeg } from './evidence.js';
import type { SpawnLane, SpawnLimiter } from './spawn-limiter.js';

/** `ended`: a play-once file camera reached the end of its file and is judged (its alerts all written). */
export type CameraState = 'connecting' | 'live' | 'backoff' | 'failed' | 'stopped' | 'ended';

export interface CameraStatus {
  id: string;
  state: CameraState;
  /** Why the last connection ended, credentials masked. */
  lastError: string | null;
  /** Frames decoded per second over the last few seconds. */
  fps: number;
  framesDecoded: number;
  /** Frames without motion, not sent on. */
  framesGated: number;
  framesQueued: number;
  framesDropped: number;
  drops: Record<DropReason, number>;
  restarts: number;
  /** Times a looping file camera started its file again from the beginning (0 for streams). */
  passes: number;
  width: number | null;
  height: number | null;
  lastFrameAt: number | null;
  /**
   * How late the last frames (up to 30) reached the pipeline after their capture time, the most of
   * them, in ms: a camera whose machine or network cannot keep up shows it here before its alerts
   * come late (alert latency counts from the capture). Null until a frame arrives, and while not live.
   */
  lagMs: number | null;
  /** When the state last changed. */
  since: number;
  /**
   * A video file on a web server being copied before it plays (`connecting` meanwhile): bytes so far and
   * the file's length when the server said it; null otherwise.
   */
  fetching: { bytes: number; total: number | null } | null;
  /** The second, higher-resolution stream crops are cut from (`cropUrl`); null without one. */
  cropStream: CropStreamStatus | null;
}

export interface SupervisorOptions {
  camera: Camera;
  /** Makes the pipeline of one connection (motion, tracking, crops, the queue): ingest/track-owner.ts. */
  pipeline: FramePipelineFactory;
  allowFileUrls: boolean;
  /** No frame for this long: the ffmpeg child is killed and the camera reconnects. */
  watchdogMs: number;
  /**
   * Live streams: a frame captured longer ago than this, with a newer one already decoded, is skipped
   * (the camera fell behind its stream: motion and tracking were slower than the stream on a loaded
   * machine). Files always play every frame. 0 or absent: every frame goes through.
   */
  maxFrameLagMs?: number;
  /**
   * A looping file stands in for a live camera (ingest.loopsAsLive): one endless stream with the live
   * rules. Otherwise every file is a recording, and a looping one starts over at each pass.
   */
  loopsAsLive?: boolean;
  /** Time allowed from starting ffmpeg to the first frame (probing an RTSP stream takes seconds);
   * by default twice the watchdog, at least 15 s. */
  connectTimeoutMs?: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  logger?: Logger;
  random?: () => number;
  /** Hosts the camera may reach, checked again against what its name resolves to; strict by default. */
  hosts?: CameraHostPolicy;
  /** Shared by the cameras of one ingestor: bounds how fast ffprobe/ffmpeg are started. */
  spawns?: SpawnLimiter;
  /** The reconnect backoff, kept by the ingestor across leases so a failing camera that is dropped
   * and taken again does not start over at the shortest wait. */
  backoff?: Backoff;
  /** Local copies of video files on web servers (absent: played from the server, which must serve ranges). */
  recordings?: WebRecordings;
}

/**
 * Checks what a camera's host name resolves to against the host policy (the URL check only sees the
 * name). ffmpeg resolves again when it connects, so a name whose answers change between the two
 * lookups is not covered: list allowed hosts (ingest.allowHosts) where that matters.
 */
async function checkResolvedHost(url: string, hosts: CameraHostPolicy): Promise<void> {
  let host: string;
  try {
    host = bareHost(new URL(url).hostname);
  } catch {
    return; // a file path
  }
  if (!host || isIP(host)) return;
  const addresses = await lookup(host, { all: true, verbatim: true });
  const rules = hostRules(hosts);
  const denied = addresses.find((a) => !rules.allowed(a.address));
  if (denied) throw new SkywatchError('CAMERA_URL_HOST', `camera host ${host} resolves to ${denied.address}, which is not allowed (ingest.allowHosts / ingest.denyHosts)`, { host });
}

const MAX_DECODE_WIDTH = 1280;
/** The shortest time between the starts of a looping file's passes. */
const MIN_PASS_MS = 1000;
const FPS_WINDOW = 30;

/**
 * One camera: one ffmpeg child decoding at the camera's fps, restarted by a watchdog when frames stop,
 * reconnecting with backoff when the stream fails, motion-gating every frame into the sink.
 */
export class CameraSupervisor {
  readonly camera: Camera;
  private readonly options: SupervisorOptions;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private state: CameraState = 'stopped';
  private since = Date.now();
  private lastError: string | null = null;
  private readonly counts = { framesDecoded: 0, framesGated: 0, framesQueued: 0, framesDropped: 0, restarts: 0, passes: 0 };
  /** A looping file's pipeline and frame buffers, handed from one pass to the next (restarted). */
  private carried: { gate: FramePipeline; buffers: FramePool; width: number; height: number } | null = null;
  /** The clock of the connection now decoding (a carried pipeline's wall times are read on it). */
  private clock = new StreamClock();
  /** What ffprobe said of the main stream, kept for a looping file's next pass (the same file). */
  private probed: { input: string; video: VideoProbe } | null = null;
  /** The copy of a web video file under way (status). */
  private fetching: { bytes: number; total: number | null } | null = null;
  private readonly drops: Record<DropReason, number> = { in_flight: 0, no_model: 0, sink: 0, behind: 0 };
  /** The last FPS_WINDOW frames: when each arrived, and how late after its capture time (ms). */
  private readonly recent: Array<{ at: number; lagMs: number }> = [];
  private latest: { data: Buffer; width: number; height: number; buffers: FramePool } | null = null;
  private seq = 0;
  private running: Promise<void> | null = null;
  private stopping = false;
  private connection: AbortController | null = null;
  private readonly backoffWait = new WakeableDelay();
  private cropStream: CropStream | null = null;

  constructor(options: SupervisorOptions) {
    this.options = options;
    this.camera = options.camera;
    this.logger = (options.logger ?? silentLogger).child({ camera: options.camera.id });
    this.backoff = options.backoff ?? new Backoff({ minMs: options.backoffMinMs, maxMs: options.backoffMaxMs, random: options.random });
  }

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop().finally(() => {
      // Stopped between two passes of a looping file: the pipeline waiting for the next one ends here.
      if (this.carried) this.closePipeline(this.carried.gate);
      this.carried = null;
      this.running = null;
    });
  }

  /** Kills the ffmpeg child and waits until it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.connection?.abort();
    this.backoffWait.wake();
    await this.running;
    this.setState('stopped');
  }

  status(): CameraStatus {
    return {
      id: this.camera.id,
      state: this.state,
      lastError: this.lastError,
      fps: this.measuredFps(),
      ...this.counts,
      drops: { ...this.drops },
      width: this.latest?.width ?? null,
      height: this.latest?.height ?? null,
      lastFrameAt: this.recent.at(-1)?.at ?? null,
      lagMs: this.state === 'live' && this.recent.length ? Math.max(...this.recent.map((f) => f.lagMs)) : null,
      since: this.since,
      fetching: this.fetching,
      cropStream: this.cropStream?.status() ?? null,
    };
  }

  /** The latest decoded frame as JPEG, or null before the first frame. */
  async snapshot(): Promise<Buffer | null> {
    const f = this.latest;
    if (!f) return null;
    // Encoding takes a while; the frame's buffer must not be reused for a new frame meanwhile.
    const release = f.buffers.hold([f.data]);
    try {
      return await encodeJpeg(f.data, f.width, f.height, 85);
    } finally {
      release();
    }
  }

  private setState(state: CameraState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = Date.now();
    this.logger.info({ state, lastError: this.lastError }, `camera ${this.camera.id} ${state}`);
  }

  private measuredFps(): number {
    const t = this.recent.map((f) => f.at);
    if (t.length < 2) return 0;
    const span = t[t.length - 1] - t[0];
    // A camera that stopped sending has no rate, whatever it had before.
    if (Date.now() - t[t.length - 1] > Math.max(2000, (2 * span) / (t.length - 1))) return 0;
    return span > 0 ? Math.round((10_000 * (t.length - 1)) / span) / 10 : 0;
  }

  private async loop(): Promise<void> {
    let replay = false;
    while (!this.stopping) {
      // A looping file's next pass follows at once; the camera stays live through it.
      if (!replay) this.setState('connecting');
      let permanent = false;
      const startedAt = Date.now();
      try {
        replay = (await this.connectOnce(replay)) === 'replay';
      } catch (err) {
        replay = false;
        // ffmpeg's stderr quotes the URL in its own way (decoded, re-encoded): the secrets are taken
        // from the stored URL and masked wherever they appear.
        this.lastError = maskSecrets((err as Error).message ?? String(err), this.camera.url);
        // A URL that is no longer valid (file gone, scheme or host disallowed) will not heal by retrying.
        permanent = isSkywatchError(err, 'CAMERA_URL_INVALID') || isSkywatchError(err, 'CAMERA_URL_SCHEME') || isSkywatchError(err, 'CAMERA_URL_HOST');
      }
      if (this.stopping) break;
      if (this.state === 'ended') {
        this.logger.info('file played to its end; camera ended');
        return;
      }
      if (replay) {
        this.counts.passes++;
        // A file whose pass is shorter than this (a still image, a few frames) is not started again
        // faster: each pass is an ffmpeg start.
        const rest = MIN_PASS_MS - (Date.now() - startedAt);
        if (rest > 0) await this.backoffWait.wait(rest);
        continue;
      }
      if (permanent) {
        this.setState('failed');
        this.logger.warn({ lastError: this.lastError }, 'camera failed permanently');
        return;
      }
      this.counts.restarts++;
      const wait = this.backoff.next();
      this.setState('backoff');
      this.logger.warn({ lastError: this.lastError, waitMs: wait }, 'camera disconnected; reconnecting');
      await this.backoffWait.wait(wait);
    }
  }

  /**
   * A stand-in for a live camera (ingest.loopsAsLive) is one endless stream (ffmpeg's loop), main and
   * crop stream alike, with no pass to start over: a live camera has none, and the capacity benchmark
   * measures live cameras.
   */
  private endless(source: FfmpegSource): boolean {
    return source.replay && this.options.loopsAsLive === true;
  }

  /**
   * A web video file's source played from its local copy (web-recordings.ts); the source itself for
   * anything else. A playlist (a finished HLS or DASH recording) names its segments relative to its own
   * URL: a copy of the playlist alone would point nowhere, and its segments need no ranges anyway. A
   * copy that fails (an error answer, a certificate Node.js does not trust where ffmpeg does not check)
   * leaves the file to be read from the server, under ffmpeg's own rules and errors.
   */
  private async fromLocalCopy(source: FfmpegSource, probe: VideoProbe, signal: AbortSignal): Promise<FfmpegSource> {
    const { camera, recordings, watchdogMs } = this.options;
    if (source.kind !== 'http' || !source.realtime || !recordings || PLAYLIST_FORMATS.has(probe.format ?? '')) return source;
    const progress = (bytes: number, total: number | null) => {
      this.fetching = { bytes, total };
    };
    try {
      const copy = await recordings.copy(camera.id, source.input, signal, watchdogMs, progress);
      return copy ? playedFromCopy(source, copy) : source;
    } catch (err) {
      if (signal.aborted) throw err;
      this.logger.warn({ camera: camera.id, err: maskSecrets((err as Error).message, camera.url) }, 'the video file could not be copied; reading it from the server');
      return source;
    } finally {
      this.fetching = null;
    }
  }

  /**
   * Ends a pipeline's tracks now; their last alerts are written after (the track owner keeps the
   * pipeline until it is drained, and waits for it at shutdown). A looping file's next pass, a
   * reconnect or a stop does not wait for that: the ingestor stops deleted cameras one after another,
   * and a wait here held up every other camera's start and stop behind one camera's clips.
   */
  private closePipeline(pipeline: FramePipeline): void {
    void pipeline.close().catch((err: unknown) => this.logger.error({ err }, 'closing the camera\'s pipeline failed'));
  }

  /** The camera's crop stream for this connection, started; null without `cropUrl` or when its URL is refused. */
  private async startCropStream(watchdogMs: number, hosts: CameraHostPolicy, anchor: () => number | null, heldToMain: () => boolean): Promise<CropStream | null> {
    const { camera } = this.options;
    if (!camera.cropUrl) return null;
    const mask = (text: string) => maskSecrets(maskSecrets(text, camera.cropUrl!), camera.url);
    let source: ReturnType<typeof ffmpegInput>;
    try {
      source = ffmpegInput(camera, this.options.allowFileUrls, watchdogMs, hosts, 'crop');
      await checkResolvedHost(source.input, hosts);
    } catch (err) {
      // The main stream still works: the camera runs without its crop stream and says why.
      this.logger.warn({ err: mask((err as Error).message) }, 'crop stream refused; crops come from the main stream');
      return null;
    }
    const played = (s: FfmpegSource) => ({ inputOptions: s.options, realtime: s.realtime, playOnce: s.playOnce || s.replay });
    this.cropStream = new CropStream({
      input: source.input, ...played(source), loop: this.endless(source),
      probed: (probe) => played(playedAsRecording(source, probe.durationMs, camera)),
      fps: camera.fps, maxWidth: MAX_CROP_STREAM_WIDTH, watchdogMs, anchor, heldToMain,
      backoffMinMs: this.options.backoffMinMs, backoffMaxMs: this.options.backoffMaxMs, spawns: this.options.spawns, mask, logger: this.logger.child({ stream: 'crop' }),
    });
    this.cropStream.start();
    return this.cropStream;
  }

  /**
   * One connection: probe, decode until the stream ends, fails or stalls. `again`: the next pass of a
   * looping file, which needs no probe (the same file) and no start slot (its time is set by the file's
   * length, not by a crowd of cameras starting). Resolves 'replay' when a looping file played to its end.
   */
  private async connectOnce(again = false): Promise<'replay' | void> {
    const { camera, watchdogMs } = this.options;
    const hosts = this.options.hosts ?? STRICT_HOST_POLICY;
    let source = ffmpegInput(camera, this.options.allowFileUrls, watchdogMs, hosts);
    await checkResolvedHost(source.input, hosts);
    /** Judged whole; null until the source is probed (below). */
    let recording: boolean | null = null;
    const abort = new AbortController();
    this.connection = abort;
    let watchdog: NodeJS.Timeout | null = null;
    let stalled = false;
    let limitMs = this.options.connectTimeoutMs ?? Math.max(2 * watchdogMs, 15_000);
    const arm = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        abort.abort();
      }, limitMs);
    };
    let stderrTail = '';
    const clock = new StreamClock();
    // A pipeline carried over from the pass before reads wall times on this connection's clock.
    this.clock = clock;
    let crops: CropStream | null = null;
    // A looping file's pipeline and buffers from its last pass, restarted; this connection closes it
    // unless it hands it on to the next pass.
    const carried = again ? this.carried : null;
    this.carried = null;
    let open: FramePipeline | null = carried?.gate ?? null;
    // Waits of the ingestor's own making (a start slot, room for a recording's frame) are not the camera
    // failing to answer: the watchdog stops while they last, and starts over after.
    const unwatched = async <T>(wait: () => Promise<T> | undefined): Promise<T | undefined> => {
      if (watchdog) clearTimeout(watchdog);
      const result = await wait();
      arm();
      return result;
    };
    // A start slot before each of ffprobe and ffmpeg (stop() aborts the wait). With the watchdog running
    // on, 59 cameras added at once timed out queuing for slots, queued again, and 43 never connected.
    const slot = (lane: SpawnLane) => (again ? Promise.resolve() : unwatched(() => this.options.spawns?.acquire(abort.signal, lane)));
    arm();
    try {
      await slot('first');
      // Started first, so both streams come up together: a file's twin is matched by its timestamps.
      // Read when frames are matched, by which time the main stream is probed: a video file on a web
      // server is a file too (its twin matched by timestamps), a live stream is matched by arrival.
      // A recording's twin is also held to the main stream's pace (crop-stream.ts), and so is a file twin
      // while the main stream is still being probed: a probe slower than the few frames the twin keeps (1.5 s,
      // as under load) left the recording's first frames without twins.
      crops = await this.startCropStream(watchdogMs, hosts, () => (source.realtime ? clock.wallAnchor : null), () => recording !== false);
      const known = again && this.probed?.input === source.input ? this.probed.video : null;
      const probe = known ?? (await probeVideoUnlessAborted(source.input, source.options, abort.signal, 'aborted'));
      this.probed = { input: source.input, video: probe };
      // A video file on a web server is played as a file camera (camera.ts, playedAsRecording), from a
      // local copy when it has one. The transfer has its own idle timeout, not the connect watchdog.
      source = playedAsRecording(source, probe.durationMs, camera);
      const asFile = source;
      source = (await unwatched(() => this.fromLocalCopy(asFile, probe, abort.signal))) ?? asFile;
      // Only a live stream skips frames to catch up: its frames are stale once late. A file is a
      // recording, and a file camera that falls behind plays every frame, later (the frames are scored
      // late rather than not at all: the worker's deadline counts only the wait in its queue).
      const lagLimit = source.realtime ? 0 : (this.options.maxFrameLagMs ?? 0);
      // A file is judged whole however loaded the machine (no crops lost or thinned, no deadline), looping
      // or not: files are how recordings are replayed and clips evaluated, and with live rules 12 looping
      // sky clips on 2 cores lost 5% of their frames and 3 of 59 clips were judged otherwise than played
      // once. ingest.loopsAsLive keeps the live rules for a looping file standing in for a live camera.
      recording = source.playOnce || (source.replay && !this.options.loopsAsLive);
      // Probed: its ffmpeg goes before cameras not started yet (spawn-limiter.ts).
      await slot('next');
      const width = carried?.width ?? even(camera.width ?? Math.min(probe.width, MAX_DECODE_WIDTH));
      const height = carried?.height ?? even((probe.height * width) / probe.width);
      // Frames are decoded into buffers the pipeline gives back when its ring lets them go (frame-pool.ts).
      const buffers = carried?.buffers ?? new FramePool(width * height * 3);
      const gate = carried?.gate ?? this.options.pipeline(camera.id, { width, height, fps: camera.fps, buffers, wallTime: (at) => this.clock.wall(at), recording }, camera);
      open = gate;
      let passFrames = 0;
      /** The frames ran out by themselves (the file's end), not by a failure or a stop. */
      let played = false;
      const frames = decodeFrames(source.input, {
        fps: camera.fps,
        width,
        height,
        realtime: source.realtime,
        loop: this.endless(source),
        inputOptions: source.options,
        signal: abort.signal,
        buffers,
        // One frame read ahead tells a camera that fell behind (a newer frame is already here) from a slow stream.
        readAhead: lagLimit > 0 ? 1 : 0,
        onStderr: (line) => {
          stderrTail = line;
        },
      });
      try {
      for await (const frame of frames) {
        passFrames++;
        // A recording is a file (on this machine or a web server): no frame for a while means the machine
        // is starved (this loop held up by a slow pipeline), not a dead stream, and a restart would play it from
        // its beginning again, its first seconds judged twice. It waits as long as its frames may.
        limitMs = recording ? Math.max(watchdogMs, RECORDING_PATIENCE_MS) : watchdogMs;
        arm();
        const now = Date.now();
        const capturedAt = clock.capture(frame.ptsMs, now);
        const seenAt = clock.wall(capturedAt);
        this.recent.push({ at: now, lagMs: Math.max(0, now - seenAt) });
        if (this.recent.length > FPS_WINDOW) this.recent.shift();
        if (this.state !== 'live') {
          this.backoff.reset();
          this.setState('live');
        }
        let result: GateResult;
        if (lagLimit > 0 && frame.waiting > 0 && now - seenAt > lagLimit) {
          // Behind the stream with a newer frame already here: working on this one only keeps the next
          // ones late. Skipped, not tracked (tracks live in capture time: a skip is one point fewer).
          buffers.recycle(frame.data);
          result = { outcome: 'dropped', reason: 'behind', regions: 0 };
        } else {
          // A recording is scored whole: with its frames in flight at the bound, it waits for room
          // (ffmpeg waits with it) instead of dropping this frame's crops.
          if (recording) await unwatched(() => gate.room?.(abort.signal));
          this.latest = { data: frame.data, width, height, buffers };
          // The crop stream's twin of this frame, waited for up to one frame period when that stream lags
          // (a live frame must not wait longer); a recording waits for it, starting or lagging: on a busy
          // machine the larger file's decoder fell behind, and half of a clip's crops (11 of 23 once)
          // were cut from the main stream.
          const detail = crops ? await (recording ? crops.match(seenAt, RECORDING_TWIN_WAIT_MS, true) : crops.match(seenAt, 1000 / camera.fps)) : null;
          result = await gate.process(frame.data, ++this.seq, capturedAt, detail ?? undefined);
        }
        // Counted with its outcome, so decoded = gated + queued + dropped at every moment.
        this.counts.framesDecoded++;
        if (result.outcome === 'gated') this.counts.framesGated++;
        else if (result.outcome === 'queued') this.counts.framesQueued++;
        else {
          this.counts.framesDropped++;
          this.drops[result.reason ?? 'sink']++;
        }
        if (this.stopping) break;
      }
      played = true;
      } finally {
        // The frames are over (the file's end, a failure, a stop): ending the pipeline's tracks is this
        // side's work, not the camera going quiet. Its closing alerts wait for their clips, seconds
        // behind many cameras: with the watchdog on, a looping file's pass was restarted as a stalled stream.
        if (watchdog) clearTimeout(watchdog);
        if (played && source.replay && !this.stopping && !stalled && passFrames > 0 && gate.restart) {
          gate.restart();
          this.carried = { gate, buffers, width, height };
        } else {
          this.closePipeline(gate);
        }
        open = null;
      }
      if (!this.stopping && source.replay && !stalled && passFrames > 0) return 'replay';
      if (!this.stopping && source.playOnce && !stalled) {
        // A recording has ended once it is judged: its last crops scored and its alerts written (a
        // reader who sees `ended` finds every alert of it).
        await gate.finished?.(abort.signal);
        this.setState('ended');
        return;
      }
      if (!this.stopping) throw new Error(stalled ? `no frame for ${limitMs / 1000}s (watchdog)` : `stream ended${stderrTail ? `: ${maskSecrets(stderrTail.trim(), camera.url)}` : ''}`);
    } catch (err) {
      if (stalled && !this.stopping) throw new Error(`no frame for ${limitMs / 1000}s (watchdog)`, { cause: err });
      throw err;
    } finally {
      if (watchdog) clearTimeout(watchdog);
      // A pipeline carried over from the last pass, this connection having failed before using it.
      if (open) this.closePipeline(open);
      abort.abort();
      await crops?.stop();
      this.connection = null;
    }
  }
}

const MAX_CROP_STREAM_WIDTH = 3840;

/** ffprobe's names of formats that are playlists of segments (ffmpeg reads each segment whole). */
const PLAYLIST_FORMATS = new Set(['hls', 'dash']);

/** Longest a recording's frame waits for its crop-stream twin (a twin stream that broke stops the wait). */
const RECORDING_TWIN_WAIT_MS = 5_000;

function even(n: number): number {
  return Math.max(2, 2 * Math.round(n / 2));
}
