/**
 * Which frames of a track get their crop classified. A track's verdict is decided by its first crops
 * (an alert needs a few and usually opens within a second), and neighbouring frames of a live object
 * look alike, so after `dense` crops only every `every`-th frame is classified: inference, the queue
 * and the workers' resizing all scale with crops, and this is what lets a small machine carry many
 * cameras. Keyed by the point's index in the track, so live cameras and offline replays pick the same
 * frames.
 */
export interface CropSchedule {
  /** Points of a track that are all classified first. */
  dense: number;
  /** After those, one point in this many. 1: every point. */
  every: number;
}

export const EVERY_FRAME: CropSchedule = { dense: Number.MAX_SAFE_INTEGER, every: 1 };

export function wantsCrop(pointIndex: number, schedule: CropSchedule): boolean {
  return pointIndex < schedule.dense || (pointIndex - schedule.dense) % Math.max(1, schedule.every) === 0;
}
