import type { CameraStatus } from './camera-supervisor.js';

/** What the API asks of whatever pulls cameras: an ingestor in the same process, or Redis. */
export interface CameraRuntime {
  status(cameraId: string): Promise<CameraStatus | null>;
  /** The latest frame as JPEG, or null when none is known. */
  snapshot(cameraId: string): Promise<Buffer | null>;
  /** Cameras were created, changed or deleted: act on it now rather than on the next tick. */
  refresh(): Promise<void>;
  /**
   * Play-once cameras that played to their end: camera id -> the camera's `updatedAt` when it ended.
   * Such a camera holds no ingest slot and does not count against `ingest.maxCameras`; a change to it
   * (a new `updatedAt`) plays it again.
   */
  ended(): Promise<Map<string, number>>;
  /** A camera was changed or deleted: what is kept of its end goes. */
  forgetEnded(cameraId: string): Promise<void>;
}
