import sharp from 'sharp';
import type { FrameJobInput, FrameSink } from './frame-sink.js';
import { cropBox, cropRgb, MotionDetector, type MotionOptions, type Region } from './motion.js';

export type GateOutcome = 'gated' | 'queued' | 'dropped';
export type DropReason = 'in_flight' | 'no_model' | 'sink';

export interface GateResult {
  outcome: GateOutcome;
  reason?: DropReason;
  regions: number;
}

export interface MotionGateOptions {
  cameraId: string;
  width: number;
  height: number;
  motion?: Partial<MotionOptions>;
  maxInFlight: number;
  /** Context around a moving region, as cropBox takes it (the trainer's from-videos uses the same). */
  cropPadding?: number;
  /** Attach a JPEG of the full frame (alert snapshots). */
  frameJpeg?: boolean;
}

/**
 * Per camera: runs motion detection on every decoded frame and sends on only frames that moved, as
 * model-sized crops of the moving regions (plus the whole frame for whole-frame models). Frames over
 * the camera's in-flight limit are dropped here, before any crop is made.
 */
export class MotionGate {
  private readonly detector: MotionDetector;

  constructor(private readonly sink: FrameSink, private readonly options: MotionGateOptions) {
    this.detector = new MotionDetector(options.width, options.height, options.motion);
  }

  async process(rgb: Buffer, seq: number, capturedAt: number): Promise<GateResult> {
    const { cameraId, width, height } = this.options;
    // Detection runs on every frame, dropped or not, so the background stays current.
    const regions = this.detector.detect(rgb);
    if (regions.length === 0) return { outcome: 'gated', regions: 0 };
    if (this.sink.inFlight(cameraId) >= this.options.maxInFlight) return { outcome: 'dropped', reason: 'in_flight', regions: regions.length };
    const size = this.sink.modelInput();
    if (!size) return { outcome: 'dropped', reason: 'no_model', regions: regions.length };
    const crops: FrameJobInput['crops'] = [];
    for (const region of regions) {
      const box = cropBox(region, width, height, { padding: this.options.cropPadding ?? 0.5 });
      crops.push({ box, rgb: await resizeRgb(cropRgb(rgb, width, box), box.width, box.height, size), ...size });
    }
    if (this.sink.wholeFrame()) {
      const box: Region = { x: 0, y: 0, width, height, area: width * height };
      crops.push({ box, rgb: await resizeRgb(rgb, width, height, size), ...size });
    }
    const job: FrameJobInput = { cameraId, seq, capturedAt, width, height, crops };
    if (this.options.frameJpeg ?? true) job.frameJpeg = await encodeJpeg(rgb, width, height);
    const outcome = await this.sink.submit(job);
    return outcome === 'queued' ? { outcome, regions: regions.length } : { outcome, reason: 'sink', regions: regions.length };
  }
}

async function resizeRgb(rgb: Buffer, width: number, height: number, to: { width: number; height: number }): Promise<Buffer> {
  if (width === to.width && height === to.height) return rgb;
  return sharp(rgb, { raw: { width, height, channels: 3 } }).resize(to.width, to.height, { fit: 'fill' }).raw().toBuffer();
}

export async function encodeJpeg(rgb: Buffer, width: number, height: number, quality = 75): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
