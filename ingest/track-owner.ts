import { randomBytes } from 'node:crypto';
import { silentLogger, type Logger } from '../core/logger.js';
import type { RedisClient } from '../core/redis-client.js';
import type { CropResult, CropResults } from '../queue/crop-results.js';
import type { CropSchedule } from '../tracking/crop-schedule.js';
import type { TrackerOptions } from '../tracking/tracker.js';
import type { VerdictModel } from '../tracking/verdict-model.js';
import { CameraAlertPolicy } from './camera-alert-policy.js';
import type { Camera } from './camera.js';
import type { FrameFormat, FramePipeline, FrameSink } from './frame-sink.js';
import type { TrackAlertPublisher } from './track-alerts.js';
import { TrackedCamera } from './tracked-camera.js';

export interface TrackOwnerSettings {
  tracker: Partial<TrackerOptions>;
  crop: { context: number; minSide: number };
  /** Which of a track's frames are classified (absent: every one). */
  cropSchedule?: CropSchedule;
  threshold: number;
  alertLabels: string[];
  minCrops: number;
  updateEveryMs: number;
  /** Re-identification window of the track judge (TrackJudgeOptions.rejoinMs); absent: off. */
  rejoinMs?: number;
  clipSeconds: number;
  bestCrops: number;
  maxInFlight: number;
  /** Frames in flight from which a camera counts as behind and its crops thin out (0 or absent: never). */
  pressureInFlight?: number;
  /** Crops without an answer after this long (wall clock) count as dropped. */
  resultTimeoutMs: number;
  /** A camera that sent no frame for this long (wall clock) has its tracks ended. */
  idleEndMs: number;
}

export interface TrackOwnerOptions {
  /** The ingestor's id: frame jobs name it, workers answer to its results stream. */
  ownerId: string;
  sink: FrameSink;
  results: CropResults;
  /** A connection of its own for the blocking read of the results stream. */
  reader: RedisClient;
  publisher: TrackAlertPublisher;
  verdictFor: (labels: readonly string[]) => VerdictModel;
  /** The alert policy the loaded track model was validated with (over the settings; cameras override both). */
  policy?: () => { threshold: number; minCrops: number; alertLabels: string[] } | null;
  settings: TrackOwnerSettings;
  logger?: Logger;
}

/** Per-camera alert settings over the defaults (fields of the camera record when present). */
interface CameraAlertFields {
  threshold?: number;
  labels?: string[];
}

/**
 * The tracking half of an ingestor: it owns the Tracker and TrackJudge of every camera it holds the
 * lease of (one TrackedCamera per connection), tails its results stream for the workers' scores and
 * routes them to the right camera, times out answers that never come, ends the tracks of a camera
 * that went quiet, and, when it takes a camera over, closes the alerts a previous owner left open.
 */
export class TrackOwner {
  private readonly pipelines = new Map<string, TrackedCamera>();
  private readonly logger: Logger;
  private running = false;
  private loop: Promise<void> | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastId = '$';
  readonly counters = { results: 0, unrouted: 0 };

  constructor(private readonly options: TrackOwnerOptions) {
    this.logger = (options.logger ?? silentLogger).child({ part: 'tracks' });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Results sent before this owner existed belong to nobody here.
    this.lastId = await this.options.results.lastId(this.options.ownerId);
    this.loop = this.readLoop();
    this.timer = setInterval(() => this.sweep(), 500);
    this.timer.unref();
  }

  /** Stop after the cameras: answers still on their way get up to `drainMs` to close their tracks' alerts. */
  async stop(drainMs = 2_000): Promise<void> {
    const until = Date.now() + drainMs;
    while (this.running && Date.now() < until && [...this.pipelines.values()].some((p) => !p.drained)) await new Promise((r) => setTimeout(r, 50));
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // The blocking read returns within its block time.
    await this.loop;
    await Promise.all([...this.pipelines.values()].map((p) => p.settled()));
  }

  /** Cameras with a connection (or answers still outstanding) here. */
  get size(): number {
    return this.pipelines.size;
  }

