import type { Box } from '../core/image/crop-pixels.js';
import type { DetailFrame } from './crop-stream.js';
import type { FramePool } from './frame-pool.js';

/** One frame's crops of tracked objects, at native resolution, for the workers to score. */
export interface FrameJobInput {
  cameraId: string;
  /** The camera pipeline instance the scores must come back to. */
  pipeline: string;
  /** The ingestor that owns the camera. */
  owner: string;
  /** Per camera pipeline, increasing. */
  seq: number;
  /** Capture time of the frame, epoch ms. */
  capturedAt: number;
  /** Size of the full frame the boxes refer to. */
  width: number;
  height: number;
  crops: Array<{ trackId: number; box: Box; rgb: Buffer; width: number; height: number }>;
  /** A recording's frame (FrameFormat.recording): nothing in it goes stale, so no deadline drops it. */
  recording?: boolean;
}

/**
 * How long a recording's frame may wait to be scored (it has no deadline, but a worker may be gone):
 * its pixels' life in Redis, and how long its camera waits for the answer.
 */
export const RECORDING_PATIENCE_MS = 120_000;

/**
 * Where ingest hands frames on (the queue, in production). Ingest depends on this port only, so it
 * knows nothing of BullMQ.
 */
export interface FrameSink {
  submit(job: FrameJobInput): Promise<'queued' | 'dropped'>;
  /** Jobs of this camera submitted but not yet finished. */
  inFlight(cameraId: string): number;
}

export type GateOutcome = 'gated' | 'queued' | 'dropped';
/** `behind`: skipped by the camera to catch up with its stream (ingest.maxFrameLagMs). */
export type DropReason = 'in_flight' | 'no_model' | 'sink' | 'behind';

export interface GateResult {
  outcome: GateOutcome;
  reason?: DropReason;
  regions: number;
}

/** What a camera's decoded frames go through (motion, tracking, crops, the sink); one per connection. */
export interface FramePipeline {
  /**
   * `detail`: the same moment from the camera's higher-resolution crop stream, when it has one and a
   * frame matched; its pixels are only valid until the first await (read them synchronously).
   */
  process(rgb: Buffer, seq: number, capturedAt: number, detail?: DetailFrame): Promise<GateResult>;
  /**
   * Resolves once a frame handed over now would not be dropped for the pipeline's in-flight bound (or
   * when `signal` aborts): a recording waits here rather than lose crops.
   */
  room?(signal: AbortSignal): Promise<void>;
  /**
   * After close(): resolves once everything sent is answered and every alert event written (or when
   * `signal` aborts), so a recording that ended has been judged whole when its camera says `ended`.
   */
  finished?(signal: AbortSignal): Promise<void>;
  /**
   * The source starts again from its beginning (a looping file's next pass): what it tracked ends now
   * (alerts close) and the next frame is the first of a new scene, as for a pipeline just made; frame
   * buffers and the ring carry over. Absent: the camera closes this pipeline and makes a new one.
   */
  restart?(): void;
  /** The connection ended: end what it tracked. */
  close(): Promise<void>;
}

/** A connection's frame format; `buffers`: the pool its decoded frames come from, for the pipeline to give them back to. */
export interface FrameFormat {
  width: number;
  height: number;
  fps: number;
  buffers?: FramePool;
  /**
   * The wall-clock moment a frame was captured, from its capture time (the stream's own timeline, which
   * tracking uses: see stream-clock.ts); absent: the same.
   */
  wallTime?: (capturedAt: number) => number;
  /**
   * The frames are a recording's (a file camera played once; a looping file stands in for a live
   * camera): every one is worth scoring however late, so the
   * camera waits for room instead of dropping crops, its crops do not thin while inference is behind,
   * and no deadline drops its frames: a recording is judged the same on a loaded machine as on an idle one.
   */
  recording?: boolean;
}

export type FramePipelineFactory = (cameraId: string, frame: FrameFormat, camera: unknown) => FramePipeline;
