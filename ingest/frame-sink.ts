import type { Region } from './motion.js';

/** One motion-gated frame for inference: the crops of its moving regions, already at model size. */
export interface FrameJobInput {
  cameraId: string;
  /** Per camera, increasing. */
  seq: number;
  /** Epoch ms when the frame was decoded. */
  capturedAt: number;
  /** Size of the full frame the boxes refer to. */
  width: number;
  height: number;
  crops: Array<{ box: Region; rgb: Buffer; width: number; height: number }>;
  /** The full frame, for alert snapshots and whole-frame models. */
  frameJpeg?: Buffer;
}

/**
 * Where ingest hands frames on (the queue, in production). Ingest depends on this port only, so it
 * knows nothing of BullMQ.
 */
export interface FrameSink {
  /** Pixel size the current model takes; null while no model is known (frames are then dropped). */
  modelInput(): { width: number; height: number } | null;
  /** True when the model classifies whole frames: the whole frame is sent as one more crop. */
  wholeFrame(): boolean;
  submit(job: FrameJobInput): Promise<'queued' | 'dropped'>;
  /** Jobs of this camera submitted but not yet finished. */
  inFlight(cameraId: string): number;
}
