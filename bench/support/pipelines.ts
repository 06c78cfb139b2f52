import type { Camera } from '../../ingest/camera.js';
import type { FramePipelineFactory, FrameSink } from '../../ingest/frame-sink.js';
import { TrackedCamera, type TrackedCameraOptions } from '../../ingest/tracked-camera.js';
import { MeanVerdict } from '../../tracking/mean-verdict.js';

/**
 * Camera pipelines as ingest runs them (motion, tracker, native crops) into `sink`, publishing nowhere
 * unless told to: for benchmarks and tests that drive cameras without the alert side.
 */
export function benchPipelines(sink: FrameSink, overrides: Partial<TrackedCameraOptions> = {}): FramePipelineFactory {
  let n = 0;
  return (cameraId, frame, camera) => new TrackedCamera({
    cameraId,
    pipelineId: `p${n++}`,
    owner: 'bench',
    width: frame.width,
    height: frame.height,
    fps: frame.fps,
    frames: frame.buffers,
    sink,
    maxInFlight: 8,
    motion: (camera as Camera).motion,
    crop: { context: 0.5, minSide: 32 },
    verdictFor: (labels) => new MeanVerdict([...labels]),
    threshold: 0.6,
    alertLabels: ['drone'],
    minCrops: 3,
    updateEveryMs: 1000,
    ringFrames: 30,
    bestCrops: 0,
    publish: async () => {},
    ...overrides,
  });
}
