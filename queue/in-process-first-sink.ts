import { silentLogger, type Logger } from '../core/logger.js';
import type { FrameJobInput, FrameSink } from '../ingest/frame-sink.js';
import { unscored, type CropResult } from './crop-results.js';

/** A worker of this very process that can score a frame without the queue (FrameWorker). */
export interface InProcessScorer {
  /** Null when it cannot score now (no model yet, closing): the frame then goes through the queue. */
  scoreInProcess(frame: FrameJobInput): Promise<CropResult> | null;
}

export interface InProcessFirstSinkOptions {
  /** The shared queue: frames beyond `maxInProcess`, and every frame while the scorer cannot take one. */
  queue: FrameSink;
  scorer: InProcessScorer;
  /** Where answers go: the owner's routing, as if they had come back through its results stream. */
  deliver: (result: CropResult) => void;
  /**
   * Frames scored in process at once while other processes serve the queue; 0 sends every frame
   * through the queue.
   */
  maxInProcess: number;
  /**
   * Whether another process's worker serves the queue (QueuePeers). When none does, spilling would only
   * send frames the long way round to this same process, so every frame is scored in process (the
   * camera's own in-flight bound still holds); unknown (null) or absent: the limit holds.
   */
  peers?: { readonly present: boolean | null };
  logger?: Logger;
}

/**
 * The frame sink of a process that both ingests and scores (`skywatch start`): its own cameras' frames
 * are scored in process, skipping what the queue costs per frame (the pixels written to Redis and read
 * back, BullMQ's add, fetch, finish and completion event, the answer appended to a stream and tailed;
 * a quarter of the main thread and most of Redis's CPU at 8 cameras, docs/BENCHMARKS.md). Past
 * `maxInProcess` frames in flight the frames spill to the queue when other processes serve it, so
 * worker processes added beside `start` still take load, and no frame waits on a busy process. Scores
 * do not depend on the path: the worker scores both with the same code and the same batcher, and the
 * camera's owner judges them the same way.
 */
export class InProcessFirstSink implements FrameSink {
  private inProcess = 0;
  private readonly perCamera = new Map<string, number>();
  private readonly logger: Logger;

  constructor(private readonly options: InProcessFirstSinkOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  inFlight(cameraId: string): number {
    return (this.perCamera.get(cameraId) ?? 0) + this.options.queue.inFlight(cameraId);
  }

  async submit(job: FrameJobInput): Promise<'queued' | 'dropped'> {
    const { maxInProcess, peers } = this.options;
    const room = maxInProcess > 0 && (this.inProcess < maxInProcess || peers?.present === false);
    const scoring = room ? this.options.scorer.scoreInProcess(job) : null;
    if (!scoring) return this.options.queue.submit(job);
    this.count(job.cameraId, 1);
    void scoring
      .catch((err: unknown) => {
        // A failed run (a model swapped mid-batch, a corrupt crop) answers nulls at once: the track
        // counts the crops as dropped instead of waiting for the result timeout.
        this.logger.warn({ err, camera: job.cameraId }, 'scoring a frame in process failed');
        return unscored(job);
      })
      .then((result) => {
        this.count(job.cameraId, -1);
        this.options.deliver(result);
      })
      .catch((err: unknown) => this.logger.error({ err, camera: job.cameraId }, 'delivering scores failed'));
    return 'queued';
  }

  private count(cameraId: string, by: 1 | -1): void {
    this.inProcess += by;
    const n = (this.perCamera.get(cameraId) ?? 0) + by;
    if (n > 0) this.perCamera.set(cameraId, n);
    else this.perCamera.delete(cameraId);
  }
}
