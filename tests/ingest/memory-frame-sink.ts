import type { FrameJobInput, FramePipelineFactory, FrameSink } from '../../ingest/frame-sink.js';
import type { TrackedCamera, TrackedCameraOptions } from '../../ingest/tracked-camera.js';
import { benchPipelines } from '../../bench/support/pipelines.js';

/**
 * An in-process FrameSink: jobs are kept in order and stay "in flight" until `finish` is called, so
 * tests can hold the pipeline full. A second real implementation of the port beside the queue's.
 */
export class MemoryFrameSink implements FrameSink {
  readonly jobs: FrameJobInput[] = [];
  private readonly open = new Map<string, number>();
  /** Jobs held in flight until finished (tests of back-pressure); otherwise finished at once. */
  hold = false;
  /**
   * When set, every job is answered as it comes, each crop with these probabilities over
   * ['bird', 'drone'], through the pipeline that sent it (tests that play a recording to its end: it
   * ends once judged).
   */
  answerWith: [number, number] | null = null;
  private readonly cameras = new Map<string, TrackedCamera>();

  async submit(job: FrameJobInput): Promise<'queued' | 'dropped'> {
    this.jobs.push(job);
    if (this.hold) this.open.set(job.cameraId, this.inFlight(job.cameraId) + 1);
    const p = this.answerWith;
    const cam = this.cameras.get(job.pipeline);
    if (p && cam) {
      queueMicrotask(() => cam.onResult({ cameraId: job.cameraId, pipeline: job.pipeline, seq: job.seq, labels: ['bird', 'drone'], modelVersion: 'memory', crops: job.crops.map((c) => ({ trackId: c.trackId, probabilities: [...p] })) }));
    }
    return 'queued';
  }

  inFlight(cameraId: string): number {
    return this.open.get(cameraId) ?? 0;
  }

  finish(cameraId: string, n = Infinity): void {
    this.open.set(cameraId, Math.max(0, this.inFlight(cameraId) - n));
  }

  /** Camera pipelines (real tracking, real crops) that send their jobs here and publish nowhere. */
  pipelines(overrides: Partial<TrackedCameraOptions> = {}): FramePipelineFactory {
    const make = benchPipelines(this, { owner: 'memory', ringFrames: 0, ...overrides });
    return (cameraId, frame, camera) => {
      const cam = make(cameraId, frame, camera) as TrackedCamera;
      this.cameras.set(cam.options.pipelineId, cam);
      return cam;
    };
  }
}
