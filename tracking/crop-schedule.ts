/**
 * Which frames of a track get their crop classified. Inference, the frame queue and the workers'
 * resizing all scale with crops, so this is where a small machine saves the most; but a track's
 * verdict, and whether it alerts, is decided crop by crop, and on the shared clips thinning the crops
 * of tracks that have not alerted cost drone recall (5-fold CV by clip: every frame 95.6% of drone
 * clips alerted; the first 8 then one in 3: 92.6%; even the first 24 then one in 2: 94.1%). So by
 * default a track is classified on every frame until its alert opens, and only then on one frame in
 * `alertEvery`: the crops after that refine the alert's updates, not whether it exists. Keyed by the
 * point's index in the track, so live cameras and offline replays pick the same frames.
 */
export interface CropSchedule {
  /** Points of a track classified before thinning starts (tracks without an alert). */
  dense: number;
  /** After those, one point in this many (1: every point: the default, see above). */
  every: number;
  /** Once the track's alert is open, one point in this many. */
  alertEvery: number;
  /**
   * While the camera is behind (its frames wait for inference), both thinning steps are this many
   * times sparser, and tracks past `dense` points are thinned even with `every` at 1; 1 or absent:
   * no change. A point not classified is the same to the judge as a dropped crop, which is what a
   * backlog would otherwise come to (frames dropped at the deadline, or alerts seconds late).
   */
  pressureEvery?: number;
}

export const EVERY_FRAME: CropSchedule = { dense: Number.MAX_SAFE_INTEGER, every: 1, alertEvery: 1 };

/**
 * Whether the point at `pointIndex` of a track is worth a crop. `openedAt`: the index of the point that
 * opened the track's alert, when the camera knows of it (the judge, given the same `alertEvery`,
 * ignores the crops in between anyway, so a camera that learns of the alert late only wastes work).
 * `behind`: the camera's frames are waiting for inference, so `pressureEvery` applies.
 */
export function wantsCrop(pointIndex: number, schedule: CropSchedule, openedAt: number | null, behind = false): boolean {
  const slower = behind ? Math.max(1, schedule.pressureEvery ?? 1) : 1;
  // A sparser grid of an alerting track is a subset of the judge's own (a multiple of alertEvery).
  if (openedAt !== null) return onAlertGrid(pointIndex, openedAt, schedule.alertEvery * slower);
  return pointIndex < schedule.dense || (pointIndex - schedule.dense) % (Math.max(1, schedule.every) * slower) === 0;
}

/** Whether a point of an alerting track counts: one in `every` from the point that opened the alert. */
export function onAlertGrid(pointIndex: number, openedAt: number, every: number): boolean {
  return (pointIndex - openedAt) % Math.max(1, every) === 0;
}
