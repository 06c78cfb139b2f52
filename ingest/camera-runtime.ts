import type { CameraStatus } from './camera-supervisor.js';

/** What the API asks of whatever pulls cameras: an ingestor in the same process, or Redis. */
export interface CameraRuntime {
  status(cameraId: string): Promise<CameraStatus | null>;
  /** The latest frame as JPEG, or null when none is known. */
  snapshot(cameraId: string): Promise<Buffer | null>;
  /** Cameras were created, changed or deleted: act on it now rather than on the next tick. */
  refresh(): Promise<void>;
}