  /** The pipeline factory the camera supervisors use: one TrackedCamera per connection. */
  readonly pipelineFor = (cameraId: string, frame: FrameFormat, camera: unknown): FramePipeline => {
    const s = this.options.settings;
    const fields = camera as Partial<Camera> & CameraAlertFields;
    // Fixed for the connection: a model swapped in later brings its policy at the next connection.
    const policy = this.options.policy?.() ?? null;
    const first = ![...this.pipelines.values()].some((p) => p.cameraId === cameraId);
    const pipelineId = randomBytes(4).toString('hex');
    const zones = new CameraAlertPolicy({ alertZones: fields.alertZones ?? [] }, { threshold: s.threshold, alertLabels: s.alertLabels });
    const cam = new TrackedCamera({
      cameraId,
      pipelineId,
      owner: this.options.ownerId,
      width: frame.width,
      height: frame.height,
      fps: frame.fps,
      sink: this.options.sink,
      maxInFlight: s.maxInFlight,
      pressureInFlight: s.pressureInFlight,
      motion: { ...fields.motion, ignore: fields.motionMasks ?? [] },
      admits: fields.alertZones?.length ? (box) => zones.admits(box, frame.width, frame.height) : undefined,
      tracker: s.tracker,
      crop: s.crop,
      cropSchedule: s.cropSchedule,
      verdictFor: this.options.verdictFor,
      threshold: typeof fields.threshold === 'number' ? fields.threshold : policy?.threshold ?? s.threshold,
      alertLabels: Array.isArray(fields.labels) && fields.labels.length ? fields.labels : policy?.alertLabels ?? s.alertLabels,
      minCrops: policy?.minCrops ?? s.minCrops,
      updateEveryMs: s.updateEveryMs,
      rejoinMs: s.rejoinMs,
      // The closing clip is cut when the alert closes, up to rejoinMs after its last point.
      ringFrames: Math.ceil((s.clipSeconds + 2 + (s.rejoinMs ?? 0) / 1000) * frame.fps),
      frames: frame.buffers,
      wallTime: frame.wallTime,
      recording: frame.recording,
      bestCrops: s.bestCrops,
      publish: (c, events) => this.options.publisher.publish(c, events),
      onError: (err) => this.logger.error({ err, camera: cameraId }, 'track judge failed'),
    });
    this.pipelines.set(pipelineId, cam);
    // Taking a camera over (no connection of it here yet): close what an earlier owner left open.
    if (first) void this.options.publisher.closeOrphans(cameraId).catch((err: unknown) => this.logger.warn({ err, camera: cameraId }, 'could not close alerts left open'));
    return cam;
  };

  /**
   * Routes a worker's answer to the camera pipeline that sent the frame: answers read from the results
   * stream, and those of frames scored in this very process (InProcessFirstSink).
   */
  deliver(result: CropResult): void {
    this.counters.results++;
    const cam = this.pipelines.get(result.pipeline);
    if (cam) cam.onResult(result);
    else this.counters.unrouted++;
  }

  private sweep(): void {
    const s = this.options.settings;
    for (const [id, cam] of this.pipelines) {
      cam.expire(s.resultTimeoutMs);
      if (!cam.closed) cam.endIdle(s.idleEndMs);
      if (cam.drained) this.pipelines.delete(id);
    }
  }

  private drainedNow(): void {
    for (const [id, cam] of this.pipelines) if (cam.drained) this.pipelines.delete(id);
  }

  private async readLoop(): Promise<void> {
    const { results, reader, ownerId } = this.options;
    while (this.running) {
      try {
        const batch = await results.read(ownerId, this.lastId, 1_000, reader);
        for (const { id, result } of batch) {
          this.lastId = id;
          this.deliver(result);
        }
        this.drainedNow();
        if (batch.length) void results.trim(ownerId, this.lastId).catch(() => {});
      } catch (err) {
        if (!this.running) return;
        this.logger.warn({ err }, 'results stream read failed, retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}
